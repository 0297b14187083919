"""A deployed API's URL, read from the infrastructure's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common_client import url_from_cdk_outputs


def test_the_url_is_read_from_the_cdk_outputs_file(tmp_path: Path) -> None:
    outputs = tmp_path / "cdk-outputs.json"
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/"
    outputs.write_text(
        json.dumps({"Apis": {"ApiUrl1A2B3C4D": url, "ApiRestApiEndpoint9F8E7D6C": "other"}})
    )
    assert url_from_cdk_outputs(outputs, prefix="ApiUrl") == url
    with pytest.raises(LookupError):
        url_from_cdk_outputs(outputs, prefix="Api")
