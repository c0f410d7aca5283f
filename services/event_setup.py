"""Event setup from the organizer pages: change an event's editable fields through the same
definition and the same service as `rueda event update`, so the portal cannot store an event that
the definition file would refuse.

The event is turned back into its `EventDefinition` (the slot plan, tables and rules are stored as
defined), the form's fields replace theirs, the result is validated (errors name the field) and
`services.events.update_event` writes it. Times in the form are event-local, as in the file.
Invariants: the slug, kind, schedule and tables do not change here (the file does that).

Organizer text: one form field per kind of `ORGANIZER_TEXT_KINDS` and language of the event, named
`text_field(kind, language)`; the form replaces every text (an empty field removes it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlmodel import Session, col, select

from models import Event, EventTable, EventText
from models.schemas import ORGANIZER_TEXT_KINDS, EventDefinition
from services.events import update_event

# Form field -> where it lives in the definition.
EDITABLE = (
    "name",
    "venue_name",
    "venue_address",
    "venue_city",
    "registration_opens",
    "registration_closes",
    "requests_close",
    "min_meetings",
    "max_meetings",
    "request_policy",
)


class SetupError(ValueError):
    """The form's values make an invalid event; `errors` maps form field -> message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def text_field(kind: str, language: str) -> str:
    """The form field of the organizer text of `kind` in `language`."""
    return f"text:{kind}:{language}"


def _local(value: datetime | None, timezone: str) -> datetime | None:
    return None if value is None else value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)


def load_definition(session: Session, event: Event) -> dict[str, Any]:
    """The event as the JSON-shaped data of its definition file."""
    tables = session.exec(
        select(EventTable.code).where(EventTable.event_id == event.id).order_by(col(EventTable.id))
    ).all()
    texts: dict[str, dict[str, str]] = {}
    for row in session.exec(
        select(EventText).where(EventText.event_id == event.id).order_by(col(EventText.id))
    ):
        if row.notification_kind in ORGANIZER_TEXT_KINDS and row.language in event.languages:
            texts.setdefault(row.notification_kind, {})[row.language] = row.text
    return {
        "slug": event.slug,
        "name": event.name,
        "kind": event.kind.value,
        "timezone": event.timezone,
        "languages": list(event.languages),
        "default_language": event.default_language,
        "venue": {
            "name": event.venue_name,
            "address": event.venue_address,
            "city": event.city,
            "country": event.country,
        },
        "registration_opens": _local(event.registration_opens_at, event.timezone),
        "registration_closes": _local(event.registration_closes_at, event.timezone),
        "requests_close": _local(event.requests_close_at, event.timezone),
        "schedule": dict(event.slot_plan),
        "tables": list(tables),
        "rules": dict(event.rules),
        "usd_rates": dict(event.usd_rates),
        "mission": event.mission,
        "organizer_text": texts,
    }


def setup_values(session: Session, event: Event) -> dict[str, Any]:
    """The editable fields' current values, as the form shows them."""
    data = load_definition(session, event)
    rules = data["rules"]
    return {
        "name": data["name"],
        "venue_name": data["venue"]["name"] or "",
        "venue_address": data["venue"]["address"] or "",
        "venue_city": data["venue"]["city"] or "",
        "registration_opens": _input_time(data["registration_opens"]),
        "registration_closes": _input_time(data["registration_closes"]),
        "requests_close": _input_time(data["requests_close"]),
        "min_meetings": rules.get("min_meetings", event.min_meetings),
        "max_meetings": rules.get("max_meetings", event.max_meetings),
        "request_policy": rules.get("request_policy", event.request_policy.value),
        **{
            text_field(kind, language): data["organizer_text"].get(kind, {}).get(language, "")
            for kind in ORGANIZER_TEXT_KINDS
            for language in data["languages"]
        },
    }


def _input_time(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%dT%H:%M")


_LOCATIONS: dict[tuple[str, ...], str] = {
    ("name",): "name",
    ("venue", "name"): "venue_name",
    ("venue", "address"): "venue_address",
    ("venue", "city"): "venue_city",
    ("registration_opens",): "registration_opens",
    ("registration_closes",): "registration_closes",
    ("requests_close",): "requests_close",
    ("rules", "min_meetings"): "min_meetings",
    ("rules", "max_meetings"): "max_meetings",
    ("rules", "request_policy"): "request_policy",
    ("rules",): "min_meetings",
}


def update_setup(session: Session, event: Event, form: dict[str, str], *, now: datetime) -> Event:
    """Apply the form's editable fields. Raises SetupError naming each bad field; writes nothing then."""
    data = load_definition(session, event)

    def text(name: str) -> str | None:
        value = form.get(name, "").strip()
        return value or None

    data["name"] = form.get("name", "").strip()
    data["venue"] = {
        **data["venue"],
        "name": text("venue_name"),
        "address": text("venue_address"),
        "city": text("venue_city"),
    }
    for name in ("registration_opens", "registration_closes", "requests_close"):
        data[name] = text(name)
    data["rules"] = {
        **data["rules"],
        "min_meetings": form.get("min_meetings", "").strip(),
        "max_meetings": form.get("max_meetings", "").strip(),
        "request_policy": form.get("request_policy", "").strip(),
    }
    data["organizer_text"] = {
        kind: {language: form.get(text_field(kind, language), "") for language in data["languages"]}
        for kind in ORGANIZER_TEXT_KINDS
    }
    try:
        definition = EventDefinition.model_validate(data)
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors():
            loc = tuple(str(p) for p in item["loc"])
            field = _LOCATIONS.get(loc[:2]) or _LOCATIONS.get(loc[:1])
            if loc[:1] == ("organizer_text",) and len(loc) >= 3:
                field = text_field(loc[1], loc[2])
            if field is None and item["type"] == "value_error" and not loc:
                field = "registration_closes" if "registration" in item["msg"] else "name"
            errors.setdefault(field or "name", str(item["msg"]).removeprefix("Value error, "))
        raise SetupError(errors) from None
    return update_event(session, definition, now=now)
