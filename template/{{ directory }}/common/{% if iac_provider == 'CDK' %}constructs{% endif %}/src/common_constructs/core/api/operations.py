"""An API's operations, read from its OpenAPI document or from the FastAPI app itself.

Kept free of the AWS CDK so that the build step imports it quickly.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The HTTP methods an OpenAPI path item may declare operations for.
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch"})
#: The command that regenerates operations and bundles.
BUILD_HINT = "run `uv run poe build` (the CDK app's build step does)"


@dataclass(frozen=True)
class Operation:
    """One operation of an API, as its OpenAPI document declares it."""

    path: str
    method: str


def operations_of(document: Mapping[str, Any]) -> dict[str, Operation]:
    """The operations of an OpenAPI document, by operationId."""
    return {
        details["operationId"]: Operation(path=path, method=method.upper())
        for path, item in document.get("paths", {}).items()
        for method, details in item.items()
        if method in HTTP_METHODS
    }


def read_operations(openapi_document: Path) -> dict[str, Operation]:
    """The operations of the OpenAPI document written in ``openapi_document``."""
    return operations_of(json.loads(openapi_document.read_text(encoding="utf-8")))


def check_operations(
    api_name: str, module: str, declared: Mapping[str, Operation], service_root: Path
) -> None:
    """Fail the synth when the operations or the bundle no longer match the API's code.

    The routes are read from the app itself, so a route added to ``main.py`` without running
    the build step cannot be deployed silently without its integration.
    """
    importlib.import_module(f"{module}.main")  # registers the routes
    current = operations_of(importlib.import_module(f"{module}.init").app.openapi())
    if current != dict(declared):
        added = sorted(set(current) - set(declared))
        removed = sorted(set(declared) - set(current))
        raise ValueError(
            f"The operations of {api_name} changed (added {added}, removed {removed} or "
            f"moved): {BUILD_HINT} to regenerate them."
        )
    bundle = service_root / "dist" / "lambda" / module
    for source in sorted((service_root / module).rglob("*.py")):
        built = bundle / source.relative_to(service_root / module)
        if not built.is_file() or built.read_bytes() != source.read_bytes():
            raise ValueError(f"The Lambda bundle of {api_name} is missing or stale: {BUILD_HINT}.")
