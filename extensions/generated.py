"""Files the project's own toolchain generates, rendered by the same code at copy time.

An API's CDK module (``<module>_operations.py``: its operations, typed integrations and
construct) is written by the build from the API's routes and settings. A new project gets the
very text its first build would write: the template calls the project's generator
(``common_constructs.core.api.operations_module``, pure Python) on the sample routes' operations,
so the template holds no second copy of that code to drift from it.
"""

from __future__ import annotations

import importlib
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


def _generators() -> tuple[ModuleType, ModuleType]:
    """The template's own ``operations`` and ``operations_module`` (pure Python), imported
    afresh and not left in ``sys.modules``: another template version may render next."""
    saved_path = list(sys.path)
    sys.path.insert(0, str(CONSTRUCTS_SRC))
    try:
        return (
            importlib.import_module("common_constructs.core.api.operations"),
            importlib.import_module("common_constructs.core.api.operations_module"),
        )
    finally:
        sys.path[:] = saved_path
        for name in [n for n in sys.modules if n.split(".")[0] == "common_constructs"]:
            del sys.modules[name]


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


class GeneratedExtension(Extension):
    """Registers ``construct_module`` with Copier's Jinja."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.globals["construct_module"] = construct_module
