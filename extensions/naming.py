"""Name derivations and answer validation for the template.

Every name form (kebab, snake, Pascal, camel) is derived here, once, so that defaults,
validators and templates agree. The validators return an empty string when the value is
fine and otherwise a message that says what is wrong and what would work; Copier shows a
non-empty validator result as the error.

Functions must cope with missing answers: Copier renders defaults and validators while the
questions are still being asked, when later answers are undefined.
"""

from __future__ import annotations

import itertools
import keyword
import re
import subprocess
import sys
import unicodedata
from collections.abc import Mapping
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from jinja2 import Environment, Template, Undefined, pass_context
from jinja2.ext import Extension
from jinja2.runtime import Context

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
        "common_runtime",
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


def _given(value: Any) -> str | None:
    """``value`` as text when it is an answer, ``None`` when it is missing.

    While questions are being asked, later answers are Jinja ``Undefined`` objects (or absent).
    """
    if value is None or isinstance(value, Undefined):
        return None
    text = str(value)
    return text or None


def _shown(text: str) -> str:
    """``text`` as messages quote it: control characters escaped, so a message is one line."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _ascii_fold(text: str) -> str:
    """``Café`` -> ``Cafe``: letters without their accents; other non-ASCII letters dropped."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _module_problem(module: str) -> str:
    """What is wrong with ``module`` as a Python package name, as a verb phrase, or ``""``."""
    if not module.isidentifier() or not module.isascii():
        return (
            "is not a Python identifier (lower-case ASCII letters, digits and underscores, "
            "starting with a letter)"
        )
    if module != module.lower():
        return "is not lower case, as PEP 8 asks of module names"
    if keyword.iskeyword(module):
        return "is a Python keyword"
    if module in sys.stdlib_module_names:
        return f"shadows the standard library module '{module}'"
    if module in RESERVED_MODULES:
        return f"shadows '{module}', a module the generated project imports"
    return ""


def _module_suggestion(module: str) -> str:
    """A valid module name close to ``module``, to suggest in a message."""
    base = snake(_ascii_fold(module)) or "order_service"
    if base[0].isdigit():
        base = f"api_{base}"
    for candidate in (base, f"{base}_api", f"{base}_service", f"my_{base}"):
        if not _module_problem(candidate):
            return candidate
    return "order_service"


def _api_name_suggestion(api_name: str) -> str:
    """A valid API name close to ``api_name``, to suggest in a message."""
    base = kebab(_ascii_fold(api_name))[:MAX_NAME_LENGTH].strip("-") or "order-service"
    if base[0].isdigit():
        base = f"api-{base}"[:MAX_NAME_LENGTH].strip("-")
    for candidate in (base, f"{base}-api", f"my-{base}", f"{base[: MAX_NAME_LENGTH - 4]}-api"):
        if len(candidate) <= MAX_NAME_LENGTH and not api_name_error(candidate):
            return candidate
    return "order-service"


def name_error(value: Any, api_name: Any = None, module_name: Any = None) -> str:
    """Why ``name`` cannot name an API, or ``""`` when it can.

    The API name and module name default to forms of ``name``, so a name is refused here when
    a form derived from it would be refused later: no default can then fail its own question.
    When ``api_name`` (and ``module_name``) are given too, they are checked at their questions.
    """
    text = "" if value is None else str(value).strip()
    if not text:
        return "The API needs a name; type one, for example 'order-service' or 'My API'."
    if _given(api_name) is not None:
        return ""
    if not text.isascii():
        return (
            f"The name '{_shown(text)}' has characters outside ASCII, which module and AWS "
            f"resource names cannot hold; use for example '{_api_name_suggestion(text)}'."
        )
    derived = kebab(text)
    if not derived:
        return (
            f"The name '{_shown(text)}' has no letters or digits to build a name from; "
            "use words such as 'order-service'."
        )
    if derived[0].isdigit():
        return (
            f"The name '{_shown(text)}' starts with a digit, which Python module names cannot; "
            f"start with a letter, for example '{_api_name_suggestion(derived)}'."
        )
    return api_name_error(derived, module_name, source=f"the name '{_shown(text)}'")


def api_name_error(value: Any, module_name: Any = None, source: str = "") -> str:
    """Why ``api_name`` (the kebab-case folder and resource name) is not usable, or ``""``.

    Without a given ``module_name``, the module name defaults to the snake case of the API
    name, so an API name whose module name would be refused is refused here, with the reason.
    ``source`` names the answer the API name was derived from, for the message.
    """
    text = "" if value is None else str(value)
    origin = source or f"the API name '{_shown(text)}'"
    lead = (
        f"The API name '{_shown(text)}', derived from {source},"
        if source
        else f"The API name '{_shown(text)}'"
    )
    if not _KEBAB.match(text):
        return (
            f"{lead} is not kebab case; use lower-case letters, digits and single hyphens, "
            f"starting with a letter, for example '{_api_name_suggestion(text)}'."
        )
    if len(text) > MAX_NAME_LENGTH:
        return (
            f"{lead} is {len(text)} characters long; keep it to {MAX_NAME_LENGTH} so the AWS "
            "resource names built from it fit their limits."
        )
    if text in RESERVED_API_NAMES:
        return (
            f"{lead} is a folder the generated repository uses itself; "
            f"choose another name, for example '{text}-api'."
        )
    if _given(module_name) is not None:
        return ""
    module = snake(text)
    problem = _module_problem(module)
    if problem:
        return (
            f"The module name '{module}', derived from {origin}, {problem}; "
            f"use for example '{_api_name_suggestion(_module_suggestion(module))}'."
        )
    return ""


def module_name_error(value: Any) -> str:
    """Why ``value`` cannot be the API's Python package name, or ``""``."""
    text = "" if value is None else str(value)
    problem = _module_problem(text)
    if problem:
        return (
            f"The module name '{_shown(text)}' {problem}; "
            f"use for example '{_module_suggestion(text)}'."
        )
    return ""


def directory_error(value: Any) -> str:
    """Why ``directory`` cannot hold the APIs, or ``""``."""
    text = "" if value is None else str(value)
    path = PurePosixPath(text)
    if not text or path.is_absolute() or "\\" in text:
        return (
            f"'{_shown(text)}' is not a relative folder inside the repository; "
            "use a path such as 'packages' or 'services/apis'."
        )
    for part in text.split("/"):
        if part in {".", ".."} or not _DIRECTORY_PART.match(part):
            return (
                f"'{_shown(text)}' has the part '{_shown(part)}'; use folder names of letters, "
                "digits, '-', '_' and '.', without '..', such as 'packages'."
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


def sibling_error(api_name: Any, module_name: Any, dst_path: Any, answers_file: Any) -> str:
    """Why the API clashes with another API of the repository, or ``""``.

    Two APIs of one workspace cannot share a folder (``api_name``) or a Python package
    (``module_name``): the second would overwrite the first's files or shadow its imports.
    """
    own = PurePosixPath(str(answers_file or REPOSITORY_ANSWERS)).name
    recorded = all_recorded_answers(dst_path)
    for file_name, answers in recorded.items():
        if file_name == own:
            continue
        for key, value in (("api_name", api_name), ("module_name", module_name)):
            if str(answers.get(key)) == str(value):
                return (
                    f"The API of {file_name} already uses the {key.replace('_', ' ')} "
                    f"'{value}'; give this API another name, for example '{value}-2'."
                    if key == "api_name"
                    else f"The API of {file_name} already uses the module name '{value}'; "
                    f"give this API another module name, for example '{value}_2'."
                )
    directory = recorded.get(REPOSITORY_ANSWERS, {}).get("directory")
    if own not in recorded and directory and dst_path:
        folder = Path(str(dst_path)) / str(directory) / str(api_name)
        if folder.exists():
            return (
                f"The folder {directory}/{api_name} already exists and no answers file records "
                f"it; give this API another name, for example '{api_name}-api'."
            )
    return ""


#: Where the generated tree lives in the template (copier.yml's ``_subdirectory``), and the
#: suffix of the files it renders (``_templates_suffix``).
TEMPLATE_SUBDIRECTORY = "template"
TEMPLATE_SUFFIX = ".jinja"

#: Answers that choose which files are written (conditional names), with Copier's fallbacks
#: when a later question is not answered yet: every choice is then taken into account.
_PATH_CHOICES = ("iac_provider", "compute_type", "integration_pattern", "auth")


@cache
def _path_template(part: str) -> Template:
    return Environment(keep_trailing_newline=True).from_string(part)


def _question_choices(src_path: Path, question: str) -> list[str]:
    config = yaml.safe_load((src_path / "copier.yml").read_text(encoding="utf-8"))
    choices = config.get(question, {}).get("choices", [])
    return [str(c) for c in (choices.values() if isinstance(choices, dict) else choices)]


def planned_files(src_path: Any, answers: Mapping[str, Any], answers_file: Any = None) -> set[str]:
    """The files (relative POSIX paths) a copy of the template at ``src_path`` writes.

    Paths are rendered as Copier renders them, from the answers given; an answer that chooses
    files but is not given yet counts with each of its choices (the union of what could be
    written), ``directory`` with its default and the API's names with their derivations.
    """
    root = Path(str(src_path))
    given = {key: value for key, value in answers.items() if _given(value) is not None}
    name = given.get("name", "")
    given.setdefault("directory", "packages")
    given.setdefault("api_name", kebab(name))
    given.setdefault("module_name", snake(given["api_name"]))
    given["_copier_conf"] = {"answers_file": str(answers_file or REPOSITORY_ANSWERS)}
    open_choices = [q for q in _PATH_CHOICES if q not in given]
    sources = [
        path.relative_to(root / TEMPLATE_SUBDIRECTORY)
        for path in sorted((root / TEMPLATE_SUBDIRECTORY).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    planned: set[str] = set()
    for values in itertools.product(*(_question_choices(root, q) for q in open_choices)):
        context = {**given, **dict(zip(open_choices, values, strict=True))}
        for source in sources:
            parts = [_path_template(part).render(context) for part in source.parts]
            # A template whose name renders to the suffix alone is not written.
            parts[-1] = parts[-1].removesuffix(TEMPLATE_SUFFIX)
            if all(parts):
                planned.add("/".join(parts))
    return planned


@pass_context
def files_this_copy_writes(context: Context) -> set[str]:
    """The files the copy being rendered writes, from the answers given so far."""
    conf = context.get("_copier_conf") or {}
    answers = {key: context.get(key) for key in ("name", "directory", "api_name", "module_name",
                                                 *_PATH_CHOICES)}  # fmt: skip
    return planned_files(conf.get("src_path"), answers, conf.get("answers_file"))


#: Destinations whose replaced files were already named (a validator may run more than once).
_REPORTED: set[str] = set()


@pass_context
def destination_error(context: Context) -> str:
    """Why the first copy cannot write into its destination, or ``""``.

    A repository's first copy refuses, before anything is written, a destination that already
    holds a file the template would write: Copier would otherwise overwrite it (its prompt
    defaults to yes). With ``--overwrite`` it is allowed, and the files it replaces are named.
    Updates, added APIs (they render their own files only, checked by ``sibling_error``) and
    an empty or new destination pass.
    """
    conf = context.get("_copier_conf") or {}
    dst_path, answers_file = conf.get("dst_path"), conf.get("answers_file")
    if not dst_path or not owns_repository(answers_file):
        return ""
    dst = Path(str(dst_path))
    if not dst.is_dir() or recorded_answers(dst, answers_file) or _is_empty_folder(dst):
        return ""
    existing = sorted(
        rel
        for rel in files_this_copy_writes(context)
        if (dst / rel).exists() or (dst / rel).is_symlink()
    )
    if not existing:
        return ""
    listed = "".join(f"\n  {rel}" for rel in existing)
    if conf.get("overwrite"):
        if str(dst) not in _REPORTED:
            _REPORTED.add(str(dst))
            print(f"--overwrite: the copy replaces these files of yours:{listed}", file=sys.stderr)
        return ""
    return (
        f"{dst} already holds files this template writes; nothing was written. Copy into a new "
        f"or empty folder, move these files away, or pass --overwrite to replace them:{listed}"
    )


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


def _resolve_commit(template: Path, ref: str) -> str:
    """The commit ``ref`` (a tag or ``git describe`` output) names in ``template``, or ``""``."""
    result = subprocess.run(
        ["git", "-C", str(template), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def template_version_error(
    dst_path: Any, answers_file: Any, src_path: Any, vcs_ref_hash: Any
) -> str:
    """Why an API added to a repository would come from another template version, or ``""``.

    An added API renders only its own files; the shared files (the runtime it imports, the
    constructs or modules it calls, the tasks that build it) are the repository's, at the
    version ``.copier-answers.yml`` records. An API rendered from another version would not
    fit them, so it is refused before anything is written.
    """
    if owns_repository(answers_file) or recorded_answers(dst_path, answers_file):
        return ""  # the repository's own API, or an update of an API already there
    repository = recorded_answers(dst_path, REPOSITORY_ANSWERS)
    recorded = str(repository.get("_commit") or "")
    if not recorded or not src_path or not vcs_ref_hash:
        return ""
    if _resolve_commit(Path(str(src_path)), recorded) == str(vcs_ref_hash):
        return ""
    return (
        f"This repository was generated from the template's version {recorded}, but this copy "
        f"renders another version; an added API must match the repository's shared files. "
        f"Either update the repository first (copier update, without --answers-file), or add "
        f"the API from the repository's version: add --vcs-ref {recorded} to this command."
    )


def repository_answer(dst_path: Any, question: str) -> str:
    """What the repository's first API (``.copier-answers.yml``) answered to ``question``."""
    value = recorded_answers(dst_path, REPOSITORY_ANSWERS).get(question)
    return "" if value is None else str(value)


def inherited_error(question: str, value: Any, dst_path: Any, answers_file: Any) -> str:
    """Why an added API's answer to a repository-wide ``question`` is refused, or ``""``.

    ``directory`` and ``python_version`` belong to the repository: its workspace, CDK app or
    Terraform root and its one environment. An API added with its own answers file inherits
    them; another value would put it outside the workspace or on another Lambda runtime.
    """
    if owns_repository(answers_file):
        return ""
    repository = repository_answer(dst_path, question)
    if not repository or repository == str(value):
        return ""
    return (
        f"The repository's {question} is '{repository}' ({REPOSITORY_ANSWERS}), and every API "
        f"of it shares that answer: answer '{repository}' (or leave the default)."
    )


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
        environment.globals["sibling_error"] = sibling_error
        environment.globals["template_version_error"] = template_version_error
        environment.globals["repository_answer"] = repository_answer
        environment.globals["inherited_error"] = inherited_error
        environment.globals["destination_error"] = destination_error
        environment.globals["files_this_copy_writes"] = files_this_copy_writes
