"""Developer sessions of the template: `uvx nox -s lint`, `-s tests`, `-s slow`, `-s bench`.

Sessions reuse the uv-managed environment of this repository (`uv sync`), so they start in
seconds and test against the locked versions.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests"]

UV_RUN = ("uv", "run", "--frozen")


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff and mypy on the template's own Python code."""
    session.run(*UV_RUN, "ruff", "check", ".", external=True)
    session.run(*UV_RUN, "ruff", "format", "--check", ".", external=True)
    session.run(*UV_RUN, "mypy", external=True)


@nox.session
def tests(session: nox.Session) -> None:
    """The quick tests: rendering, questions, structure (no installs of generated projects)."""
    session.run(*UV_RUN, "pytest", "-n", "auto", "-m", "not slow", *session.posargs, external=True)


@nox.session
def slow(session: nox.Session) -> None:
    """The generated-project checks: uv sync, their own tests, synth, Terraform, scans."""
    session.run(*UV_RUN, "pytest", "-n", "auto", "-m", "slow", *session.posargs, external=True)


@nox.session
def bench(session: nox.Session) -> None:
    """Measure the generated service and the template (prints a table)."""
    session.run(*UV_RUN, "python", "bench/run.py", *session.posargs, external=True)
