"""Prepare every API of the repository for synthesis.

    uv run python -m common_constructs.build

For each API under the repository's API folder, one step after another: write its OpenAPI
document (dist/openapi.json), generate the typed operations its construct uses
(app/apis/<module>_operations.py) and build its Lambda bundle (dist/lambda/). The CDK app runs
this before every synth (cdk.json "build"). The document and the bundle are rebuilt only when
the API's sources or the workspace's lock file changed since they were built.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common_constructs.core.api.operations import read_operations
from common_constructs.core.api.operations_module import operations_module

#: <directory>/common/constructs/src/common_constructs/build.py -> <directory>
APIS_ROOT = Path(__file__).resolve().parents[4]
APIS_PACKAGE = Path(__file__).resolve().parent / "app" / "apis"
#: Files of an API folder that never change what is built from it.
IGNORED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})


@dataclass(frozen=True)
class Service:
    """One API of the repository: its folder, distribution name and Python package."""

    root: Path
    api_name: str
    module: str

    @classmethod
    def at(cls, root: Path) -> Service:
        """The API whose pyproject.toml is in ``root``."""
        project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        module = project["tool"]["uv"]["build-backend"]["module-name"]
        return cls(root=root, api_name=project["project"]["name"], module=module)

    @property
    def dist(self) -> Path:
        """Where the build writes the API's document and bundle."""
        return self.root / "dist"


def workspace_lock() -> Path:
    """The uv.lock of the workspace that holds the APIs."""
    for folder in APIS_ROOT.parents:
        if (folder / "uv.lock").is_file():
            return folder / "uv.lock"
    return APIS_ROOT / "uv.lock"


def fingerprint(service: Service) -> str:
    """A hash of what the document and the bundle are built from: sources, scripts, lock file."""
    digest = hashlib.sha256()
    sources = [
        path
        for folder in (service.root / service.module, service.root / "scripts")
        for path in folder.rglob("*")
        if path.is_file() and not IGNORED_PARTS.intersection(path.parts)
    ]
    lock = workspace_lock()
    extras = [service.root / "run.sh", service.root / "pyproject.toml", lock]
    for path in sorted(sources) + [p for p in extras if p.is_file()]:
        # Relative to the workspace's root, which holds the lock file and every API folder,
        # however deep the API folder is.
        digest.update(str(path.relative_to(lock.parent)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def up_to_date(service: Service, outputs: list[Path]) -> bool:
    """Whether ``outputs`` exist and were built from the API's current sources."""
    stamp = service.dist / "build.sha256"
    current = stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint(service)
    return current and all(path.exists() for path in outputs)


def write_openapi_document(service: Service) -> None:
    """dist/openapi.json, from the FastAPI app."""
    script = service.root / "scripts" / "generate_open_api.py"
    run([sys.executable, str(script), "--output", str(service.dist / "openapi.json")])


def write_operations(service: Service) -> None:
    """app/apis/<module>_operations.py, when the API has a construct in this package."""
    if not (APIS_PACKAGE / f"{service.module}.py").is_file():
        return
    target = APIS_PACKAGE / f"{service.module}_operations.py"
    operations = read_operations(service.dist / "openapi.json")
    source = operations_module(service.api_name, operations)
    if not target.is_file() or target.read_text(encoding="utf-8") != source:
        target.write_text(source, encoding="utf-8")
        print(f"Wrote {target}")


def bundle(service: Service) -> None:
    """dist/lambda/ and dist/lambda.zip, by the API's own bundle script."""
    run([sys.executable, str(service.root / "scripts" / "bundle.py")])


#: The steps that build from the API's sources, skipped when those have not changed.
SOURCE_STEPS: tuple[Callable[[Service], None], ...] = (write_openapi_document, bundle)


def prepare(service: Service) -> None:
    """Document, operations and bundle of one API, rebuilding only what its changes need."""
    outputs = [service.dist / "openapi.json", service.dist / "lambda", service.dist / "lambda.zip"]
    if up_to_date(service, outputs):
        print(f"{service.api_name}: sources unchanged since the last build, bundle kept")
    else:
        for step in SOURCE_STEPS:
            step(service)
        (service.dist / "build.sha256").write_text(fingerprint(service), encoding="utf-8")
    write_operations(service)


def run(args: list[str]) -> None:
    """Run a step, stopping the build when it fails."""
    if subprocess.run(args, check=False).returncode:
        raise SystemExit(f"Failed: {' '.join(args)}")


def services() -> list[Service]:
    """Every API found under the API folder."""
    roots = sorted(p.parents[1] for p in APIS_ROOT.glob("*/scripts/generate_open_api.py"))
    return [Service.at(root) for root in roots]


def main() -> None:
    """Prepare every API found under the API folder."""
    found = services()
    if not found:
        raise SystemExit(f"No API found under {APIS_ROOT}")
    for service in found:
        prepare(service)


if __name__ == "__main__":
    main()
