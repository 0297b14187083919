"""Files the project's own toolchain generates, rendered by the same code at copy time.

An API's CDK module (``<module>_operations.py``: its operations, typed integrations and
construct) is written by the build from the API's routes and settings. A new project gets the
very text its first build would write: the template calls the project's generator
(``common_constructs.core.api.operations_module``, pure Python) on the sample routes' operations,
so the template holds no second copy of that code to drift from it.

An API's Terraform module (``<api>.tf``, ``variables.tf``, ``outputs.tf``, ``moved.tf``) is
written by the build from the API's settings and the core modules, by the project's
``common_toolchain.terraform``: the template calls it too, on the template's core modules.
"""

from __future__ import annotations

import functools
import importlib
import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

#: Where the generated project's constructs package is in the template.
CONSTRUCTS_SRC = (
    Path(__file__).resolve().parent.parent
    / "template"
    / "{{ directory }}"
    / "common"
    / "{% if iac_provider == 'CDK' %}constructs{% endif %}"
    / "src"
)
#: The operations of the sample routes every API starts with (its ``main.py``), by operationId.
SAMPLE_OPERATIONS = {
    "create_item": ("/items", "POST"),
    "echo": ("/echo", "GET"),
    "get_item": ("/items/{item_id}", "GET"),
    "stream": ("/stream", "POST"),
}
GATEWAYS = {"ServerlessApiGatewayRestApi": "REST", "ServerlessApiGatewayHttpApi": "HTTP"}
#: The generated project's toolchain and Terraform core modules, in the template.
TOOLCHAIN_SRC = CONSTRUCTS_SRC.parents[1] / "toolchain" / "src"
#: Its Terraform module generator, rendered in Terraform repositories only.
TERRAFORM_SRC = (
    TOOLCHAIN_SRC
    / "common_toolchain"
    / "{% if iac_provider == 'Terraform' %}terraform.py{% endif %}"
)
TERRAFORM_CORE = (
    CONSTRUCTS_SRC.parents[1]
    / "{% if iac_provider == 'Terraform' %}terraform{% endif %}"
    / "src"
    / "core"
    / "api"
)


def _imported(src: Path, *names: str, files: dict[str, Path] | None = None) -> list[ModuleType]:
    """Modules of the template's generated project, imported afresh from ``src`` (or from
    ``files``, for a module whose file name is rendered) and not left in ``sys.modules``:
    another template version may render next."""
    saved_path = list(sys.path)
    sys.path.insert(0, str(src))
    files = files or {}
    roots = {name.split(".")[0] for name in [*names, *files]}
    try:
        modules = [importlib.import_module(name) for name in names]
        for name, path in files.items():
            # Its rendered name does not end in .py: name its loader.
            loader = importlib.machinery.SourceFileLoader(name, str(path))
            spec = importlib.util.spec_from_loader(name, loader)
            if spec is None:
                raise ImportError(f"{path} cannot be imported")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            loader.exec_module(module)
            modules.append(module)
        return modules
    finally:
        sys.path[:] = saved_path
        for name in [n for n in sys.modules if n.split(".")[0] in roots]:
            del sys.modules[name]


def _generators() -> tuple[ModuleType, ModuleType]:
    """The template's own ``operations`` and ``operations_module`` (pure Python)."""
    operations, generator = _imported(
        CONSTRUCTS_SRC,
        "common_constructs.core.api.operations",
        "common_constructs.core.api.operations_module",
    )
    return operations, generator


def construct_module(
    api_name: Any, module_name: Any, compute_type: Any, auth: Any, integration_pattern: Any
) -> str:
    """The API's ``<module>_operations.py`` as its first build writes it."""
    operations, generator = _generators()
    return str(
        generator.operations_module(
            str(api_name),
            str(module_name),
            {
                name: operations.Operation(path=path, method=method)
                for name, (path, method) in SAMPLE_OPERATIONS.items()
            },
            generator.ConstructSettings(
                gateway=GATEWAYS[str(compute_type)],
                auth=str(auth),
                integration_pattern=str(integration_pattern),
            ),
        )
    )


def terraform_generator() -> ModuleType:
    """The template's ``common_toolchain.terraform`` (pure Python)."""
    (terraform,) = _imported(TOOLCHAIN_SRC, files={"common_toolchain.terraform": TERRAFORM_SRC})
    return terraform


# Each of the module's files is rendered by a call with the same answers: generate them once.
@functools.cache
def terraform_module(
    api_name: Any,
    directory: Any,
    compute_type: Any,
    auth: Any,
    integration_pattern: Any,
    lambda_architecture: Any,
    python_version: Any,
) -> dict[str, str]:
    """The generated files of the API's Terraform module, by name, as its first build writes
    them."""
    terraform = terraform_generator()
    settings = terraform.ModuleSettings(
        name=str(api_name),
        directory=str(directory),
        gateway=GATEWAYS[str(compute_type)],
        auth=str(auth),
        integration_pattern=str(integration_pattern),
        architecture=str(lambda_architecture),
        python_version=str(python_version),
    )
    return dict(terraform.module_files(settings, TERRAFORM_CORE))


class GeneratedExtension(Extension):
    """Registers ``construct_module`` and ``terraform_module`` with Copier's Jinja."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["construct_module"] = construct_module
        environment.globals["terraform_module"] = terraform_module
