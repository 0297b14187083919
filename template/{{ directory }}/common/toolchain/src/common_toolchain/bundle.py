"""Build an API's Lambda code: a folder and a zip of its package, run.sh and dependencies.

    uv run poe bundle [api ...]         # `toolchain bundle`: the APIs named, or every API

Writes dist/lambda/ and dist/lambda.zip next to the API's pyproject.toml. Dependencies are the
API's runtime dependencies only (no dev tools, tests or caches), locked by the workspace's
uv.lock, installed as manylinux wheels for the Lambda architecture and Python version of the
API's settings (``[tool.api]``), whatever machine builds the bundle; the workspace packages
its settings name (``bundle``) are copied next to the API's package.

Every module is compiled to bytecode by an interpreter of the function's Python version (found
with `uv python find`): Lambda's code folder is read-only, so without it each cold start
compiles every module it imports. The .pyc files are hash-based and unchecked (valid whatever
the zip's timestamps, never compared with their source at import), so the same sources give
the same zip, byte for byte. Without an interpreter of that version the build stops rather than
ship bytecode another version would ignore.
"""

from __future__ import annotations

import importlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from common_toolchain.settings import Api, workspace_root

#: Provided by the Lambda Python runtime: leaving them out keeps the bundle small (botocore
#: alone is over 20 MB unzipped).
RUNTIME_PROVIDED = (
    "boto3",
    "botocore",
    "jmespath",
    "python-dateutil",
    "s3transfer",
    "six",
    "urllib3",
)
#: Fixed timestamp of zip entries: the same sources give the same zip.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: Where Lambda puts the code: the file names tracebacks show.
TASK_ROOT = "/var/task"
#: Run by the function's Python version: compile every module of the folder in argv[1].
COMPILE = """
import compileall, sys
from py_compile import PycInvalidationMode

ok = compileall.compile_dir(
    sys.argv[1], quiet=1, workers=0, stripdir=sys.argv[1], prependdir=sys.argv[2],
    invalidation_mode=PycInvalidationMode.UNCHECKED_HASH,
)
sys.exit(0 if ok else 1)
"""


def uv(*args: str, cwd: Path) -> str:
    """Run uv and return its output; stop with its error when it fails."""
    uv_bin = os.environ.get("UV", "uv")
    result = subprocess.run([uv_bin, *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode:
        sys.exit(f"uv {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def install_dependencies(api: Api, target: Path) -> None:
    """Install the API's locked runtime dependencies into ``target`` for Lambda."""
    excluded = [arg for name in RUNTIME_PROVIDED for arg in ("--no-emit-package", name)]
    requirements = uv(
        "export", "--package", api.name, "--no-dev", "--no-hashes", "--no-header",
        "--no-annotate", "--no-emit-workspace", "--format", "requirements.txt", *excluded,
        cwd=workspace_root(api.root),
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        listed = Path(tmp) / "requirements.txt"
        listed.write_text(requirements, encoding="utf-8")
        uv(
            "pip", "install", "--quiet", "--target", str(target), "--no-deps",
            "--python-platform", api.platform, "--python-version", api.python_version,
            "--only-binary", ":all:", "--no-compile", "-r", str(listed),
            cwd=api.root,
        )  # fmt: skip
    # Console scripts point at this machine's interpreter: useless on Lambda.
    shutil.rmtree(target / "bin", ignore_errors=True)


def copy_sources(api: Api, target: Path) -> None:
    """Copy the package, the workspace packages it imports and run.sh (kept executable: the
    adapter execs it)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.py[co]")
    shutil.copytree(api.root / api.module, target / api.module, ignore=ignore)
    for name in api.bundle:
        # Installed in the workspace's environment (editable): copy from where it lives.
        source = Path(importlib.import_module(name).__file__ or "").parent
        shutil.copytree(source, target / name, ignore=ignore)
    run_sh = target / "run.sh"
    shutil.copy2(api.root / "run.sh", run_sh)
    run_sh.chmod(0o755)


def interpreter(version: str) -> str:
    """An interpreter of the function's Python version (CPython, as Lambda runs), or stop."""
    uv_bin = os.environ.get("UV", "uv")
    found = subprocess.run(
        [uv_bin, "python", "find", "--no-project", version],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    python = found.stdout.strip()
    if found.returncode == 0 and python:
        check = "import sys; print(sys.implementation.name, *sys.version_info[:2], sep='.')"
        found_version = subprocess.run(
            [python, "-c", check], capture_output=True, text=True, check=False
        ).stdout.strip()
        if found_version == f"cpython.{version}":
            return python
    sys.exit(
        f"No Python {version} interpreter found to compile the bundle's bytecode for "
        f"the function's runtime (python{version}): bytecode of another version would "
        f"be ignored on Lambda. Install one (`uv python install {version}`, or your "
        f"system's python{version}) and build again."
    )


def compile_bytecode(folder: Path, python: str) -> None:
    """Compile every module below ``folder`` for the function's Python, reproducibly."""
    # Set orderings inside code objects follow string hashes: fix them.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    result = subprocess.run(
        [python, "-c", COMPILE, str(folder), TASK_ROOT],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode:
        sys.exit(f"Compiling the bundle's bytecode failed:\n{result.stdout}{result.stderr}")


def write_zip(folder: Path, archive: Path) -> None:
    """Zip ``folder`` reproducibly, keeping each file's mode (run.sh stays executable)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=ZIP_DATE)
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())


def size(folder: Path) -> int:
    """Bytes of every file below ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def bundle(api: Api) -> None:
    """Build the API's dist/lambda/ and dist/lambda.zip."""
    python = interpreter(api.python_version)  # before anything is touched: stop without one
    dist = api.dist
    folder, archive = dist / "lambda", dist / "lambda.zip"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    install_dependencies(api, folder)
    copy_sources(api, folder)
    for cache in folder.rglob("__pycache__"):
        shutil.rmtree(cache)
    compile_bytecode(folder, python)
    write_zip(folder, archive)
    print(
        f"{folder}: {size(folder) / 1e6:.1f} MB\n"
        f"{archive}: {archive.stat().st_size / 1e6:.1f} MB ({api.platform}, "
        f"Python {api.python_version}, bytecode by {python})"
    )
