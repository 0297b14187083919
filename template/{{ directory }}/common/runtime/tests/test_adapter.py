"""Tests of Lambda Web Adapter's own paths: the readiness check and the SnapStart hooks, called
the way the adapter calls them (GET for the check, an empty POST for each hook)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from common_runtime import Service
from common_runtime.health import DEFAULT_HEALTH_PATH
from common_runtime.snapstart import register_after_restore

#: The `records` fixture: (log records, EMF documents) written so far.
Records = Callable[[], tuple[list[dict[str, Any]], list[dict[str, Any]]]]

BEFORE, AFTER = "/_lambda/snapstart/before-checkpoint", "/_lambda/snapstart/after-restore"


@pytest.fixture
def snapstart_service(monkeypatch: pytest.MonkeyPatch) -> Service:
    """A service configured as the infrastructure configures it on Lambda."""
    monkeypatch.setenv("AWS_LWA_READINESS_CHECK_PATH", DEFAULT_HEALTH_PATH)
    monkeypatch.setenv("AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH", BEFORE)
    monkeypatch.setenv("AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH", AFTER)
    service = Service(name="snapstart-test")

    @service.app.get("/work")
    def work() -> dict[str, bool]:
        return {"done": True}

    return service


def test_the_readiness_check_is_not_a_request_of_the_api(
    snapstart_service: Service, records: Records
) -> None:
    with TestClient(snapstart_service.app) as client:
        for _ in range(3):  # the adapter probes until the app answers
            response = client.get(DEFAULT_HEALTH_PATH)
            assert response.status_code == 200
            assert "x-correlation-id" not in response.headers
        logs, emf = records()
        assert (logs, emf) == ([], [])
        # The first request of the API is the cold start, not the adapter's probe.
        assert client.get("/work").status_code == 200
    _, emf = records()
    assert [doc.get("ColdStart") for doc in emf if "ColdStart" in doc] == [1]
    paths = snapstart_service.app.openapi()["paths"]
    assert set(paths) == {"/work"}


def test_after_a_restore_the_next_request_is_the_cold_start(
    snapstart_service: Service, records: Records
) -> None:
    refreshed: list[str] = []
    register_after_restore(lambda: refreshed.append("pool"))
    with TestClient(snapstart_service.app) as client:
        assert client.get(DEFAULT_HEALTH_PATH).status_code == 200
        assert client.get("/work").status_code == 200
        assert client.get("/work").status_code == 200
        assert client.post(BEFORE).status_code == 204
        # Restored environments share the snapshot's random state unless it is reseeded.
        random.seed(42)
        snapshot_draw = random.random()
        random.seed(42)
        assert client.post(AFTER).status_code == 204
        assert random.random() != snapshot_draw
        assert refreshed == ["pool"]
        assert client.get(DEFAULT_HEALTH_PATH).status_code == 200  # the adapter checks again
        records()
        assert client.get("/work").status_code == 200
        assert client.get("/work").status_code == 200
    _, emf = records()
    assert [doc.get("ColdStart") for doc in emf if "ColdStart" in doc] == [1]
    assert sum(doc.get("Requests", 0) for doc in emf) == 2


def test_hooks_answer_only_the_adapter_s_post(snapstart_service: Service) -> None:
    with TestClient(snapstart_service.app) as client:
        assert client.get(AFTER).status_code == 405
        assert client.post(DEFAULT_HEALTH_PATH).status_code == 200


def test_a_failing_hook_fails_the_phase(snapstart_service: Service, records: Records) -> None:
    def broken() -> None:
        raise ConnectionError("database unreachable")

    register_after_restore(broken)
    try:
        with TestClient(snapstart_service.app) as client:
            assert client.post(AFTER).status_code == 500
    finally:
        from common_runtime import snapstart

        snapstart._after_restore[:] = [r for r in snapstart._after_restore if r() is not broken]
    logs, _ = records()
    assert [log["message"] for log in logs] == ["SnapStart hook failed"]


def test_without_their_variables_the_hooks_are_not_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (
        "AWS_LWA_SNAPSTART_BEFORE_CHECKPOINT_PATH",
        "AWS_LWA_SNAPSTART_AFTER_RESTORE_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    with TestClient(Service(name="plain-test").app) as client:
        assert client.post(AFTER).status_code == 404
        assert client.get(DEFAULT_HEALTH_PATH).status_code == 200
