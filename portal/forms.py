"""Validation errors as the participant reads them: one translated sentence per field, shown next to
that field. Pydantic's own messages are written for organizers' spreadsheets; a form says plainly
what to type instead."""

from __future__ import annotations

from pydantic import ValidationError

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


def field_errors(error: ValidationError, language: str) -> dict[str, str]:
    """Field name -> the sentence to show next to it (the first problem of each field)."""
    errors: dict[str, str] = {}
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else "form"
        errors.setdefault(name, translate(language, FIELD_MESSAGES.get(name, GENERIC)))
    return errors


def registration_errors(error: ValidationError, language: str) -> dict[str, str]:
    return field_errors(error, language)
