"""Hypothesis strategies for participant spreadsheets: valid rows with hostile text (formula leads,
apostrophes, quotes, commas, semicolons, unicode of every script, line breaks in the multi-line
fields, empty optional cells, organizations shared between rows), and the event they import into."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from services.db import make_engine, transaction
from services.events import get_event_by_slug
from services.participants import participant_fields
from tests.factories import make_event

HEADINGS = [
    "email",
    "full_name",
    "organization",
    "role",
    "country",
    "consent",
    "language",
    "timezone",
    "job_title",
    "phone",
    "tax_id",
    "city",
    "sectors",
    "spoken_languages",
    "offer_hs",
    "offer_description",
    "demand_hs",
    "demand_description",
    "target_markets",
    "certifications",
    "required_certifications",
    "women_led",
    "indigenous",
    "unavailable",
    "host_table",
    "max_meetings",
]
SLOTS = ["d1s01", "d1s02", "d1s03", "d1s04", "d2s01", "d2s02"]
TABLES = ["T1", "T2", "T3"]
_NOT_TEXT = "\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
# Every script, marks, symbols and emoji; no control, surrogate, private or unassigned characters
# (XML 1.0, hence XLSX, cannot hold U+FFFE/U+FFFF) and none of the direction marks the text
# validator refuses.
ANY_CHAR = st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn"), blacklist_characters=_NOT_TEXT)
# What Windows-1252 and Latin-1 both hold (printable ASCII and U+00A0..U+00FF).
LEGACY_CHAR = st.characters(
    min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="".join(map(chr, range(0x7F, 0xA0)))
)
LEADS = ["", "=", "+", "-", "@", "'", "'=", "''+", '"', ",", ";"]


@st.composite
def one_line(draw: st.DrawFn, alphabet: st.SearchStrategy[str], *, min_size: int = 0) -> str:
    """A one-line text: a formula lead or quote, then any text, ending in a letter (a field's edges
    are stripped, so a trailing space would come back without it)."""
    lead = draw(st.sampled_from(LEADS))
    body = draw(st.text(alphabet, max_size=20))
    return (lead + body).strip() + ("z" * max(min_size, 1))


@st.composite
def multi_line(draw: st.DrawFn, alphabet: st.SearchStrategy[str]) -> str:
    parts = draw(st.lists(one_line(alphabet), min_size=1, max_size=3))
    breaks = draw(
        st.lists(st.sampled_from(["\n", "\r\n", "\n\n"]), min_size=len(parts) - 1, max_size=len(parts) - 1)
    )
    text = parts[0]
    for brk, part in zip(breaks, parts[1:], strict=True):
        text += brk + part
    return text


def _optional(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.just(""), strategy)


def _codes(values: list[str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(values), unique=True, max_size=3).map(";".join)


@st.composite
def participant_rows(draw: st.DrawFn, *, legacy: bool = False) -> list[dict[str, str]]:
    """1 to 6 valid rows; organizations come from a pool of three, so rows share them."""
    alphabet = LEGACY_CHAR if legacy else ANY_CHAR
    count = draw(st.integers(1, 6))
    orgs = draw(st.lists(one_line(alphabet, min_size=2), min_size=1, max_size=3))
    tables = draw(st.permutations(TABLES))
    rows = []
    for i in range(count):
        org = draw(st.integers(0, len(orgs) - 1))
        rows.append(
            {
                "email": f"p{i}.{draw(st.sampled_from(['ana', 'jose', 'x-y', 'o.brien']))}@ejemplo.com.co",
                "full_name": draw(one_line(alphabet, min_size=2)),
                "organization": orgs[org],
                "role": draw(st.sampled_from(["buyer", "seller", "both", "comprador", "vendedor"])),
                "country": ["CO", "BR", "DE"][org],
                "consent": draw(st.sampled_from(["yes", "sí", "1", "true"])),
                "language": draw(st.sampled_from(["", "es", "en", "pt"])),
                "timezone": draw(st.sampled_from(["", "America/Bogota", "Europe/Madrid", "Asia/Tokyo"])),
                "job_title": draw(_optional(one_line(alphabet))),
                "phone": draw(st.sampled_from(["", "+57 300 123 4567", "0300-1234", "=1+2"])),
                "tax_id": draw(st.sampled_from(["", f"900{org}23456-7"])),
                "city": draw(_optional(one_line(alphabet))),
                "sectors": draw(_codes(["0127", "A", "1061", "4620"])),
                "spoken_languages": draw(_codes(["es", "en", "pt", "de", "fr"])),
                "offer_hs": draw(_codes(["0901", "090121", "18", "8438"])),
                "offer_description": draw(_optional(multi_line(alphabet))),
                "demand_hs": draw(_codes(["0902", "33", "330499"])),
                "demand_description": draw(_optional(multi_line(alphabet))),
                "target_markets": draw(_codes(["DE", "US", "JP", "MX"])),
                "certifications": draw(_codes(["organic", "fair_trade", "haccp"])),
                "required_certifications": draw(_codes(["ce", "halal", "kosher"])),
                "women_led": draw(st.sampled_from(["", "yes", "no"])),
                "indigenous": draw(st.sampled_from(["", "sí", "no"])),
                "unavailable": draw(_codes(SLOTS)),
                "host_table": tables[i] if i < len(tables) and draw(st.booleans()) else "",
                "max_meetings": draw(st.sampled_from(["", "0", "7", "16"])),
            }
        )
    return rows


def csv_bytes(rows: list[dict[str, str]], *, encoding: str, delimiter: str) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, HEADINGS, delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@contextmanager
def fresh_database(sqlite_template: Path, folder: Path) -> Iterator[Engine]:
    """A new SQLite database from the migrated template, for one Hypothesis example (organizations
    are shared by events, so examples must not see each other's)."""
    path = folder / "rueda.db"
    path.unlink(missing_ok=True)
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def create_events(engine: Engine, now: Any, *slugs: str) -> None:
    with transaction(engine) as session:
        for slug in slugs:
            make_event(session, now, slug=slug)


def fields_by_email(engine: Engine, slug: str) -> dict[str, dict[str, Any]]:
    from sqlmodel import select

    from models import Participant

    with Session(engine) as session:
        event = get_event_by_slug(session, slug)
        people = list(session.exec(select(Participant).where(Participant.event_id == event.id)))
        fields = participant_fields(session, event, people)
        return {p.email: {**fields[p.id or 0], "status": p.status} for p in people}
