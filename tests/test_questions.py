"""The questions, by property: each answer is refused with a clear message or gives a clean project.

Names are generated (words, capitals, digits, separators, non-ASCII letters, keywords, standard
library and dependency names, lengths at the limit). The validators are checked on many of
them in-process; a smaller, reproducible sample is rendered with Copier for real and linted
with the generated project's own ruff configuration.
"""

from __future__ import annotations

import keyword
import re
import string
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import (
    AUTHS,
    COMPUTE_TYPES,
    IAC_PROVIDERS,
    PATTERNS,
    ProjectCache,
    render,
)
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extensions"))

import naming

#: Ruff of the template's environment: the version range the generated projects pin.
RUFF = Path(sys.executable).parent / "ruff"

KEYWORDS = sorted(keyword.kwlist)
STDLIB = sorted(name for name in sys.stdlib_module_names if not name.startswith("_"))
RESERVED = sorted(naming.RESERVED_MODULES | naming.RESERVED_API_NAMES)

WORDS = st.one_of(
    st.text(string.ascii_lowercase, min_size=1, max_size=10),
    st.text(string.ascii_letters + string.digits, min_size=1, max_size=8),
    st.sampled_from(["api", "API", "v2", "Service", "HTTPServer", "ID", "orders", "x"]),
    st.sampled_from(KEYWORDS),
    st.sampled_from(STDLIB),
    st.sampled_from(RESERVED),
    st.text("éüßøÅñ中文Ωя", min_size=1, max_size=3),
)
SEPARATORS = st.sampled_from(["-", "_", " ", ".", "--", "  ", "/", ""])


@st.composite
def names(draw: st.DrawFn) -> str:
    """Free text as users type names: words joined by separators, sometimes at the length limit."""
    words: list[str] = draw(st.lists(WORDS, min_size=1, max_size=4))
    text = words[0]
    for word in words[1:]:
        separator: str = draw(SEPARATORS)
        text += separator + word
    if draw(st.integers(0, 4)) == 4:
        # Around the limit: the kebab-case form is exactly this long (ASCII words only).
        length: int = draw(st.integers(naming.MAX_NAME_LENGTH - 1, naming.MAX_NAME_LENGTH + 1))
        base = naming.kebab(text) or "api"
        text = (base + "-" + "x" * length)[:length]
        text = text[:-1] + "x" if text.endswith("-") else text
    prefix: str = draw(st.sampled_from(["", " ", "-"]))
    suffix: str = draw(st.sampled_from(["", " ", "2"]))
    return prefix + text + suffix


OPTIONS = st.fixed_dictionaries(
    {
        "iac_provider": st.sampled_from(IAC_PROVIDERS),
        "compute_type": st.sampled_from(COMPUTE_TYPES),
        "integration_pattern": st.sampled_from(PATTERNS),
        "auth": st.sampled_from(AUTHS),
        "python_version": st.sampled_from(["3.12", "3.13"]),
        "directory": st.sampled_from(["packages", "services/apis"]),
    }
)

EXAMPLE_OPTIONS = {
    "iac_provider": "CDK",
    "compute_type": "ServerlessApiGatewayHttpApi",
    "integration_pattern": "shared",
    "auth": "IAM",
    "python_version": "3.13",
    "directory": "packages",
}

#: What makes a refusal clear: one line, a sentence about the answer, and what would work.
HINT = re.compile(r"(for example|such as|keep it to) '?([^']*)'?")


def _suggestion(message: str) -> str | None:
    """The name a refusal suggests, when it suggests one."""
    match = re.search(r"for example '([^']+)'", message)
    return match.group(1) if match else None


def _assert_clear(message: str) -> None:
    assert "\n" not in message, message
    assert message.startswith("The "), message
    assert message.endswith("."), message
    assert HINT.search(message), f"no suggestion in: {message}"


def _refused_clearly(check: Callable[[str], str], text: str) -> bool:
    """Whether ``check`` refuses ``text``; a refusal must be clear and its suggestion accepted."""
    message = check(text)
    if not message:
        return False
    _assert_clear(message)
    suggested = _suggestion(message)
    if suggested is not None:
        assert check(suggested) == "", f"{message} (the suggestion: {check(suggested)})"
    return True


PROPERTY_SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None)


@PROPERTY_SETTINGS
@given(names())
def test_a_name_is_refused_clearly_or_every_default_it_derives_is_valid(name: str) -> None:
    if _refused_clearly(naming.name_error, name):
        return
    # Accepted: the API name and module name defaults pass their own questions.
    api_name = naming.kebab(name)
    assert naming.api_name_error(api_name) == ""
    assert naming.module_name_error(naming.snake(api_name)) == ""


@PROPERTY_SETTINGS
@given(st.one_of(names(), st.text(max_size=45)))
def test_an_api_name_is_refused_clearly_or_its_module_name_default_is_valid(text: str) -> None:
    if not _refused_clearly(naming.api_name_error, text):
        assert naming.module_name_error(naming.snake(text)) == ""


@PROPERTY_SETTINGS
@given(st.one_of(names(), st.text(max_size=45)))
def test_a_module_name_is_refused_clearly_or_is_an_importable_package_name(text: str) -> None:
    if _refused_clearly(naming.module_name_error, text):
        assert _suggestion(naming.module_name_error(text)) is not None
        return
    assert text.isidentifier()
    assert text.isascii()
    assert text == text.lower()
    assert not keyword.iskeyword(text)
    assert text not in sys.stdlib_module_names


def test_an_api_name_is_checked_against_a_given_module_name_not_its_default() -> None:
    assert "Python keyword" in naming.api_name_error("class")
    assert naming.api_name_error("class", "class_service") == ""
    assert "Python keyword" in naming.name_error("Class")
    assert naming.name_error("Class", "klass") == ""


def test_the_ruff_run_here_is_a_release_generated_projects_accept(projects: ProjectCache) -> None:
    pyproject = tomllib.loads((projects.rendered() / "pyproject.toml").read_text())
    pins = [
        Requirement(item)
        for group in pyproject["dependency-groups"].values()
        for item in group
        if isinstance(item, str) and Requirement(item).name == "ruff"
    ]
    assert len(pins) == 1
    version = subprocess.run(
        [str(RUFF), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    assert pins[0].specifier.contains(version), (version, str(pins[0]))


#: Projects rendered by the test below: 2 to 3 s each (render, initial commit, two ruff runs).
RENDERED_EXAMPLES = 25


@settings(
    max_examples=RENDERED_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # Shrinking would render hundreds of projects; the failing example is reported as drawn.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
@given(name=names(), options=OPTIONS)
# Names users type, beyond what is generated (each costs a render).
@example(name="billing", options={**EXAMPLE_OPTIONS, "auth": "Cognito"})
@example(name="ledger-api", options={**EXAMPLE_OPTIONS, "iac_provider": "Terraform"})
def test_answers_are_refused_in_one_line_or_render_a_ruff_clean_project(
    tmp_path_factory: pytest.TempPathFactory, name: str, options: dict[str, str]
) -> None:
    dst = tmp_path_factory.mktemp("answers") / "project"
    refusal = naming.name_error(name)
    if refusal:
        prefix = "Validation error for question 'name': "
        with pytest.raises(ValueError, match=f"^{re.escape(prefix + refusal)}$"):
            render(dst, {"name": name, **options})
        assert not dst.exists() or not any(dst.iterdir()), "a refused answer wrote files"
        return
    render(dst, {"name": name, **options})
    recorded = yaml.safe_load((dst / ".copier-answers.yml").read_text())
    assert recorded["api_name"] == naming.kebab(name)
    lint = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--output-format=concise", "."],
        cwd=dst, capture_output=True, text=True, check=False,
    )  # fmt: skip
    formatting = subprocess.run(
        [str(RUFF), "format", "--check", "--no-cache", "."],
        cwd=dst, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (lint.returncode, formatting.returncode) == (0, 0), (
        f"name {name!r}, {options}:\n{lint.stdout}{lint.stderr}\n{formatting.stdout}"
    )


# Projects named otherwise than the default ('my-api', 'Payments API v2', ...) run their own checks
# (lint, type checks, tests, synth or Terraform's) as rows of the answer matrix: test_matrix.py.
