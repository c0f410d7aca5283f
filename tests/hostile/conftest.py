"""The notification tests' mail sink and SMTP settings, for the hostile outbox tests."""

from tests.notifications.conftest import sink, smtp

__all__ = ["sink", "smtp"]
