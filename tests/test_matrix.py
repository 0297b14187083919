"""Every answer of every question, at least pairwise, each project running its own checks.

The answers come from copier.yml (every question with choices, plus a non-default
``directory``), so an answer added there joins the matrix by itself. A small seeded greedy
covering array picks the combinations: every pair of answers of two questions stands in some
row, in far fewer rows than the full product. Each row's project is rendered once per session
and runs what its CI runs (``poe lint``, ``poe test``, then ``poe synth`` or the build and the
Terraform checks). Terraform's formatting, which broke for one answer before, is checked for
every combination of the answers that change Terraform files.
"""

from __future__ import annotations

import itertools
import random
import shutil
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import copier
import pytest
import yaml
from conftest import TEMPLATE_ROOT, ProjectCache, run, tf_env
from template_repo import copy_working_tree
from test_terraform import (
    UnvalidatedTerraform,
    mirrored_aws_versions,
    prepare_for_provider,
    provider_mirror,
    terraform_validate,
)

__all__ = ["provider_mirror"]  # the fixture, found by pytest through this module's names

#: The folder a first copy defaults to (the default's expression reads the repository's answer
#: when there is one, so it is not a value to pass).
DEFAULT_DIRECTORY = "packages"
#: A folder other than the default, two levels deep, for ``directory``.
OTHER_DIRECTORY = "services/apis"
#: Names users type, in turn per row (the names' own tests are elsewhere).
NAMES = ("my-api", "billing", "Payments API v2", "orders")
SEED = 20251207


def questions() -> dict[str, list[str]]:
    """Every question of copier.yml with choices, and its answers; ``directory`` with the
    folder a first copy defaults to and another folder."""
    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    found: dict[str, list[str]] = {}
    for key, spec in config.items():
        if key.startswith("_") or not isinstance(spec, dict) or "choices" not in spec:
            continue
        choices = spec["choices"]
        found[key] = [str(c) for c in (choices.values() if isinstance(choices, dict) else choices)]
    assert f"'{DEFAULT_DIRECTORY}'" in config["directory"]["default"], "the default folder moved"
    found["directory"] = [DEFAULT_DIRECTORY, OTHER_DIRECTORY]
    return found


Pair = tuple[tuple[str, str], tuple[str, str]]


def pair(first: tuple[str, str], second: tuple[str, str]) -> Pair:
    """Two answers of two questions, in the order of the questions' names."""
    return (first, second) if first[0] < second[0] else (second, first)


def pairs_of(row: Mapping[str, str]) -> set[Pair]:
    """The pairs of answers (of two different questions) that ``row`` holds."""
    return {pair(a, b) for a, b in itertools.combinations(row.items(), 2)}


def every_pair(parameters: Mapping[str, Sequence[str]]) -> set[Pair]:
    """Every pair of values of two different parameters."""
    return {
        pair((a, va), (b, vb))
        for a, b in itertools.combinations(parameters, 2)
        for va in parameters[a]
        for vb in parameters[b]
    }


def _new_pairs(key: str, value: str, row: Mapping[str, str], uncovered: set[Pair]) -> int:
    """How many uncovered pairs ``key=value`` would cover next to the values of ``row``."""
    return sum(pair((key, value), answer) in uncovered for answer in row.items())


def covering_array(
    parameters: Mapping[str, Sequence[str]], seed: int, candidates: int = 40
) -> list[dict[str, str]]:
    """Rows holding every pair of values of any two parameters (greedy, AETG-like).

    Each new row starts from a pair not covered yet; the other parameters take, in a random
    order, the value covering most new pairs with the values already chosen. Of ``candidates``
    such rows, the one covering most new pairs is kept. Seeded: the same rows every run.
    """
    keys = list(parameters)
    rng = random.Random(seed)
    uncovered = every_pair(parameters)
    rows: list[dict[str, str]] = []
    while uncovered:
        start = sorted(uncovered)[0]
        best: dict[str, str] = {}
        best_gain = -1
        for _ in range(candidates):
            row = dict(start)
            rest = [k for k in keys if k not in row]
            rng.shuffle(rest)
            for key in rest:
                values = list(parameters[key])
                rng.shuffle(values)
                gains = [_new_pairs(key, value, row, uncovered) for value in values]
                row[key] = values[gains.index(max(gains))]
            gain = len(pairs_of(row) & uncovered)
            if gain > best_gain:
                best, best_gain = row, gain
        rows.append({k: best[k] for k in keys})
        uncovered -= pairs_of(best)
    return rows


QUESTIONS = questions()
ROWS: list[dict[str, str]] = [
    {"name": NAMES[index % len(NAMES)], **row}
    for index, row in enumerate(covering_array(QUESTIONS, SEED))
]

_SHORT = {
    "ServerlessApiGatewayRestApi": "rest",
    "ServerlessApiGatewayHttpApi": "http",
    "opentelemetry": "otel",
    OTHER_DIRECTORY: "dir-" + OTHER_DIRECTORY.replace("/", "-"),
}


def row_id(row: Mapping[str, str]) -> str:
    """A test id naming every answer of the row, such as ``cdk-rest-isolated-iam-otel-...``."""
    parts = [_SHORT.get(value, value) for key, value in row.items() if key != "name"]
    return "-".join(f"py{p}" if p[:1].isdigit() else p.lower() for p in parts)


def test_the_matrix_holds_every_pair_of_answers_of_every_two_questions() -> None:
    wanted = every_pair(QUESTIONS)
    held = set().union(*(pairs_of({k: row[k] for k in QUESTIONS}) for row in ROWS))
    assert wanted <= held, sorted(wanted - held)
    # Far fewer rows than every combination, and no more than a greedy array needs.
    product = 1
    for values in QUESTIONS.values():
        product *= len(values)
    largest = sorted((len(v) for v in QUESTIONS.values()), reverse=True)
    assert largest[0] * largest[1] <= len(ROWS) < product
    assert len(ROWS) <= largest[0] * largest[1] + 3, [row_id(r) for r in ROWS]
    assert covering_array(QUESTIONS, SEED) == [
        {k: v for k, v in row.items() if k != "name"} for row in ROWS
    ], "the matrix changes between runs"


# --- Terraform of every combination that changes its files ----------------------------------

TERRAFORM_KEYS = ("tracing", "compute_type", "integration_pattern", "auth")
TERRAFORM_COMBINATIONS = [
    dict(zip(TERRAFORM_KEYS, values, strict=True))
    for values in itertools.product(*(QUESTIONS[key] for key in TERRAFORM_KEYS))
]
#: Validated as well (terraform init and validate): each compute type and pattern with the
#: tracing answer that is not the default, the auth answers in turn, and the default row.
VALIDATED = [
    next(
        c
        for c in TERRAFORM_COMBINATIONS
        if (c["compute_type"], c["integration_pattern"]) == shape
        and c["tracing"] == QUESTIONS["tracing"][-1]
        and c["auth"] == QUESTIONS["auth"][index % len(QUESTIONS["auth"])]
    )
    for index, shape in enumerate(
        itertools.product(QUESTIONS["compute_type"], QUESTIONS["integration_pattern"])
    )
] + [TERRAFORM_COMBINATIONS[0]]


def terraform_id(combo: Mapping[str, str]) -> str:
    """A test id such as ``xray-sdk-http-shared-cognito``."""
    return "-".join(_SHORT.get(v, v).lower() for v in combo.values())


@pytest.fixture(scope="session")
def plain_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's working tree copied outside git: Copier renders it without a clone."""
    root = tmp_path_factory.mktemp("plain-template")
    copy_working_tree(root)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("combo", TERRAFORM_COMBINATIONS, ids=terraform_id)
def test_terraform_of_every_combination_is_formatted_and_validates(
    combo: dict[str, str], plain_template: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    dst = tmp_path / "project"
    copier.run_copy(
        str(plain_template),
        dst,
        data={"name": "my-api", "iac_provider": "Terraform", **combo},
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
    )
    files = sorted(dst.rglob("*.tf"))
    assert files
    run(["terraform", "fmt", "-check", "-recursive", "-list=true", "."], dst, env=tf_env(tmp_path))
    if combo in VALIDATED:
        mirror = request.getfixturevalue("provider_mirror")
        tree = tmp_path / "copy"
        shutil.copytree(dst / "packages", tree / "packages")
        notes = prepare_for_provider(tree, mirrored_aws_versions(mirror)[-1])
        if notes:
            warnings.warn(UnvalidatedTerraform(f"{terraform_id(combo)}: {notes[0]}"), stacklevel=1)
        terraform_validate(tree / "packages" / "infra", tmp_path)


def test_the_validated_terraform_subset_holds_every_answer() -> None:
    for key in TERRAFORM_KEYS:
        assert {c[key] for c in VALIDATED} == set(QUESTIONS[key]), key


# --- each row's project runs its own checks -------------------------------------------------


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache per worker, shared by its projects: the stubs of the CDK and of the
    AWS libraries are read once (mypy checks again what differs between projects)."""
    return tmp_path_factory.mktemp("mypy-cache")


def checks_env(mypy_cache: Path, tmp_path: Path) -> dict[str, str]:
    """The environment a project's checks run in: the shared uv and mypy caches."""
    env = {**tf_env(tmp_path), "MYPY_CACHE_DIR": str(mypy_cache)}
    return env


@pytest.mark.slow
@pytest.mark.parametrize("row", ROWS, ids=row_id)
def test_every_matrix_project_passes_its_own_checks(
    projects: ProjectCache,
    row: dict[str, str],
    mypy_cache: Path,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    project = projects.synced(**row)
    env = checks_env(mypy_cache, tmp_path)
    poe = ["uv", "run", "--no-sync", "poe"]
    run([*poe, "lint"], project, env=env, timeout=900)
    result = run([*poe, "test"], project, env=env, timeout=900)
    assert " passed" in result.stdout
    directory = row["directory"]
    if row["iac_provider"] == "CDK":
        run([*poe, "synth"], project, env=env, timeout=900)
        assert list((project / directory / "infra" / "cdk.out").glob("*.template.json"))
        return
    run([*poe, "build"], project, env=env, timeout=900)
    run(["terraform", "fmt", "-check", "-recursive", directory], project, env=env)
    # The rest of `poe check` (validate, tftest) on a copy adapted to the mirrored provider.
    mirror = request.getfixturevalue("provider_mirror")
    tree = tmp_path / "copy"
    unused = shutil.ignore_patterns(".venv", "__pycache__", ".terraform")
    shutil.copytree(project / directory, tree / directory, symlinks=True, ignore=unused)
    notes = prepare_for_provider(tree, mirrored_aws_versions(mirror)[-1])
    if notes:
        warnings.warn(UnvalidatedTerraform(f"{row_id(row)}: {notes[0]}"), stacklevel=1)
    terraform_validate(tree / directory / "infra", tmp_path)
    for config in sorted((tree / directory / "common" / "terraform" / "src").glob("*/*/*/")):
        if (config / "tests").is_dir():
            run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], config,
                env=env)  # fmt: skip
            run(["terraform", "test", "-no-color"], config, env=env, timeout=900)
    infra = tree / directory / "infra"
    run(["terraform", "test", "-no-color"], infra, env=env, timeout=900)
