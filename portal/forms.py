"""Validation errors as the participant reads them: one translated sentence per field, shown next to
that field. Pydantic's own messages are written for organizers' spreadsheets; a form says plainly
what to type instead."""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from models.text import TextError
from portal.i18n import translate

FIELD_MESSAGES: dict[str, str] = {
    "email": "Enter a valid email address, like name@company.com.",
    "full_name": "Enter your full name (at least 2 characters).",
    "organization": "Enter the name of your organization (at least 2 characters).",
    "role": "Choose whether you sell, buy or both.",
    "country": "Choose the country of your organization.",
    "language": "Choose one of the languages in the list.",
    "timezone": "Choose a time zone from the list, like America/Bogota.",
    "consent": "To register you must authorize the processing of your data.",
    "offer_hs": "HS codes have 2, 4 or 6 digits, like 0901.",
    "demand_hs": "HS codes have 2, 4 or 6 digits, like 0901.",
    "spoken_languages": "Choose languages from the list.",
    "unavailable": "Choose slots from the list.",
}
GENERIC = "Check this field: it is too long or not valid."
TEXT = "Remove line breaks, control characters and direction marks from this field."
TOO_LONG = "Use at most {limit} characters."


def field_errors(error: ValidationError, language: str) -> dict[str, str]:
    """Field name -> the sentence to show next to it (the first problem of each field)."""
    errors: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "form"
        if name not in errors:
            errors[name] = _sentence(item, name, language)
    return errors


def _sentence(item: ErrorDetails, name: str, language: str) -> str:
    context = item.get("ctx") or {}
    if isinstance(context.get("error"), TextError):
        return translate(language, TEXT)
    if item["type"] == "string_too_long":
        return translate(language, TOO_LONG, limit=context["max_length"])
    return translate(language, FIELD_MESSAGES.get(name, GENERIC))


def registration_errors(error: ValidationError, language: str) -> dict[str, str]:
    return field_errors(error, language)
