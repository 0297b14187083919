"""The build of an API: its document and client, its Lambda bundle, and what the
infrastructure derives from them (the CDK construct's ``<module>_operations.py``, the API's
Terraform module).

The document and the bundle are rebuilt only when what they are built from changed since the
last build: the API's sources, settings and run.sh, the workspace packages its bundle carries,
the workspace's lock file and this toolchain.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from pathlib import Path

from common_toolchain import client, openapi
from common_toolchain.bundle import bundle
from common_toolchain.settings import Api, workspace_root

#: Files that never change what is built.
IGNORED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
#: The fingerprint of the last build, in the API's dist/.
STAMP = "build.sha256"


def _package_folder(name: str) -> Path | None:
    """The folder of an installed package, without importing it; None when not installed."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def fingerprint(api: Api) -> str:
    """A hash of what the document and the bundle are built from."""
    root = workspace_root(api.root)
    folders = [api.root / api.module, Path(__file__).parent]
    folders += [folder for name in api.bundle if (folder := _package_folder(name)) is not None]
    sources = [
        path
        for folder in folders
        for path in folder.rglob("*")
        if path.is_file() and not IGNORED_PARTS.intersection(path.parts)
    ]
    extras = [api.root / "run.sh", api.root / "pyproject.toml", root / "uv.lock"]
    digest = hashlib.sha256()
    for path in sorted(sources) + [p for p in extras if p.is_file()]:
        name = path.relative_to(root) if path.is_relative_to(root) else path
        digest.update(str(name).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def up_to_date(api: Api) -> bool:
    """Whether the document and the bundle exist and were built from the current sources."""
    stamp = api.dist / STAMP
    outputs = [api.document, api.dist / "lambda", api.dist / "lambda.zip"]
    current = stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint(api)
    return current and all(path.exists() for path in outputs)


def write_operations(api: Api) -> None:
    """The CDK construct's ``<module>_operations.py``, in a repository whose infrastructure is
    the CDK: the API's operations, typed integrations and construct."""
    apis = _package_folder("common_constructs")
    if apis is None:
        return
    operations = importlib.import_module("common_constructs.core.api.operations")
    module = importlib.import_module("common_constructs.core.api.operations_module")
    target = apis / "app" / "apis" / f"{api.module}_operations.py"
    settings = module.ConstructSettings(
        gateway=api.gateway, auth=api.auth, integration_pattern=api.integration_pattern
    )
    source = module.operations_module(
        api.name, api.module, operations.read_operations(api.document), settings
    )
    if not target.is_file() or target.read_text(encoding="utf-8") != source:
        target.write_text(source, encoding="utf-8")
        print(f"Wrote {target}")


def write_terraform_module(api: Api) -> None:
    """The API's Terraform module, in a repository whose infrastructure is Terraform."""
    if importlib.util.find_spec("common_toolchain.terraform") is not None:
        importlib.import_module("common_toolchain.terraform").write_module(api)


def document(api: Api) -> None:
    """The API's OpenAPI document, its client and the infrastructure's operations."""
    openapi.write_document(api)
    client.generate(api)
    write_operations(api)


def build(api: Api) -> None:
    """Everything the API's deployment needs, rebuilding only what its changes need."""
    if up_to_date(api):
        print(f"{api.name}: sources unchanged since the last build, bundle kept")
    else:
        document(api)
        bundle(api)
        (api.dist / STAMP).write_text(fingerprint(api), encoding="utf-8")
    # Cheap, and the construct's or module's files may have been reset by an update since.
    client.generate(api)
    write_operations(api)
    write_terraform_module(api)
