"""The `rueda` command line: one entry point per use case, each a thin call into `services/`."""

from __future__ import annotations

import typer

from cli import (
    bench,
    config_cmd,
    data_cmd,
    db_cmd,
    event_cmd,
    mail_cmd,
    portal_cmd,
    report_cmd,
    schedule,
    up_cmd,
    user_cmd,
)

app = typer.Typer(
    name="rueda",
    help="Rueda runs business roundtables (ruedas de negocios) and trade missions, "
    "from registration to the last follow-up survey.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(user_cmd.user_app, name="user")
app.add_typer(user_cmd.token_app, name="token")
app.add_typer(config_cmd.app, name="config")
app.add_typer(db_cmd.app, name="db")
app.add_typer(event_cmd.app, name="event")
app.add_typer(data_cmd.import_app, name="import")
app.add_typer(data_cmd.export_app, name="export")
app.command("demo-data")(data_cmd.demo_data)
app.command("demo")(up_cmd.demo)
app.command("up")(up_cmd.up)
app.command("schedule")(schedule.schedule_command)
app.command("report")(report_cmd.report_command)
app.add_typer(mail_cmd.mail_app, name="mail")
app.command("mail-sink")(mail_cmd.mail_sink_command)
app.command("portal")(portal_cmd.portal_command)
app.command("reminder-clock")(up_cmd.reminder_clock)
bench.bench_app.command("notifications")(mail_cmd.bench_notifications_command)
bench.bench_app.command("matching")(bench.bench_matching)
app.add_typer(bench.bench_app, name="bench")


def main() -> None:
    app()
