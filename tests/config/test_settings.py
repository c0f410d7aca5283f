"""Settings come from the environment (nested with __), .env and rueda.toml, in that order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from config import get_settings

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    import os

    for name in list(os.environ):
        if name.startswith("RUEDA_"):
            monkeypatch.delenv(name)


def test_defaults_put_everything_in_dot_rueda(tmp_path: Path) -> None:
    settings = get_settings()
    assert settings.data_dir == tmp_path / ".rueda"
    assert settings.database_url == f"sqlite:///{tmp_path / '.rueda' / 'rueda.db'}"
    assert (settings.smtp.host, settings.portal.port, settings.defaults.language) == (None, 8000, "es")


def test_environment_beats_dotenv_beats_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "rueda.toml").write_text(
        '[smtp]\nhost = "toml.example"\nport = 1025\n[portal]\nport = 9000\n'
    )
    (tmp_path / ".env").write_text("RUEDA_SMTP__PORT=2025\nRUEDA_PORTAL__PORT=9100\n")
    monkeypatch.setenv("RUEDA_PORTAL__PORT", "9200")
    monkeypatch.setenv("RUEDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RUEDA_DATABASE__URL", "postgresql+psycopg://rueda:s3cret@db.internal/rueda")
    settings = get_settings()
    assert (settings.smtp.host, settings.smtp.port, settings.portal.port) == ("toml.example", 2025, 9200)
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url == "postgresql+psycopg://rueda:s3cret@db.internal/rueda"


def test_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUEDA_SMTP__PASSWORD", "hunter2")
    monkeypatch.setenv("RUEDA_DATABASE__URL", "postgresql+psycopg://rueda:s3cret@db.internal/rueda")
    result = CliRunner().invoke(app, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["smtp"]["password"] == "**********"
    assert data["portal"]["secret_key"] == "**********"
    assert data["database"]["url"] == "postgresql+psycopg://rueda:**********@db.internal/rueda"
    assert "hunter2" not in result.output and "s3cret" not in result.output
    tree = CliRunner().invoke(app, ["config", "show"])
    assert tree.exit_code == 0 and "hunter2" not in tree.output and "password = '**********'" in tree.output


def test_invalid_setting_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUEDA_SMTP__PORT", "not-a-port")
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: invalid settings: smtp.port: Input should be a valid integer, unable to parse string as an "
        "integer (check RUEDA_* variables, .env and rueda.toml)"
    ]
