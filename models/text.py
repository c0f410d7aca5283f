"""Free text from people, checked the same way at every door (portal forms, the API, imported
sheets, event files, the CLI): one function, `clean_text`, and the `CheckedText` base that applies it
to every string field of an input model.

Refused, with the character and its position named:
- control characters (C0 and C1: NUL, BEL, ESC, DEL, ...). A CR/LF in a name became a header
  break in the email built from it (`To: "...\\r\\nBcc: ..."`); NUL does not fit in PostgreSQL;
- in one-line fields (names, titles, phones...), line breaks of any kind, also U+2028, U+2029 and
  U+0085, which some programs treat as line ends;
- bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069): they make a name display
  as something other than what it is ("Trojan Source"); right-to-left scripts do not need them;
- lone surrogates, which cannot be written as UTF-8.

Kept: every letter, mark, symbol and space of every script, emoji, zero-width joiners. In one-line
fields a TAB becomes a space; in multi-line fields (`Multiline` in the annotation) CRLF and CR become
LF and TAB stays.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum
from typing import Any, ClassVar

from pydantic import BaseModel, ValidationInfo, field_validator
from sqlmodel import SQLModel


class Multiline:
    """Marker for `Annotated[str, Multiline()]`: the field may hold line breaks and TABs."""

    def __repr__(self) -> str:
        return "Multiline()"


MULTILINE = Multiline()

_ALWAYS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_ONE_LINE = re.compile(f"[{_ALWAYS}\n\r\u2028\u2029]")
_MULTI_LINE = re.compile(f"[{_ALWAYS}\u2028\u2029]")
# The same rules as JSON Schema patterns, for API documents (`json_schema_extra={"pattern": ...}`):
# clients and schema-driven tests then know what the API refuses.
ONE_LINE_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]*$"
MULTI_LINE_PATTERN = (
    "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]*$"
)


class TextError(ValueError):
    """A string holds a character no field of this kind may hold."""


def clean_text(value: str, *, multiline: bool = False) -> str:
    """`value` with TABs (one-line) or CR line ends (multi-line) normalised; raises `TextError`
    naming the first character that no field of this kind may hold."""
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        found = _MULTI_LINE.search(value)
    else:
        value = value.replace("\t", " ")
        found = _ONE_LINE.search(value)
    if found is None:
        return value
    char = found.group()
    raise TextError(f"contains {_describe(char)} at character {found.start() + 1}{_hint(char, multiline)}")


_CONTROL_NAMES = {
    0x00: "NUL",
    0x07: "BEL",
    0x08: "BACKSPACE",
    0x0A: "LINE FEED",
    0x0B: "VERTICAL TAB",
    0x0C: "FORM FEED",
    0x0D: "CARRIAGE RETURN",
    0x1B: "ESC",
    0x7F: "DEL",
    0x85: "NEXT LINE",
}


def _describe(char: str) -> str:
    code = ord(char)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(char, "")
    if name:
        return f"U+{code:04X} {name}"
    kind = "a control character" if unicodedata.category(char) == "Cc" else "an invalid character"
    return f"{kind} (U+{code:04X})"


def _hint(char: str, multiline: bool) -> str:
    if not multiline and char in "\n\r\u2028\u2029\x85":
        return "; this field is one line: remove the line break"
    return "; remove it (control and direction-override characters are not allowed)"


def clean_strings(value: Any, *, multiline: bool = False) -> Any:
    """`clean_text` applied to a string, or to every string inside lists, tuples, sets and dicts."""
    if isinstance(value, Enum):
        return value  # a StrEnum member was validated against its choices; keep the member
    if isinstance(value, str):
        return clean_text(value, multiline=multiline)
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(clean_strings(v, multiline=multiline) for v in value)
    if isinstance(value, dict):
        return {clean_strings(k): clean_strings(v, multiline=multiline) for k, v in value.items()}
    return value


class CheckedText(BaseModel):
    """Base of every model that takes text from outside: each string field (and each string in a
    list or dict field) goes through `clean_text`; fields annotated `Multiline` may hold lines."""

    _multiline_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._multiline_fields = frozenset(
            name
            for name, info in cls.model_fields.items()
            if any(isinstance(m, Multiline) for m in info.metadata)
        )

    @field_validator("*", mode="after")
    @classmethod
    def _checked_text(cls, value: Any, info: ValidationInfo) -> Any:
        return clean_strings(value, multiline=info.field_name in cls._multiline_fields)


def column_limit(model: type[SQLModel], field: str) -> int:
    """The `max_length` a table model gives `field`: the one source of a text field's limit, used
    by the input models of every door so that no door accepts what the database refuses."""
    for meta in model.model_fields[field].metadata:
        limit = getattr(meta, "max_length", None)
        if isinstance(limit, int):
            return limit
    raise LookupError(f"{model.__name__}.{field} has no max_length")
