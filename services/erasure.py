"""Carrying out a participant's request to delete their data (Ley 1581 de 2012 art. 8 and 15,
GDPR Art. 17), or refusing it with a recorded legal reason.

The participant asks from their portal page (`services.privacy.request_erasure`); an organizer, or
their data-protection officer, sees the pending requests (portal page `/organizer/events/S/privacy`
or `rueda privacy list`) and decides (`rueda privacy erase|refuse`, or the page's buttons). The
procedure for the officer is docs/privacy.md.

Carrying out anonymises in one transaction:
- the participant: name, address, phone, job title and spoken languages; their sessions and
  sign-in links end; before the event ends they are withdrawn and their future meetings are
  cancelled (the counterparts get `agenda.changed`, the seats go to the waiting list);
- their organization's name, tax id, city and website, unless another participant still
  represents it (country, region, size, sectors and inclusion flags stay: the report's breakdowns);
- their free text: offer and demand descriptions, request notes, survey next steps and comments,
  mission application answers, reasons for unavailability; survey links stop working;
- the outbox: their messages lose address and content (unsent ones are skipped), and every other
  message of the event that names them has the name, address or phone replaced;
- the free text other people wrote in the event (notes, survey comments, mission answers) that
  names them, the same way;
- then, after the commit (`erase_files`, recorded as `rueda.erasure.archived`), the project's mail
  sink archive (`notifications.sink.erase_from_archive`) and the event's report folder kept by the
  project (removed: rebuild it with build-report; reports written elsewhere are the organizer's
  files to delete).

What survives is what names nobody: meetings and their statuses, survey scores and US$ figures,
country, region, company size and inclusion flags, HS codes. The report's counts and sums therefore do not
change. The decision is the domain fact `rueda.erasure.completed` or `rueda.erasure.refused`
(who, when, what was changed, or the reason): the audit record, which holds no personal data. The
person gets a confirmation (`privacy.erasure-decided`); after it is sent the outbox forgets the
address (`notifications.outbox.redact_sent_links`).

Cost: one pass over the event's outbox rows and free-text rows (a few seconds at 2,500
participants), once per request.
"""

from __future__ import annotations

import re
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from config import Settings
from models import (
    DomainEvent,
    Event,
    EventStatus,
    LoginToken,
    Meeting,
    MeetingRequest,
    MeetingStatus,
    MissionApplication,
    Notification,
    NotificationStatus,
    Organization,
    Participant,
    ParticipantStatus,
    SurveyInvitation,
    SurveyResponse,
    TimeSlot,
    TradeLine,
    Unavailability,
    WaitlistEntry,
    WaitlistStatus,
)
from models.text import TextError, clean_text
from notifications.catalog import ErasureDecided
from notifications.outbox import ERASED_DOMAIN, ERASURE_KIND, build_key, erased_address, queue_message
from notifications.sink import erase_from_archive
from services.agendas import ChangeNotice, event_info, notify_agenda_changes, recipient_for
from services.domain_events import record_fact
from services.errors import ConflictError, DomainError, NotFoundError
from services.onsite import cancel_meeting
from services.privacy import ERASURE_FACT, erasure_requested_at

ERASURE_COMPLETED = "rueda.erasure.completed"
ERASURE_REFUSED = "rueda.erasure.refused"
ERASURE_FILES = "rueda.erasure.archived"  # the files part, after the commit
REASON_MIN, REASON_MAX = 10, 1000
ERASED_TEXT = "[erased]"
_ENDED = (EventStatus.ENDED, EventStatus.ARCHIVED)


class ErasureError(DomainError):
    """A decision that cannot be taken: no such request, already decided, no reason given."""


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    participant_id: int
    name: str
    email: str
    requested_at: datetime
    state: str  # pending, completed or refused
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ErasureOptions:
    """What carrying out needs besides the database: where the counterparts' agenda links point,
    the first-meeting reminder lead (for moved reminders), and the folders the project keeps."""

    agenda_url: str
    first_meeting_lead: timedelta
    mail_archive: Path | None = None
    report_folder: Path | None = None


@dataclass(slots=True)
class ErasureOutcome:
    participant_id: int
    changed: dict[str, int] = field(default_factory=dict)
    archive_needles: tuple[str, ...] = ()  # what `erase_files` looks for; never stored

    def count(self, what: str, n: int = 1) -> None:
        if n:
            self.changed[what] = self.changed.get(what, 0) + n

    def summary(self) -> str:
        done = ", ".join(f"{what} {n}" for what, n in sorted(self.changed.items()))
        return f"participant {self.participant_id} erased: {done or 'nothing held'}"


def erasure_options(settings: Settings, event_slug: str) -> ErasureOptions:
    """The options from the settings: the portal's agenda page, the reminder lead, and the folders
    the project keeps under `data_dir` (the mail sink's archive, the event's report folder)."""
    return ErasureOptions(
        agenda_url=f"{settings.portal.public_url}/agenda",
        first_meeting_lead=timedelta(minutes=settings.defaults.first_meeting_reminder_minutes),
        mail_archive=settings.data_dir / "mail",
        report_folder=settings.data_dir / "reports" / event_slug,
    )


def placeholder_name(participant_id: int) -> str:
    return f"Erased participant {participant_id}"


def is_erased(person: Participant) -> bool:
    return person.email.endswith(f"@{ERASED_DOMAIN}")


def _decisions(session: Session, event_id: int) -> dict[int, DomainEvent]:
    facts = session.exec(
        select(DomainEvent)
        .where(DomainEvent.event_id == event_id)
        .where(col(DomainEvent.name).in_((ERASURE_COMPLETED, ERASURE_REFUSED)))
        .order_by(col(DomainEvent.occurred_at))
    ).all()
    # The latest decision counts: a refusal can be followed by the erasure once its reason lapses.
    return {int(f.payload["participant_id"]): f for f in facts}


def list_erasure_requests(session: Session, event: Event) -> list[ErasureRequest]:
    """Every erasure request of the event, pending ones first, oldest first."""
    assert event.id is not None
    requests = session.exec(
        select(DomainEvent).where(DomainEvent.event_id == event.id).where(DomainEvent.name == ERASURE_FACT)
    ).all()
    decided = _decisions(session, event.id)
    ids = [int(r.payload["participant_id"]) for r in requests]
    people = {p.id: p for p in session.exec(select(Participant).where(col(Participant.id).in_(ids)))}
    found = []
    for fact in requests:
        pid = int(fact.payload["participant_id"])
        person = people.get(pid)
        decision = decided.get(pid)
        found.append(
            ErasureRequest(
                participant_id=pid,
                name=person.full_name if person else placeholder_name(pid),
                email=person.email if person else "",
                requested_at=fact.occurred_at,
                state="pending"
                if decision is None
                else ("completed" if decision.name == ERASURE_COMPLETED else "refused"),
                decided_at=decision.occurred_at if decision else None,
                decided_by=decision.payload.get("by") if decision else None,
                reason=decision.payload.get("reason") if decision else None,
            )
        )
    return sorted(found, key=lambda r: (r.state != "pending", r.requested_at, r.participant_id))


def _participant(session: Session, event: Event, participant_id: int) -> Participant:
    person = session.get(Participant, participant_id)
    if person is None or person.event_id != event.id:
        raise NotFoundError(f"no participant {participant_id} in event {event.slug!r}")
    return person


def find_participant(session: Session, event: Event, who: str) -> Participant:
    """A participant of the event by id or by email address (as the officer received the request)."""
    who = who.strip()
    if who.isdigit():
        return _participant(session, event, int(who))
    person = session.exec(
        select(Participant).where(Participant.event_id == event.id).where(Participant.email == who.lower())
    ).first()
    if person is None:
        raise NotFoundError(f"no participant with id or email {who!r} in event {event.slug!r}")
    return person


def _requested_at(session: Session, event: Event, person: Participant, *, by: str, now: datetime) -> datetime:
    """When the person asked; a request received outside the portal (by email, by letter) is
    recorded now, by whoever carries it out."""
    assert person.id is not None
    at = erasure_requested_at(session, person.id)
    if at is not None:
        return at
    record_fact(
        session,
        ERASURE_FACT,
        resource=f"rueda.participant.{person.id}",
        event_id=event.id,
        now=now,
        payload={"participant_id": person.id, "source": "organizer", "by": by},
        dedupe_key=f"erasure:{person.id}",
    )
    return now


def _confirm(
    session: Session,
    event: Event,
    person: Participant,
    address: str,
    *,
    completed: bool,
    reason: str | None,
    requested_at: datetime,
    now: datetime,
) -> None:
    assert person.id is not None
    queue_message(
        session,
        kind=ERASURE_KIND,
        context=ErasureDecided(
            event=event_info(event),
            recipient=recipient_for(event, "", person.timezone),
            completed=completed,
            reason=reason,
            requested_at=requested_at,
            decided_at=now,
        ),
        recipient_email=address,
        language=person.language,
        idempotency_key=build_key(
            ERASURE_KIND, person.id, f"event-{event.id}", "completed" if completed else now.isoformat()
        ),
        due_at=now,
        now=now,
        event_id=event.id,
        participant_id=person.id,
    )


def refuse_erasure(
    session: Session, event: Event, participant_id: int, *, by: str, reason: str, now: datetime
) -> ErasureRequest:
    """Refuse a pending request, stating the legal reason (for example an audit obligation of the
    funder: Decreto 1377 de 2013 art. 9, GDPR Art. 17(3)(b)); the person is told the reason."""
    person = _participant(session, event, participant_id)
    assert event.id is not None and person.id is not None
    try:
        reason = clean_text(reason, multiline=True).strip()
    except TextError as error:
        raise ErasureError(f"reason: {error}") from None
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise ErasureError(f"reason: state the legal reason in {REASON_MIN} to {REASON_MAX} characters")
    requested = erasure_requested_at(session, person.id)
    if requested is None:
        raise ErasureError(f"participant {person.id} has not asked for their data to be deleted")
    decision = _decisions(session, event.id).get(person.id)
    if decision is not None and decision.name == ERASURE_COMPLETED:
        raise ConflictError(f"participant {person.id} was already erased on {decision.occurred_at:%Y-%m-%d}")
    record_fact(
        session,
        ERASURE_REFUSED,
        resource=f"rueda.participant.{person.id}",
        event_id=event.id,
        now=now,
        payload={"participant_id": person.id, "by": by, "reason": reason},
    )
    _confirm(
        session, event, person, person.email, completed=False, reason=reason, requested_at=requested, now=now
    )
    return ErasureRequest(person.id, person.full_name, person.email, requested, "refused", now, by, reason)


class _Scrubber:
    """Replaces the erased person's identifiers (case-insensitively) in any JSON-like value."""

    def __init__(self, replacements: dict[str, str]) -> None:
        usable = {k.strip(): v for k, v in replacements.items() if k and len(k.strip()) >= 3}
        # Full case mappings too ("Weiß" is written "WEISS"), which a case-insensitive regex misses.
        for needle, replacement in list(usable.items()):
            for variant in (needle.upper(), needle.lower(), needle.casefold(), needle.title()):
                usable.setdefault(variant, replacement)
        self._map = {k.casefold(): v for k, v in usable.items()}
        self.needles = sorted(usable, key=len, reverse=True)
        # Whole words only: erasing "Ana" leaves "Banana" alone. A boundary is asked for only where the
        # needle itself begins or ends with a letter or digit, so "(Ana)" still matches in "x(Ana)".
        alternatives = [
            (r"(?<!\w)" if re.match(r"\w", n) else "")
            + re.escape(n)
            + (r"(?!\w)" if re.search(r"\w$", n) else "")
            for n in self.needles
        ]
        self._pattern = re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None

    def text(self, value: str) -> str:
        if self._pattern is None:
            return value
        return self._pattern.sub(lambda m: self._map.get(m.group(0).casefold(), ERASED_TEXT), value)

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


def _scrub_rows(session: Session, rows: list[Any], fields: tuple[str, ...], scrubber: _Scrubber) -> int:
    changed = 0
    for row in rows:
        dirty = False
        for name in fields:
            old = getattr(row, name)
            if old is None:
                continue
            new = scrubber.value(old)
            if new != old:
                setattr(row, name, new)
                dirty = True
        if dirty:
            session.add(row)
            changed += 1
    return changed


def erase_files(outcome: ErasureOutcome, options: ErasureOptions, *, now: datetime) -> dict[str, int]:
    """After the erasure committed: tombstone the archived emails that name the person and remove
    the event's stored report (rebuilt by build-report). Safe to repeat. Returns what it did."""
    done: dict[str, int] = {}
    if options.mail_archive is not None and options.mail_archive.is_dir():
        done["archived emails erased"] = erase_from_archive(
            options.mail_archive, outcome.archive_needles, now=now
        )
    if options.report_folder is not None and options.report_folder.is_dir():
        done["stored report files removed (rebuild the report)"] = sum(
            1 for p in options.report_folder.rglob("*") if p.is_file()
        )
        shutil.rmtree(options.report_folder)
    for what, n in done.items():
        outcome.count(what, n)
    return done


def record_files_erased(
    session: Session, event: Event, participant_id: int, done: dict[str, int], *, now: datetime
) -> None:
    """The audit record of `erase_files`, next to `rueda.erasure.completed`."""
    record_fact(
        session,
        ERASURE_FILES,
        resource=f"rueda.participant.{participant_id}",
        event_id=event.id,
        now=now,
        payload={"participant_id": participant_id, "changed": done},
    )


def carry_out_erasure(
    session: Session, event: Event, participant_id: int, *, by: str, now: datetime, options: ErasureOptions
) -> ErasureOutcome:
    """Erase one participant's personal data from the event (module docstring), record the audit
    fact and queue the confirmation to the address they had."""
    person = _participant(session, event, participant_id)
    assert event.id is not None and person.id is not None
    if is_erased(person):
        raise ConflictError(f"participant {person.id} was already erased")
    requested = _requested_at(session, event, person, by=by, now=now)
    outcome = ErasureOutcome(person.id)
    address = person.email
    org = session.get(Organization, person.organization_id)
    assert org is not None
    others = session.exec(
        select(sa.func.count())
        .select_from(Participant)
        .where(Participant.organization_id == org.id)
        .where(Participant.id != person.id)
        .where(sa.not_(col(Participant.email).like(f"%@{ERASED_DOMAIN}")))
    ).one()
    replacements = {person.email: erased_address(person.id), person.phone or "": ERASED_TEXT}
    if not others:
        replacements[org.legal_name] = f"Erased organization {org.id}"
        replacements[org.tax_id or ""] = ERASED_TEXT
    # Another participant of the event with the same name: text about "Ana Gómez" could be about
    # either, and their own messages greet them by it. The name is then replaced only in the erased
    # person's own rows (the audit record says so); address and phone are unique and go everywhere.
    names = session.exec(
        select(Participant.full_name)
        .where(Participant.event_id == event.id)
        .where(Participant.id != person.id)
    ).all()
    namesakes = sum(1 for other in names if other.strip().casefold() == person.full_name.strip().casefold())
    name = {person.full_name: placeholder_name(person.id)}
    scrubber = _Scrubber({**replacements, **name})
    others_scrubber = scrubber if not namesakes else _Scrubber(replacements)
    outcome.count("namesakes whose text keeps the name", namesakes)

    # Before the event ends, the person leaves it: their future meetings are cancelled and their
    # waiting-list pairs withdrawn (after the end, the meetings stay: they are the event's figures).
    notices: list[ChangeNotice] = []
    live = event.status not in _ENDED
    if live:
        future = session.exec(
            select(Meeting.id)
            .join(TimeSlot, col(TimeSlot.id) == col(Meeting.slot_id))
            .where(Meeting.event_id == event.id)
            .where(or_(Meeting.participant_a_id == person.id, Meeting.participant_b_id == person.id))
            .where(col(Meeting.status).in_((MeetingStatus.SCHEDULED, MeetingStatus.CHECKED_IN)))
            .where(col(TimeSlot.starts_at) > now)
        ).all()
        for meeting_id in future:
            assert meeting_id is not None
            notices += cancel_meeting(
                session, event, meeting_id, reason="erasure", now=now, even_if_checked_in=True
            ).notices
        outcome.count("meetings cancelled", len(future))
        waiting = session.exec(
            select(WaitlistEntry)
            .join(MeetingRequest, col(MeetingRequest.id) == col(WaitlistEntry.request_id))
            .where(or_(MeetingRequest.requester_id == person.id, MeetingRequest.target_id == person.id))
            .where(col(WaitlistEntry.status).in_((WaitlistStatus.WAITING, WaitlistStatus.OFFERED)))
        ).all()
        for entry in waiting:
            entry.status = WaitlistStatus.WITHDRAWN
            session.add(entry)
        outcome.count("waiting-list pairs withdrawn", len(waiting))
        person.status = ParticipantStatus.WITHDRAWN

    person.full_name = placeholder_name(person.id)
    person.email = erased_address(person.id)
    person.job_title = person.phone = None
    person.spoken_languages = []
    person.sessions_valid_after = now
    person.updated_at = now
    session.add(person)
    outcome.count("participant anonymised")
    if not others:
        org.legal_name = f"Erased organization {org.id}"
        org.tax_id = org.city = org.website = None
        org.updated_at = now
        session.add(org)
        outcome.count("organization anonymised")
    session.flush()
    # The counterparts are told, with the placeholder name, what left their agenda.
    notify_agenda_changes(
        session,
        event,
        notices,
        now=now,
        agenda_url=options.agenda_url,
        first_meeting_lead=options.first_meeting_lead,
    )

    lines = session.exec(select(TradeLine).where(TradeLine.participant_id == person.id)).all()
    for line in lines:
        line.description = ""
        session.add(line)
    outcome.count("offer and demand descriptions cleared", len(lines))
    for gap in session.exec(select(Unavailability).where(Unavailability.participant_id == person.id)):
        gap.reason = None
        session.add(gap)
    invitations = session.exec(
        select(SurveyInvitation).where(SurveyInvitation.participant_id == person.id)
    ).all()
    for invitation in invitations:
        invitation.token_hash = secrets.token_hex(32)  # the emailed survey links open nothing now
        session.add(invitation)
    own_answers = session.exec(
        select(SurveyResponse).where(col(SurveyResponse.invitation_id).in_([i.id for i in invitations]))
    ).all()
    cleared = 0
    for answer in own_answers:
        if answer.next_steps is not None or answer.comments is not None:
            answer.next_steps = answer.comments = None
            session.add(answer)
            cleared += 1
    outcome.count("survey free-text answers cleared", cleared)
    own_requests = session.exec(
        select(MeetingRequest)
        .where(MeetingRequest.event_id == event.id)
        .where(or_(MeetingRequest.requester_id == person.id, MeetingRequest.target_id == person.id))
        .where(col(MeetingRequest.note).is_not(None))
    ).all()
    for request in own_requests:
        request.note = None
        session.add(request)
    outcome.count("request notes cleared", len(own_requests))
    applications = session.exec(
        select(MissionApplication).where(MissionApplication.participant_id == person.id)
    ).all()
    for application in applications:
        application.answers = {}
        session.add(application)
    outcome.count("mission application answers cleared", len(applications))
    tokens = session.exec(select(LoginToken).where(LoginToken.participant_id == person.id)).all()
    for token in tokens:
        session.delete(token)
    outcome.count("sign-in links deleted", len(tokens))

    messages = session.exec(select(Notification).where(Notification.event_id == event.id)).all()
    own = [m for m in messages if m.participant_id == person.id]
    for message in own:
        message.recipient_email = erased_address(person.id)
        message.context = scrubber.value(message.context)
        if message.status in (NotificationStatus.PENDING, NotificationStatus.SENDING):
            message.status = NotificationStatus.SKIPPED
            message.last_error = "skipped: the recipient's data was erased at their request"
        session.add(message)
    outcome.count("own outbox messages anonymised", len(own))
    others_messages = [m for m in messages if m.participant_id != person.id]
    outcome.count(
        "other outbox messages naming them",
        _scrub_rows(session, others_messages, ("context",), others_scrubber),
    )

    # What other people wrote about them.
    notes = session.exec(
        select(MeetingRequest)
        .where(MeetingRequest.event_id == event.id)
        .where(col(MeetingRequest.note).is_not(None))
    ).all()
    answers = session.exec(
        select(SurveyResponse)
        .join(SurveyInvitation, col(SurveyInvitation.id) == col(SurveyResponse.invitation_id))
        .where(SurveyInvitation.event_id == event.id)
    ).all()
    mission = session.exec(select(MissionApplication).where(MissionApplication.event_id == event.id)).all()
    written = _scrub_rows(session, list(notes), ("note",), others_scrubber)
    written += _scrub_rows(session, list(answers), ("next_steps", "comments"), others_scrubber)
    written += _scrub_rows(session, list(mission), ("answers",), others_scrubber)
    outcome.count("other people's free text naming them", written)

    # The files the project keeps are erased after the commit (`erase_files`): a rolled-back
    # erasure must not have rewritten the archive, and the archive is not read under the write lock.
    # The archive is searched for the address and phone always, for the name when it is unique.
    outcome.archive_needles = tuple(others_scrubber.needles)

    record_fact(
        session,
        ERASURE_COMPLETED,
        resource=f"rueda.participant.{person.id}",
        event_id=event.id,
        now=now,
        payload={
            "participant_id": person.id,
            "by": by,
            "requested_at": requested.isoformat(),
            "changed": dict(outcome.changed),
        },
        dedupe_key=f"erasure-completed:{person.id}",
    )
    _confirm(session, event, person, address, completed=True, reason=None, requested_at=requested, now=now)
    session.flush()
    return outcome
