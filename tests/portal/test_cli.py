"""`rueda portal` as `rueda up` starts it (Stack.start_portal): a child process serving the portal
on the configured address, stopped with the rest of the stack."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cli.stack import Stack
from config import Settings
from services.db import upgrade_database
from tests.portal.conftest import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_stack_starts_the_portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("RUEDA_PORTAL__PORT", str(port))
    monkeypatch.delenv("RUEDA_DATABASE__URL", raising=False)
    settings = Settings(data_dir=tmp_path / "data", portal={"port": port})
    upgrade_database(settings.database_url)
    stack = Stack(settings)
    try:
        assert stack.start_portal() == f"http://127.0.0.1:{port}"
        response = httpx.get(f"http://127.0.0.1:{port}/", headers={"Accept-Language": "en"}, timeout=10)
        assert response.status_code == 200
        assert "No event is open for registration right now." in response.text
        assert response.headers["x-frame-options"] == "DENY"
    finally:
        stack.stop()
    assert stack.processes == []
