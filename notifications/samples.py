"""One realistic context per kind: the fixtures of the snapshot tests, the browser screenshot, the
benchmark and `rueda mail preview`-style checks.

Invariant: deterministic. Same code, same contexts, so snapshots only change when templates do.
Cost: building all fifteen takes well under a millisecond.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from notifications.catalog import (
    AgendaChanged,
    AgendaPublished,
    ChangeKind,
    ChecklistEntry,
    Context,
    Counterpart,
    DayBeforeReminder,
    ErasureDecided,
    EventInfo,
    FailedMessage,
    FirstMeetingReminder,
    FollowupInvited,
    LoginRequested,
    MatchesSuggested,
    MeetingCancelled,
    MeetingChange,
    MeetingInfo,
    MissionDeadlineApproaching,
    Money,
    OrganizerDigest,
    Recipient,
    RegistrationConfirmed,
    RequestInfo,
    RequestsReceived,
    SuggestedMatch,
    SurveyInvited,
    SurveyReminder,
    WaitlistOffered,
)

PORTAL = "https://rueda.example.org/e/macrorrueda-2027"

SAMPLE_EVENT = EventInfo(
    name="Macrorrueda Pacífico 2027",
    timezone="America/Bogota",
    venue_name="Centro de Eventos Valle del Pacífico",
    venue_address="Calle 37 # 8-43, Cali",
    city="Cali",
    starts_on=date(2027, 5, 19),
    ends_on=date(2027, 5, 20),
)
SAMPLE_RECIPIENT = Recipient(name="Ana Gómez", timezone="America/Bogota")

_BUYERS = (
    Counterpart(
        name="Hans Müller",
        organization="Rheinkaffee GmbH",
        country="DE",
        products=("Café verde especial (0901.11)", "Cacao en grano (1801.00)"),
        email="h.mueller@rheinkaffee.example",
        phone="+49 30 1234567",
    ),
    Counterpart(
        name="Chloé Martin",
        organization="Épicerie Fine Lyon",
        country="FR",
        products=("Panela orgánica (1701.13)",),
    ),
    Counterpart(
        name="John O'Brien & Sons",
        organization="Dublin <Fine> Foods",
        country="IE",
        products=("Aguacate Hass (0804.40)", "Gulupa (0810.90)"),
        email="john@dublinfine.example",
    ),
)


def sample_meetings(count: int = 3, *, first_id: int = 101) -> tuple[MeetingInfo, ...]:
    """`count` meetings of 30 minutes from 08:00 Bogotá time on the first day, tables T1, T2, ..."""
    start = datetime(2027, 5, 19, 13, 0, tzinfo=UTC)
    return tuple(
        MeetingInfo(
            meeting_id=first_id + i,
            version=1,
            starts_at=start + timedelta(minutes=30 * i),
            ends_at=start + timedelta(minutes=30 * i + 30),
            table=f"T{12 + i}",
            counterpart=_BUYERS[i % len(_BUYERS)],
        )
        for i in range(count)
    )


def sample_contexts() -> dict[str, Context]:
    meetings = sample_meetings()
    moved = MeetingInfo(
        meeting_id=102,
        version=2,
        starts_at=datetime(2027, 5, 19, 15, 0, tzinfo=UTC),
        ends_at=datetime(2027, 5, 19, 15, 30, tzinfo=UTC),
        table="T20",
        counterpart=_BUYERS[1],
    )
    respond_by = datetime(2027, 5, 10, 4, 59, tzinfo=UTC)
    return {
        "registration.confirmed": RegistrationConfirmed(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            organization="Café Andino SAS",
            portal_url=f"{PORTAL}/me",
            requests_close_at=respond_by,
        ),
        "login.requested": LoginRequested(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            login_url="https://rueda.example.org/login?t=abc.def",
            expires_at=datetime(2027, 4, 1, 15, 30, tzinfo=UTC),
        ),
        "requests.received": RequestsReceived(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            requests=(
                RequestInfo(
                    counterpart=_BUYERS[0],
                    note="Buscamos 2 contenedores al mes de café lavado.",
                    accept_url=f"{PORTAL}/requests/501/accept?t=abc",
                    decline_url=f"{PORTAL}/requests/501/decline?t=abc",
                ),
                RequestInfo(
                    counterpart=_BUYERS[2],
                    note=None,
                    accept_url=f"{PORTAL}/requests/502/accept?t=def",
                    decline_url=f"{PORTAL}/requests/502/decline?t=def",
                ),
            ),
            respond_by=respond_by,
            portal_url=f"{PORTAL}/requests",
        ),
        "matches.suggested": MatchesSuggested(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            matches=(
                SuggestedMatch(
                    counterpart=_BUYERS[0],
                    reason="Compra café verde especial, que usted ofrece.",
                    accept_url=f"{PORTAL}/matches/71/accept?t=x1",
                    decline_url=f"{PORTAL}/matches/71/decline?t=x1",
                ),
                SuggestedMatch(
                    counterpart=_BUYERS[1],
                    reason="Busca panela orgánica certificada.",
                    accept_url=f"{PORTAL}/matches/72/accept?t=x2",
                    decline_url=f"{PORTAL}/matches/72/decline?t=x2",
                ),
            ),
            respond_by=respond_by,
            portal_url=f"{PORTAL}/matches",
        ),
        "agenda.published": AgendaPublished(
            event=SAMPLE_EVENT, recipient=SAMPLE_RECIPIENT, meetings=meetings, agenda_url=f"{PORTAL}/agenda"
        ),
        "agenda.changed": AgendaChanged(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            changes=(
                MeetingChange(
                    change=ChangeKind.MOVED,
                    meeting=moved,
                    previous_starts_at=meetings[1].starts_at,
                    previous_table=meetings[1].table,
                ),
                MeetingChange(change=ChangeKind.CANCELLED, meeting=meetings[2]),
                MeetingChange(change=ChangeKind.ADDED, meeting=sample_meetings(1, first_id=140)[0]),
            ),
            agenda_url=f"{PORTAL}/agenda",
        ),
        "meeting.cancelled": MeetingCancelled(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            meeting=meetings[0],
            reason="El comprador no pudo viajar.",
            agenda_url=f"{PORTAL}/agenda",
        ),
        "waitlist.offered": WaitlistOffered(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            meeting=meetings[1],
            accept_url=f"{PORTAL}/waitlist/9/accept?t=w9",
            respond_by=datetime(2027, 5, 19, 14, 0, tzinfo=UTC),
        ),
        "reminder.day-before": DayBeforeReminder(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            day_on=date(2027, 5, 19),
            meetings=meetings,
            agenda_url=f"{PORTAL}/agenda",
        ),
        "reminder.first-meeting": FirstMeetingReminder(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            meeting=meetings[0],
            minutes_before=30,
            agenda_url=f"{PORTAL}/agenda",
        ),
        "survey.invited": SurveyInvited(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            survey_url=f"{PORTAL}/survey?t=s1",
            closes_at=datetime(2027, 5, 27, 4, 59, tzinfo=UTC),
            meetings_held=7,
        ),
        "survey.reminder": SurveyReminder(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            survey_url=f"{PORTAL}/survey?t=s1",
            closes_at=datetime(2027, 5, 27, 4, 59, tzinfo=UTC),
        ),
        "followup.invited": FollowupInvited(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            months=6,
            survey_url=f"{PORTAL}/followup?t=f6",
            reported_business=Money(amount_minor=12_500_000, currency="USD"),
        ),
        "mission.deadline-approaching": MissionDeadlineApproaching(
            event=SAMPLE_EVENT,
            recipient=SAMPLE_RECIPIENT,
            items=(
                ChecklistEntry(
                    title="Pasaporte vigente", due_at=datetime(2027, 4, 20, 4, 59, tzinfo=UTC), is_done=True
                ),
                ChecklistEntry(
                    title="Ficha técnica en inglés",
                    due_at=datetime(2027, 4, 30, 4, 59, tzinfo=UTC),
                    is_done=False,
                ),
            ),
            checklist_url=f"{PORTAL}/checklist",
        ),
        "privacy.erasure-decided": ErasureDecided(
            event=SAMPLE_EVENT,
            recipient=Recipient(name="", timezone=SAMPLE_RECIPIENT.timezone),
            completed=True,
            reason=None,
            requested_at=datetime(2027, 6, 2, 14, 5, tzinfo=UTC),
            decided_at=datetime(2027, 6, 9, 16, 30, tzinfo=UTC),
        ),
        "organizer.digest": OrganizerDigest(
            event=SAMPLE_EVENT,
            recipient=Recipient(name="Equipo organizador", timezone="America/Bogota"),
            day_on=date(2027, 5, 18),
            sent=1834,
            pending=12,
            skipped=3,
            failures=(
                FailedMessage(
                    recipient_email="compras@ejemplo.invalid",
                    kind="agenda.published",
                    reason="550 5.1.1 mailbox unavailable",
                ),
            ),
            meetings_scheduled=2316,
            expected_business=Money(amount_minor=1_875_000_000, currency="USD"),
            dashboard_url=f"{PORTAL}/admin",
        ),
    }
