"""`rueda mail ls/show/send`, `rueda mail-sink` and `rueda bench notifications`: read what the local
sink received, dispatch the due messages once, run the sink itself, and measure the whole path."""

from __future__ import annotations

import tempfile
import threading
from email.message import EmailMessage
from pathlib import Path

import typer
from rich.table import Table

from cli.common import console, database, handle_errors, load_settings, utc_now
from notifications.sink import MailSink, SinkEntry, load_message, read_index
from services.errors import DomainError

# The dispatcher and the benchmark (the database layer, templates, calendar files) are imported by
# the commands that use them, so that `rueda mail ls` starts fast (cli/lazy.py).

mail_app = typer.Typer(help="Read the local mail sink and send due messages.", no_args_is_help=True)

DIR_OPTION = typer.Option(None, "--dir", help="The sink's folder. Default: <data_dir>/mail.")


def _mail_dir(directory: Path | None) -> Path:
    return directory if directory is not None else load_settings().data_dir / "mail"


@mail_app.command("ls")
@handle_errors
def list_mail(
    directory: Path | None = DIR_OPTION,
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="Show the newest N messages."),
) -> None:
    """List the messages the local sink received, newest last. Copy > 1 marks a repeated Message-ID."""
    entries = read_index(_mail_dir(directory))
    table = Table(title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("received (UTC)")
    table.add_column("to")
    table.add_column("subject")
    table.add_column("copy", justify="right")
    for entry in entries[-limit:]:
        table.add_row(
            str(entry.seq),
            entry.received_at[:19].replace("T", " "),
            ", ".join(entry.rcpt_tos),
            entry.subject,
            "" if entry.copy == 1 else f"[yellow]{entry.copy}[/yellow]",
        )
    console.print(table)
    duplicates = sum(1 for e in entries if e.copy > 1)
    console.print(f"{len(entries)} messages, {len(entries) - duplicates} distinct Message-IDs")


def _find(entries: list[SinkEntry], ref: str) -> SinkEntry:
    for entry in entries:
        if ref.isdigit() and entry.seq == int(ref):
            return entry
        if entry.message_id.strip("<>") == ref.strip("<>"):
            return entry
    raise DomainError(f"no message {ref!r} in the sink; `rueda mail ls` lists them")


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return "" if part is None else str(part.get_content())


@mail_app.command("show")
@handle_errors
def show_mail(
    ref: str = typer.Argument(..., help="The number shown by `rueda mail ls`, or a Message-ID."),
    directory: Path | None = DIR_OPTION,
    html: bool = typer.Option(False, "--html", help="Print the HTML part instead of the text part."),
    raw: bool = typer.Option(False, "--raw", help="Print the stored .eml file as received."),
) -> None:
    """Show one received message: its headers, its text (or HTML) and its attachments."""
    folder = _mail_dir(directory)
    entry = _find(read_index(folder), ref)
    if raw:
        typer.echo((folder / entry.file).read_bytes().decode("utf-8", errors="replace"), nl=False)
        return
    message: EmailMessage = load_message(folder, entry)
    for header in ("From", "To", "Subject", "Date", "Message-ID"):
        console.print(f"[bold]{header}:[/bold] {message.get(header, '')}", markup=True)
    attachments = [p.get_filename() or p.get_content_type() for p in message.iter_attachments()]
    if attachments:
        console.print(f"[bold]Attachments:[/bold] {', '.join(attachments)}")
    console.print()
    typer.echo(_part(message, "html" if html else "plain"))


@mail_app.command("send")
@handle_errors
def send_mail(
    max_batches: int | None = typer.Option(None, "--max-batches", min=1, help="Stop after N batches."),
    connections: int = typer.Option(1, "--connections", min=1, max=16, help="Parallel SMTP connections."),
) -> None:
    """Send every due message once (claim, render, deliver, mark), then stop."""
    from notifications.dispatcher import dispatch_due

    settings = load_settings()
    with database(settings) as engine:
        report = dispatch_due(
            engine,
            settings.smtp,
            clock=utc_now,
            max_batches=max_batches,
            connections=connections,
            calendar_domain=settings.portal.uid_domain,
        )
    console.print(f"mail: {report.summary()}")
    if report.connection_error:
        raise typer.Exit(75)  # EX_TEMPFAIL: nothing is lost, try again later


@handle_errors
def bench_notifications_command(
    count: int = typer.Option(20_000, "--count", "-n", min=1, help="How many messages."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="An empty database to use (default: SQLite in a temporary folder)."
    ),
    connections: int = typer.Option(2, "--connections", min=1, max=16, help="Parallel SMTP connections."),
) -> None:
    """Render and deliver COUNT messages of every kind to a local sink; print msg/s and memory."""
    from notifications.bench import run_benchmark
    from services.db import make_engine, upgrade_database

    with tempfile.TemporaryDirectory(prefix="rueda-bench-") as folder:
        url = database_url or f"sqlite:///{folder}/rueda.db"
        upgrade_database(url)
        engine = make_engine(url)
        try:
            result = run_benchmark(engine, count, Path(folder) / "mail", connections=connections)
        finally:
            engine.dispose()
    console.print(result.summary())


@handle_errors
def mail_sink_command(
    port: int | None = typer.Option(None, "--port", "-p", help="Port on 127.0.0.1. Default: smtp.port."),
    directory: Path | None = DIR_OPTION,
) -> None:
    """Run the local mail sink: an SMTP server on 127.0.0.1 that stores every message it receives."""
    settings = load_settings()
    folder = directory if directory is not None else settings.data_dir / "mail"
    sink = MailSink(folder, port=port or settings.smtp.port)
    try:
        sink.start()
    except (OSError, RuntimeError) as error:
        raise DomainError(f"cannot listen on 127.0.0.1:{sink.port}: {error}") from None
    console.print(f"mail sink on 127.0.0.1:{sink.port}, storing in {folder} (Ctrl+C to stop)")
    try:
        threading.Event().wait()
    finally:
        sink.stop()
