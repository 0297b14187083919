"""An update onto the shared toolchain sets an edited per-API copy of the machinery aside,
beside the new layout, and names it; everything else it keeps stays where it was."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extensions"))

from keep_edits import report
from migrations import Outcome, set_aside_machinery

ANSWERS = {
    "directory": "packages",
    "api_name": "orders",
    "module_name": "orders",
    "iac_provider": "CDK",
}
MACHINERY = [
    "packages/orders/scripts/bundle.py",
    "packages/orders-client/orders_client/_base.py",
    "packages/orders-client/tests/test_client.py",
    "packages/common/constructs/src/common_constructs/app/apis/orders.py",
]
OTHERS = ["packages/orders/tests/conftest.py", "packages/common/constructs/x.py"]


def test_edited_machinery_is_set_aside_and_named_and_the_rest_stays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for rel in MACHINERY + OTHERS:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("# ours\n")
    aside = set_aside_machinery(MACHINERY + OTHERS, ANSWERS)
    assert [old for old, _ in aside] == MACHINERY
    for old, new in aside:
        assert not (tmp_path / old).exists()
        assert (tmp_path / new).read_text() == "# ours\n"
        assert new == f"{old}.before-toolchain"
    assert all((tmp_path / rel).is_file() for rel in OTHERS)
    message = report(MACHINERY + OTHERS, Outcome([], []), aside=aside)
    assert "common/toolchain, common/client-runtime" in message
    for _, new in aside:
        assert f"  {new}" in message
    # The others are listed as kept files to review, the set-aside ones only once.
    assert all(f"  {rel}" in message for rel in OTHERS)
    assert message.count("scripts/bundle.py") == 1
    # Idempotent: nothing left to set aside.
    assert set_aside_machinery(MACHINERY, ANSWERS) == []


def test_a_construct_module_kept_by_a_switch_to_terraform_stays_where_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    construct = MACHINERY[-1]
    (tmp_path / construct).parent.mkdir(parents=True)
    (tmp_path / construct).write_text("# ours\n")
    assert set_aside_machinery([construct], {**ANSWERS, "iac_provider": "Terraform"}) == []
    assert (tmp_path / construct).read_text() == "# ours\n"


def test_edited_terraform_resources_of_an_api_are_set_aside_where_terraform_does_not_read_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    module = "packages/common/terraform/src/app/apis/orders"
    kept = [f"{module}/api.tf", f"{module}/cognito.tf", f"{module}/tests/streaming.tftest.hcl"]
    own = [f"{module}/orders.tf", f"{module}/variables.tf", "packages/infra/orders.tf"]
    for rel in kept + own:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("# ours\n")
    answers = {**ANSWERS, "iac_provider": "Terraform"}
    aside = set_aside_machinery(kept + own, answers)
    assert aside == [(rel, f"{rel}.before-toolchain") for rel in kept]
    # Terraform reads *.tf and tests/*.tftest.hcl only: the set-aside copies declare nothing.
    assert sorted(p.name for p in (tmp_path / module).glob("*.tf")) == ["orders.tf", "variables.tf"]
    assert not list((tmp_path / module / "tests").glob("*.tftest.hcl"))
    assert all((tmp_path / rel).read_text() == "# ours\n" for rel in own)
    message = report(kept + own, Outcome([], []), aside=aside)
    assert "core/api/fastapi" in message
    assert all(f"  {new}" in message for _, new in aside)
    # A switch to the CDK leaves them where they are, kept files of the old choice.
    (tmp_path / f"{module}/authorizer.tf").write_text("# ours\n")
    assert set_aside_machinery([f"{module}/authorizer.tf"], ANSWERS) == []
