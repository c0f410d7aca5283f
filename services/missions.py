"""Trade missions: the call for applications, the selection of the delegation, and the preparation
checklist with its deadline reminders.

- `open_applications` opens the call (draft -> registration open) and `import_applications` takes a
  sheet of applications: the participant columns of a normal import plus the questionnaire
  (legally registered, export-ready product, years exporting, export sales, export plan). All rows
  or none; re-importing the same file changes nothing.
- `select_delegation` scores and selects with `engine.selection` (capacity and inclusion quotas
  from the event's mission definition) and writes each decision with its reasons. Selected
  applicants are confirmed; ineligible ones rejected; wait-listed ones stay registered but are left
  out of matching (services.matching) until selected. Re-running it writes only what changed.
- `queue_checklist_reminders` queues, for each selected participant and each checklist item not
  done, a `mission.deadline-approaching` email 7 days and 1 day before the deadline (never after
  it). Completing an item (`complete_checklist_item`) cancels its pending reminders.

Cost: a few queries per call, linear in applications and checklist items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, ValidationError
from sqlmodel import Session, col, select

from engine.selection import Applicant, Decision, Selection, select_delegation
from models import (
    ApplicationDecision,
    ChecklistCompletion,
    ChecklistItem,
    Event,
    EventKind,
    EventStatus,
    MissionApplication,
    Organization,
    Participant,
    ParticipantStatus,
    TradeDirection,
    TradeLine,
)
from models.schemas import Flag, MissionDefinition
from notifications.catalog import ChecklistEntry, MissionDeadlineApproaching
from notifications.outbox import build_key, cancel_pending, queue_message
from services.agendas import event_info, recipient_for
from services.domain_events import record_fact
from services.errors import ConflictError, DomainError, InputFileError, NotFoundError, RowError
from services.files import Sheet, clean_message
from services.lifecycle import StepResult, advance, is_past
from services.participants import import_participants, normalize_heading, validate_rows

REMINDER_LEADS = (timedelta(days=7), timedelta(days=1))

APPLICATION_ALIASES: dict[str, tuple[str, ...]] = {
    "legally_registered": (
        "legally_registered",
        "registro_legal",
        "legalmente_constituida",
        "empresa_legalmente_constituida",
        "registro_mercantil",
    ),
    "product_ready": ("product_ready", "producto_listo", "producto_exportable", "oferta_exportable"),
    "years_exporting": ("years_exporting", "anos_exportando", "anos_de_experiencia_exportadora"),
    "export_sales_usd": ("export_sales_usd", "exportaciones_usd", "ventas_de_exportacion_usd"),
    "has_export_plan": ("has_export_plan", "plan_exportador", "plan_de_exportacion", "plano_exportador"),
}
_REQUIRED = ("legally_registered", "product_ready")
_ALIAS = {alias: name for name, aliases in APPLICATION_ALIASES.items() for alias in aliases}


def _blank_zero(value: Any) -> Any:
    return 0 if value is None or (isinstance(value, str) and not value.strip()) else value


class ApplicationAnswers(BaseModel):
    """The mission questionnaire, as stored in `mission_application.answers`."""

    legally_registered: Flag
    product_ready: Flag
    years_exporting: Annotated[int, BeforeValidator(_blank_zero)] = Field(default=0, ge=0, le=200)
    export_sales_usd: Annotated[int, BeforeValidator(_blank_zero)] = Field(default=0, ge=0, le=10**12)
    has_export_plan: Flag = False


@dataclass(frozen=True, slots=True)
class ApplicationImportResult:
    created: int
    updated: int
    unchanged: int

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


@dataclass(frozen=True, slots=True)
class DelegationSummary:
    event_slug: str
    changed: bool
    applications: int
    selected: int
    waitlisted: int
    rejected: int
    capacity: int
    quota_filled: dict[str, int]
    quotas: dict[str, int]
    unmet_quotas: dict[str, str]
    rows: list[dict[str, Any]]

    def headline(self) -> str:
        quotas = ", ".join(f"{g} {self.quota_filled[g]}/{n}" for g, n in sorted(self.quotas.items()))
        text = (
            f"{self.event_slug}: {self.selected} of {self.capacity} seats filled from {self.applications} "
            f"applications ({self.waitlisted} wait-listed, {self.rejected} not eligible)"
        )
        if quotas:
            text += f"; quotas {quotas}"
        if self.unmet_quotas:
            text += "; NOT MET: " + "; ".join(f"{g}: {why}" for g, why in sorted(self.unmet_quotas.items()))
        if not self.changed:
            text += "; no decision changed"
        return text


@dataclass(frozen=True, slots=True)
class ChecklistSummary:
    event_slug: str
    participants: int
    items: int
    done: int
    overdue: int
    queued: int
    per_item: list[dict[str, Any]]

    def headline(self) -> str:
        total = self.participants * self.items
        return (
            f"{self.event_slug}: {self.done} of {total} checklist tasks done for {self.participants} delegates, "
            f"{self.overdue} overdue; {self.queued} reminders queued"
        )


def mission_of(event: Event) -> MissionDefinition:
    if event.kind is not EventKind.MISSION or not event.mission:
        raise DomainError(f"event {event.slug!r} is not a trade mission (kind {event.kind.value})")
    return MissionDefinition.model_validate(event.mission)


def open_applications(session: Session, event: Event, *, now: datetime) -> StepResult:
    mission_of(event)
    assert event.id is not None
    changed = advance(session, event, EventStatus.REGISTRATION_OPEN, "rueda.applications.opened", now=now)
    detail = "call for applications open" if changed else f"already {event.status.value}; nothing to do"
    return StepResult(event.id, event.slug, changed, event.status, detail)


def import_applications(
    session: Session, event: Event, sheet: Sheet, *, source: str, now: datetime
) -> ApplicationImportResult:
    """Register the applicants (a participant import) and store their answers: all rows or none."""
    mission_of(event)
    assert event.id is not None
    if is_past(event, EventStatus.REGISTRATION_CLOSED):
        raise ConflictError(f"the call for applications of {event.slug!r} is closed")
    answers, errors = _parse_answers(sheet, source)
    participant_rows, _, participant_errors = validate_rows(sheet, source)
    if errors or participant_errors:
        raise InputFileError(source, sorted([*errors, *participant_errors], key=lambda e: (e.row, e.column)))
    imported = import_participants(session, event, sheet, source=source, now=now)
    people = {
        p.email: p
        for p in session.exec(
            select(Participant).where(
                Participant.event_id == event.id, col(Participant.id).in_(imported.participant_ids)
            )
        )
    }
    existing = {
        a.organization_id: a
        for a in session.exec(select(MissionApplication).where(MissionApplication.event_id == event.id))
    }
    created = updated = unchanged = 0
    for number, row in participant_rows:
        person = people[row.email]
        wanted = answers[number].model_dump()
        application = existing.get(person.organization_id)
        if application is None:
            application = MissionApplication(
                event_id=event.id,
                organization_id=person.organization_id,
                participant_id=person.id,
                answers=wanted,
                submitted_at=now,
            )
            existing[person.organization_id] = application
            created += 1
        elif application.answers != wanted or application.participant_id != person.id:
            application.answers, application.participant_id = wanted, person.id
            application.submitted_at = now
            updated += 1
        else:
            unchanged += 1
            continue
        session.add(application)
    session.flush()
    if created or updated:
        record_fact(
            session,
            "rueda.applications.received",
            resource=f"rueda.event.{event.id}",
            event_id=event.id,
            now=now,
            payload={"event_slug": event.slug, "created": created, "updated": updated},
        )
    return ApplicationImportResult(created, updated, unchanged)


def select_mission_delegation(session: Session, event: Event, *, now: datetime) -> DelegationSummary:
    mission = mission_of(event)
    assert event.id is not None
    applications = list(
        session.exec(
            select(MissionApplication)
            .where(MissionApplication.event_id == event.id)
            .order_by(col(MissionApplication.id))
        )
    )
    if not applications:
        raise DomainError(f"event {event.slug!r} has no applications yet (open-applications with a file)")
    orgs = {
        o.id: o
        for o in session.exec(
            select(Organization).where(col(Organization.id).in_({a.organization_id for a in applications}))
        )
    }
    lines: dict[int, list[TradeLine]] = {}
    participant_ids = [a.participant_id for a in applications if a.participant_id is not None]
    for line in session.exec(
        select(TradeLine).where(
            col(TradeLine.participant_id).in_(participant_ids), TradeLine.direction == TradeDirection.OFFER
        )
    ):
        lines.setdefault(line.participant_id, []).append(line)
    applicants = []
    for a in applications:
        assert a.id is not None
        answers = ApplicationAnswers.model_validate(a.answers)
        offers = lines.get(a.participant_id or 0, [])
        applicants.append(
            Applicant(
                id=a.id,
                groups=_groups(orgs[a.organization_id]),
                legally_registered=answers.legally_registered,
                product_ready=answers.product_ready,
                years_exporting=answers.years_exporting,
                export_sales_usd=answers.export_sales_usd,
                has_export_plan=answers.has_export_plan,
                certifications=len({c for line in offers for c in line.certifications}),
                targets_destination=any(
                    mission.destination_country in line.target_markets for line in offers
                ),
            )
        )
    selection = select_delegation(applicants, capacity=mission.capacity, quotas=mission.quotas)
    changed = _write_decisions(session, applications, selection, now)
    if changed:
        record_fact(
            session,
            "rueda.delegation.selected",
            resource=f"rueda.event.{event.id}",
            event_id=event.id,
            now=now,
            payload={"event_slug": event.slug, "selected": selection.selected, "changed": changed},
        )
    by_id = {a.id: a for a in applications}
    rows = [
        {
            "application": o.applicant_id,
            "organization": orgs[by_id[o.applicant_id].organization_id].legal_name,
            "decision": o.decision.value,
            "score": o.score,
            "rank": o.rank,
            "reasons": "; ".join(o.reasons),
        }
        for o in sorted(selection.outcomes, key=lambda o: (o.rank is None, o.rank or 0, o.applicant_id))
    ]
    counts = {d: sum(1 for o in selection.outcomes if o.decision is d) for d in Decision}
    return DelegationSummary(
        event_slug=event.slug,
        changed=bool(changed),
        applications=len(applications),
        selected=counts[Decision.SELECTED],
        waitlisted=counts[Decision.WAITLISTED],
        rejected=counts[Decision.REJECTED],
        capacity=mission.capacity,
        quota_filled=dict(selection.quota_filled),
        quotas=dict(selection.quotas),
        unmet_quotas=dict(selection.unmet_quotas),
        rows=rows,
    )


def queue_checklist_reminders(
    session: Session, event: Event, *, now: datetime, checklist_url: str
) -> ChecklistSummary:
    """Queue the deadline reminders still ahead for every selected delegate and open item."""
    mission_of(event)
    assert event.id is not None
    items = list(
        session.exec(
            select(ChecklistItem)
            .where(ChecklistItem.event_id == event.id)
            .order_by(col(ChecklistItem.due_at))
        )
    )
    delegates = _delegates(session, event.id)
    done = set(
        session.exec(
            select(ChecklistCompletion.item_id, ChecklistCompletion.participant_id).where(
                col(ChecklistCompletion.item_id).in_([i.id for i in items])
            )
        ).all()
    )
    info = event_info(event)
    queued = overdue = 0
    per_item = []
    for item in items:
        assert item.id is not None
        item_done = sum(1 for p in delegates if (item.id, p.id) in done)
        item_overdue = 0
        for person in delegates:
            assert person.id is not None
            if (item.id, person.id) in done:
                continue
            if item.due_at <= now:
                item_overdue += 1
                continue
            for lead in REMINDER_LEADS:
                due_at = max(item.due_at - lead, now)
                if item.due_at - lead < now and lead != REMINDER_LEADS[-1]:
                    continue  # too late for the early reminder; the last one still goes
                queued += queue_message(
                    session,
                    kind="mission.deadline-approaching",
                    context=MissionDeadlineApproaching(
                        event=info,
                        recipient=recipient_for(event, person.full_name, person.timezone),
                        items=(ChecklistEntry(title=item.title, due_at=item.due_at, is_done=False),),
                        checklist_url=checklist_url,
                    ),
                    recipient_email=person.email,
                    language=person.language,
                    idempotency_key=_reminder_key(person.id, item.id, lead),
                    due_at=due_at,
                    not_after=item.due_at,
                    now=now,
                    event_id=event.id,
                    participant_id=person.id,
                )
        overdue += item_overdue
        per_item.append(
            {
                "item": item.code,
                "title": item.title,
                "due": item.due_at.isoformat(timespec="minutes"),
                "done": f"{item_done} of {len(delegates)}",
                "overdue": item_overdue,
            }
        )
    return ChecklistSummary(
        event_slug=event.slug,
        participants=len(delegates),
        items=len(items),
        done=sum(1 for item_id, pid in done if pid in {p.id for p in delegates}),
        overdue=overdue,
        queued=queued,
        per_item=per_item,
    )


def complete_checklist_item(
    session: Session, event: Event, *, participant_id: int, code: str, now: datetime
) -> bool:
    """Mark one task done for one delegate and cancel its pending reminders; False if already done."""
    assert event.id is not None
    item = session.exec(
        select(ChecklistItem).where(ChecklistItem.event_id == event.id, ChecklistItem.code == code)
    ).first()
    if item is None or item.id is None:
        raise NotFoundError(f"no checklist item {code!r} in {event.slug!r}")
    if participant_id not in {p.id for p in _delegates(session, event.id)}:
        raise NotFoundError(f"participant {participant_id} is not a selected delegate of {event.slug!r}")
    exists = session.exec(
        select(ChecklistCompletion.id).where(
            ChecklistCompletion.item_id == item.id, ChecklistCompletion.participant_id == participant_id
        )
    ).first()
    if exists is not None:
        return False
    session.add(ChecklistCompletion(item_id=item.id, participant_id=participant_id, completed_at=now))
    for lead in REMINDER_LEADS:
        cancel_pending(session, _reminder_key(participant_id, item.id, lead), reason="task done")
    session.flush()
    return True


def _reminder_key(participant_id: int, item_id: int, lead: timedelta) -> str:
    return build_key("mission.deadline-approaching", participant_id, f"item-{item_id}", f"{lead.days}d")


def _delegates(session: Session, event_id: int) -> list[Participant]:
    return list(
        session.exec(
            select(Participant)
            .join(MissionApplication, col(MissionApplication.participant_id) == col(Participant.id))
            .where(
                MissionApplication.event_id == event_id,
                MissionApplication.decision == ApplicationDecision.SELECTED,
            )
            .order_by(col(Participant.id))
        )
    )


def _groups(org: Organization) -> frozenset[str]:
    flags = {
        "women_led": org.is_women_led,
        "peasant": org.is_peasant,
        "indigenous": org.is_indigenous,
        "conflict_victim": org.is_conflict_victim,
    }
    return frozenset(group for group, on in flags.items() if on)


_DECISIONS = {
    Decision.SELECTED: (ApplicationDecision.SELECTED, ParticipantStatus.CONFIRMED),
    Decision.WAITLISTED: (ApplicationDecision.WAITLISTED, ParticipantStatus.REGISTERED),
    Decision.REJECTED: (ApplicationDecision.REJECTED, ParticipantStatus.REJECTED),
}


def _write_decisions(
    session: Session, applications: list[MissionApplication], selection: Selection, now: datetime
) -> int:
    by_id = {a.id: a for a in applications}
    people = {
        p.id: p
        for p in session.exec(
            select(Participant).where(col(Participant.id).in_([a.participant_id for a in applications]))
        )
    }
    changed = 0
    for outcome in selection.outcomes:
        application = by_id[outcome.applicant_id]
        decision, status = _DECISIONS[outcome.decision]
        wanted = (outcome.eligible, outcome.score, decision, list(outcome.reasons))
        have = (
            application.is_eligible,
            application.readiness_score,
            application.decision,
            list(application.decision_reasons),
        )
        if wanted != have:
            application.is_eligible, application.readiness_score = outcome.eligible, outcome.score
            application.decision, application.decision_reasons = decision, list(outcome.reasons)
            application.decided_at = now
            session.add(application)
            changed += 1
        person = people.get(application.participant_id)
        if (
            person is not None
            and person.status is not status
            and person.status is not ParticipantStatus.WITHDRAWN
        ):
            person.status, person.updated_at = status, now
            session.add(person)
    session.flush()
    return changed


def _parse_answers(sheet: Sheet, source: str) -> tuple[dict[int, ApplicationAnswers], list[RowError]]:
    mapping: dict[str, str] = {}
    for heading in sheet.headings:
        name = _ALIAS.get(normalize_heading(heading or ""))
        if name is not None and name not in mapping.values():
            mapping[heading] = name
    heading_of = {name: heading for heading, name in mapping.items()}
    errors = [
        RowError(
            1,
            name,
            f"required column is missing (accepted headings: {', '.join(APPLICATION_ALIASES[name][:3])})",
        )
        for name in _REQUIRED
        if name not in heading_of
    ]
    if errors:
        return {}, errors
    answers: dict[int, ApplicationAnswers] = {}
    for number, raw in sheet.rows:
        data = {mapping[h]: v for h, v in raw.items() if h in mapping and v is not None}
        try:
            answers[number] = ApplicationAnswers.model_validate(data)
        except ValidationError as error:
            for item in error.errors():
                name = str(item["loc"][0]) if item["loc"] else "row"
                errors.append(RowError(number, heading_of.get(name, name), clean_message(item["msg"])))
    return answers, errors
