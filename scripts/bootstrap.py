#!/usr/bin/env python3
"""Turn a repository made with GitHub's "Use this template" into a generated project.

GitHub copies the template's files as they are, Jinja and all. Run at the root of such a
repository, this script renders the template with `copier copy` into it instead: the API's
name is the repository's name, the other answers come from the bootstrap workflow's inputs
(their defaults are the template's), every file of the template is replaced by the rendered
project, and the result is committed. The answers file records the template's URL and release,
so `copier update` works from then on.

Read from the environment (the bootstrap workflow sets them):

    GITHUB_REPOSITORY  owner/name of this repository (GitHub Actions sets it)
    TEMPLATE_URL       the template to render: the repository GitHub created this one from.
                       Empty when GitHub knows of none (the template itself, a fork, a
                       mirror): then nothing is done.
    INPUTS             JSON object of the workflow's inputs: `name` (default: the repository's
                       name), `template_ref` (default: the template's latest release) and answers
                       to the template's questions; empty values leave the question's default.

Runs with the Python that has Copier and copier-template-extensions installed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: The answers file of a generated repository's first API (Copier's default name).
ANSWERS_FILE = ".copier-answers.yml"
#: Inputs of the workflow that are not answers to the template's questions.
OWN_INPUTS = ("name", "template_ref")


class BootstrapError(Exception):
    """The repository cannot be rendered; the message says why."""


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo``; return its output, or raise BootstrapError with git's message."""
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BootstrapError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def read_inputs(raw: str) -> dict[str, str]:
    """The workflow's non-empty inputs (``{}`` for a push, which has none)."""
    # A push gives no inputs: an empty object, or null, or nothing at all.
    data = (json.loads(raw) if raw.strip() else None) or {}
    if not isinstance(data, dict):
        raise BootstrapError(f"INPUTS is not a JSON object: {raw!r}")
    return {str(key): str(value) for key, value in data.items() if value not in (None, "")}


def copier_command(
    template: str, destination: Path, repository: str, inputs: Mapping[str, str]
) -> list[str]:
    """The `copier copy` command line that renders ``template`` for ``repository``."""
    name = inputs.get("name") or repository.rsplit("/", 1)[-1]
    command = [sys.executable, "-m", "copier", "copy", "--trust", "--defaults"]
    command += ["--data", f"name={name}"]
    for key, value in inputs.items():
        if key not in OWN_INPUTS:
            command += ["--data", f"{key}={value}"]
    if "template_ref" in inputs:
        command += ["--vcs-ref", inputs["template_ref"]]
    return [*command, template, str(destination)]


def recorded_release(repo: Path) -> str:
    """The template release (``_commit``) the answers file records."""
    text = (repo / ANSWERS_FILE).read_text(encoding="utf-8")
    match = re.search(r"^_commit: (.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "an unknown release"


def bootstrap(repo: Path, env: Mapping[str, str]) -> str:
    """Render and commit the project in ``repo``; return what was done, for the log."""
    template = env.get("TEMPLATE_URL", "").strip()
    if not template:
        return "This repository was not created from the template: nothing to do."
    if (repo / ANSWERS_FILE).exists():
        return f"{ANSWERS_FILE} exists: the project is already generated, nothing to do."
    if not (repo / "copier.yml").is_file():
        raise BootstrapError("no copier.yml here: this is not a copy of the template's files")
    if git(repo, "status", "--porcelain").strip():
        raise BootstrapError("the working tree has uncommitted changes: commit or stash them")
    repository = env.get("GITHUB_REPOSITORY", "")
    if "/" not in repository:
        raise BootstrapError("GITHUB_REPOSITORY must be owner/name")

    # The template's files go (git keeps them in history); the rendered project takes their place.
    git(repo, "rm", "-r", "--quiet", "--", ".")
    command = copier_command(template, repo, repository, read_inputs(env.get("INPUTS", "")))
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        # Leave the repository as it was, so a corrected run starts from the same state.
        git(repo, "reset", "--hard", "--quiet", "HEAD")
        git(repo, "clean", "-d", "--force", "--quiet")
        raise BootstrapError(f"copier copy failed:\n{result.stdout}{result.stderr}")
    git(repo, "add", "--all")
    release = recorded_release(repo)
    git(repo, "commit", "--quiet", "-m", f"Generate the project from {template} {release}")
    return f"Generated from {template} {release} and committed: push to publish it."


def main() -> int:
    """Bootstrap the repository of the current directory; exit 1 with the reason on failure."""
    try:
        repo = Path(git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
        print(bootstrap(repo, os.environ))
    except BootstrapError as error:
        print(f"bootstrap: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
