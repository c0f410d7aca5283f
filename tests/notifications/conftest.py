"""Fixtures of the notification tests: a real SMTP sink on a free loopback port, and settings that
send to it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import SmtpSettings
from notifications.sink import MailSink


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    with MailSink(tmp_path / "mail", port=free_port()) as running:
        yield running


@pytest.fixture
def smtp(sink: MailSink) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=sink.port, rate_per_second=10_000, batch_size=50)
