"""The rows of a register workbook (``.xlsx``) or CSV file, each value with the address of its cell.

A sheet's headers are on its first row (or, under title rows, on the first of its first ten rows
that names two columns); they are matched to the layout's columns ignoring case, spaces and
punctuation. Blank rows are skipped. Addresses read ``Benefits!F12`` in a workbook and
``register.csv:row 12`` in a CSV file.

A workbook's cells are read as Excel last saved them (a formula's value, not its text). A formula with
no saved value (a workbook written by a program that does not compute formulas, such as openpyxl) reads
as :class:`Unsaved`, never as a blank: the import refuses it by cell rather than lose its value.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter

from benefits import workbooks
from benefits.config_yaml import undecodable
from benefits.errors import BenefitsError
from benefits.register_io.layout import BENEFITS, SHEETS, Column, Sheet, normal

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

_HEADER_SEARCH = 10
"""How many rows from the top may hold the headers."""
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")
"""A byte sequence that UTF-8 text holds for a letter outside ASCII (an accent), and Windows-1252 text hardly ever."""
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")
"""A formula element in a sheet's XML (``<f>``, ``<f t="shared" .../>``, ``<x:f>``)."""


@dataclass(frozen=True)
class Unsaved:
    """A formula cell without a saved value: Excel and LibreOffice store one when they save; programs that write
    workbooks without computing them (openpyxl, most generators) do not."""

    formula: str
    """As written in the cell: ``=50000*2``."""

    def __str__(self) -> str:
        return self.formula


@dataclass(frozen=True)
class Row:
    """One row of a table: its number in the sheet (or line in the file) and a raw value per column field."""

    number: int
    values: dict[str, object]


@dataclass
class Table:
    """One sheet's rows, with the columns its headers name."""

    layout: Sheet
    source: str
    """The file's name (a CSV file) or the sheet's name as written in the workbook."""
    csv: bool
    columns: dict[str, int] = field(default_factory=dict)
    """Column field -> 0-based position."""
    rows: list[Row] = field(default_factory=list)
    unsaved: list[tuple[int, str, Unsaved]] = field(default_factory=list)
    """Formula cells without a saved value in the columns read: (row, column field, formula); blank in ``rows``."""
    unknown: list[tuple[int, str]] = field(default_factory=list)
    """Headers that name no column: (position, header)."""
    header_row: int = 1
    """The row of the headers (title rows may stand above it)."""

    def where(self, column: Column | None, row: int) -> str:
        """The address of a cell (``Benefits!F12``, ``register.csv:row 12``); the row's first cell without a column."""
        return self.address(self.columns.get(column.field, 0) if column else 0, row)

    def address(self, position: int, row: int) -> str:
        """The address of the cell at a 0-based column position and a row."""
        return f"{self.source}:row {row}" if self.csv else f"{self.source}!{get_column_letter(position + 1)}{row}"

    def order(self, column: Column | None, row: int) -> tuple[int, int, int]:
        """A sort key: sheet, row, column."""
        position = self.columns.get(column.field, 0) if column else 0
        return (SHEETS.index(self.layout), row, position)


def read_tables(path: Path) -> dict[str, Table]:
    """The register's tables in a ``.xlsx`` or ``.csv`` file, by sheet name; a one-line BenefitsError if unreadable."""
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return _read_workbook(path)
    if suffix in {".csv", ".txt"}:
        return {BENEFITS.name: _table(BENEFITS, path.name, True, _csv_rows(path))}
    raise BenefitsError(f"{path}: not a register file: give a .xlsx workbook or a .csv file")


def _read_workbook(path: Path) -> dict[str, Table]:
    found = workbooks.not_a_workbook(path)
    if found is not None:
        raise BenefitsError(f"{path}: {found}")
    book = _open_workbook(path, values=True)
    formulas = None
    try:
        if _has_formulas(path):
            formulas = _open_workbook(path, values=False)
        tables = {}
        for sheet in book.worksheets:
            layout = next((s for s in SHEETS if normal(sheet.title) in s.names()), None)
            if layout is not None and layout.name not in tables:
                written = formulas[sheet.title] if formulas is not None else None
                rows = _guarded(path, _sheet_rows(sheet, written))
                tables[layout.name] = _table(layout, sheet.title, False, rows)
    finally:
        book.close()
        if formulas is not None:
            formulas.close()
    if BENEFITS.name not in tables:
        names = ", ".join(repr(s.title) for s in book.worksheets)
        raise BenefitsError(f"{path}: no sheet named 'Benefits' (the workbook has {names})")
    return tables


def _open_workbook(path: Path, values: bool) -> Workbook:
    """The workbook, read only: its cells' saved values (``values``), else its formulas' text."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=values)
    except InvalidFileException as exc:
        raise BenefitsError(f"{path}: not a readable Excel workbook ({exc})") from None
    except workbooks.READ_ERRORS as exc:
        raise BenefitsError(f"{path}: {workbooks.problem(path, exc)}") from None


def _guarded(path: Path, rows: Iterator[list[object]]) -> Iterator[list[object]]:
    """``rows`` of a sheet, read as they are asked for; a part of the workbook found damaged while reading them
    (data that does not decompress, XML cut short) is a one-line BenefitsError, not the zip module's or the XML
    parser's exception."""
    try:
        yield from rows
    except workbooks.READ_ERRORS as exc:
        raise BenefitsError(f"{path}: {workbooks.problem(path, exc)}") from None


def _has_formulas(path: Path) -> bool:
    """Whether any sheet of the workbook holds a formula (a quick look at its XML, so that a workbook of plain
    values is read once)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(
                _FORMULA_TAG.search(archive.read(name))
                for name in archive.namelist()
                if name.startswith("xl/worksheets/") and name.endswith(".xml")
            )
    except workbooks.READ_ERRORS as exc:
        raise BenefitsError(f"{path}: {workbooks.problem(path, exc)}") from None


def _sheet_rows(sheet: ReadOnlyWorksheet, written: ReadOnlyWorksheet | None) -> Iterator[list[object]]:
    """A sheet's rows of saved values; with the same sheet read for its formulas (``written``), a formula cell
    without a saved value is :class:`Unsaved` instead of blank."""
    if written is None:
        yield from (list(values) for values in sheet.iter_rows(values_only=True))
        return
    for saved, formulas in itertools.zip_longest(sheet.iter_rows(), written.iter_rows(), fillvalue=()):
        yield [_cell_value(cell, formula) for cell, formula in itertools.zip_longest(saved, formulas)]


def _cell_value(saved: Any, formula: Any) -> object:
    """A cell's saved value, or :class:`Unsaved` for a formula without one. A formula whose value is the empty
    text (``=IF(A2="","",A2)``) is saved as such, of type ``str``: it stays blank."""
    if saved is None or saved.value is not None or saved.data_type == "str":
        return saved.value if saved is not None else None
    if formula is None or formula.data_type != "f":
        return None
    text = formula.value  # "=...", or an ArrayFormula whose text is
    return Unsaved(text if isinstance(text, str) else str(getattr(text, "text", None) or "="))


def _csv_rows(path: Path) -> list[list[str]]:
    """The rows of a CSV file: UTF-8 (with or without a byte-order mark), UTF-16 with its byte-order mark, or
    Windows-1252; comma, semicolon or tab. A BenefitsError naming the line when the text cannot be read whole (a
    file mixing UTF-8 with another encoding, a NUL byte, a field over the csv module's limit): a row is never read
    as garbled or cut text."""
    raw = path.read_bytes()
    if raw.startswith(b"PK\x03\x04"):
        raise BenefitsError(
            f"{path}: a zip archive, not CSV text: an .xlsx workbook saved under a .csv name? Rename it to .xlsx"
        )
    text = _decoded(path, raw)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise BenefitsError(
            f"{path}: line {line}: a NUL byte, which no CSV text holds: save the register as CSV (UTF-8)"
        )
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as exc:
        line = reader.line_num
        if str(exc).startswith("field larger than field limit"):
            reason = f"a field is longer than the {csv.field_size_limit():,} characters a CSV field may have"
        else:
            reason = f"not CSV ({exc})"
        raise BenefitsError(f"{path}: line {line}: {reason}; nothing was read") from None


def _decoded(path: Path, raw: bytes) -> str:
    """The text of a CSV file's bytes: UTF-8, UTF-16 (with its byte-order mark) or, when it is not UTF-8 at all,
    Windows-1252. A file that is UTF-8 in places only (rows pasted from a file of another encoding) is refused by
    line: read as Windows-1252, its UTF-8 accents would become other letters ('Zoë' as 'ZoÃ«')."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise BenefitsError(f"{path}: not UTF-16 text after its UTF-16 byte-order mark ({exc.reason})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, byte = undecodable(raw, exc)
        if _UTF8_SEQUENCE.search(raw):
            raise BenefitsError(
                f"{path}: line {line}: byte 0x{byte} is not UTF-8, while other lines are: the file mixes encodings "
                "(rows pasted from another file?); save it as CSV UTF-8 and import it again"
            ) from None
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError as again:
            line = raw[: again.start].count(b"\n") + 1
            byte = raw[again.start : again.start + 1].hex()
            raise BenefitsError(
                f"{path}: line {line}: byte 0x{byte} is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8"
            ) from None


def _table(layout: Sheet, source: str, is_csv: bool, rows: Iterable[Sequence[object]]) -> Table:
    table = Table(layout, source, is_csv)
    lookup = {name: column for column in layout.columns for name in column.names()}
    iterator = iter(rows)
    above = list(itertools.islice(iterator, _HEADER_SEARCH))
    table.header_row = next((n for n, row in enumerate(above, start=1) if _known(row, lookup) >= 2), 1)
    for position, title in enumerate(above[table.header_row - 1] if above else ()):
        if title is None or str(title).strip() == "":
            continue
        column = lookup.get(normal(str(title)))
        if column is None or column.field in table.columns:
            table.unknown.append((position, str(title).strip()))
        else:
            table.columns[column.field] = position
    below = itertools.chain(above[table.header_row :], iterator)
    for number, values in enumerate(below, start=table.header_row + 1):
        cells = {
            name: _blank_to_none(values[position]) if position < len(values) else None
            for name, position in table.columns.items()
        }
        if any(value is not None for value in cells.values()):
            unsaved = {name: value for name, value in cells.items() if isinstance(value, Unsaved)}
            table.unsaved += [(number, name, formula) for name, formula in unsaved.items()]
            table.rows.append(Row(number, cells | dict.fromkeys(unsaved)))
    return table


def _known(row: Sequence[object], lookup: dict[str, Column]) -> int:
    """How many of a row's cells name a column."""
    return sum(1 for title in row if title is not None and normal(str(title)) in lookup)


def _blank_to_none(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value
