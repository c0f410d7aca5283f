"""The local mail sink: a real SMTP server (aiosmtpd) on the loopback interface that stores every
message it accepts as an `.eml` file plus one line in `index.jsonl`. `rueda mail-sink` runs it; the
demo, the tests and the benchmark send to it; `rueda mail ls/show` read what it stored.

Invariants:
- it answers 250 only after the `.eml` file is complete on disk (written to a temporary name, then
  renamed) and its index line is written, so "accepted" means "stored";
- every received copy is stored, duplicates included; each index line carries `copy`, the number of
  times that Message-ID has been received so far, so a duplicate is visible, never hidden;
- it listens on loopback only: it is a development and demo tool with no authentication;
- an erasure (`erase_from_archive`) replaces the messages that name the erased person with
  tombstones under an exclusive folder lock that `store` takes too, so no index line is lost.

Cost: per message, one file write, one rename and one appended line; the SMTP dialogue runs on
aiosmtpd's event loop thread.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import signal
import socket
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.policy import default as default_policy
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

INDEX_NAME = "index.jsonl"
LOCK_NAME = ".lock"
ERASED_SUBJECT = "[erased]"
ERASED_RECIPIENT = "erased@erased.invalid"


@contextmanager
def _locked(handle: IO[str]) -> Iterator[None]:
    """An exclusive lock on the folder across processes (on its lock file, open as `handle`): the
    sink appending to the index and an erasure rewriting it never interleave."""
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True, slots=True)
class SinkEntry:
    seq: int
    received_at: str
    message_id: str
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    file: str
    size: int
    copy: int  # 1 for the first copy of a Message-ID, 2 for the second, ...


class Mailbox:
    """The folder of a sink: stores messages and reads them back. Safe to share between threads."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        entries = read_index(directory)
        self._seq = max((e.seq for e in entries), default=0)
        self._copies = Counter(e.message_id for e in entries)
        # compat32 headers: several times cheaper than the default policy, and enough for an index.
        self._parser = BytesHeaderParser(policy=compat32)
        # Opened at the first message and kept: `store` runs for every message, and only locks.
        self._lock_file: IO[str] | None = None

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def store(self, raw: bytes, *, mail_from: str, rcpt_tos: list[str], now: datetime) -> SinkEntry:
        headers = self._parser.parsebytes(raw)
        message_id = str(headers.get("Message-ID", "")).strip()
        subject = str(make_header(decode_header(headers.get("Subject", ""))))
        with self._lock:
            if self._lock_file is None:
                self._lock_file = (self.directory / LOCK_NAME).open("a")
            with _locked(self._lock_file):
                self._seq += 1
                self._copies[message_id] += 1
                seq, copy = self._seq, self._copies[message_id]
                name = f"{seq:08d}.eml"
                temporary = self.directory / f".{name}.tmp"
                temporary.write_bytes(raw)
                temporary.replace(self.directory / name)
                entry = SinkEntry(
                    seq=seq,
                    received_at=now.isoformat(),
                    message_id=message_id,
                    mail_from=mail_from,
                    rcpt_tos=rcpt_tos,
                    subject=subject,
                    file=name,
                    size=len(raw),
                    copy=copy,
                )
                with (self.directory / INDEX_NAME).open("a", encoding="utf-8") as index:
                    index.write(json.dumps(asdict(entry), ensure_ascii=False) + "\n")
        return entry


def read_index(directory: Path) -> list[SinkEntry]:
    path = directory / INDEX_NAME
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as index:
        return [SinkEntry(**json.loads(line)) for line in index if line.strip()]


class SinkHandler:
    """aiosmtpd handler: store, then accept. Tests subclass it (`handler_class`) to simulate
    refusals, slow answers and dropped connections."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.mailbox.store(
            raw,
            mail_from=str(envelope.mail_from),
            rcpt_tos=[str(r) for r in envelope.rcpt_tos],
            now=datetime.now(UTC),
        )
        return "250 2.0.0 stored"


class MailSink:
    """Start and stop the sink; a context manager. `port` 0 is not supported by aiosmtpd's
    controller: tests pick a free port first."""

    def __init__(
        self,
        directory: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8025,
        handler_class: type[SinkHandler] = SinkHandler,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"the mail sink listens on loopback only, not {host}")
        self.mailbox = Mailbox(directory)
        self.host = host
        self.port = port
        self._controller = Controller(
            handler_class(self.mailbox),
            hostname=host,
            port=port,
            ready_timeout=10,
            # Our agendas with calendar files are small; 10 MB is far above any of them.
            data_size_limit=10 * 1024 * 1024,
            enable_SMTPUTF8=True,
        )

    def start(self) -> MailSink:
        try:
            # Fail fast on a busy port: aiosmtpd's controller only notices after its ready timeout.
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((self.host, self.port))
            self._controller.start()
        except BaseException:
            self._controller.loop.close()
            raise
        return self

    def stop(self) -> None:
        self._controller.stop()
        self.mailbox.close()

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def entries(self) -> list[SinkEntry]:
        return read_index(self.mailbox.directory)


def _mentions(raw: bytes, needles: Sequence[str]) -> bool:
    """Whether a stored message names any needle: in its raw bytes, or in its decoded headers and
    text parts (quoted-printable and base64 bodies, encoded-word names)."""
    lowered = [n.casefold() for n in needles]
    texts = [raw.decode("utf-8", "replace")]
    message = message_from_bytes(raw, policy=default_policy)
    texts += [str(value) for value in message.values()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            try:
                texts.append(part.get_content())
            except (LookupError, ValueError):  # an unknown charset: the raw bytes were searched
                continue
    return any(needle in text.casefold() for text in texts for needle in lowered)


def erase_from_archive(directory: Path, needles: Sequence[str], *, now: datetime) -> int:
    """Replace every stored message that names one of `needles` (an erased person's name, address,
    phone) with a tombstone that keeps only its sequence number, Message-ID and time, and blank it
    in the index. Safe while the sink runs (folder lock). Returns how many messages were erased."""
    needles = [n for n in needles if len(n.strip()) >= 3]
    if not needles or not (directory / INDEX_NAME).exists():
        return 0
    with (directory / LOCK_NAME).open("a") as lock_file, _locked(lock_file):
        entries = read_index(directory)
        kept: list[SinkEntry] = []
        erased = 0
        for entry in entries:
            path = directory / entry.file
            if entry.subject == ERASED_SUBJECT:
                kept.append(entry)
                continue
            if not path.exists():
                # The file is gone (deleted by hand); the index line may still name the person.
                named = _mentions(json.dumps(asdict(entry), ensure_ascii=False).encode(), needles)
                kept.append(
                    replace(entry, rcpt_tos=[ERASED_RECIPIENT], subject=ERASED_SUBJECT) if named else entry
                )
                erased += named
                continue
            if not _mentions(path.read_bytes(), needles):
                kept.append(entry)
                continue
            tombstone = (
                f"Message-ID: {entry.message_id}\r\nSubject: {ERASED_SUBJECT}\r\n"
                f"X-Rueda-Erased-At: {now.isoformat()}\r\n\r\n"
                "This message was removed from the archive: it named a person whose data was erased.\r\n"
            ).encode()
            temporary = directory / f".{entry.file}.tmp"
            temporary.write_bytes(tombstone)
            temporary.replace(path)
            kept.append(
                replace(entry, rcpt_tos=[ERASED_RECIPIENT], subject=ERASED_SUBJECT, size=len(tombstone))
            )
            erased += 1
        if erased:
            temporary = directory / f".{INDEX_NAME}.tmp"
            with temporary.open("w", encoding="utf-8") as index:
                index.writelines(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in kept)
                index.flush()
                os.fsync(index.fileno())
            temporary.replace(directory / INDEX_NAME)
    return erased


def load_message(directory: Path, entry: SinkEntry) -> Any:
    """The stored message, parsed (an `email.message.EmailMessage`)."""
    return message_from_bytes((directory / entry.file).read_bytes(), policy=default_policy)


def serve_until_signalled(directory: Path, *, host: str = "127.0.0.1", port: int = 8025) -> None:
    """Run a sink until SIGTERM or SIGINT (`python -m notifications.sink DIR PORT`, used by the
    benchmark to put the server in its own process, as in production)."""
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    with MailSink(directory, host=host, port=port):
        stop.wait()


if __name__ == "__main__":
    serve_until_signalled(Path(sys.argv[1]), port=int(sys.argv[2]))
