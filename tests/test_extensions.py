"""Unit tests of the naming extension: name forms, validators and repository inspection."""

from __future__ import annotations

import sys
from collections.abc import Callable
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
        ("Café API", "characters outside ASCII"),
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


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (naming.module_name_error, "class",
         "The module name 'class' is a Python keyword; use for example 'class_api'."),
        (naming.api_name_error, "class",
         "The module name 'class', derived from the API name 'class', is a Python keyword; "
         "use for example 'class-api'."),
        (naming.name_error, "JSON",
         "The module name 'json', derived from the name 'JSON', shadows the standard library "
         "module 'json'; use for example 'json-api'."),
        (naming.name_error, "Café API",
         "The name 'Café API' has characters outside ASCII, which module and AWS resource names "
         "cannot hold; use for example 'cafe-api'."),
        (naming.module_name_error, "a\nb",
         "The module name 'a\\nb' is not a Python identifier (lower-case ASCII letters, digits "
         "and underscores, starting with a letter); use for example 'a_b'."),
    ],
)  # fmt: skip
def test_refusals_are_one_sentence_with_the_reason_and_a_name_that_works(
    check: Callable[[str], str], value: str, message: str
) -> None:
    assert check(value) == message


def test_an_api_name_is_refused_when_the_module_name_it_gives_would_be() -> None:
    assert "is a Python keyword" in naming.api_name_error("class")
    assert "shadows 'fastapi'" in naming.api_name_error("fastapi")
    # A module name given with the API name is checked at its own question instead.
    assert naming.api_name_error("class", "class_service") == ""
    assert naming.name_error("class", "class-service") == ""


def test_good_module_name_passes() -> None:
    assert naming.module_name_error("order_service") == ""


@pytest.mark.parametrize("value", ["packages", "services/apis", "src.d"])
def test_good_directories_pass(value: str) -> None:
    assert naming.directory_error(value) == ""


@pytest.mark.parametrize("value", ["", "/abs", "../outside", "a/../b", "with space", "a\\b", "./x"])
def test_bad_directories_are_refused(value: str) -> None:
    assert naming.directory_error(value) != ""


def test_existing_iac_reads_the_recorded_answers_not_leftover_folders(tmp_path: Path) -> None:
    assert naming.existing_iac(tmp_path) == ""
    # An ignored leftover (a build lock keeping common/constructs alive) decides nothing.
    (tmp_path / "packages" / "common" / "constructs").mkdir(parents=True)
    assert naming.existing_iac(tmp_path) == ""
    (tmp_path / ".copier-answers.payments.yml").write_text("name: payments\niac_provider: CDK\n")
    assert naming.existing_iac(tmp_path) == "CDK"
    (tmp_path / ".copier-answers.yml").write_text("name: orders\niac_provider: Terraform\n")
    assert naming.existing_iac(tmp_path) == "Terraform"
    assert naming.existing_iac(None) == ""


def test_iac_provider_must_match_the_other_apis(tmp_path: Path) -> None:
    first, second = ".copier-answers.yml", ".copier-answers.payments.yml"
    (tmp_path / first).write_text("name: orders\napi_name: orders\niac_provider: CDK\n")
    message = naming.iac_provider_error("Terraform", tmp_path, "packages", second)
    assert "The API 'orders' (.copier-answers.yml) deploys with CDK" in message
    assert "choose CDK" in message
    assert naming.iac_provider_error("CDK", tmp_path, "packages", second) == ""
    # A repository with a single API may switch its tool on update.
    assert naming.iac_provider_error("Terraform", tmp_path, "packages", first) == ""
    (tmp_path / second).write_text("name: payments\napi_name: payments\niac_provider: CDK\n")
    assert "'payments'" in naming.iac_provider_error("Terraform", tmp_path, "packages", first)


def test_an_answers_file_belongs_to_one_api(tmp_path: Path) -> None:
    answers = ".copier-answers.yml"
    assert naming.answers_file_error("billing", tmp_path, answers) == ""
    (tmp_path / answers).write_text("name: order-service\n")
    assert naming.answers_file_error("order-service", tmp_path, answers) == ""
    message = naming.answers_file_error("Billing API", tmp_path, answers)
    assert "already records the API 'order-service'" in message
    assert "--answers-file .copier-answers.billing-api.yml" in message


def test_the_first_api_of_a_repository_uses_the_default_answers_file(tmp_path: Path) -> None:
    other = ".copier-answers.billing.yml"
    message = naming.answers_file_error("billing", tmp_path / "new", other)
    assert "has no .copier-answers.yml" in message
    assert "without --answers-file" in message
    (tmp_path / "README.md").write_text("A repository of someone else's\n")
    assert "has no .copier-answers.yml" in naming.answers_file_error("billing", tmp_path, other)
    (tmp_path / ".copier-answers.yml").write_text("name: order-service\n")
    assert naming.answers_file_error("billing", tmp_path, other) == ""


@pytest.mark.parametrize(
    ("answers_file", "owns"),
    [(".copier-answers.yml", True), ("./.copier-answers.yml", True), (None, True),
     (".copier-answers.billing.yml", False), ("sub/.copier-answers.yml", False)],
)  # fmt: skip
def test_only_the_default_answers_file_owns_the_repository(
    answers_file: str | None, owns: bool
) -> None:
    assert naming.owns_repository(answers_file) is owns


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
        "owns_repository",
        "sibling_error",
    ):
        assert callable(env.globals[name])


def test_existing_python_reads_the_pinned_version(tmp_path: Path) -> None:
    assert naming.existing_python(tmp_path) == ""
    (tmp_path / ".python-version").write_text("3.12\n")
    assert naming.existing_python(tmp_path) == "3.12"
    (tmp_path / ".python-version").write_text("2.7\n")
    assert naming.existing_python(tmp_path) == ""


def test_an_api_cannot_take_another_apis_folder_or_package(tmp_path: Path) -> None:
    first = ".copier-answers.yml"
    (tmp_path / first).write_text(
        "name: orders\napi_name: orders\nmodule_name: orders\ndirectory: packages\n"
    )
    second = ".copier-answers.orders2.yml"
    message = naming.sibling_error("orders", "orders_two", tmp_path, second)
    assert message.startswith("The API of .copier-answers.yml already uses the api name 'orders'")
    message = naming.sibling_error("orders-two", "orders", tmp_path, second)
    assert "already uses the module name 'orders'" in message
    assert naming.sibling_error("billing", "billing", tmp_path, second) == ""
    # Updating an API is no clash with itself.
    assert naming.sibling_error("orders", "orders", tmp_path, first) == ""
    # A folder nobody recorded is not overwritten either.
    (tmp_path / "packages" / "billing").mkdir(parents=True)
    assert "packages/billing already exists" in naming.sibling_error(
        "billing", "billing", tmp_path, second
    )
