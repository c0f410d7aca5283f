"""Typed definitions that come from organizers: the event definition file and one imported
participant row. Validation names the field; services add the checks that need the database."""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from datetime import date, datetime, time
from functools import cache
from itertools import pairwise
from typing import Annotated, Any

import pycountry
from babel import Locale
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from models.enums import CompanySize, EventFormat, EventKind, ParticipantRole, RequestPolicy
from models.event import Event, EventTable
from models.participant import Organization, Participant
from models.text import MULTILINE, CheckedText, clean_text, column_limit

SUPPORTED_LANGUAGES = ("es", "en", "pt")
MAX_USD_RATE = 1_000_000.0  # US$ per unit of a currency; no currency is worth more
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$"
_HS = re.compile(r"^\d{2}(\d{2}){0,2}$")
_ISIC = re.compile(r"^([A-U]|\d{2,4})$")


@cache
def _iso639_1() -> frozenset[str]:
    # Loaded on first use, not at import: pycountry's tables and Babel's locale data cost a third
    # of a second, which every command would pay at start-up (cli/lazy.py).
    return frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().strip()


@cache
def _country_names() -> dict[str, str]:
    """Country names in Spanish, Portuguese and English (organizers' spreadsheets say "Alemania")."""
    return {
        _fold(name): code
        for locale in ("en", "es", "pt")
        for code, name in Locale.parse(locale).territories.items()
        if len(code) == 2 and code.isalpha() and pycountry.countries.get(alpha_2=code) is not None
    }


def _country_code(value: str) -> str:
    text = value.strip()
    if not text:
        raise ValueError("country is empty")
    names = _country_names()
    if _fold(text) in names:
        return names[_fold(text)]
    try:
        country = pycountry.countries.lookup(text)
    except LookupError:
        raise ValueError(f"{text!r} is not an ISO 3166 country code or name") from None
    return str(country.alpha_2)


def _timezone(value: str) -> str:
    text = value.strip()
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{text!r} is not an IANA time zone (e.g. America/Bogota)") from None
    return text


def _language(value: str) -> str:
    text = value.strip().lower()
    if text not in _iso639_1():
        raise ValueError(f"{value!r} is not an ISO 639-1 language code (e.g. es, en, pt)")
    return text


def _hs_code(value: str) -> str:
    text = value.strip().replace(".", "").replace(" ", "")
    if not _HS.match(text):
        raise ValueError(f"{value!r} is not an HS code of 2, 4 or 6 digits")
    return text


def _isic_code(value: str) -> str:
    text = value.strip().upper()
    if not _ISIC.match(text):
        raise ValueError(f"{value!r} is not an ISIC code (a section letter or 2-4 digits)")
    return text


CountryCode = Annotated[str, BeforeValidator(_country_code)]
TimeZoneName = Annotated[str, BeforeValidator(_timezone)]
LanguageCode = Annotated[str, BeforeValidator(_language)]
HsCode = Annotated[str, BeforeValidator(_hs_code)]
IsicCode = Annotated[str, BeforeValidator(_isic_code)]


def _supported_language(value: str) -> str:
    code = _language(value)
    if code not in SUPPORTED_LANGUAGES:
        raise ValueError(f"{value!r} is not a supported language ({', '.join(SUPPORTED_LANGUAGES)})")
    return code


SupportedLanguage = Annotated[str, BeforeValidator(_supported_language)]

# The email kinds whose organizer text (`event_text` rows) organizers may write, in the order the
# setup page shows them. Every template extends base.txt/base.html, which show the text; the
# organizer's own digest, the sign-in link and the erasure decision are left out on purpose (an
# organizer has nothing to add to them). tests/notifications check these against the catalog.
ORGANIZER_TEXT_KINDS: tuple[str, ...] = (
    "registration.confirmed",
    "requests.received",
    "matches.suggested",
    "agenda.published",
    "agenda.changed",
    "meeting.cancelled",
    "waitlist.offered",
    "reminder.day-before",
    "reminder.first-meeting",
    "survey.invited",
    "survey.reminder",
    "followup.invited",
    "mission.deadline-approaching",
)
ORGANIZER_TEXT_MAX = 2000  # characters of one kind's text in one language


def _organizer_kind(value: str) -> str:
    if value not in ORGANIZER_TEXT_KINDS:
        raise ValueError(
            f"{value!r} is not an email kind that shows organizer text ({', '.join(ORGANIZER_TEXT_KINDS)})"
        )
    return value


def _organizer_text(value: str) -> str:
    text = clean_text(value, multiline=True).strip()
    if len(text) > ORGANIZER_TEXT_MAX:
        raise ValueError(f"the text is {len(text)} characters long; the limit is {ORGANIZER_TEXT_MAX}")
    return text


OrganizerTextKind = Annotated[str, AfterValidator(_organizer_kind)]
OrganizerText = Annotated[str, AfterValidator(_organizer_text)]


class _Strict(CheckedText):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class BreakDefinition(_Strict):
    start: time
    end: time


class SessionDefinition(_Strict):
    name: str = Field(min_length=1, max_length=32, description="e.g. am, pm")
    start: time
    end: time
    breaks: list[BreakDefinition] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ordered(self) -> SessionDefinition:
        if self.end <= self.start:
            raise ValueError(f"session {self.name!r} ends at {self.end} before it starts at {self.start}")
        for pause in self.breaks:
            if not (self.start <= pause.start < pause.end <= self.end):
                raise ValueError(f"break {pause.start}-{pause.end} is not inside session {self.name!r}")
        return self


class DayDefinition(_Strict):
    date: date
    sessions: list[SessionDefinition] = Field(min_length=1)

    @model_validator(mode="after")
    def _no_overlap(self) -> DayDefinition:
        ordered = sorted(self.sessions, key=lambda s: s.start)
        for first, second in pairwise(ordered):
            if second.start < first.end:
                raise ValueError(f"sessions {first.name!r} and {second.name!r} overlap on {self.date}")
        return self


class ScheduleDefinition(_Strict):
    slot_minutes: int = Field(ge=5, le=240, description="Length of one meeting.")
    gap_minutes: int = Field(default=0, ge=0, le=60, description="Changeover between two slots.")
    days: list[DayDefinition] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_days(self) -> ScheduleDefinition:
        dates = [d.date for d in self.days]
        if len(set(dates)) != len(dates):
            raise ValueError("a date appears twice in schedule.days")
        if dates != sorted(dates):
            raise ValueError("schedule.days must be in date order")
        return self


class VenueDefinition(_Strict):
    name: str | None = Field(default=None, max_length=column_limit(Event, "venue_name"))
    address: str | None = Field(default=None, max_length=column_limit(Event, "venue_address"))
    city: str | None = Field(default=None, max_length=column_limit(Event, "city"))
    country: CountryCode | None = None


class RulesDefinition(_Strict):
    min_meetings: int = Field(default=2, ge=0, le=200)
    max_meetings: int = Field(default=16, ge=1, le=200)
    request_policy: RequestPolicy = RequestPolicy.SELLERS_TO_BUYERS
    # Matching weights by component name (hs, sector, market, language, certification, text, ...).
    weights: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _bounds(self) -> RulesDefinition:
        if self.min_meetings > self.max_meetings:
            raise ValueError(f"min_meetings ({self.min_meetings}) exceeds max_meetings ({self.max_meetings})")
        return self


class ChecklistItemDefinition(_Strict):
    code: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    title: str = Field(min_length=1, max_length=200)
    due: datetime = Field(description="Event-local date and time, or with an explicit offset.")


class MissionDefinition(_Strict):
    destination_country: CountryCode
    capacity: int = Field(ge=1, le=10_000)
    # Minimum seats per inclusion group: women_led, peasant, indigenous, conflict_victim.
    quotas: dict[str, int] = Field(default_factory=dict)
    applications_close: datetime | None = None
    checklist: list[ChecklistItemDefinition] = Field(default_factory=list)

    @field_validator("quotas")
    @classmethod
    def _known_groups(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = set(value) - set(INCLUSION_GROUPS)
        if unknown:
            raise ValueError(f"unknown inclusion groups {sorted(unknown)}; use {list(INCLUSION_GROUPS)}")
        return value


INCLUSION_GROUPS = ("women_led", "peasant", "indigenous", "conflict_victim")


class EventDefinition(_Strict):
    """The file behind `rueda event create --file event.toml|yaml|json`."""

    slug: str = Field(pattern=SLUG_PATTERN, description="Lower-case letters, digits and dashes.")
    name: str = Field(min_length=3, max_length=200)
    kind: EventKind = EventKind.ROUNDTABLE
    format: EventFormat = Field(
        default=EventFormat.IN_PERSON,
        description="in_person or hybrid: every time is shown in the venue's zone (`timezone`), with the "
        "participant's own zone as a second line when it differs; virtual: in each participant's zone.",
    )
    timezone: TimeZoneName
    languages: list[SupportedLanguage] = Field(default_factory=lambda: ["es"], min_length=1)
    default_language: SupportedLanguage | None = None
    venue: VenueDefinition = VenueDefinition()
    registration_opens: datetime | None = Field(default=None, description="Event-local, or with an offset.")
    registration_closes: datetime | None = None
    requests_close: datetime | None = None
    schedule: ScheduleDefinition
    # Strict: `tables: true` is not one table.
    tables: Annotated[int, Strict()] | list[str] = Field(
        description="A table count (T1..Tn) or the table names."
    )
    rules: RulesDefinition = RulesDefinition()
    usd_rates: dict[str, Annotated[float, Field(allow_inf_nan=False, le=MAX_USD_RATE)]] = Field(
        default_factory=dict, description="1 unit of currency = rate US$."
    )
    mission: MissionDefinition | None = None
    # kind -> language -> text. Absent: an update keeps the stored texts; present: it replaces
    # them all (an empty text, or a missing kind or language, removes that text).
    organizer_text: Annotated[
        dict[OrganizerTextKind, dict[SupportedLanguage, OrganizerText]] | None, MULTILINE
    ] = Field(
        default=None,
        description="Organizer text per email kind and language; data, never a template.",
    )

    @field_validator("organizer_text")
    @classmethod
    def _organizer_text_languages(
        cls, value: dict[str, dict[str, str]] | None, info: ValidationInfo
    ) -> dict[str, dict[str, str]] | None:
        if value is None:
            return None
        languages = info.data.get("languages") or []
        for kind, texts in value.items():
            for language in texts:
                if languages and language not in languages:
                    raise ValueError(
                        f"organizer_text.{kind}.{language}: {language!r} is not one of this "
                        f"event's languages ({', '.join(languages)})"
                    )
        return {kind: {lang: t for lang, t in texts.items() if t} for kind, texts in value.items()}

    @field_validator("tables")
    @classmethod
    def _tables(cls, value: int | list[str]) -> int | list[str]:
        if isinstance(value, int):
            if not 1 <= value <= 5000:
                raise ValueError("the table count must be between 1 and 5000")
        else:
            names = [str(v).strip() for v in value]
            if not names or any(not n or len(n) > 32 for n in names):
                raise ValueError("table names must be 1-32 characters")
            if len(set(names)) != len(names):
                raise ValueError("table names must be unique")
            return names
        return value

    @field_validator("usd_rates")
    @classmethod
    def _rates(cls, value: dict[str, float]) -> dict[str, float]:
        for code, rate in value.items():
            if not re.fullmatch(r"[A-Z]{3}", code):
                raise ValueError(f"{code!r} is not an ISO 4217 currency code")
            if rate <= 0:
                raise ValueError(f"the rate of {code} must be positive")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> EventDefinition:
        if self.default_language is not None and self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} is not in languages")
        opens, closes = self.registration_opens, self.registration_closes
        if opens is not None and closes is not None and closes <= opens:
            raise ValueError("registration_closes must be after registration_opens")
        if self.kind is EventKind.MISSION and self.mission is None:
            raise ValueError("a mission needs a [mission] section (destination_country, capacity)")
        if self.kind is EventKind.ROUNDTABLE and self.mission is not None:
            raise ValueError("only kind = 'mission' takes a [mission] section")
        return self


def _split_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[;,|\n]", value) if part.strip()]
    return value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


_TRUE = {"1", "true", "yes", "y", "si", "sí", "s", "x", "verdadero", "sim"}
_FALSE = {"", "0", "false", "no", "n", "falso", "não", "nao"}


def _flag(value: Any) -> Any:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not yes/no (sí/no, true/false, 1/0)")


_ROLES = {
    "buyer": "buyer",
    "comprador": "buyer",
    "compradora": "buyer",
    "importador": "buyer",
    "seller": "seller",
    "vendedor": "seller",
    "vendedora": "seller",
    "oferente": "seller",
    "exportador": "seller",
    "exportadora": "seller",
    "both": "both",
    "ambos": "both",
    "ambas": "both",
}
_SIZES = {
    "micro": "micro",
    "microempresa": "micro",
    "small": "small",
    "pequeña": "small",
    "pequena": "small",
    "pequeña empresa": "small",
    "medium": "medium",
    "mediana": "medium",
    "média": "medium",
    "media": "medium",
    "large": "large",
    "grande": "large",
}


def _role(value: Any) -> Any:
    text = str(value or "").strip().lower()
    if text not in _ROLES:
        raise ValueError(f"{value!r} is not a role (buyer/comprador, seller/vendedor, both/ambos)")
    return _ROLES[text]


def _size(value: Any) -> Any:
    text = str(value or "").strip().lower()
    if not text:
        return None
    if text not in _SIZES:
        raise ValueError(f"{value!r} is not a company size (micro, small, medium, large)")
    return _SIZES[text]


def _text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _hs_list(value: Any) -> Any:
    # Spreadsheets turn "0901" into the number 901: restore the leading zero of an odd-length code.
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(int(value))
        return [text.zfill(len(text) + 1) if len(text) % 2 else text]
    return _split_list(value)


Flag = Annotated[bool, BeforeValidator(_flag)]
OptionalText = Annotated[str | None, BeforeValidator(_text)]
Certification = Annotated[str, Field(min_length=1, max_length=80)]
# An offer's or a demand's free description: the portal's profile form and the import share it.
DESCRIPTION_LIMIT = 1000


class ParticipantImport(CheckedText):
    """One row of a participants spreadsheet, after the headings were mapped to these names."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    email: EmailStr
    full_name: str = Field(min_length=2, max_length=column_limit(Participant, "full_name"))
    organization: str = Field(min_length=2, max_length=column_limit(Organization, "legal_name"))
    role: Annotated[ParticipantRole, BeforeValidator(_role)]
    country: CountryCode
    language: Annotated[SupportedLanguage | None, BeforeValidator(_blank_to_none)] = None
    timezone: Annotated[TimeZoneName | None, BeforeValidator(_blank_to_none)] = None
    consent: Flag = False
    job_title: OptionalText = Field(default=None, max_length=column_limit(Participant, "job_title"))
    phone: OptionalText = Field(default=None, max_length=column_limit(Participant, "phone"))
    tax_id: OptionalText = Field(default=None, max_length=column_limit(Organization, "tax_id"))
    city: OptionalText = Field(default=None, max_length=column_limit(Organization, "city"))
    region: OptionalText = Field(default=None, max_length=column_limit(Organization, "region"))
    website: OptionalText = Field(default=None, max_length=column_limit(Organization, "website"))
    company_size: Annotated[CompanySize | None, BeforeValidator(_size)] = None
    sectors: Annotated[list[IsicCode], BeforeValidator(_split_list)] = Field(default_factory=list)
    spoken_languages: Annotated[list[LanguageCode], BeforeValidator(_split_list)] = Field(
        default_factory=list
    )
    offer_hs: Annotated[list[HsCode], BeforeValidator(_hs_list)] = Field(default_factory=list)
    offer_description: Annotated[OptionalText, MULTILINE] = Field(default=None, max_length=DESCRIPTION_LIMIT)
    demand_hs: Annotated[list[HsCode], BeforeValidator(_hs_list)] = Field(default_factory=list)
    demand_description: Annotated[OptionalText, MULTILINE] = Field(default=None, max_length=DESCRIPTION_LIMIT)
    target_markets: Annotated[list[CountryCode], BeforeValidator(_split_list)] = Field(default_factory=list)
    certifications: Annotated[list[Certification], BeforeValidator(_split_list)] = Field(
        default_factory=list, max_length=30
    )
    required_certifications: Annotated[list[Certification], BeforeValidator(_split_list)] = Field(
        default_factory=list, max_length=30
    )
    women_led: Flag = False
    peasant: Flag = False
    indigenous: Flag = False
    conflict_victim: Flag = False
    unavailable: Annotated[list[str], BeforeValidator(_split_list)] = Field(default_factory=list)
    host_table: OptionalText = Field(default=None, max_length=column_limit(EventTable, "code"))
    max_meetings: Annotated[int | None, BeforeValidator(_blank_to_none)] = Field(default=None, ge=0, le=200)

    @field_validator("email", mode="before")
    @classmethod
    def _lower_email(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("consent")
    @classmethod
    def _consent_given(cls, value: bool) -> bool:
        if not value:
            raise ValueError("consent to data processing is required (Ley 1581 de 2012 / GDPR)")
        return value
