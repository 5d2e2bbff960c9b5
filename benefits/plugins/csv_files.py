"""The built-in ``csv`` connector: observations from CSV files or Excel (.xlsx) sheets.

One connector instance reads every file its ``path`` glob matches, in name order, streaming
row by row (the stdlib ``csv`` module; openpyxl in read-only mode for ``.xlsx``). The first
non-blank row of each file is its header; ``mapping`` names the columns that hold the metric,
period, value and unit. Values are passed on verbatim as text (validation is the framework's job),
except that a value written with the marks ``number_format`` declares (``315,602``, ``1.234,50``)
is passed on in plain form (``315602``, ``1234.50``). Each record also carries ``source_ref``
(``<file>:<line>``), saying where it came from.

One bad file does not stop the others: a file that cannot be read (empty, no header, a missing
column, the wrong encoding, a format it cannot be) becomes one ``unreadable`` record naming the
file and the reason (quarantined with that reason), and so does a line the csv module cannot
parse (a field over its 131,072-character limit); the readable files load. Only when no matched
file can be read at all does the connector fail, with the first file's reason.
"""

from __future__ import annotations

import builtins
import codecs
import csv
import datetime as dt
import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from benefits.plugins.connector import RECORD_FIELDS, UNREADABLE, ColumnMapping, Connector, ConnectorError, MetricInfo
from benefits.plugins.hookspecs import hookimpl
from benefits.plugins.numbers import NumberFormat

EXCEL_SUFFIXES = (".xlsx", ".xlsm")


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
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value


@dataclass(frozen=True)
class _Layout:
    """Where each field is in one file: a column position, or a constant when the file has none."""

    columns: dict[str, int]
    constants: dict[str, str]
    number_format: NumberFormat | None = None
    text_cells: bool = True
    """Every cell is already text (a CSV file); a workbook's cells are turned into text here."""

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
            metric, unit = record.get("metric"), record.get("unit")
            if isinstance(metric, str) and isinstance(unit, str) and not _blank(metric) and not _blank(unit):
                seen.setdefault((metric, unit), None)
        return [MetricInfo(metric, unit) for metric, unit in seen]

    def records(self) -> Iterator[dict[str, Any]]:
        """One record per non-blank data row of every matched file, with its ``source_ref``; then
        one ``unreadable`` record per file that could not be read (see the module's docstring)."""
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
        """(line or sheet row number, record) for each data row; the header is checked first."""
        if not os.path.isfile(path):  # opening a pipe would wait for a writer
            raise ConnectorError(f"{path}: not a regular file (a pipe, socket or device); `path` must match files")
        rows = _excel_rows(path, self.settings.sheet) if path.lower().endswith(EXCEL_SUFFIXES) else self._csv_rows(path)
        layout = None
        for line, cells in rows:
            if isinstance(cells, str):  # a line the csv module could not parse: its reason
                yield line, {UNREADABLE: f"{path}: line {line}: {cells}"}
                continue
            if all(_blank(c) for c in cells):
                continue
            if layout is None:
                layout = self._layout(path, cells)
                continue
            yield line, layout.record(cells)
        if layout is None:
            raise ConnectorError(f"{path}: no header row (the file is empty)")

    def _csv_rows(self, path: str) -> Iterator[tuple[int, list[str] | str]]:
        """(line, cells) for each row, or (line, reason) for a line the csv module cannot parse."""
        if path.lower().endswith(".xls"):
            raise ConnectorError(f"{path}: .xls files are not supported; save the sheet as .xlsx or CSV")
        try:
            with open(path, newline="", encoding=self.settings.encoding) as handle:
                reader = csv.reader(handle, delimiter=self.settings.delimiter)
                start = 1
                while True:
                    try:
                        cells: list[str] | str = next(reader)
                    except StopIteration:
                        return
                    except csv.Error as exc:  # the reader goes on with the next line
                        cells = _csv_error(exc)
                    yield start, cells
                    start = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise ConnectorError(
                f"{path}: cannot be read as {self.settings.encoding} "
                f"({exc.reason}, byte {exc.object[exc.start : exc.start + 1]!r}); set `encoding` to the file's encoding"
            ) from None
        except OSError as exc:
            raise ConnectorError(f"{path}: cannot be read ({exc.strerror or exc})") from None

    def _layout(self, path: str, header: list[Any]) -> _Layout:
        names = [_text(c).strip().lstrip("\ufeff").strip() if c is not None else "" for c in header]
        columns: dict[str, int] = {}
        constants: dict[str, str] = {}
        for field in RECORD_FIELDS:
            column = getattr(self.settings.mapping, field)
            constant = getattr(self.settings, field, None)
            if column in names:
                columns[field] = names.index(column)
            elif constant is not None:
                constants[field] = constant
            else:
                found = ", ".join(n for n in names if n) or "nothing"
                also = f", or a constant `{field}` for the whole file" if field in ("metric", "unit") else ""
                raise ConnectorError(
                    f"{path}: no column {column!r} in header (found: {found}); "
                    f"set `mapping.{field}` to the column that holds the {field}{also}"
                )
        return _Layout(columns, constants, self.settings.number_format, not path.lower().endswith(EXCEL_SUFFIXES))


def source_file(source_ref: str) -> str:
    """The file a ``source_ref`` of this connector names: ``<file>:<line>`` for a row, ``<file>`` for a file it
    could not read."""
    path, _, line = source_ref.rpartition(":")
    return path if path and line.isdigit() else source_ref


def _excel_rows(path: str, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    """Rows of one sheet as lists of cell values (None for an empty cell), numbered as in Excel."""
    import openpyxl  # only when a workbook is read
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ConnectorError(f"{path}: not a readable .xlsx workbook ({exc})") from None
    try:
        if sheet is None:
            worksheet = book.worksheets[0]
        elif sheet in book.sheetnames:
            worksheet = book[sheet]
        else:
            raise ConnectorError(f"{path}: no sheet {sheet!r} (found: {', '.join(book.sheetnames)})")
        for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        book.close()


def _text(value: Any) -> str:
    """A cell as text: dates in ISO form (a midnight datetime as a date), numbers as written."""
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _csv_error(exc: csv.Error) -> str:
    """A csv module error in words, with what to do for a field over the size limit."""
    text = str(exc)
    if text.startswith("field larger than field limit"):
        limit = csv.field_size_limit()
        return f"a field is longer than the {limit:,} characters a CSV field may have; the row is skipped"
    return text


def _none_readable(failures: list[str]) -> str:
    """The first unreadable file's reason, and how many more files failed too."""
    more = f" (and {len(failures) - 1} more files cannot be read)" if len(failures) > 1 else ""
    return f"{failures[0]}{more}"


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The csv connector."""
    return [CsvConnector]
