"""Commands registered by name and loaded only when they run.

`rueda --help` must answer in well under a second, and a light command (`rueda config show`) must
not pay for the solver, the ORM or the report's charts. So a group lists its commands from a table
of names, import paths and one-line help texts, and imports a command's module only when that
command is the one being run (or its own `--help` is asked for). `tests/cli/test_lazy.py` checks
that each entry's help text is the loaded command's own, so the table cannot drift from the code,
and that `import cli.main` pulls none of the heavy libraries.

Cost: one dictionary lookup per invocation, then the import of one command module.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command, get_group

# `-h` as well as `--help`, on every command (child contexts inherit it from the root).
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}


@dataclass(frozen=True, slots=True)
class LazyEntry:
    """Where a command lives (`module:attribute`, a Typer app or a command function) and its help."""

    target: str
    help: str


def load_entry(name: str, entry: LazyEntry) -> Any:
    """Import the command's module and build its click command (a group for a Typer app)."""
    module_name, _, attribute = entry.target.partition(":")
    target = getattr(importlib.import_module(module_name), attribute)
    if isinstance(target, typer.Typer):
        command = get_group(target)
    else:
        single = typer.Typer(add_completion=False, rich_markup_mode="rich", context_settings=CONTEXT_SETTINGS)
        single.command(name)(target)
        command = get_command(single)
    command.name = name
    return command


class LazyGroup(TyperGroup):
    """A group whose commands come from `registry`; subclasses set it (see `lazy_group_class`)."""

    registry: Mapping[str, LazyEntry] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        # For listing, completion and "did you mean": stand-ins that carry a name and a help text,
        # nothing else. `resolve_command` swaps in the real command when one is run.
        self.commands = {
            name: TyperCommand(name=name, help=entry.help, short_help=entry.help)
            for name, entry in self.registry.items()
        }

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and name in self.registry:
            command = load_entry(name, self.registry[name])
        return name, command, rest


def lazy_group_class(registry: Mapping[str, LazyEntry]) -> type[LazyGroup]:
    """A `LazyGroup` subclass bound to `registry`, for `typer.Typer(cls=...)`."""
    return type("BoundLazyGroup", (LazyGroup,), {"registry": dict(registry)})
