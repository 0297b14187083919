"""The template's own Python code (extensions, tests, bench, noxfile) is lint and type clean."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import run, tool_env

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff_finds_nothing() -> None:
    run([str(BIN / "ruff"), "check", "--no-cache", "."], ROOT)
    run([str(BIN / "ruff"), "format", "--check", "--no-cache", "."], ROOT)


def test_mypy_strict_passes() -> None:
    env = {**tool_env(), "MYPY_CACHE_DIR": "/dev/null"}
    run([str(BIN / "mypy")], ROOT, env=env)
