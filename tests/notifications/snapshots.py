"""File snapshots: exact comparison, regenerated on purpose with RUEDA_UPDATE_SNAPSHOTS=1."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SNAPSHOT_DIR = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("RUEDA_UPDATE_SNAPSHOTS") == "1"


def assert_snapshot(name: str, actual: str) -> None:
    path = SNAPSHOT_DIR / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path.name}; review the output and run with RUEDA_UPDATE_SNAPSHOTS=1")
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, f"{path.name} changed; if intended, regenerate with RUEDA_UPDATE_SNAPSHOTS=1"
