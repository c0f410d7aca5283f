"""Reading organizers' files: definition files (TOML, YAML, JSON) and spreadsheets (CSV, Excel).

Spreadsheet rows come back as dicts keyed by the heading as written, numbered as the organizer sees
them in Excel: the heading is row 1, the first data row is row 2. Fully empty rows are skipped.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from openpyxl import load_workbook
from pydantic import BaseModel, ValidationError

from config.settings import ImportSettings
from services.errors import DomainError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Sheet:
    headings: list[str]
    rows: list[tuple[int, dict[str, Any]]]


def read_mapping_file(path: Path) -> dict[str, Any]:
    """A TOML, YAML or JSON file whose top level is a mapping."""
    if not path.is_file():
        raise DomainError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise DomainError(f"{path}: use a .toml, .yaml or .json file, not {suffix or 'no extension'}")
    except (tomllib.TOMLDecodeError, yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DomainError(f"{path}: cannot parse: {str(error).splitlines()[0]}") from None
    except RecursionError:
        raise DomainError(f"{path}: cannot parse: nested too deeply") from None
    if not isinstance(data, dict):
        raise DomainError(f"{path}: the top level must be a mapping of fields")
    return data


def parse_model(model: type[M], data: dict[str, Any], source: str) -> M:
    """Validate `data`; on failure, one line per problem, each naming its field path."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise DomainError(
            f"{source}: invalid definition:\n" + "\n".join(format_validation_errors(error))
        ) from None


def format_validation_errors(error: ValidationError) -> list[str]:
    lines = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"  {path}: {clean_message(item['msg'])}")
    return lines


def clean_message(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def read_sheet(path: Path, *, max_rows: int | None = None) -> Sheet:
    """The first sheet of a .csv or .xlsx file. More than `max_rows` data rows (default
    IMPORT_MAX_ROWS; entry points pass the setting imports.max_rows) is refused."""
    cap = IMPORT_MAX_ROWS if max_rows is None else max_rows
    if not path.is_file():
        raise DomainError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _read_excel(path, cap)
        if suffix in (".csv", ".txt"):
            return _read_csv(path, cap)
    except DomainError as error:
        if str(error).startswith(f"{path}:"):
            raise
        raise DomainError(f"{path}: {error}") from None
    raise DomainError(f"{path}: use a .csv or .xlsx file, not {suffix or 'no extension'}")


def _read_excel(path: Path, cap: int) -> Sheet:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise DomainError(f"{path}: not a readable Excel workbook ({type(error).__name__})") from None
    try:
        sheet = workbook.worksheets[0]
        # A stray cell at XFD1048576 sets the stated dimension to a million rows x 16384 columns;
        # forget it, so rows come as stored (no column padding) and gaps are empty tuples.
        sheet.reset_dimensions()
        values = sheet.iter_rows(values_only=True)
        try:
            header = next(values, None)
            if header is None:
                raise DomainError(f"{path}: the first sheet is empty")
            headings = [str(h).strip() if h is not None else "" for h in header]
            return Sheet(headings, list(_rows(headings, values, first=2, cap=cap)))
        finally:
            # A refusal mid-sheet (row cap, control character) leaves the row generator holding the
            # sheet's XML stream open; close it with the workbook.
            values.close()
    finally:
        workbook.close()


def _read_csv(path: Path, cap: int) -> Sheet:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as error:
            raise DomainError(
                f"{path}: neither UTF-8 nor Windows-1252 (invalid byte at offset {error.start})"
            ) from None
    delimiter = _delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise DomainError(f"{path}: the file is empty")
    headings = [h.strip() for h in header]
    try:
        return Sheet(headings, list(_rows(headings, reader, first=2, cap=cap)))
    except csv.Error as error:
        raise DomainError(f"{path}: line {reader.line_num}: {error}") from None


CSV_DELIMITERS = (",", ";", "\t")


def _delimiter(heading_line: str) -> str:
    """The delimiter of a CSV file: whichever of comma, semicolon (Spanish-locale Excel) and tab
    (Excel's "Unicode text") the heading line holds most; a comma on a tie. Headings are plain words,
    so counting them is reliable where csv.Sniffer guesses from the data rows."""
    counts = {d: heading_line.count(d) for d in CSV_DELIMITERS}
    best = max(CSV_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def _formula_like(text: str) -> bool:
    """Starts with a formula lead, after any apostrophes (an apostrophe is how the export and
    Excel users mark text that starts with one)."""
    return text.lstrip("'").startswith(FORMULA_LEADS)


def neutralise_cell(value: Any) -> Any:
    """OWASP CSV injection: text starting with = + - @ TAB CR gets a leading quote; numbers stay numbers.
    Text that already starts with apostrophes and then such a character gets one more, so that
    unneutralise_cell gives it back as it was ('=x is written ''=x and read back '=x)."""
    if isinstance(value, str) and _formula_like(value):
        return "'" + value
    return value


def unneutralise_cell(value: Any) -> Any:
    """Undo neutralise_cell on import, so an exported file imports back unchanged. An organizer's own
    '=x (Excel's way of typing text that starts with =) imports as =x."""
    if isinstance(value, str) and value.startswith("'") and _formula_like(value[1:]):
        return value[1:]
    return value


def excel_text_cells(sheet: Any, row: list[Any]) -> list[Any]:
    """Cells for a write-only openpyxl sheet: text is always a string cell, never a formula."""
    from openpyxl.cell import WriteOnlyCell

    cells: list[Any] = []
    for value in row:
        if isinstance(value, str):
            cell = WriteOnlyCell(sheet, value=neutralise_cell(value))
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells


IMPORT_MAX_ROWS: int = ImportSettings.model_fields["max_rows"].default  # the setting's default
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _rows(
    headings: list[str], values: Iterator[Any], *, first: int, cap: int
) -> Iterator[tuple[int, dict[str, Any]]]:
    kept = 0
    for number, row in enumerate(values, start=first):
        cells = [unneutralise_cell(c) for c in list(row)[: len(headings)]]
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        for column, cell in enumerate(cells):
            if isinstance(cell, str) and (bad := _CONTROL.search(cell)):
                name = headings[column] or f"column {column + 1}"
                raise DomainError(
                    f"row {number}, {name}: control character U+{ord(bad.group()):04X} not allowed"
                )
        kept += 1
        if kept > cap:
            raise DomainError(
                f"more than {cap} data rows; the row cap is the setting imports.max_rows "
                "(RUEDA_IMPORTS__MAX_ROWS)"
            )
        cells += [None] * (len(headings) - len(cells))
        yield number, {h: c for h, c in zip(headings, cells, strict=False) if h}


def write_table(path: Path, headings: list[str], rows: list[list[Any]], *, sheet_title: str = "data") -> None:
    """Write rows as CSV (UTF-8 with BOM, so Excel shows accents) or Excel, by the file's suffix.
    Written to a temporary name and renamed, so a reader never sees half a file."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise DomainError(f"{path}: use a .csv or .xlsx file name, not {suffix or 'no extension'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    if suffix == ".csv":
        with partial.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([neutralise_cell(h) for h in headings])
            writer.writerows([neutralise_cell(v) for v in row] for row in rows)
    else:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title=sheet_title[:31])
        sheet.append(excel_text_cells(sheet, list(headings)))
        for row in rows:
            sheet.append(excel_text_cells(sheet, list(row)))
        workbook.save(partial)
    partial.replace(path)
