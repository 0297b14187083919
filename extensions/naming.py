"""Name derivations and answer validation for the template.

Every name form (kebab, snake, Pascal, camel) is derived here, once, so that defaults,
validators and templates agree. The validators return an empty string when the value is
fine and otherwise a message that says what is wrong and what would work; Copier shows a
non-empty validator result as the error.

Functions must cope with missing answers: Copier renders defaults and validators while the
questions are still being asked, when later answers are undefined.
"""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from jinja2 import Environment
from jinja2.ext import Extension

#: Longest API name accepted: AWS names built from it (``<api-name>-<suffix>``) must stay
#: within the 64 characters of Lambda function and IAM role names.
MAX_NAME_LENGTH = 40

#: Import names of what a generated project depends on or contains. A module of the same
#: name would shadow it (``import fastapi`` would import the user's package).
RESERVED_MODULES = frozenset(
    {
        "annotated_types",
        "anyio",
        "aws_cdk",
        "aws_lambda_powertools",
        "aws_xray_sdk",
        "boto3",
        "botocore",
        "cdk_nag",
        "certifi",
        "click",
        "common_constructs",
        "constructs",
        "fastapi",
        "h11",
        "httpcore",
        "httpx",
        "idna",
        "infra",
        "jmespath",
        "jsii",
        "mypy",
        "pydantic",
        "pydantic_core",
        "pytest",
        "ruff",
        "scripts",
        "sniffio",
        "starlette",
        "tests",
        "typing_extensions",
        "uvicorn",
        "wrapt",
    }
)

#: Copier's default answers file: the first API's, which owns the repository's shared files.
REPOSITORY_ANSWERS = ".copier-answers.yml"

#: Folder names the generated repository uses itself next to the APIs.
RESERVED_API_NAMES = frozenset({"common", "infra", "dist", "node-modules", "tests", "scripts"})

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_DIRECTORY_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def words(value: Any) -> list[str]:
    """Split free text such as ``My API``, ``MyApi`` or ``order_service`` into lower-case words.

    Camel-case humps and runs of capitals (``HTTPServer``) start new words; digits stay
    attached to the word they follow (``api2`` -> ``api2``), so ``v2-api`` keeps its ``v2``.
    """
    text = "" if value is None else str(value)
    result: list[str] = []
    for chunk in re.split(r"[^A-Za-z0-9]+", text):
        parts = _WORD.findall(chunk)
        merged: list[str] = []
        for part in parts:
            if part.isdigit() and merged:
                merged[-1] += part
            else:
                merged.append(part.lower())
        result.extend(merged)
    return result


def kebab(value: Any) -> str:
    """``My API`` -> ``my-api``: folder, distribution and AWS resource names."""
    return "-".join(words(value))


def snake(value: Any) -> str:
    """``My API`` -> ``my_api``: Python module names."""
    return "_".join(words(value))


def pascal(value: Any) -> str:
    """``my-api`` -> ``MyApi``: class names and CDK construct ids."""
    return "".join(word[:1].upper() + word[1:] for word in words(value))


def camel(value: Any) -> str:
    """``my-api`` -> ``myApi``."""
    name = pascal(value)
    return name[:1].lower() + name[1:]


def api_class(value: Any) -> str:
    """Class name of the API construct.

    ``order-service`` -> ``OrderServiceApi``; ``my-api`` -> ``MyApi`` (no doubled suffix).
    """
    name = pascal(value)
    return name if name.endswith("Api") else f"{name}Api"


def name_error(value: Any) -> str:
    """Why ``name`` cannot name an API, or ``""`` when it can."""
    text = "" if value is None else str(value).strip()
    if not text:
        return "The API needs a name, for example 'order-service' or 'My API'."
    derived = kebab(text)
    if not derived:
        return (
            f"'{text}' has no letters or digits to build a name from; "
            "use words such as 'order-service'."
        )
    if derived[0].isdigit():
        return f"'{text}' starts with a digit; start with a letter, for example 'api-{derived}'."
    return api_name_error(derived) or module_name_error(snake(text), source=f"'{text}' gives")


def api_name_error(value: Any) -> str:
    """Why ``api_name`` (the kebab-case folder and resource name) is not usable, or ``""``."""
    text = "" if value is None else str(value)
    if not _KEBAB.match(text):
        return (
            f"'{text}' is not kebab case: use lower-case letters, digits and single hyphens, "
            f"starting with a letter, for example '{kebab(text) or 'order-service'}'."
        )
    if len(text) > MAX_NAME_LENGTH:
        return (
            f"'{text}' is {len(text)} characters long; keep it to {MAX_NAME_LENGTH} so the AWS "
            "resource names built from it fit their limits."
        )
    if text in RESERVED_API_NAMES:
        return (
            f"'{text}' is a folder the generated repository uses itself; "
            f"choose another name, for example '{text}-api'."
        )
    return ""


def module_name_error(value: Any, source: str = "") -> str:
    """Why ``value`` cannot be the API's Python package name, or ``""``.

    ``source`` prefixes the message when the module name was derived from another answer.
    """
    text = "" if value is None else str(value)
    lead = f"{source} the module name '{text}'" if source else f"The module name '{text}'"
    if not text.isidentifier() or not text.isascii():
        return (
            f"{lead}, which is not a Python identifier: use lower-case letters, digits and "
            f"underscores, starting with a letter, for example '{snake(text) or 'order_service'}'."
        )
    if text != text.lower():
        return f"{lead}, which is not lower case (PEP 8): use '{snake(text)}'."
    if keyword.iskeyword(text):
        return f"{lead}, which is a Python keyword; use for example '{text}_api'."
    if text in sys.stdlib_module_names:
        return (
            f"{lead}, which shadows the standard library module '{text}'; "
            f"use for example '{text}_api'."
        )
    if text in RESERVED_MODULES:
        return (
            f"{lead}, which shadows '{text}', a module the generated project imports; "
            f"use for example '{text}_api'."
        )
    return ""


def directory_error(value: Any) -> str:
    """Why ``directory`` cannot hold the APIs, or ``""``."""
    text = "" if value is None else str(value)
    path = PurePosixPath(text)
    if not text or path.is_absolute() or "\\" in text:
        return (
            f"'{text}' is not a relative folder inside the repository; "
            "use a path such as 'packages' or 'services/apis'."
        )
    for part in text.split("/"):
        if part in {".", ".."} or not _DIRECTORY_PART.match(part):
            return (
                f"'{text}' has the part '{part}'; use folder names of letters, digits, "
                "'-', '_' and '.', without '..', such as 'packages'."
            )
    return ""


def owns_repository(answers_file: Any) -> bool:
    """Whether the API of ``answers_file`` owns the repository's shared files.

    The first API of a repository records its answers in Copier's default answers file, and
    that answers file renders the workspace, CI, README, ``common/`` and the infrastructure app
    as well as the API. Every other API has an answers file of its own and renders its own
    files only.
    """
    return PurePosixPath(str(answers_file or REPOSITORY_ANSWERS)) == PurePosixPath(
        REPOSITORY_ANSWERS
    )


def all_recorded_answers(dst_path: Any) -> dict[str, dict[str, Any]]:
    """Every API's recorded answers in the repository at ``dst_path``, by answers file name."""
    if not dst_path:
        return {}
    root = Path(str(dst_path))
    if not root.is_dir():
        return {}
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(root.glob(".copier-answers*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            found[path.name] = data
    return found


def recorded_answers(dst_path: Any, answers_file: Any) -> dict[str, Any]:
    """The answers already recorded in ``dst_path/answers_file``, or ``{}`` when there are none.

    A recorded answers file means the API is being updated (or re-copied), not added.
    """
    if not dst_path or not answers_file:
        return {}
    path = Path(str(dst_path)) / str(answers_file)
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def answers_file_error(name: Any, dst_path: Any, answers_file: Any) -> str:
    """Why ``name`` cannot be generated with ``answers_file``, or ``""``.

    Each API of a repository records its answers in a file of its own; copying a second API
    with the first one's answers file would overwrite them and leave the first API impossible
    to update. The first API of a repository uses the default answers file, which owns the
    repository's shared files: an API copied with another answers file into a folder without
    one would have no workspace, CI or infrastructure app. (``copier update`` renders into
    empty scratch folders, which pass.)
    """
    recorded = recorded_answers(dst_path, answers_file).get("name")
    if recorded is not None and str(recorded) != str(name):
        return (
            f"{answers_file} already records the API '{recorded}'. To add '{name}' next to it, "
            f"give it its own answers file: copier copy --answers-file "
            f".copier-answers.{kebab(name)}.yml ... (then update it with copier update "
            f"--answers-file .copier-answers.{kebab(name)}.yml)."
        )
    if (
        not owns_repository(answers_file)
        and not recorded_answers(dst_path, REPOSITORY_ANSWERS)
        and not _is_empty_folder(dst_path)
    ):
        return (
            f"{answers_file} adds an API to an existing repository, but this folder has no "
            f"{REPOSITORY_ANSWERS}: generate a repository's first API without --answers-file "
            "(it owns the shared files), then add others with their own answers file."
        )
    return ""


def _is_empty_folder(path: Any) -> bool:
    folder = Path(str(path or ""))
    return folder.is_dir() and not any(folder.iterdir())


def iac_provider_error(iac_provider: Any, dst_path: Any, directory: Any, answers_file: Any) -> str:
    """Why ``iac_provider`` clashes with the repository's other APIs, or ``""``.

    Every API of a repository deploys with the one infrastructure app of the repository, so
    they all use the same IaC tool. A repository with a single API may switch it on update.
    """
    own = PurePosixPath(str(answers_file or REPOSITORY_ANSWERS)).name
    for file_name, answers in all_recorded_answers(dst_path).items():
        other = answers.get("iac_provider")
        if file_name == own or other is None or str(other) == str(iac_provider):
            continue
        return (
            f"The API '{answers.get('api_name', answers.get('name'))}' ({file_name}) deploys "
            f"with {other}, through the repository's one infrastructure app: choose {other}. "
            "Every API of a repository uses the same IaC tool; only a repository with a single "
            "API can switch."
        )
    return ""


def existing_iac(dst_path: Any) -> str:
    """The IaC provider a repository already uses (the spec's "Inherit"), or ``""``.

    It is what the repository's answers files record (the first API's, else any), never what
    folders happen to be on disk: an ignored leftover must not decide.
    """
    recorded = all_recorded_answers(dst_path)
    first = recorded.get(REPOSITORY_ANSWERS, {}).get("iac_provider")
    if first:
        return str(first)
    for answers in recorded.values():
        if answers.get("iac_provider"):
            return str(answers["iac_provider"])
    return ""


def existing_python(dst_path: Any) -> str:
    """The Python version a repository already pins in ``.python-version``, or ``""``.

    A second API in the repository shares the root files, so it defaults to the same version.
    """
    if not dst_path:
        return ""
    path = Path(str(dst_path)) / ".python-version"
    if not path.is_file():
        return ""
    version = path.read_text(encoding="utf-8").strip()
    return version if version in {"3.12", "3.13"} else ""


def existing_tracing(dst_path: Any, answers_file: Any) -> str:
    """``xray-sdk`` for an API generated before the ``tracing`` question existed, else ``""``.

    Such an API was built on the X-Ray SDK: updating it keeps that SDK (and the user's tests of
    it) until ``tracing`` is answered on purpose, e.g. ``--data tracing=opentelemetry``.
    """
    answers = recorded_answers(dst_path, answers_file)
    return "xray-sdk" if answers and "tracing" not in answers else ""


FILTERS = {
    "kebab": kebab,
    "snake": snake,
    "pascal": pascal,
    "camel": camel,
    "api_class": api_class,
    "name_error": name_error,
    "api_name_error": api_name_error,
    "module_name_error": module_name_error,
    "directory_error": directory_error,
}


class NamingExtension(Extension):
    """Registers the name filters and the repository-inspecting globals with Copier's Jinja."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
        environment.globals["existing_iac"] = existing_iac
        environment.globals["existing_python"] = existing_python
        environment.globals["existing_tracing"] = existing_tracing
        environment.globals["answers_file_error"] = answers_file_error
        environment.globals["iac_provider_error"] = iac_provider_error
        environment.globals["owns_repository"] = owns_repository
