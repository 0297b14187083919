"""Unit tests of the naming extension: name forms, validators and repository inspection."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from jinja2 import Environment

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "extensions"))

import naming


@pytest.mark.parametrize(
    ("text", "kebab", "snake", "pascal", "camel", "api_class"),
    [
        (
            "order-service",
            "order-service",
            "order_service",
            "OrderService",
            "orderService",
            "OrderServiceApi",
        ),
        (
            "OrderService",
            "order-service",
            "order_service",
            "OrderService",
            "orderService",
            "OrderServiceApi",
        ),
        (
            "Order Service",
            "order-service",
            "order_service",
            "OrderService",
            "orderService",
            "OrderServiceApi",
        ),
        (
            "order_service",
            "order-service",
            "order_service",
            "OrderService",
            "orderService",
            "OrderServiceApi",
        ),
        ("my-api", "my-api", "my_api", "MyApi", "myApi", "MyApi"),
        ("HTTPServer", "http-server", "http_server", "HttpServer", "httpServer", "HttpServerApi"),
        ("v2 api", "v2-api", "v2_api", "V2Api", "v2Api", "V2Api"),
        ("  spaced  out  ", "spaced-out", "spaced_out", "SpacedOut", "spacedOut", "SpacedOutApi"),
        ("api2", "api2", "api2", "Api2", "api2", "Api2Api"),
    ],
)
def test_every_name_form_derives_from_free_text(
    text: str, kebab: str, snake: str, pascal: str, camel: str, api_class: str
) -> None:
    assert naming.kebab(text) == kebab
    assert naming.snake(text) == snake
    assert naming.pascal(text) == pascal
    assert naming.camel(text) == camel
    assert naming.api_class(text) == api_class


def test_name_forms_accept_undefined_answers() -> None:
    # Copier renders defaults before every answer exists.
    assert naming.kebab(None) == ""
    assert naming.snake(None) == ""
    assert naming.pascal(None) == ""
    assert naming.api_class(None) == "Api"


@pytest.mark.parametrize("name", ["order-service", "OrderService", "My API", "payments", "api2"])
def test_good_names_pass(name: str) -> None:
    assert naming.name_error(name) == ""


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("", "needs a name"),
        ("   ", "needs a name"),
        (None, "needs a name"),
        ("!!!", "no letters or digits"),
        ("2fast", "starts with a digit"),
        ("class", "Python keyword"),
        ("import", "Python keyword"),
        ("json", "standard library module 'json'"),
        ("asyncio", "standard library"),
        ("fastapi", "shadows 'fastapi'"),
        ("pydantic", "shadows 'pydantic'"),
        ("common", "folder the generated repository uses"),
        ("infra", "folder the generated repository uses"),
        ("a" * 41, "41 characters long"),
    ],
)
def test_bad_names_are_refused_with_the_reason(name: str | None, says: str) -> None:
    message = naming.name_error(name)
    assert says in message
    # Every refusal suggests what would work.
    assert any(hint in message for hint in ("for example", "use ", "choose", "keep it to"))


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("Order-Service", "not kebab case"),
        ("order--service", "not kebab case"),
        ("-order", "not kebab case"),
        ("order_service", "for example 'order-service'"),
        ("tests", "folder the generated repository uses"),
    ],
)
def test_bad_api_names_are_refused(value: str, says: str) -> None:
    assert says in naming.api_name_error(value)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("order-service", "not a Python identifier"),
        ("Order", "not lower case"),
        ("ordér", "not a Python identifier"),
        ("lambda", "Python keyword"),
        ("os", "standard library"),
        ("uvicorn", "shadows 'uvicorn'"),
        ("common_constructs", "shadows 'common_constructs'"),
    ],
)
def test_bad_module_names_are_refused(value: str, says: str) -> None:
    assert says in naming.module_name_error(value)


def test_good_module_name_passes() -> None:
    assert naming.module_name_error("order_service") == ""


@pytest.mark.parametrize("value", ["packages", "services/apis", "src.d"])
def test_good_directories_pass(value: str) -> None:
    assert naming.directory_error(value) == ""


@pytest.mark.parametrize("value", ["", "/abs", "../outside", "a/../b", "with space", "a\\b", "./x"])
def test_bad_directories_are_refused(value: str) -> None:
    assert naming.directory_error(value) != ""


def test_existing_iac_reads_the_common_folder(tmp_path: Path) -> None:
    assert naming.existing_iac(tmp_path, "packages") == ""
    (tmp_path / "packages" / "common" / "terraform").mkdir(parents=True)
    assert naming.existing_iac(tmp_path, "packages") == "Terraform"
    (tmp_path / "packages" / "common" / "constructs").mkdir()
    assert naming.existing_iac(tmp_path, "packages") == "CDK"
    assert naming.existing_iac(tmp_path, "../packages") == ""
    assert naming.existing_iac(None, "packages") == ""


def test_iac_provider_may_only_switch_for_a_recorded_api(tmp_path: Path) -> None:
    (tmp_path / "packages" / "common" / "constructs").mkdir(parents=True)
    answers = ".copier-answers.payments.yml"
    assert "already uses CDK" in naming.iac_provider_error(
        "Terraform", tmp_path, "packages", answers
    )
    assert naming.iac_provider_error("CDK", tmp_path, "packages", answers) == ""
    (tmp_path / answers).write_text("name: payments\niac_provider: CDK\n")
    assert naming.iac_provider_error("Terraform", tmp_path, "packages", answers) == ""


def test_an_answers_file_belongs_to_one_api(tmp_path: Path) -> None:
    answers = ".copier-answers.yml"
    assert naming.answers_file_error("billing", tmp_path, answers) == ""
    (tmp_path / answers).write_text("name: order-service\n")
    assert naming.answers_file_error("order-service", tmp_path, answers) == ""
    message = naming.answers_file_error("Billing API", tmp_path, answers)
    assert "already records the API 'order-service'" in message
    assert "--answers-file .copier-answers.billing-api.yml" in message


def test_extension_registers_filters_and_globals() -> None:
    env = Environment(extensions=[naming.NamingExtension])
    rendered = env.from_string(
        "{{ 'order service' | kebab }} {{ 'order-service' | api_class }}"
    ).render()
    assert rendered == "order-service OrderServiceApi"
    for name in (
        "existing_iac",
        "existing_python",
        "answers_file_error",
        "iac_provider_error",
    ):
        assert callable(env.globals[name])


def test_existing_python_reads_the_pinned_version(tmp_path: Path) -> None:
    assert naming.existing_python(tmp_path) == ""
    (tmp_path / ".python-version").write_text("3.12\n")
    assert naming.existing_python(tmp_path) == "3.12"
    (tmp_path / ".python-version").write_text("2.7\n")
    assert naming.existing_python(tmp_path) == ""
