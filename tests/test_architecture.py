"""The layers of ARCHITECTURE.md, checked by import-linter, and the pins that must work together."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL_PACKAGES = {"config", "models", "engine", "services", "notifications", "flows", "portal", "cli"}


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.unit
def test_layers_import_only_downwards() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.unit
def test_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The check is live: the same contracts on a copy with one upward import must fail."""
    for package in TOP_LEVEL_PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "models" / "bad.py").write_text("import services\n")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    env_path = f"{tmp_path}"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "models.bad -> services" in result.stdout


@pytest.mark.unit
def test_repository_top_level_is_the_documented_layout() -> None:
    expected = TOP_LEVEL_PACKAGES | {"tests", "docs", "migrations"}
    present = {
        p.name
        for p in ROOT.iterdir()
        if p.is_dir() and not p.name.startswith(".") and not p.name.endswith(".egg-info")
    }
    assert present == expected


@pytest.mark.integration
def test_prefect_api_accepts_its_own_client_filters(tmp_path: Path) -> None:
    """fastapi>=0.151 makes Prefect 3.8.8's API refuse the explicit nulls its client sends in every
    /filter body (limit, sort): the UI's lists and `prefect deployment ls` then fail with 422."""
    code = textwrap.dedent("""
        from fastapi.testclient import TestClient
        from prefect.server.api.server import create_app
        with TestClient(create_app(ephemeral=True)) as client:
            for path in ("/api/flows/filter", "/api/deployments/filter", "/api/flow_runs/filter"):
                response = client.post(path, json={"limit": None, "sort": None, "offset": 0})
                print(path, response.status_code)
    """)
    env = {
        "PREFECT_HOME": str(tmp_path),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [
        "/api/flows/filter",
        "200",
        "/api/deployments/filter",
        "200",
        "/api/flow_runs/filter",
        "200",
    ]


@pytest.mark.integration
def test_prefect_server_imports_and_cli_runs() -> None:
    """A broken combination of pins (prefect vs fastapi) must fail CI, not a user."""
    code = textwrap.dedent("""
        import prefect.server.api.server
        import prefect
        print(prefect.__version__)
    """)
    imported = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=False
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip().startswith("3.8.")
    version = subprocess.run(
        [str(Path(sys.executable).parent / "prefect"), "version"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PATH": "/usr/bin:/bin",
            "HOME": str(ROOT / ".rueda"),
        },
    )
    assert version.returncode == 0, version.stderr
    assert "Version:" in version.stdout and "3.8." in version.stdout
