"""Each API's settings, read from its ``pyproject.toml``, and where the workspace's APIs are.

An API is a member of the uv workspace whose ``pyproject.toml`` has a ``[tool.api]`` table::

    [tool.api]
    architecture = "arm64"          # of its Lambda functions: arm64 or x86_64
    python-version = "3.13"         # of its Lambda runtime
    bundle = ["common_runtime"]     # packages of the workspace its bundle carries
    auth = "IAM"                    # how callers authenticate: IAM, Cognito, Custom or None
    gateway = "REST"                # its API Gateway API: REST or HTTP
    integration-pattern = "isolated"  # a function per operation, or one shared function
    tracing = "xray-sdk"            # how it traces: xray-sdk or opentelemetry

Its Python package is the build backend's ``module-name``; its client is the package
``<module>_client`` in the folder ``<api-name>-client`` next to it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The marker of the workspace root's pyproject.toml.
WORKSPACE_TABLE = "[tool.uv.workspace]"


class SettingsError(Exception):
    """An API's settings are missing or wrong, or no API has the name asked for."""


@dataclass(frozen=True)
class Api:
    """One API of the workspace and its settings."""

    root: Path
    name: str
    module: str
    architecture: str
    python_version: str
    bundle: tuple[str, ...]
    auth: str
    gateway: str
    integration_pattern: str
    tracing: str

    @classmethod
    def at(cls, root: Path) -> Api:
        """The API whose pyproject.toml is in ``root``."""
        project = _toml(root / "pyproject.toml")
        table = project.get("tool", {}).get("api")
        if not isinstance(table, dict):
            raise SettingsError(f"{root / 'pyproject.toml'} has no [tool.api] table.")
        try:
            return cls(
                root=root,
                name=str(project["project"]["name"]),
                module=str(project["tool"]["uv"]["build-backend"]["module-name"]),
                architecture=_choice(table, "architecture", ("arm64", "x86_64")),
                python_version=str(table["python-version"]),
                bundle=tuple(str(name) for name in table.get("bundle", [])),
                auth=_choice(table, "auth", ("IAM", "Cognito", "Custom", "None")),
                gateway=_choice(table, "gateway", ("REST", "HTTP")),
                integration_pattern=_choice(table, "integration-pattern", ("isolated", "shared")),
                tracing=_choice(table, "tracing", ("xray-sdk", "opentelemetry")),
            )
        except KeyError as missing:
            raise SettingsError(f"{root / 'pyproject.toml'} does not set {missing}.") from None

    @property
    def dist(self) -> Path:
        """Where the build writes the API's document and bundle."""
        return self.root / "dist"

    @property
    def document(self) -> Path:
        """The API's OpenAPI document."""
        return self.dist / "openapi.json"

    @property
    def client_package(self) -> Path:
        """The folder of the API's typed client package."""
        return self.root.parent / f"{self.name}-client" / f"{self.module}_client"

    @property
    def platform(self) -> str:
        """The wheels' platform for the Lambda architecture."""
        machine = "aarch64" if self.architecture == "arm64" else "x86_64"
        return f"{machine}-manylinux_2_34"


def _toml(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _choice(table: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = str(table[key])
    if value not in choices:
        raise SettingsError(f"[tool.api] {key} is {value!r}: one of {', '.join(choices)}.")
    return value


def workspace_root(start: Path | None = None) -> Path:
    """The uv workspace root above ``start`` (the working directory, else this package)."""
    for origin in (start or Path.cwd(), Path(__file__).resolve()):
        for folder in (origin, *origin.parents):
            pyproject = folder / "pyproject.toml"
            if pyproject.is_file() and WORKSPACE_TABLE in pyproject.read_text(encoding="utf-8"):
                return folder
    raise SettingsError("No uv workspace (a pyproject.toml with [tool.uv.workspace]) found.")


def apis(root: Path | None = None) -> list[Api]:
    """Every API among the workspace's members, by name."""
    root = root or workspace_root()
    workspace = _toml(root / "pyproject.toml")["tool"]["uv"]["workspace"]
    excluded = {
        path.resolve() for pattern in workspace.get("exclude", []) for path in root.glob(pattern)
    }
    found = {
        folder.resolve()
        for pattern in workspace.get("members", [])
        for folder in root.glob(pattern)
        if folder.resolve() not in excluded
        and (folder / "pyproject.toml").is_file()
        and "api" in _toml(folder / "pyproject.toml").get("tool", {})
    }
    return sorted((Api.at(folder) for folder in found), key=lambda api: api.name)


def select(names: list[str], root: Path | None = None) -> list[Api]:
    """The APIs named (every API when none is), or stop naming the ones that exist."""
    found = apis(root)
    if not names:
        if not found:
            raise SettingsError("No API in this workspace (no member has a [tool.api] table).")
        return found
    by_name = {api.name: api for api in found}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise SettingsError(
            f"No API named {', '.join(unknown)}; this workspace's APIs: {', '.join(by_name)}"
        )
    return [by_name[name] for name in names]
