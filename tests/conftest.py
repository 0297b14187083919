"""Shared fixtures: render the template once per option combination, install projects once.

Rendering goes through Copier's real API from the template's working tree, so what is tested
is what users get. Rendered projects and their uv environments are cached per pytest session
(and per xdist worker), keyed by their answers, so each combination is rendered once.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import copier
import pytest

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]

COMPUTE_TYPES = ("ServerlessApiGatewayRestApi", "ServerlessApiGatewayHttpApi")
PATTERNS = ("isolated", "shared")
AUTHS = ("IAM", "Cognito", "Custom", "None")
IAC_PROVIDERS = ("CDK", "Terraform")

#: Every combination of the options that change what is generated.
COMBINATIONS: list[dict[str, str]] = [
    {"compute_type": c, "integration_pattern": p, "auth": a, "iac_provider": i}
    for c, p, a, i in itertools.product(COMPUTE_TYPES, PATTERNS, AUTHS, IAC_PROVIDERS)
]

DEFAULT_ANSWERS: dict[str, str] = {"name": "order-service"}


def pairwise(iac_provider: str) -> list[dict[str, str]]:
    """Eight of the sixteen gateway x pattern x auth combinations of ``iac_provider`` holding
    every pair of two answers' values: each auth with each gateway and each pattern, each
    gateway with each pattern. For the checks that synthesize or plan a whole project."""
    rows = []
    for index, auth in enumerate(AUTHS):
        for gateway, compute in enumerate(COMPUTE_TYPES):
            pattern = PATTERNS[(index + gateway) % 2]
            rows.append(
                {
                    "compute_type": compute,
                    "integration_pattern": pattern,
                    "auth": auth,
                    "iac_provider": iac_provider,
                }
            )
    return rows


def combination_id(answers: Mapping[str, str]) -> str:
    """A short test id such as ``rest-isolated-iam-cdk``."""
    compute = "rest" if answers["compute_type"].endswith("RestApi") else "http"
    return "-".join(
        (
            compute,
            answers["integration_pattern"],
            answers["auth"].lower(),
            answers["iac_provider"].lower(),
        )
    )


#: The checkov release every scan uses: the template's tests and the generated projects' CI.
CHECKOV = "checkov==3.3.30"


def tool_env() -> dict[str, str]:
    """Environment for subprocesses: every pyenv interpreter visible to uv, no downloads.

    The machines carry Python 3.12 and 3.13 under pyenv without making them global; uv only
    finds interpreters on PATH, so their folders are appended.
    """
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "1"
    pyenv_root = Path(env.get("PYENV_ROOT", Path.home() / ".pyenv"))
    extra = [str(p / "bin") for p in sorted((pyenv_root / "versions").glob("3.1[1-9]*"))]
    # The uv pinned in this repository's environment comes first: a pyenv shim named `uv`
    # fails in generated projects whose .python-version names another interpreter.
    tools = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([tools, env.get("PATH", ""), *extra])
    return env


#: What a user's shell holds when running the CDK CLI: a concrete Region and account (never the
#: pseudo parameters' tokens), as on any machine that deploys.
AWS_ENVIRONMENT = {
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "CDK_DEFAULT_REGION": "eu-west-1",
    "CDK_DEFAULT_ACCOUNT": "123456789012",
}


def tf_env(tmp_path: Path) -> dict[str, str]:
    """Environment for terraform: a CLI config of our own (the provider mirror when there is
    one, as the Terraform registry is out of reach here)."""
    env = tool_env()
    env["TF_IN_AUTOMATION"] = "1"
    env["CHECKPOINT_DISABLE"] = "1"
    config = tmp_path / "terraform.rc"
    mirror = os.environ.get("TF_PROVIDER_MIRROR")
    if mirror:
        config.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{mirror}"\n'
            '    include = ["registry.terraform.io/hashicorp/*"]\n  }\n'
            '  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n',
            encoding="utf-8",
        )
    else:
        config.write_text("", encoding="utf-8")
    env["TF_CLI_CONFIG_FILE"] = str(config)
    return env


def checkov_clean(config: Path, directory: Path, framework: str) -> dict[str, Any]:
    """Scan ``directory`` with checkov and the project's ``config``; fail on any finding.

    Returns the report, whose skipped checks the caller checks against what it expects.
    """
    result = subprocess.run(
        ["uv", "tool", "run", "--from", CHECKOV, "checkov", "--config-file", str(config),
         "-d", ".", "-o", "json"],
        cwd=directory, env=tool_env(), capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert result.stdout.strip(), result.stderr[-4000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert [r["check_type"] for r in reports] == [framework], result.stdout[:2000]
    report: dict[str, Any] = reports[0]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
        for c in report["results"]["failed_checks"]
    ]
    assert not failed, "checkov failed checks:\n" + "\n".join(failed)
    assert report["summary"]["parsing_errors"] == 0
    assert result.returncode == 0, result.stderr[-4000:]
    return report


def free_port() -> int:
    """A TCP port free on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(
    process: subprocess.Popen[bytes], port: int, log: Path, seconds: float = 30
) -> None:
    """Return once 127.0.0.1:``port`` accepts connections; raise with the server's log if the
    process exits first or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                log_text = log.read_text()
                raise RuntimeError(f"the server did not start; its log:\n{log_text}") from None
            time.sleep(0.05)


@contextlib.contextmanager
def serving_run_sh(project: Path, service: Path, log: Path) -> Iterator[str]:
    """The API of ``project``'s ``service`` folder as its run.sh serves it on 127.0.0.1: its
    base URL, for as long as the context lasts; the server's output goes to ``log``."""
    port = free_port()
    env = {**tool_env(), "PORT": str(port)}
    env["PATH"] = f"{project / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(project / service / "run.sh")], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_until_listening(process, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def log_records(log: Path) -> list[dict[str, Any]]:
    """The JSON lines (log records and EMF documents) a server wrote to ``log`` so far."""
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def wait_for_record(
    log: Path, wanted: Callable[[dict[str, Any]], bool], seconds: float = 10
) -> dict[str, Any]:
    """The first record of a server's ``log`` that is ``wanted``, waiting for it to be written."""
    deadline = time.monotonic() + seconds
    while True:
        found = [r for r in log_records(log) if wanted(r)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            pytest.fail(f"no such record in the server's log after {seconds} s:\n{log.read_text()}")
        time.sleep(0.05)


def run(
    args: list[str], cwd: Path, *, timeout: float = 600, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output when it exits non-zero."""
    result = subprocess.run(
        args,
        cwd=cwd,
        env=dict(env) if env is not None else tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


def render(dst: Path, answers: Mapping[str, Any], **kwargs: Any) -> Path:
    """Render the template's working tree into ``dst`` with ``answers``, non-interactively."""
    copier.run_copy(
        str(TEMPLATE_ROOT),
        dst,
        data=dict(answers),
        # The working tree (uncommitted changes included), not the newest release tag.
        vcs_ref="HEAD",
        defaults=True,
        unsafe=True,
        quiet=True,
        **kwargs,
    )
    return dst


class ProjectCache:
    """Renders and installs generated projects once per session, keyed by their answers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._rendered: dict[tuple[tuple[str, str], ...], Path] = {}
        self._synced: set[Path] = set()

    def rendered(self, **answers: str) -> Path:
        """The project rendered with ``DEFAULT_ANSWERS`` and ``answers`` (do not modify it)."""
        merged = {**DEFAULT_ANSWERS, **answers}
        key = tuple(sorted(merged.items()))
        if key not in self._rendered:
            dst = self.root / f"p{len(self._rendered)}"
            render(dst, merged)
            self._rendered[key] = dst
        return self._rendered[key]

    def synced(self, **answers: str) -> Path:
        """The rendered project with its uv workspace installed (``uv sync``)."""
        project = self.rendered(**answers)
        if project not in self._synced:
            run(["uv", "sync"], project, timeout=900)
            self._synced.add(project)
        return project


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory) -> ProjectCache:
    """Session-wide cache of rendered (and installed) projects."""
    return ProjectCache(tmp_path_factory.mktemp("projects"))


@pytest.fixture
def fresh_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy target; removed after the test."""
    dst = tmp_path / "project"
    yield dst
    shutil.rmtree(dst, ignore_errors=True)


#: Module-scoped fixtures that make a whole project (a synthesis): the tests sharing one of
#: their values run on one xdist worker (``--dist loadgroup``), so each is made once.
GROUPED_FIXTURES = ("synthesized",)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups off the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        for name in GROUPED_FIXTURES:
            if callspec is not None and name in callspec.params:
                value = callspec.params[name]
                key = combination_id(value) if isinstance(value, dict) else repr(value)
                module = getattr(getattr(item, "module", None), "__name__", "")
                item.add_marker(pytest.mark.xdist_group(f"{module}-{name}-{key}"))
