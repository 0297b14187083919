"""The Lambda bundle's bytecode: compiled for the function's Python by an interpreter of that
version, hash-based (valid whatever the zip's timestamps), reproducible, or no bundle at all."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import ProjectCache, run, tool_env

SERVICE = Path("packages") / "order-service"


def _bundle(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["uv", "run", "--no-sync", "poe", "bundle", SERVICE.name],
        cwd=project,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_every_module_has_bytecode_for_the_runtime_and_the_zip_is_reproducible(
    projects: ProjectCache, tmp_path: Path
) -> None:
    project = projects.synced()
    built = _bundle(project)
    assert built.returncode == 0, built.stderr
    archive = project / SERVICE / "dist" / "lambda.zip"
    first = hashlib.sha256(archive.read_bytes()).hexdigest()
    shutil.copy(archive, tmp_path / "first.zip")
    rebuilt = _bundle(project)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == first
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        sources = {n for n in names if n.endswith(".py")}
        pycs = {n for n in names if n.endswith(".pyc")}
        # Every module, the API's and its dependencies', has its CPython 3.13 bytecode.
        for source in sources:
            folder, _, module = source.rpartition("/")
            cached = f"{folder}/__pycache__/{module[:-3]}.cpython-313.pyc".lstrip("/")
            assert cached in pycs, source
        assert not [n for n in pycs if ".cpython-313." not in n]
        header = zf.read("order_service/__pycache__/main.cpython-313.pyc")[:16]
        dates = {info.date_time for info in zf.infolist()}
    # The flags word: hash-based (bit 0), not checked against the source (bit 1 clear).
    assert int.from_bytes(header[4:8], "little") == 0b01
    assert dates == {(1980, 1, 1, 0, 0, 0)}
    # File names in tracebacks are Lambda's, not the build machine's.
    code = (
        "import marshal, sys\n"
        "data = open(sys.argv[1], 'rb').read()[16:]\n"
        "print(marshal.loads(data).co_filename)\n"
    )
    pyc = project / SERVICE / "dist" / "lambda" / "order_service" / "__pycache__"
    out = run(
        ["uv", "run", "--no-sync", "python", "-c", code, str(pyc / "main.cpython-313.pyc")], project
    )
    assert out.stdout.strip() == "/var/task/order_service/main.py"


@pytest.mark.slow
def test_without_an_interpreter_of_the_function_s_version_nothing_is_built(
    projects: ProjectCache,
) -> None:
    # Lambda also runs Python 3.14, which these machines do not have: a project asking for it
    # gets no bundle (bytecode of another version would be ignored), and a message saying why.
    project = projects.synced()
    settings = project / SERVICE / "pyproject.toml"
    source = settings.read_text()
    assert 'python-version = "3.13"' in source
    settings.write_text(source.replace('python-version = "3.13"', 'python-version = "3.14"'))
    dist = project / SERVICE / "dist"
    before = sorted(p.name for p in dist.iterdir()) if dist.exists() else []
    try:
        result = _bundle(project)
    finally:
        settings.write_text(source)
    assert result.returncode == 1
    assert "No Python 3.14 interpreter found" in result.stderr
    assert "uv python install 3.14" in result.stderr
    assert (sorted(p.name for p in dist.iterdir()) if dist.exists() else []) == before
