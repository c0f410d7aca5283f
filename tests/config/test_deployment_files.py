"""The example configuration of docs/deployment/ means what docs/deployment.md says, with the
pinned versions: every RUEDA_ variable is a real setting with a valid value, and Prefect reads the
maintenance settings (event retention, database vacuum) as documented. A renamed setting would
otherwise be ignored without a word."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import BaseModel

from config import Settings, get_settings

pytestmark = pytest.mark.unit

DEPLOYMENT = Path(__file__).resolve().parents[2] / "docs" / "deployment"


def _env_file(name: str) -> dict[str, str]:
    values = {}
    for number, line in enumerate((DEPLOYMENT / name).read_text().splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{name}:{number}: not KEY=VALUE"
            values[key.strip()] = value.strip()
    return values


def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, prefix: str) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(prefix):
            monkeypatch.delenv(name)


def test_every_rueda_variable_of_the_example_env_file_is_a_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clean_environment(monkeypatch, tmp_path, "RUEDA_")
    env = {k: v for k, v in _env_file("rueda.env").items() if k.startswith("RUEDA_")}
    for key in env:
        model: type[BaseModel] = Settings
        *sections, field = key.removeprefix("RUEDA_").lower().split("__")
        for section in sections:
            annotation = model.model_fields[section].annotation
            assert isinstance(annotation, type) and issubclass(annotation, BaseModel), key
            model = annotation
        assert field in model.model_fields, f"{key} is not a setting"
        monkeypatch.setenv(key, env[key])
    settings = get_settings()
    assert (settings.portal.threads, settings.database.pool_size, settings.smtp.rate_per_second) == (8, 5, 4)
    assert settings.portal.public_url == "https://rueda.example.org"


def test_prefect_reads_the_maintenance_settings_as_documented(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from prefect.settings import Settings as PrefectSettings

    _clean_environment(monkeypatch, tmp_path, "PREFECT_")
    env = _env_file("prefect-server.env")
    maintenance = {k: v for k, v in env.items() if "RETENTION" in k or "VACUUM" in k}
    assert sorted(maintenance) == [
        "PREFECT_SERVER_EVENTS_RETENTION_PERIOD",
        "PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED",
        "PREFECT_SERVER_SERVICES_DB_VACUUM_RETENTION_PERIOD",
    ]
    defaults = PrefectSettings()
    for key, value in maintenance.items():
        monkeypatch.setenv(key, value)
    settings = PrefectSettings()
    assert settings.server.events.retention_period == timedelta(days=30)
    assert settings.server.services.db_vacuum.enabled_vacuum_types == {"events", "flow_runs", "orphans"}
    assert settings.server.services.db_vacuum.retention_period == timedelta(days=90)
    # Not Prefect's defaults, so the file is what made the difference.
    assert defaults.server.events.retention_period == timedelta(days=7)
    assert defaults.server.services.db_vacuum.enabled_vacuum_types == {"events"}
