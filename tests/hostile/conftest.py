"""Fixtures of other suites that the hostile tests drive: the mail sink and SMTP settings of the
notification tests, and the real HTTP portal of the portal tests."""

from tests.notifications.conftest import sink, smtp
from tests.portal.conftest import make_portal, portal, sqlite_engine

__all__ = ["make_portal", "portal", "sink", "smtp", "sqlite_engine"]
