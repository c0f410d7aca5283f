"""The `rueda` command line: one entry point per use case, each a thin call into `services/`.

Commands are registered here by name, with the module that holds them and their one-line help, and
imported only when they run (cli/lazy.py): `rueda --help` loads typer and this table, nothing else.
A new command is one line in `COMMANDS` (or in its group's table, as `cli/bench.py` does).
"""

from __future__ import annotations

import typer

from cli.lazy import CONTEXT_SETTINGS, LazyEntry, lazy_group_class

COMMANDS: dict[str, LazyEntry] = {
    "demo-data": LazyEntry(
        "cli.data_cmd:demo_data",
        "Write a realistic macrorrueda: an event definition and a participants spreadsheet.",
    ),
    "demo": LazyEntry(
        "cli.up_cmd:demo",
        "Run the demo: the stack of `rueda up`, a generated macrorrueda, and its whole lifecycle.",
    ),
    "up": LazyEntry(
        "cli.up_cmd:up",
        "Start the stack: the Prefect server (unless PREFECT_API_URL points to one) and every deployment.",
    ),
    "schedule": LazyEntry(
        "cli.schedule:schedule_command",
        "Place meetings into slots and tables, then write the schedule with its bounds.",
    ),
    "report": LazyEntry(
        "cli.report_cmd:report_command",
        "Build the outcome report: funnel, agenda quality, response rates, expected business "
        "(conservative and declared), breakdowns, follow-ups and, for missions, the delegation.",
    ),
    "mail-sink": LazyEntry(
        "cli.mail_cmd:mail_sink_command",
        "Run the local mail sink: an SMTP server on 127.0.0.1 that stores every message it receives.",
    ),
    "portal": LazyEntry(
        "cli.portal_cmd:portal_command",
        "Serve the portal (participants, organizers, API) on portal.host:portal.port.",
    ),
    "reminder-clock": LazyEntry(
        "cli.up_cmd:reminder_clock",
        "Run the reminder clock: send each outbox message when it falls due (rueda up runs it).",
    ),
    "user": LazyEntry("cli.user_cmd:user_app", "Organizer and staff accounts and their roles per event."),
    "token": LazyEntry("cli.user_cmd:token_app", "API tokens for integrations (JSON API under /api/v1)."),
    "config": LazyEntry("cli.config_cmd:app", "Inspect the configuration."),
    "db": LazyEntry("cli.db_cmd:app", "Create or upgrade the application database."),
    "event": LazyEntry("cli.event_cmd:app", "Create, update and inspect events."),
    "import": LazyEntry("cli.data_cmd:import_app", "Import data from spreadsheets."),
    "export": LazyEntry("cli.data_cmd:export_app", "Export data to CSV or Excel."),
    "mail": LazyEntry("cli.mail_cmd:mail_app", "Read the local mail sink and send due messages."),
    "privacy": LazyEntry(
        "cli.privacy_cmd:app", "Participants' requests to delete their data (Ley 1581, GDPR Art. 17)."
    ),
    "bench": LazyEntry("cli.main:bench_app", "Benchmarks: reproduce the tables in docs/benchmarks.md."),
}

BENCH_COMMANDS: dict[str, LazyEntry] = {
    "schedule": LazyEntry(
        "cli.bench:bench_schedule",
        "Run the scheduler and the first-fit baseline side by side on generated instances.",
    ),
    "notifications": LazyEntry(
        "cli.mail_cmd:bench_notifications_command",
        "Render and deliver COUNT messages of every kind to a local sink; print msg/s and memory.",
    ),
    "matching": LazyEntry(
        "cli.bench:bench_matching",
        "Score and select at macrorrueda size on a synthetic population; time and memory per step.",
    ),
}

app = typer.Typer(
    name="rueda",
    cls=lazy_group_class(COMMANDS),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings=CONTEXT_SETTINGS,
)


@app.callback()
def rueda() -> None:
    """Rueda runs business roundtables (ruedas de negocios) and trade missions, from registration to
    the last follow-up survey."""


bench_app = typer.Typer(
    cls=lazy_group_class(BENCH_COMMANDS), no_args_is_help=True, rich_markup_mode="rich", add_completion=False
)


@bench_app.callback()
def bench() -> None:
    """Benchmarks: reproduce the tables in docs/benchmarks.md."""


def main() -> None:
    app()
