"""The repository's build tooling: each API's OpenAPI document, typed client and Lambda bundle.

``toolchain <step> [api ...]`` (``uv run toolchain --help``) runs a step for the APIs named, or
for every API of the workspace; each API's settings are its ``pyproject.toml``'s ``[tool.api]``.
"""
