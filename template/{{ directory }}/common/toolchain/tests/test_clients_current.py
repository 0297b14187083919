"""Every API's client is in step with its routes: generated again, it is what is committed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common_toolchain.client import client_sources
from common_toolchain.openapi import write_document
from common_toolchain.settings import Api, apis, workspace_root

APIS = [api for api in apis(workspace_root(Path(__file__).parent)) if api.client_package.is_dir()]


@pytest.mark.parametrize("api", APIS, ids=[api.name for api in APIS])
def test_the_client_is_generated_from_the_current_routes(api: Api, tmp_path: Path) -> None:
    document = json.loads(write_document(api, tmp_path / "openapi.json").read_text())
    sources = client_sources(document, api.client_package, api.auth)
    stale = [
        name
        for name, source in sources.items()
        if (api.client_package / name).read_text(encoding="utf-8") != source
    ]
    assert not stale, (
        f"{', '.join(stale)} of {api.name}'s client are stale: run `uv run poe client {api.name}`"
    )
