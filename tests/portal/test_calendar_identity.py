"""One calendar identity per meeting, whichever door it came through (issue 14 item 2): the agenda
email's .ics attachment (read from the real SMTP sink), the portal's .ics download and the
subscription feed (over HTTP) carry the same UID and SEQUENCE for every meeting, and the UID's domain
is the one the settings decide (`portal.calendar_domain`, else the host of the public URL). Before,
the email said `@rueda.localhost` and the portal `@127.0.0.1`: a participant who imported the email
and subscribed saw every meeting twice."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from icalendar import Calendar
from sqlalchemy import Engine
from sqlmodel import Session, col, or_, select

from config.settings import PortalSettings
from models import Meeting, MeetingRequest
from notifications.dispatcher import dispatch_due
from notifications.sink import MailSink, load_message
from services.agendas import notify_agenda_changes, publish_agendas
from services.db import run_in_transaction
from services.events import get_event_by_slug
from services.onsite import cancel_meeting
from tests.portal.conftest import Portal, open_event, register, registration_form
from tests.portal.helpers import latest_link, participant_id, post_form, schedule_event, sign_in

pytestmark = pytest.mark.integration

SELLER = "ana@andino.example"
BUYERS = (
    ("hans@rheinkaffee.example", "Hans Müller", "Rheinkaffee GmbH", "DE", "Europe/Berlin"),
    ("marie@cafe-paris.example", "Marie Dupont", "Café de Paris SARL", "FR", "Europe/Paris"),
)
FEED = re.compile(r'id="feed-url" type="text" readonly value="(https?://[^"]+/calendar/[^"]+\.ics)"')


def _identities(calendar_bytes: bytes) -> dict[str, int]:
    """UID -> SEQUENCE of every VEVENT, parsed with icalendar."""
    calendar = Calendar.from_ical(calendar_bytes)
    events = calendar.walk("VEVENT")
    found = {str(e["UID"]): int(str(e["SEQUENCE"])) for e in events}
    assert len(found) == len(events), "a UID appears twice in one file"
    return found


def _meet_two_buyers(portal: Portal, seller: httpx.Client) -> None:
    """The seller registers and asks two buyers for a meeting over HTTP; both accept."""
    assert register(seller, "rueda-test", registration_form(SELLER)).status_code == 200
    assert sign_in(seller, latest_link(portal.engine, SELLER)).headers["location"] == "/me"
    for email, name, organization, country, zone in BUYERS:
        with portal.client() as buyer:
            form = registration_form(
                email,
                full_name=name,
                organization=organization,
                country=country,
                role="buyer",
                timezone=zone,
                offer_hs="",
                demand_hs="0901",
                demand_description="Green coffee",
            )
            assert register(buyer, "rueda-test", form).status_code == 200
            assert sign_in(buyer, latest_link(portal.engine, email)).headers["location"] == "/me"
            target = participant_id(portal.engine, email)
            asked = post_form(
                seller, "/me/catalog", "/me/requests", {"target_id": str(target), "priority": "must"}
            )
            assert asked.status_code == 303
            with Session(portal.engine) as session:
                request_id = session.exec(
                    select(MeetingRequest.id).where(MeetingRequest.target_id == target)
                ).one()
            accepted = post_form(buyer, "/me/requests", f"/me/requests/{request_id}/accept", {})
            assert accepted.status_code == 303


def _versions(engine: Engine, person: int) -> dict[int, int]:
    with Session(engine) as session:
        rows = session.exec(
            select(Meeting.id, Meeting.version).where(
                or_(col(Meeting.participant_a_id) == person, col(Meeting.participant_b_id) == person)
            )
        ).all()
    return {meeting_id: version for meeting_id, version in rows if meeting_id is not None}


@pytest.mark.parametrize(
    ("portal_values", "domain"),
    [
        ({"calendar_domain": "Events.Example.ORG"}, "events.example.org"),
        ({"base_url": "http://Rueda.Example.org:8443/"}, "rueda.example.org"),
        ({}, "127.0.0.1"),  # neither: the host of the local bind address, as public_url says
    ],
    ids=["calendar_domain", "base_url-host", "bind-host"],
)
def test_email_download_and_feed_share_uid_and_sequence(
    sqlite_engine: Engine,
    make_portal: Callable[..., Portal],
    tmp_path: Path,
    portal_values: dict[str, Any],
    domain: str,
) -> None:
    portal = make_portal(sqlite_engine, **portal_values)
    assert portal.settings.portal.uid_domain == domain
    open_event(portal.engine)
    with portal.client() as seller, MailSink(tmp_path / "mail", port=portal.settings.smtp.port) as sink:
        _meet_two_buyers(portal, seller)
        schedule_event(portal.engine, "rueda-test")
        now = datetime.now(UTC)
        run_in_transaction(
            portal.engine,
            lambda s: publish_agendas(
                s,
                get_event_by_slug(s, "rueda-test"),
                now=now,
                agenda_url=f"{portal.settings.portal.public_url}/agenda",
                first_meeting_lead=timedelta(minutes=30),
            ),
        )
        # What the flows and `rueda mail send` pass: the domain the settings decide.
        report = dispatch_due(
            portal.engine, portal.settings.smtp, calendar_domain=portal.settings.portal.uid_domain
        )
        assert report.failed == 0

        # 1. The agenda email, as delivered to the sink.
        mails: list[EmailMessage] = [
            load_message(sink.mailbox.directory, e) for e in sink.entries() if e.rcpt_tos == [SELLER]
        ]
        [attachment] = [a for m in mails for a in m.iter_attachments() if a.get_filename() == "agenda.ics"]
        payload = attachment.get_payload(decode=True)
        assert isinstance(payload, bytes)
        from_email = _identities(payload)

        # 2. The download, signed in; 3. the subscription feed, by the link on the agenda page.
        download = seller.get("/me/agenda.ics")
        assert download.status_code == 200
        page = seller.get("/me/agenda")
        found = FEED.search(page.text)
        assert found is not None, "no feed link on the agenda page"
        feed_url = urlsplit(html.unescape(found.group(1)))
    with httpx.Client(base_url=portal.url, timeout=30) as stranger:  # a calendar app: no session
        feed = stranger.get(feed_url.path)
    assert feed.status_code == 200
    from_download = _identities(download.content)
    from_feed = _identities(feed.content)

    versions = _versions(portal.engine, participant_id(portal.engine, SELLER))
    assert len(versions) == 2
    expected = {f"meeting-{meeting_id}@{domain}": version for meeting_id, version in versions.items()}
    assert from_email == expected
    assert from_download == expected
    assert from_feed == expected

    # A change: cancelling a meeting makes it version 2. The email that cancels it carries that UID
    # with SEQUENCE 2 (so a calendar applies it over the first copy), and the feed drops it.
    cancelled_id, kept_id = sorted(versions)

    def cancel(session: Session) -> None:
        event = get_event_by_slug(session, "rueda-test")
        result = cancel_meeting(session, event, cancelled_id, reason="flight cancelled", now=now)
        notify_agenda_changes(
            session,
            event,
            list(result.notices),
            now=now,
            agenda_url=f"{portal.settings.portal.public_url}/agenda",
            first_meeting_lead=timedelta(minutes=30),
        )

    with MailSink(tmp_path / "mail", port=portal.settings.smtp.port) as sink:
        seen = {e.file for e in sink.entries()}
        run_in_transaction(portal.engine, cancel)
        assert (
            dispatch_due(
                portal.engine, portal.settings.smtp, calendar_domain=portal.settings.portal.uid_domain
            ).failed
            == 0
        )
        changed = [
            load_message(sink.mailbox.directory, e)
            for e in sink.entries()
            if e.rcpt_tos == [SELLER] and e.file not in seen
        ]
    [cancellation] = [a for m in changed for a in m.iter_attachments() if a.get_filename() == "cancelled.ics"]
    payload = cancellation.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert Calendar.from_ical(payload)["METHOD"] == "CANCEL"
    assert _identities(payload) == {f"meeting-{cancelled_id}@{domain}": 2}
    with httpx.Client(base_url=portal.url, timeout=30) as stranger:
        refreshed = stranger.get(feed_url.path)
    assert _identities(refreshed.content) == {f"meeting-{kept_id}@{domain}": 1}


def test_uid_domain_is_decided_in_one_place() -> None:
    assert PortalSettings().uid_domain == "127.0.0.1"
    assert PortalSettings(host="0.0.0.0", port=80).uid_domain == "0.0.0.0"
    assert PortalSettings(base_url="http://[::1]:8000").uid_domain == "::1"
    assert PortalSettings(base_url="https://a.example", calendar_domain="b.example").uid_domain == "b.example"
    assert PortalSettings(calendar_domain="").calendar_domain is None
    for bad in ("a b.example", "x@y.example", "-a.example", "a..example", "é.example"):
        with pytest.raises(ValueError, match="calendar_domain"):
            PortalSettings(calendar_domain=bad)
