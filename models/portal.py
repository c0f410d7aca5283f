"""What participants send from the portal's forms, validated field by field (the error names the
field). Services add the checks that need the database."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

from models.participant import Participant
from models.schemas import (
    DESCRIPTION_LIMIT,
    HsCode,
    LanguageCode,
    OptionalText,
    SupportedLanguage,
    TimeZoneName,
)
from models.text import MULTILINE, CheckedText, column_limit


def _split_list(value: Any) -> Any:
    """Form fields give "0901, 1801" or several values; blanks are dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [part.strip() for item in value for part in re.split(r"[;,\s]+", str(item)) if part.strip()]


class ProfileUpdate(CheckedText):
    """The participant's own profile: contact, language and time zone, offers and demands, and
    the slots in which they cannot meet."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    full_name: str = Field(min_length=2, max_length=column_limit(Participant, "full_name"))
    job_title: OptionalText = Field(default=None, max_length=column_limit(Participant, "job_title"))
    phone: OptionalText = Field(default=None, max_length=column_limit(Participant, "phone"))
    language: SupportedLanguage
    timezone: TimeZoneName
    spoken_languages: Annotated[list[LanguageCode], BeforeValidator(_split_list)] = Field(
        default_factory=list, max_length=10
    )
    offer_hs: Annotated[list[HsCode], BeforeValidator(_split_list)] = Field(
        default_factory=list, max_length=30
    )
    offer_description: Annotated[str, MULTILINE] = Field(default="", max_length=DESCRIPTION_LIMIT)
    demand_hs: Annotated[list[HsCode], BeforeValidator(_split_list)] = Field(
        default_factory=list, max_length=30
    )
    demand_description: Annotated[str, MULTILINE] = Field(default="", max_length=DESCRIPTION_LIMIT)
    unavailable: list[str] = Field(default_factory=list, description="Slot codes (d1s01...).")
