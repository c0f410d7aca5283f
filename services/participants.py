"""Importing participants from organizers' spreadsheets, and registering one participant.

Invariants:
- The whole file is one transaction: every row is validated (Pydantic, then against the event's
  slots and tables) before anything is written, and any error means nothing is written.
- A participant is identified by (event, email). Importing the same file again updates the rows in
  place and never duplicates; the database's unique key backs this up against concurrent writers
  (entry points retry the whole transaction on a lost race, see services.db.run_in_transaction).
- An organization is identified by (country, tax id), else by (country, legal name, case-folded).
- A participant's trade lines and unavailabilities are replaced by what the file says; a column
  the file does not have keeps the stored value (unless `clear_missing`), so a partial re-import
  changes only what it mentions. The result names the fields that changed.
Cost: O(rows) validation plus a handful of bulk queries; 2,400 rows import in about a second.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from models import (
    Event,
    EventTable,
    Organization,
    Participant,
    ParticipantRole,
    ParticipantStatus,
    TimeSlot,
    TradeDirection,
    TradeLine,
    Unavailability,
)
from models.schemas import ParticipantImport
from services.domain_events import record_fact
from services.errors import InputFileError, RowError
from services.files import Sheet, clean_message

# Accepted headings for each field, compared after folding accents, case and punctuation.
# Organizers' spreadsheets are in Spanish (and Portuguese); the English names are canonical.
HEADING_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "e_mail", "correo", "correo_electronico", "email_de_contacto"),
    "full_name": ("full_name", "name", "nombre", "nombre_completo", "nome", "nome_completo", "contacto"),
    "organization": ("organization", "organisation", "company", "empresa", "razon_social", "organizacion"),
    "role": ("role", "rol", "tipo", "tipo_de_participante", "papel"),
    "country": ("country", "pais"),
    "language": ("language", "idioma", "idioma_de_comunicacion", "lingua"),
    "timezone": ("timezone", "time_zone", "zona_horaria", "fuso_horario"),
    "consent": ("consent", "consentimiento", "autorizacion_de_datos", "habeas_data", "consentimento"),
    "job_title": ("job_title", "title", "cargo", "position"),
    "phone": ("phone", "telefono", "celular", "movil", "telefone"),
    "tax_id": ("tax_id", "nit", "rut", "ruc", "cnpj", "vat", "identificacion_tributaria"),
    "city": ("city", "ciudad", "cidade"),
    "region": ("region", "departamento", "estado", "provincia"),
    "website": ("website", "web", "sitio_web", "pagina_web", "site"),
    "company_size": ("company_size", "size", "tamano", "tamano_de_empresa", "porte"),
    "sectors": ("sectors", "sector", "sectores", "ciiu", "isic", "codigos_ciiu", "setores"),
    "spoken_languages": ("spoken_languages", "languages", "idiomas", "idiomas_hablados"),
    "offer_hs": ("offer_hs", "hs_offer", "hs_oferta", "oferta_hs", "partidas_oferta"),
    "offer_description": (
        "offer_description",
        "offer",
        "oferta",
        "descripcion_oferta",
        "productos_ofrecidos",
    ),
    "demand_hs": ("demand_hs", "hs_demand", "hs_demanda", "demanda_hs", "partidas_demanda"),
    "demand_description": (
        "demand_description",
        "demand",
        "demanda",
        "descripcion_demanda",
        "productos_buscados",
    ),
    "target_markets": ("target_markets", "mercados_objetivo", "mercados", "mercados_de_interes"),
    "certifications": ("certifications", "certificaciones", "certificacoes"),
    "required_certifications": ("required_certifications", "certificaciones_requeridas"),
    "women_led": ("women_led", "liderada_por_mujeres", "empresa_de_mujeres"),
    "peasant": ("peasant", "campesina", "asociacion_campesina"),
    "indigenous": ("indigenous", "indigena", "comunidad_indigena"),
    "conflict_victim": ("conflict_victim", "victima_del_conflicto", "victima_conflicto"),
    "unavailable": ("unavailable", "no_disponible", "franjas_no_disponibles", "indisponivel"),
    "host_table": ("host_table", "table", "mesa"),
    "max_meetings": ("max_meetings", "maximo_de_reuniones", "max_reuniones", "maximo_reuniones"),
}
REQUIRED_FIELDS = ("email", "full_name", "organization", "role", "country", "consent")
_ALIAS_TO_FIELD = {alias: name for name, aliases in HEADING_ALIASES.items() for alias in aliases}


def normalize_heading(heading: str) -> str:
    folded = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    ignored_columns: tuple[str, ...] = ()
    participant_ids: tuple[int, ...] = field(default=())
    unchanged: int = 0
    # (field, how many existing participants it changed for), in the order of PARTICIPANT_FIELDS.
    changed_fields: tuple[tuple[str, int], ...] = ()

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    @property
    def summary(self) -> str:
        """`2 new, 1 updated: job_title (1), phone (1), 37 unchanged`."""
        fields = ", ".join(f"{name} ({count})" for name, count in self.changed_fields)
        updated = f"{self.updated} updated" + (f": {fields}," if fields else ",")
        return f"{self.created} new, {updated} {self.unchanged} unchanged"


def map_headings(headings: list[str], source: str) -> dict[str, str]:
    """Heading as written -> field name. Raises on a missing required column or a duplicate."""
    mapping: dict[str, str] = {}
    errors: list[RowError] = []
    seen: dict[str, str] = {}
    for heading in headings:
        if not heading:
            continue
        name = _ALIAS_TO_FIELD.get(normalize_heading(heading))
        if name is None:
            continue
        if name in seen:
            errors.append(RowError(1, heading, f"same field as column {seen[name]!r} ({name})"))
            continue
        seen[name] = heading
        mapping[heading] = name
    for name in REQUIRED_FIELDS:
        if name not in seen:
            accepted = ", ".join(HEADING_ALIASES[name][:4])
            errors.append(RowError(1, name, f"required column is missing (accepted headings: {accepted}...)"))
    if errors:
        raise InputFileError(source, errors)
    return mapping


def validate_rows(
    sheet: Sheet, source: str
) -> tuple[list[tuple[int, ParticipantImport]], dict[str, str], list[RowError]]:
    """Validate every row; return the valid rows, the heading of each field, and every problem."""
    mapping = map_headings(sheet.headings, source)
    heading_of = {name: heading for heading, name in mapping.items()}
    valid: list[tuple[int, ParticipantImport]] = []
    errors: list[RowError] = []
    first_row_of_email: dict[str, int] = {}
    for number, raw in sheet.rows:
        data = {mapping[h]: v for h, v in raw.items() if h in mapping and v is not None}
        try:
            row = ParticipantImport.model_validate(data)
        except ValidationError as error:
            for item in error.errors():
                name = str(item["loc"][0]) if item["loc"] else "row"
                errors.append(RowError(number, heading_of.get(name, name), clean_message(item["msg"])))
            continue
        if row.email in first_row_of_email:
            errors.append(
                RowError(
                    number,
                    heading_of["email"],
                    f"{row.email} already appears in row {first_row_of_email[row.email]}",
                )
            )
            continue
        first_row_of_email[row.email] = number
        valid.append((number, row))
    if not sheet.rows:
        errors.append(RowError(2, "(file)", "the file has no participant rows"))
    return valid, heading_of, errors


def import_participants(
    session: Session,
    event: Event,
    sheet: Sheet,
    *,
    source: str,
    now: datetime,
    clear_missing: bool = False,
) -> ImportResult:
    """Import a whole sheet into `event`, or raise InputFileError and write nothing.

    A column absent from the file leaves that field of an existing participant (and of its
    organization) as it is; an empty cell in a present column means what it always did (empty, or
    the event's default). With `clear_missing`, absent columns count as empty cells."""
    rows, heading_of, errors = validate_rows(sheet, source)
    assert event.id is not None
    slots = {s.code: s.id for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    tables = {t.code: t.id for t in session.exec(select(EventTable).where(EventTable.event_id == event.id))}
    existing = {p.email: p for p in session.exec(select(Participant).where(Participant.event_id == event.id))}
    in_file = [existing[row.email] for _, row in rows if row.email in existing]
    before = participant_fields(session, event, in_file)
    present = set(PARTICIPANT_FIELDS) if clear_missing else set(heading_of)
    raw_rows = [row for _, row in rows]
    rows = [(number, _keep_absent(row, present, before, existing)) for number, row in rows]
    errors += _check_against_event(rows, heading_of, slots, tables, existing)
    if errors:
        raise InputFileError(source, sorted(errors, key=lambda e: e.row))
    plain_rows = [row for _, row in rows]
    organizations = _upsert_organizations(session, raw_rows, now, present=present)
    people, created, changed = _upsert_participants(
        session, event, plain_rows, organizations, tables, now, source="import"
    )
    changed |= _replace_details(session, list(zip(people, plain_rows, strict=True)), slots)
    after = participant_fields(session, event, [p for p in people if p.id in before])
    counts = dict.fromkeys(PARTICIPANT_FIELDS, 0)
    for participant_id, was in before.items():
        now_is = after[participant_id]
        differs = [name for name in PARTICIPANT_FIELDS if was[name] != now_is[name]]
        for name in differs:
            counts[name] += 1
        if differs:
            # An organization-level change (city, flags...) counts as an update of its participant.
            changed.add(participant_id)
    for participant in people:
        if participant.id in changed and participant.updated_at != now:
            participant.updated_at = now
            session.add(participant)
    session.flush()
    ignored = tuple(h for h in sheet.headings if h and h not in heading_of.values())
    updated = len(changed) - created
    changed_fields = tuple((name, count) for name, count in counts.items() if count)
    if changed:
        # Nothing changed, nothing recorded: importing the same file twice is a no-op.
        record_fact(
            session,
            "rueda.participants.imported",
            resource=f"rueda.event.{event.id}",
            event_id=event.id,
            now=now,
            payload={"created": created, "updated": updated, "fields": dict(changed_fields)},
        )
    return ImportResult(
        created,
        updated,
        ignored,
        tuple(p.id for p in people if p.id is not None),
        unchanged=len(people) - len(changed),
        changed_fields=changed_fields,
    )


# The fields of a participant as a spreadsheet row holds them (ParticipantImport's), except email.
PARTICIPANT_FIELDS: tuple[str, ...] = tuple(name for name in HEADING_ALIASES if name != "email")
# Fields of the participant itself (not of its organization): an absent column keeps the stored value.
_OWN_FIELDS = (
    "language",
    "timezone",
    "job_title",
    "phone",
    "sectors",
    "spoken_languages",
    "offer_hs",
    "offer_description",
    "demand_hs",
    "demand_description",
    "target_markets",
    "certifications",
    "required_certifications",
    "unavailable",
    "host_table",
    "max_meetings",
)


def participant_fields(
    session: Session, event: Event, people: list[Participant]
) -> dict[int, dict[str, Any]]:
    """Participant id -> its fields as an import row would set them (PARTICIPANT_FIELDS), read from
    the participant, its organization, trade lines and unavailable slots. The export writes these."""
    ids = [p.id for p in people if p.id is not None]
    if not ids:
        return {}
    orgs: dict[int | None, Organization] = {}
    lines: dict[tuple[int, TradeDirection], TradeLine] = {}
    unavailable: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(ids, 500):
        for line in session.exec(
            select(TradeLine).where(col(TradeLine.participant_id).in_(chunk)).order_by(col(TradeLine.id))
        ):
            lines.setdefault((line.participant_id, line.direction), line)
        for item in session.exec(select(Unavailability).where(col(Unavailability.participant_id).in_(chunk))):
            unavailable[item.participant_id].append(item.slot_id)
    org_ids = list({p.organization_id for p in people})
    for chunk in _chunks(org_ids, 500):
        orgs.update(
            (o.id, o) for o in session.exec(select(Organization).where(col(Organization.id).in_(chunk)))
        )
    slot_code = {s.id: s.code for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    table_code = {
        t.id: t.code for t in session.exec(select(EventTable).where(EventTable.event_id == event.id))
    }
    result: dict[int, dict[str, Any]] = {}
    for p in people:
        assert p.id is not None
        org = orgs[p.organization_id]
        offer = lines.get((p.id, TradeDirection.OFFER))
        demand = lines.get((p.id, TradeDirection.DEMAND))
        first_line = offer or demand
        result[p.id] = {
            "full_name": p.full_name,
            "organization": org.legal_name,
            "role": ParticipantRole(p.role),
            "country": org.country,
            "language": p.language,
            "timezone": p.timezone,
            "consent": p.consent_at is not None,
            "job_title": p.job_title or None,
            "phone": p.phone or None,
            "tax_id": org.tax_id or None,
            "city": org.city or None,
            "region": org.region or None,
            "website": org.website or None,
            "company_size": org.size,
            # A trade line carries its participant's sectors; the organization's are a fallback.
            "sectors": list(first_line.sector_codes) if first_line else list(org.sector_codes),
            "spoken_languages": list(p.spoken_languages),
            "offer_hs": list(offer.hs_codes) if offer else [],
            "offer_description": (offer.description or None) if offer else None,
            "demand_hs": list(demand.hs_codes) if demand else [],
            "demand_description": (demand.description or None) if demand else None,
            "target_markets": list(offer.target_markets) if offer else [],
            "certifications": list(offer.certifications) if offer else [],
            "required_certifications": list(demand.certifications) if demand else [],
            "women_led": org.is_women_led,
            "peasant": org.is_peasant,
            "indigenous": org.is_indigenous,
            "conflict_victim": org.is_conflict_victim,
            "unavailable": sorted(slot_code[s] for s in unavailable[p.id]),
            "host_table": table_code.get(p.table_id) if p.table_id is not None else None,
            "max_meetings": p.max_meetings,
        }
    return result


def _keep_absent(
    row: ParticipantImport,
    present: set[str],
    before: dict[int, dict[str, Any]],
    existing: dict[str, Participant],
) -> ParticipantImport:
    """The row with each absent column of an existing participant filled from what is stored."""
    participant = existing.get(row.email)
    if participant is None or participant.id not in before:
        return row
    stored = before[participant.id]
    keep = {name: stored[name] for name in _OWN_FIELDS if name not in present}
    return row.model_copy(update=keep) if keep else row


def register_participant(
    session: Session, event: Event, row: ParticipantImport, *, now: datetime
) -> Participant:
    """One registration (portal sign-up); re-registering the same email updates the same row."""
    assert event.id is not None
    slots = {s.code: s.id for s in session.exec(select(TimeSlot).where(TimeSlot.event_id == event.id))}
    tables = {t.code: t.id for t in session.exec(select(EventTable).where(EventTable.event_id == event.id))}
    existing = {
        p.email: p
        for p in session.exec(
            select(Participant).where(
                Participant.event_id == event.id,
                # The registrant, and every host: the check must see who holds which table.
                or_(col(Participant.email) == row.email, col(Participant.table_id).is_not(None)),
            )
        )
    }
    errors = _check_against_event([(1, row)], {}, slots, tables, existing)
    if errors:
        raise InputFileError("registration", errors)
    organizations = _upsert_organizations(session, [row], now)
    (participant,), _, changed = _upsert_participants(
        session, event, [row], organizations, tables, now, source="portal"
    )
    changed |= _replace_details(session, [(participant, row)], slots)
    if participant.id in changed:
        if participant.updated_at != now:
            participant.updated_at = now
            session.add(participant)
            session.flush()
        record_fact(
            session,
            "rueda.participant.registered",
            resource=f"rueda.participant.{participant.id}",
            event_id=event.id,
            now=now,
        )
    return participant


def _check_against_event(
    rows: list[tuple[int, ParticipantImport]],
    heading_of: dict[str, str],
    slots: dict[str, int | None],
    tables: dict[str, int | None],
    existing: dict[str, Participant],
) -> list[RowError]:
    errors: list[RowError] = []
    host_of_table = {p.table_id: p.email for p in existing.values() if p.table_id is not None}
    table_row: dict[str, int] = {}
    for number, row in rows:
        for code in row.unavailable:
            if code not in slots:
                errors.append(
                    RowError(
                        number,
                        heading_of.get("unavailable", "unavailable"),
                        f"no slot {code!r} in this event",
                    )
                )
        if row.host_table is None:
            continue
        column = heading_of.get("host_table", "host_table")
        if row.host_table not in tables:
            errors.append(RowError(number, column, f"no table {row.host_table!r} in this event"))
            continue
        if row.host_table in table_row:
            errors.append(
                RowError(
                    number,
                    column,
                    f"table {row.host_table} is already given to row {table_row[row.host_table]}",
                )
            )
            continue
        table_row[row.host_table] = number
        table_id = tables[row.host_table]
        holder = host_of_table.get(table_id) if table_id is not None else None
        # A table moving from one host to another inside the same file is fine; otherwise refuse.
        moves_away = any(r.email == holder and r.host_table != row.host_table for _, r in rows)
        if holder is not None and holder != row.email and not moves_away:
            message = f"table {row.host_table} is already hosted by another participant"
            errors.append(RowError(number, column, message))
    return errors


def _org_key(country: str, tax_id: str | None, name: str) -> tuple[str, str]:
    if tax_id:
        return (country, "tax:" + re.sub(r"[^0-9A-Za-z]", "", tax_id).upper())
    return (country, "name:" + " ".join(name.casefold().split()))


def _insert_ignoring_conflicts(
    session: Session, table: Any, values: list[dict[str, Any]], keys: list[str]
) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; returns how many rows were inserted (see below)."""
    return len(_insert_ignoring_conflicts_ids(session, table, values, keys))


def _insert_ignoring_conflicts_ids(
    session: Session, table: Any, values: list[dict[str, Any]], keys: list[str]
) -> set[int]:
    """INSERT ... ON CONFLICT DO NOTHING; returns the ids of the rows inserted.

    A concurrent writer inserting the same key makes this statement wait for it and then skip the
    row, so racing imports and registrations converge instead of failing (PostgreSQL). On SQLite
    the write lock is taken at BEGIN, so there is no race to lose."""
    if not values:
        return set()
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    inserted: set[int] = set()
    for chunk in _chunks(values, 500):
        statement = insert(table).values(chunk).on_conflict_do_nothing(index_elements=keys)
        inserted.update(row[0] for row in session.execute(statement.returning(table.c.id)).all())
    return inserted


def _upsert_organizations(
    session: Session,
    rows: list[ParticipantImport],
    now: datetime,
    *,
    present: set[str] | None = None,
) -> dict[tuple[str, str], Organization]:
    """Find or create each row's organization and set its fields. An empty cell keeps what is stored
    (text, size, sectors); a flag column absent from `present` (None: every column) keeps the flag."""
    table = Organization.__table__  # type: ignore[attr-defined]
    _insert_ignoring_conflicts(
        session,
        table,
        list(
            {
                (r.country, r.tax_id): {
                    "legal_name": r.organization,
                    "country": r.country,
                    "tax_id": r.tax_id,
                    "is_women_led": False,
                    "is_peasant": False,
                    "is_indigenous": False,
                    "is_conflict_victim": False,
                    "sector_codes": [],
                    "created_at": now,
                    "updated_at": now,
                }
                for r in rows
                if r.tax_id
            }.values()
        ),
        ["country", "tax_id"],
    )
    countries = {r.country for r in rows}
    known: dict[tuple[str, str], Organization] = {}
    for org in session.exec(select(Organization).where(col(Organization.country).in_(countries))):
        known.setdefault(_org_key(org.country, org.tax_id, org.legal_name), org)
        known.setdefault(_org_key(org.country, None, org.legal_name), org)
    result: dict[tuple[str, str], Organization] = {}
    for row in rows:
        key = _org_key(row.country, row.tax_id, row.organization)
        found = known.get(key)
        if found is None and not row.tax_id:
            found = known.get(_org_key(row.country, None, row.organization))
        if found is None:
            found = Organization(
                legal_name=row.organization, country=row.country, created_at=now, updated_at=now
            )
            known[key] = found
        org = found
        wanted: dict[str, Any] = {
            "legal_name": row.organization,
            "tax_id": row.tax_id or org.tax_id,
            "city": row.city or org.city,
            "region": row.region or org.region,
            "website": row.website or org.website,
            "size": row.company_size or org.size,
            "sector_codes": list(row.sectors) or org.sector_codes,
        }
        for name, column in _ORG_FLAGS.items():
            if present is None or name in present:
                wanted[column] = getattr(row, name)
            elif org.id is None:
                wanted[column] = False
        if _assign(org, wanted) or org.id is None:
            org.updated_at = now
            session.add(org)
        result[key] = org
    session.flush()
    return result


_ORG_FLAGS = {
    "women_led": "is_women_led",
    "peasant": "is_peasant",
    "indigenous": "is_indigenous",
    "conflict_victim": "is_conflict_victim",
}


def _upsert_participants(
    session: Session,
    event: Event,
    rows: list[ParticipantImport],
    organizations: dict[tuple[str, str], Organization],
    tables: dict[str, int | None],
    now: datetime,
    *,
    source: str,
) -> tuple[list[Participant], int, set[int]]:
    """Insert the new participants (ignoring any a concurrent writer inserted first), then set every
    field on every row. Returns the rows in input order, how many were inserted here, and the ids of
    the rows inserted or changed (`updated_at` moves only for those)."""
    assert event.id is not None
    values = [_participant_fields(event, row, organizations, tables, now) for row in rows]
    for fields, row in zip(values, rows, strict=True):
        fields.update(
            event_id=event.id,
            email=row.email,
            status=ParticipantStatus.REGISTERED.value,
            consent_at=now,
            consent_source=source,
            created_at=now,
        )
        fields["role"] = row.role.value
    table = Participant.__table__  # type: ignore[attr-defined]
    inserted = _insert_ignoring_conflicts_ids(session, table, values, ["event_id", "email"])
    created = len(inserted)
    by_email: dict[str, Participant] = {}
    for chunk in _chunks([r.email for r in rows], 500):
        for participant in session.exec(
            select(Participant).where(Participant.event_id == event.id, col(Participant.email).in_(chunk))
        ):
            by_email[participant.email] = participant
    # Release host tables that change hands first: table_id is unique, and a swap inside one file
    # would otherwise collide with itself halfway through the flush.
    releasing = False
    for row in rows:
        participant = by_email[row.email]
        wanted = tables[row.host_table] if row.host_table else None
        if participant.table_id is not None and participant.table_id != wanted:
            participant.table_id = None
            session.add(participant)
            releasing = True
    if releasing:
        session.flush()
    people = []
    changed = set(inserted)
    for row in rows:
        participant = by_email[row.email]
        fields = _participant_fields(event, row, organizations, tables, now)
        del fields["updated_at"]
        if _assign(participant, fields):
            assert participant.id is not None
            changed.add(participant.id)
            participant.updated_at = now
        session.add(participant)
        people.append(participant)
    session.flush()
    return people, created, changed


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the fields that differ; True if any did (so `updated_at` moves only on a real change)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _participant_fields(
    event: Event,
    row: ParticipantImport,
    organizations: dict[tuple[str, str], Organization],
    tables: dict[str, int | None],
    now: datetime,
) -> dict[str, Any]:
    org = organizations[_org_key(row.country, row.tax_id, row.organization)]
    language = row.language or event.default_language
    return {
        "organization_id": org.id,
        "full_name": row.full_name,
        "job_title": row.job_title,
        "phone": row.phone,
        "role": row.role,
        "language": language,
        "timezone": row.timezone or event.timezone,
        "spoken_languages": list(row.spoken_languages) or [language],
        "table_id": tables[row.host_table] if row.host_table else None,
        "max_meetings": row.max_meetings,
        "updated_at": now,
    }


def _wanted_details(
    participant_id: int, row: ParticipantImport, slots: dict[str, int | None]
) -> tuple[list[TradeLine], list[Unavailability]]:
    lines = []
    if row.offer_hs or row.offer_description or row.target_markets or row.certifications:
        lines.append(
            TradeLine(
                participant_id=participant_id,
                direction=TradeDirection.OFFER,
                hs_codes=list(row.offer_hs),
                sector_codes=list(row.sectors),
                target_markets=list(row.target_markets),
                certifications=list(row.certifications),
                description=row.offer_description or "",
            )
        )
    if row.demand_hs or row.demand_description or row.required_certifications:
        lines.append(
            TradeLine(
                participant_id=participant_id,
                direction=TradeDirection.DEMAND,
                hs_codes=list(row.demand_hs),
                sector_codes=list(row.sectors),
                certifications=list(row.required_certifications),
                description=row.demand_description or "",
            )
        )
    unavailable = []
    for code in dict.fromkeys(row.unavailable):
        slot_id = slots[code]
        assert slot_id is not None
        unavailable.append(Unavailability(participant_id=participant_id, slot_id=slot_id))
    return lines, unavailable


def _line_key(line: TradeLine) -> tuple[Any, ...]:
    return (
        line.direction,
        tuple(line.hs_codes),
        tuple(line.sector_codes),
        tuple(line.target_markets),
        tuple(line.certifications),
        line.description,
    )


def _replace_details(
    session: Session, pairs: list[tuple[Participant, ParticipantImport]], slots: dict[str, int | None]
) -> set[int]:
    """Make each participant's trade lines and unavailable slots those of its row, touching only
    the participants whose details differ; returns their ids."""
    ids = [p.id for p, _ in pairs]
    have_lines: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    have_slots: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(ids, 500):
        for line in session.exec(select(TradeLine).where(col(TradeLine.participant_id).in_(chunk))):
            have_lines[line.participant_id].append(_line_key(line))
        for item in session.exec(select(Unavailability).where(col(Unavailability.participant_id).in_(chunk))):
            have_slots[item.participant_id].add(item.slot_id)
    changed: dict[int, tuple[list[TradeLine], list[Unavailability]]] = {}
    for participant, row in pairs:
        assert participant.id is not None
        lines, unavailable = _wanted_details(participant.id, row, slots)
        if (
            sorted(map(_line_key, lines)) != sorted(have_lines[participant.id])
            or {u.slot_id for u in unavailable} != have_slots[participant.id]
        ):
            changed[participant.id] = (lines, unavailable)
    for chunk in _chunks(list(changed), 500):
        session.execute(delete(TradeLine).where(col(TradeLine.participant_id).in_(chunk)))
        session.execute(delete(Unavailability).where(col(Unavailability.participant_id).in_(chunk)))
    for lines, unavailable in changed.values():
        session.add_all([*lines, *unavailable])
    session.flush()
    return set(changed)


def _chunks(values: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
