"""The lazy command line (cli/lazy.py): `rueda --help` and light commands load nothing heavy, and the
table of commands says exactly what the loaded commands say."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cli.lazy import LazyEntry, load_entry
from cli.main import BENCH_COMMANDS, COMMANDS

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "scipy",
    "ortools",
    "pandas",
    "matplotlib",
    "openpyxl",
    "faker",
    "prefect",
)


def _modules_after(code: str, tmp_path: Path) -> list[str]:
    """Run `code` in a fresh interpreter and return which HEAVY libraries it left in sys.modules."""
    script = "\n".join(
        [
            "import json, sys",
            textwrap.dedent(code),
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RUEDA_DATA_DIR": str(tmp_path)},
    )
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_import_cli_main_pulls_no_heavy_library(tmp_path: Path) -> None:
    assert _modules_after("import cli.main", tmp_path) == []


def test_help_loads_no_command_module(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        from cli.main import main
        sys.argv = ["rueda", "--help"]
        try:
            main()
        except SystemExit:
            pass
        assert not [m for m in sys.modules if m.startswith("cli.") and m not in ("cli.main", "cli.lazy")]
        """
    )
    assert _modules_after(code, tmp_path) == []


def test_config_show_needs_no_database_layer(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        from cli.main import main
        sys.argv = ["rueda", "config", "show", "--json"]
        try:
            main()
        except SystemExit as stop:
            assert stop.code in (0, None), stop.code
        """
    )
    assert _modules_after(code, tmp_path) == []


@pytest.mark.parametrize(
    ("name", "entry"),
    [*COMMANDS.items(), *(("bench " + n, e) for n, e in BENCH_COMMANDS.items())],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_registered_help_is_the_commands_own(name: str, entry: LazyEntry) -> None:
    command = load_entry(name.split()[-1], entry)
    own = " ".join((command.help or "").split("\n\n")[0].split())
    assert own == entry.help
    assert command.name == name.split()[-1]
