"""`rueda config`: the effective settings."""

from __future__ import annotations

import json

import typer
from rich.tree import Tree

from cli.common import console, handle_errors, load_settings

app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)


@app.command("show")
@handle_errors
def show(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a tree.")) -> None:
    """Print the effective settings (environment, .env, rueda.toml, defaults), secrets masked."""
    data = load_settings().masked()
    if as_json:
        console.print_json(json.dumps(data))
        return
    tree = Tree("[bold]settings[/bold] (RUEDA_<SECTION>__<NAME> overrides any value)")
    for key, value in data.items():
        if isinstance(value, dict):
            branch = tree.add(f"[bold]{key}[/bold]")
            for name, item in value.items():
                branch.add(f"{name} = {item!r}")
        else:
            tree.add(f"{key} = {value!r}")
    console.print(tree)
