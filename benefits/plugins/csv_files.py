"""The built-in ``csv`` connector: observations from CSV files or Excel (.xlsx) sheets.

One connector instance reads every file its ``path`` glob matches, in name order, streaming
row by row (the stdlib ``csv`` module; openpyxl in read-only mode for ``.xlsx``). The first
non-blank row of each file is its header; ``mapping`` names the columns that hold the metric,
period, value and unit. Values are passed on verbatim as text (validation is the framework's job),
except that a value written with the marks ``number_format`` declares (``315,602``, ``1.234,50``)
is passed on in plain form (``315602``, ``1234.50``). Each record also carries ``source_ref``
(``<file>:<line>``), saying where it came from.

One bad file does not stop the others: a file that cannot be read (empty, no header, a missing
or repeated column, a header that is not text in ``encoding``, a workbook or other binary file)
becomes one ``unreadable`` record naming the file and the reason (quarantined with that reason);
the readable files load. Only when no matched file can be read at all does the connector fail,
with the first file's reason. Within a readable file, a line that cannot be read becomes one
``unreadable`` record too, naming the file, the line and the reason, with the line's ``text``
(and its mapped cells, when it has cells): a line the csv module cannot parse (a quote never
closed, text after a closing quote, a field over the 131,072-character limit), a mapped cell with
bytes that are not text in ``encoding`` or a NUL byte, and a row with more non-blank cells than
the header. A file that starts with a UTF-16 byte-order mark is read as UTF-16 when ``encoding``
is UTF-8 (the default): no UTF-8 text starts with those bytes. A first line ``sep=;``, as Excel
writes it, is no row: it sets that file's delimiter; nor is the header repeated further down.
"""

from __future__ import annotations

import builtins
import codecs
import csv
import datetime as dt
import errno
import glob
import itertools
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from benefits import workbooks
from benefits.plugins.connector import RECORD_FIELDS, UNREADABLE, ColumnMapping, Connector, ConnectorError, MetricInfo
from benefits.plugins.hookspecs import hookimpl
from benefits.plugins.numbers import NumberFormat
from benefits.plugins.text import printable

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: What a file that starts with these bytes is, when it is matched as a CSV file.
NOT_CSV = {
    b"PK\x03\x04": "a zip archive, not CSV text: an .xlsx workbook saved under a .csv name? Rename it to .xlsx",
    b"\xd0\xcf\x11\xe0": "an .xls workbook, not CSV text: .xls files are not supported; save the sheet as .xlsx or CSV",
}
#: A NUL, or a byte the encoding could not read (decoded with ``surrogateescape``: U+DC80..U+DCFF).
_NOT_TEXT = re.compile("[\x00\udc80-\udcff]")
#: Excel's first line that declares a file's delimiter (``sep=;``).
_EXCEL_SEPARATOR = re.compile(r"sep=([^\r\n\"])\r?\n?")
#: Characters of a line kept with its ``unreadable`` record; the file keeps the rest.
TEXT_KEPT = 2000
_NO_TEXT: tuple[str, ...] = ()


class CsvSettings(BaseModel):
    """Settings of the csv connector."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, description="A file or a glob (`**` recurses); relative to the current directory.")
    mapping: ColumnMapping = ColumnMapping()
    metric: str | None = Field(
        None, min_length=1, description="The metric of every row of a file without a metric column."
    )
    unit: str | None = Field(None, min_length=1, description="The unit of every row of a file without a unit column.")
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    sheet: str | None = Field(None, description="The sheet of an .xlsx file (default: the first).")
    number_format: NumberFormat | None = Field(
        None,
        description="The source's decimal and thousands marks, e.g. {decimal: ',', thousands: '.'}; "
        "values written so are loaded (default: plain numbers only, 1234.5).",
    )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            info = codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        if not getattr(info, "_is_text_encoding", True):  # base64, rot13, zlib ...: not a text encoding
            raise ValueError(f"{value!r} is not a text encoding")
        return value


@dataclass(frozen=True)
class _Layout:
    """Where each field is in one file: a column position, or a constant when the file has none."""

    columns: dict[str, int]
    constants: dict[str, str]
    number_format: NumberFormat | None = None
    text_cells: bool = True
    """Every cell is already text (a CSV file); a workbook's cells are turned into text here."""
    header: tuple[str, ...] = ()
    """The header's column names (see :func:`_names`)."""

    def repeats_header(self, cells: list[Any]) -> bool:
        """True for a row that is the header again (files joined one after another): no row."""
        last = cells[-1] if len(cells) == len(self.header) else None
        return isinstance(last, str) and last.strip() == self.header[-1] and tuple(_names(cells)) == self.header

    def record(self, cells: list[Any]) -> dict[str, Any]:
        """The row's record: each cell as text; a value written as text in ``number_format`` in plain form."""
        record: dict[str, Any] = dict(self.constants)
        size = len(cells)
        for field, position in self.columns.items():
            record[field] = cells[position] if position < size else None
        value = record.get("value")
        if self.number_format is not None and isinstance(value, str):
            record["value"] = self.number_format.plain(value)
        if not self.text_cells:
            for field in self.columns:
                if record[field] is not None:
                    record[field] = _text(record[field])
        return record

    def cells(self, cells: list[Any]) -> dict[str, Any]:
        """The row's mapped cells verbatim (NUL and unreadable bytes written ``\\xNN``), for an unreadable line."""
        size = len(cells)
        found = {
            f: _escaped(cells[p]) if p < size and isinstance(cells[p], str) else None for f, p in self.columns.items()
        }
        return {**self.constants, **found}

    def problem(self, cells: list[str], text: Sequence[str], encoding: str) -> str | None:
        """Why a CSV row cannot be read as it stands, or None: a mapped cell with a NUL or bytes ``encoding``
        cannot read, or more non-blank cells than the header has columns."""
        if not self.text_cells:
            return None
        for line in text:  # only a line with such bytes is looked at cell by cell
            if "\x00" in line or (not line.isascii() and _NOT_TEXT.search(line)):
                found = self._not_text(cells, encoding)
                if found is not None:
                    return found
                break
        width = len(self.header)
        if len(cells) > width and not all(_blank(c) for c in cells[width:]):
            return (
                f"{len(cells)} cells, but the header has {width}: which cell is which column is unknown "
                "(a value with the delimiter in it, not quoted?)"
            )
        return None

    def _not_text(self, cells: list[str], encoding: str) -> str | None:
        """The reason for the first mapped cell with a NUL or bytes ``encoding`` cannot read, or None."""
        size = len(cells)
        for field, position in self.columns.items():
            if position < size and _NOT_TEXT.search(cells[position]):
                return _not_text_cell(field, cells[position], encoding)
        return None


class CsvConnector(Connector):
    """Reads observations from CSV or .xlsx files matched by a glob, one record per row."""

    type: ClassVar[str] = "csv"
    Settings: ClassVar[builtins.type[BaseModel]] = CsvSettings  # a subclass may declare settings of its own
    settings: CsvSettings

    def check(self) -> None:
        """Fail unless some file matches and one of them at least has the mapped columns (the first
        file's reason when none has)."""
        failures = []
        for path in self._files():
            try:
                for _ in self._rows(path):
                    break
            except ConnectorError as exc:
                failures.append(str(exc))
            else:
                return
        raise ConnectorError(_none_readable(failures))

    def discover(self) -> list[MetricInfo]:
        """Each distinct (metric, unit) in the files, in order of first appearance."""
        seen: dict[tuple[str, str], None] = {}
        for record in self.records():
            if record.get(UNREADABLE):
                continue
            metric, unit = record.get("metric"), record.get("unit")
            if isinstance(metric, str) and isinstance(unit, str) and not _blank(metric) and not _blank(unit):
                seen.setdefault((metric, unit), None)
        return [MetricInfo(metric, unit) for metric, unit in seen]

    def records(self) -> Iterator[dict[str, Any]]:
        """One record per non-blank data row of every matched file, with its ``source_ref`` (an ``unreadable``
        one for a line that cannot be read); then one ``unreadable`` record per file that could not be read
        (see the module's docstring)."""
        failed: list[tuple[str, str]] = []
        files = self._files()
        for path in files:
            try:
                for line, record in self._rows(path):
                    record["source_ref"] = f"{path}:{line}"  # read back by source_file
                    yield record
            except ConnectorError as exc:
                failed.append((path, str(exc)))
        if failed and len(failed) == len(files):
            raise ConnectorError(_none_readable([reason for _, reason in failed]))
        for path, reason in failed:
            yield {"source_ref": path, UNREADABLE: reason}

    def _files(self) -> list[str]:
        pattern = os.path.expanduser(self.settings.path)
        files = sorted(p for p in glob.glob(pattern, recursive=True) if not os.path.isdir(p))
        if not files:
            where = "" if os.path.isabs(pattern) else f" (relative to {Path.cwd()})"
            raise ConnectorError(f"no file matches {self.settings.path}{where}")
        return files

    def _rows(self, path: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """(line or sheet row number, record) for each data row; the header is checked first.

        A line that cannot be read is an ``unreadable`` record with the line's text (see the module's docstring);
        a header that cannot be read fails the file."""
        not_a_file = _not_a_file(path)
        if not_a_file is not None:  # opening a pipe would wait for a writer
            raise ConnectorError(f"{path}: {not_a_file}")
        excel = path.lower().endswith(EXCEL_SUFFIXES)
        encoding = self.settings.encoding if excel else _encoding_of(path, self.settings.encoding)
        rows = _excel_rows(path, self.settings.sheet) if excel else self._csv_rows(path, encoding)
        layout = None
        for line, cells, text in rows:
            if isinstance(cells, str):  # lines the csv module could not parse: its reason
                if layout is None:
                    raise ConnectorError(f"{path}: {_header_not_text(text, encoding) or cells}")
                yield line, _held(path, cells, text)
                continue
            if _blank_row(cells) or (layout is not None and layout.repeats_header(cells)):
                continue
            if layout is None:
                layout = self._layout(path, cells, text, encoding)
                continue
            problem = layout.problem(cells, text, encoding)
            if problem is None:
                yield line, layout.record(cells)
            else:
                yield line, {**layout.cells(cells), **_held(path, f"line {line}: {problem}", text)}
        if layout is None:
            raise ConnectorError(f"{path}: no header row (the file is empty)")

    def _csv_rows(self, path: str, encoding: str) -> Iterator[tuple[int, list[str] | str, Sequence[str]]]:
        """(line, cells, the record's lines) for each row, or (line, reason, lines) for lines the csv module
        cannot parse. Bytes ``encoding`` cannot read are kept as U+DC80..U+DCFF (``surrogateescape``), for
        :meth:`_Layout.problem` to name; the lines are the reader's, valid until the next row is asked for.
        A first line ``sep=;`` (Excel's) is no row: it says the file's delimiter."""
        try:
            with open(path, newline="", encoding=encoding, errors="surrogateescape") as handle:
                first = handle.readline()
                declared = _EXCEL_SEPARATOR.fullmatch(first)
                skipped = 1 if declared else 0
                taken: list[str] = []
                lines = _taking(handle if declared else itertools.chain([first], handle), taken)
                delimiter = declared[1] if declared else self.settings.delimiter
                reader = csv.reader(lines, delimiter=delimiter, strict=True)
                start = 1 + skipped
                while True:
                    taken.clear()
                    try:
                        cells: list[str] | str = next(reader)
                    except StopIteration:
                        return
                    except csv.Error as exc:  # the reader goes on with the next line
                        cells = _csv_error(exc, start, reader.line_num + skipped)
                    yield start, cells, taken
                    start = reader.line_num + skipped + 1
        except OSError as exc:
            raise ConnectorError(f"{path}: cannot be read ({exc.strerror or exc})") from None

    def _layout(self, path: str, header: list[Any], text: Sequence[str], encoding: str) -> _Layout:
        """Where each mapped field is in this file's ``header``; a ConnectorError naming the file when a mapped
        column is missing or repeated (with what would fix it: ``encoding``, ``delimiter`` or ``mapping``)."""
        names = _names(header)
        columns: dict[str, int] = {}
        constants: dict[str, str] = {}
        for field in RECORD_FIELDS:
            column = getattr(self.settings.mapping, field)
            constant = getattr(self.settings, field, None)
            if column in names:
                columns[field] = _only_column(path, names, column, field)
            elif constant is not None:
                constants[field] = constant
            else:
                not_text = _header_not_text(text, encoding)
                if not_text:
                    raise ConnectorError(f"{path}: {not_text}")
                raise ConnectorError(
                    f"{path}: no column {column!r} in header {_found(names)}; {self._fix(field, names)}"
                )
        excel = path.lower().endswith(EXCEL_SUFFIXES)
        return _Layout(columns, constants, self.settings.number_format, not excel, tuple(names))

    def _fix(self, field: str, names: list[str]) -> str:
        """What would find a missing column: the delimiter, when the header is one column with another
        delimiter in it; the mapping to a column of another case; else the mapping (or a constant)."""
        if len(names) == 1:
            for mark in (";", "\t", "|", ","):
                if mark != self.settings.delimiter and mark in names[0]:
                    return f"the header is one column: set `delimiter` to {mark!r} if that separates the fields"
        column = getattr(self.settings.mapping, field)
        other_case = [name for name in names if name.casefold() == column.casefold()]
        if other_case:
            return f"set `mapping.{field}` to {other_case[0]!r} (column names must match exactly, case included)"
        also = f", or a constant `{field}` for the whole file" if field in ("metric", "unit") else ""
        return f"set `mapping.{field}` to the column that holds the {field}{also}"


def _names(header: list[Any]) -> list[str]:
    """A header's column names: each cell as text without surrounding blanks or a byte-order mark."""
    return [_text(c).strip().lstrip("\ufeff").strip() if c is not None else "" for c in header]


def source_file(source_ref: str) -> str:
    """The file a ``source_ref`` of this connector names: ``<file>:<line>`` for a row, ``<file>`` for a file it
    could not read."""
    path, _, line = source_ref.rpartition(":")
    return path if path and line.isdigit() else source_ref


def _encoding_of(path: str, encoding: str) -> str:
    """The encoding to read CSV file ``path`` with: ``encoding``, or UTF-16 for a file that starts with a UTF-16
    byte-order mark while ``encoding`` is UTF-8. A ConnectorError for an .xls file, and for a workbook or archive
    under another name (see :data:`NOT_CSV`)."""
    if path.lower().endswith(".xls"):
        raise ConnectorError(f"{path}: .xls files are not supported; save the sheet as .xlsx or CSV")
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise ConnectorError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    for magic, what in NOT_CSV.items():
        if head.startswith(magic):
            raise ConnectorError(f"{path}: {what}")
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    return "utf-16" if utf16 and codecs.lookup(encoding).name in ("utf-8", "utf-8-sig") else encoding


def _taking(lines: Iterator[str], taken: list[str]) -> Iterator[str]:
    """``lines``, each also appended to ``taken`` (the caller clears it per row): the text of a row."""
    for line in lines:
        taken.append(line)
        yield line


def _only_column(path: str, names: list[str], column: str, field: str) -> int:
    """The position of ``column`` in the header; a ConnectorError when the header has it more than once."""
    positions = [i for i, name in enumerate(names) if name == column]
    if len(positions) > 1:
        where = ", ".join(str(p + 1) for p in positions)
        raise ConnectorError(
            f"{path}: column {column!r} is in the header {len(positions)} times (columns {where}): which one holds "
            f"the {field} is unknown; rename the others in the file"
        )
    return positions[0]


def _found(names: list[str]) -> str:
    """``(found: a, b, c)``: the header's names on one line, at most 200 characters."""
    found = ", ".join(_one_line(n) for n in names if n) or "nothing"
    return f"(found: {found[:200]}{'…' if len(found) > 200 else ''})"


def _header_not_text(text: Sequence[str], encoding: str) -> str | None:
    """Why the header's lines are not text in ``encoding`` (NUL bytes, bytes it cannot read), or None."""
    found = _not_text_bytes(text)
    if not found:
        return None
    if 0 in found:
        return (
            "the header has NUL bytes, which text never has: a binary file, or UTF-16 text without a byte-order "
            "mark (then set `encoding` to utf-16-le)"
        )
    return (
        f"the header has bytes that are not {encoding} text ({_bytes(found)}): a binary file, or text in another "
        "encoding (then set `encoding` to it, e.g. cp1252 for a file saved by Excel on Windows)"
    )


def _not_text_cell(field: str, cell: str, encoding: str) -> str:
    """The reason a mapped cell with a NUL or bytes ``encoding`` cannot read is not read."""
    found = _not_text_bytes([cell])
    if 0 in found:
        return f"{field}: {_shown(cell)} has a NUL byte, which text never has (a damaged line?)"
    return (
        f"{field}: {_shown(cell)} has bytes that are not {encoding} text ({_bytes(found)}); set `encoding` to the "
        "file's encoding (e.g. cp1252 for a file saved by Excel on Windows)"
    )


def _held(path: str, reason: str, text: Sequence[str]) -> dict[str, Any]:
    """The ``unreadable`` record of one row: the reason, naming the file and line, and the row's text."""
    kept = _escaped("".join(text)).rstrip("\r\n")
    if len(kept) > TEXT_KEPT:
        kept = f"{kept[:TEXT_KEPT]}… ({len(kept) - TEXT_KEPT:,} more characters in the file)"
    return {UNREADABLE: f"{path}: {reason}", "text": kept}


def _escaped(text: str) -> str:
    """``text`` with each NUL and each byte the encoding could not read written as ``\\xNN``: storable text."""
    return _NOT_TEXT.sub(lambda m: f"\\x{ord(m[0]) & 0xFF:02x}", text)


def _one_line(text: str) -> str:
    """``text`` printable on one line: its bytes escaped (:func:`_escaped`), line breaks, tabs and other
    control characters written as Python writes them (``\\n``, ``\\t``, ``\\x0b``)."""
    return printable(_escaped(text))


def _shown(cell: str) -> str:
    """A cell in a reason: quoted, on one line, at most 60 characters."""
    text = _one_line(cell)
    return f"'{text[:60]}…'" if len(text) > 60 else f"'{text}'"


def _not_text_bytes(texts: Sequence[str]) -> list[int]:
    """The byte values, sorted, of the NULs and unreadable bytes (:data:`_NOT_TEXT`) in ``texts``."""
    return sorted({ord(c) & 0xFF for text in texts for c in _NOT_TEXT.findall(text)})


def _bytes(found: list[int]) -> str:
    """``0xa3, 0xe9``: the first few byte values."""
    return ", ".join(f"0x{b:02x}" for b in found[:3]) + (", ..." if len(found) > 3 else "")


def _excel_rows(path: str, sheet: str | None) -> Iterator[tuple[int, list[Any], Sequence[str]]]:
    """Rows of one sheet as lists of cell values (None for an empty cell), numbered as in Excel."""
    import openpyxl  # only when a workbook is read
    from openpyxl.utils.exceptions import InvalidFileException

    found = workbooks.not_a_workbook(path)
    if found is not None:
        raise ConnectorError(f"{path}: {found}")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except InvalidFileException as exc:
        raise ConnectorError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    except workbooks.READ_ERRORS as exc:
        raise ConnectorError(f"{path}: {workbooks.problem(path, exc)}") from None
    try:
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in book.sheetnames:
            worksheet = book[sheet]
        else:
            raise ConnectorError(f"{path}: no sheet {sheet!r} (found: {', '.join(book.sheetnames)})")
        rows = enumerate(worksheet.iter_rows(values_only=True), start=1)
        while True:
            try:  # a sheet is read as its rows are asked for: a damaged part is found here, not when it opens
                number, cells = next(rows)
            except StopIteration:
                return
            except workbooks.READ_ERRORS as exc:
                raise ConnectorError(f"{path}: {workbooks.problem(path, exc)}") from None
            yield number, list(cells), _NO_TEXT
    finally:
        book.close()


def _text(value: Any) -> str:
    """A cell as text: dates in ISO form (a midnight datetime as a date), numbers as written."""
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _csv_error(exc: csv.Error, start: int, end: int) -> str:
    """A csv module error on lines ``start``..``end`` in words, with what to do."""
    text = str(exc)
    lines = f"line {start}" if end <= start else f"lines {start}-{end}"
    if text.startswith("field larger than field limit"):
        limit = csv.field_size_limit()
        if end > start:
            return (
                f"{lines}: a quoted field opened on line {start} is still open after {limit:,} characters "
                "(a quote never closed?); the lines are held as one row"
            )
        return f"{lines}: a field is longer than the {limit:,} characters a CSV field may have; the row is skipped"
    if text == "unexpected end of data":
        return f"{lines}: a quote opened on line {start} is never closed (the file ends inside it); close it"
    if "expected after" in text:
        return f'{lines}: text after the closing quote of a field (a quote inside a quoted field is written "")'
    return f"{lines}: {text}"


def _link_target(path: str) -> str:
    """What a symbolic link points to (``to /data/kpi.csv``), or less when it cannot be read."""
    try:
        return f"to {os.readlink(path)}"
    except OSError:
        return "its target"


def _none_readable(failures: list[str]) -> str:
    """The first unreadable file's reason, and how many more files failed too."""
    more = f" (and {len(failures) - 1} more files cannot be read)" if len(failures) > 1 else ""
    return f"{failures[0]}{more}"


def _not_a_file(path: str) -> str | None:
    """Why ``path`` cannot be read as a file (a pipe, a broken symbolic link, a loop of them), or None when it is a
    regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop (its links lead back to each other, never to a file); fix or remove it"
        if exc.errno == errno.ENOENT and os.path.islink(path):
            return f"a broken symbolic link ({_link_target(path)}, which does not exist); fix or remove it"
        if exc.errno == errno.ENOENT:
            return "no such file (removed while the files were read)"
        return f"cannot be read ({(exc.strerror or str(exc)).lower()})"
    if stat.S_ISREG(mode):
        return None
    return "not a regular file (a pipe, socket or device); `path` must match files"


def _blank_row(cells: list[Any]) -> bool:
    """True for a row whose every cell is blank (a first cell with text answers at once)."""
    first = cells[0] if cells else None
    if isinstance(first, str) and first.strip():
        return False
    return all(_blank(c) for c in cells)


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The csv connector."""
    return [CsvConnector]
