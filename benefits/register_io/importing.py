"""A register workbook or CSV file into the portfolio: cells converted, checked by the register's own models.

The rows become the same data that ``portfolio.yaml`` holds, remembering which cell gave each field;
:func:`benefits.register.validate_register` checks it, and each problem's path is turned back into
its cell: ``Benefits!F12: target_date: must be after the baseline date 2026-04-01 (got '2025-01-01')``.
Every problem is found at once (the first :data:`benefits.errors.SHOWN_PROBLEMS` are listed, then how many more);
nothing is returned while there is one.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from benefits.claims.money import without_thousands
from benefits.errors import BenefitsError, shown_problems
from benefits.register import Loc, Register, got, validate_register
from benefits.register_io.dates import parse_date
from benefits.register_io.layout import (
    BENEFITS,
    METRICS,
    MILESTONES,
    PORTFOLIO,
    PROFILE_POINTS,
    PROGRAMMES,
    Column,
    choice,
)
from benefits.register_io.reading import Row, Table, read_tables

_T = TypeVar("_T")
_RAW = object()
"""A problem's value is the cell's own."""
_LAST = (99, 0, 0)
"""The sort key of a problem that is not in a sheet (an option's value)."""
_THOUSANDS_MARKS = (",", " ", "\u00a0")  # the thousands separators a number cell may have
_YES = {"yes", "y", "true", "1", "x"}
_NO = {"no", "n", "false", "0"}
UNSAVED = (
    "is a formula with no saved result: open and save the workbook in Excel (or LibreOffice) so its values are stored,"
    " or type the value"
)


@dataclass(frozen=True)
class ImportProblem:
    """One problem of a register file, at a cell."""

    where: str
    field: str
    message: str
    value: object = None
    order: tuple[int, int, int] = _LAST

    def line(self) -> str:
        """``Benefits!F12: target_date: must be after the baseline date 2026-04-01 (got '2025-01-01')``."""
        value = self.value
        if isinstance(value, dt.datetime) and value.time() == dt.time():
            value = value.date()  # an Excel date cell: its date, as the user sees it
        return f"{self.where}: {self.field}: {self.message}{got(value, self.message)}"


class RegisterImportError(BenefitsError):
    """A register file with problems: every one of them, in sheet, row and column order (``problems``); its
    message lists the first :data:`benefits.errors.SHOWN_PROBLEMS`, one a line, then ``... and N more problems``."""

    def __init__(self, problems: list[ImportProblem], warnings: list[str] | None = None) -> None:
        self.problems = sorted(problems, key=lambda p: p.order)
        self.warnings = warnings or []
        super().__init__("\n".join(self.shown()))

    def shown(self) -> list[str]:
        """The lines that list the problems: the first :data:`benefits.errors.SHOWN_PROBLEMS`, and a last one saying
        how many more there are (a sheet of 150,000 bad rows is not 150,000 lines)."""
        return shown_problems(self.problems, ImportProblem.line)


@dataclass(frozen=True)
class Imported:
    """A register read from a file, and the warnings about what was left out (unknown columns)."""

    register: Register
    warnings: list[str]


def import_register(
    path: Path, *, dayfirst: bool = True, name: str | None = None, currency: str | None = None
) -> Imported:
    """Read a register workbook (``.xlsx``) or CSV file; raise RegisterImportError listing every problem.

    Numeric dates with the year last are read day first (``01/04/2026`` is 1 April) unless
    ``dayfirst`` is False. ``name`` and ``currency`` override the Portfolio sheet (a CSV file has none;
    the name then defaults to the file's name, the currency to GBP).
    """
    tables = read_tables(path)
    unsaved = _unsaved(tables)
    warnings = [
        f"{table.address(position, table.header_row)}: column {title!r} is not part of the register: ignored"
        for table in tables.values()
        for position, title in table.unknown
    ]
    missing = [
        ImportProblem(table.where(None, table.header_row), column.field, f"no column: add one headed {column.header!r}")
        for table in tables.values()
        if table.rows and table.layout is not PORTFOLIO
        for column in table.layout.columns
        if column.required and column.field not in table.columns
    ]
    if missing:
        raise RegisterImportError(missing + unsaved, warnings)
    reading = _Reading(dayfirst)
    data = reading.portfolio(tables.get(PORTFOLIO.name), name or path.stem, name, currency)
    benefits = tables[BENEFITS.name]
    if not benefits.rows:
        column = BENEFITS.column("benefit_key")
        where = benefits.where(column, benefits.header_row + 1)
        raise RegisterImportError(
            [ImportProblem(where, column.field, "no rows: fill in one row per benefit"), *unsaved], warnings
        )
    data["programmes"] = reading.programmes(tables.get(PROGRAMMES.name))
    data["initiatives"] = reading.benefits(benefits, data["programmes"])
    if MILESTONES.name in tables:
        reading.milestones(tables[MILESTONES.name], data["initiatives"])
    if PROFILE_POINTS.name in tables:
        reading.profile_points(tables[PROFILE_POINTS.name], data["initiatives"])
    reading.missing_points(data["initiatives"])
    data["metrics"] = reading.metrics(tables.get(METRICS.name))
    register = reading.check(data)
    cells = {problem.where for problem in unsaved}  # read as blank: "field required" there says no more
    problems = unsaved + [problem for problem in reading.problems if problem.where not in cells]
    if register is None or problems:
        raise RegisterImportError(problems, warnings)
    return Imported(register, warnings)


def _unsaved(tables: dict[str, Table]) -> list[ImportProblem]:
    """A problem for each formula cell without a saved value: read as blank, its value would be lost unsaid."""
    return [
        ImportProblem(table.where(column, row), column.field, UNSAVED, formula.formula, table.order(column, row))
        for table in tables.values()
        for row, name, formula in table.unsaved
        for column in (table.layout.column(name),)
    ]


@dataclass(frozen=True)
class _Cell:
    where: str
    field: str
    raw: object
    order: tuple[int, int, int]


@dataclass
class _Initiative:
    index: int
    data: dict[str, Any]
    given: dict[Loc, _Cell] = field(default_factory=dict)


@dataclass
class _Reading:
    """The state of one import: the cell of each field so far and the problems found."""

    dayfirst: bool
    cells: dict[Loc, _Cell] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)
    reported: set[Loc] = field(default_factory=set)
    benefit_at: dict[str, tuple[int, int]] = field(default_factory=dict)

    def value(self, table: Table, column: Column, row: Row, loc: Loc) -> object:
        """The cell's value converted for the register, remembered as the cell of ``loc``."""
        cell, value = self.converted(table, column, row, loc)
        self.cells[loc] = cell
        if len(loc) > 1 and loc[-2] in {"baseline", "target", "bounds"}:
            self.cells.setdefault(loc[:-1], cell)  # "baseline: field required" when both cells are blank
        return value

    def converted(self, table: Table, column: Column, row: Row, loc: Loc) -> tuple[_Cell, object]:
        """A cell and its value converted (the raw value, with a problem, when it cannot be)."""
        raw = row.values.get(column.field)
        cell = _Cell(table.where(column, row.number), column.field, raw, table.order(column, row.number))
        if raw is None:
            return cell, None
        try:
            return cell, convert(column, raw, self.dayfirst)
        except ValueError as exc:
            self.problem(cell, str(exc))
            self.reported.add(loc)
            return cell, raw

    def problem(self, cell: _Cell, message: str, value: object = _RAW) -> None:
        """Record a problem at a cell (repeating the cell's value unless another is given)."""
        shown = cell.raw if value is _RAW else value
        self.problems.append(ImportProblem(cell.where, cell.field, message, shown, cell.order))

    def entry(self, table: Table, row: Row, loc: Loc, columns: tuple[Column, ...]) -> dict[str, Any]:
        """One row's columns as an entry of the register (``{"baseline": {"value": 22, ...}, ...}``)."""
        entry: dict[str, Any] = {}
        for column in columns:
            if not column.loc:
                continue  # a reference to the entry's owner (its initiative, its benefit)
            value = self.value(table, column, row, (*loc, *column.loc))
            if value is not None:
                _put(entry, column.loc, value)
        return entry

    def portfolio(
        self, table: Table | None, default_name: str, name: str | None, currency: str | None
    ) -> dict[str, Any]:
        """The portfolio's settings: --name and --currency, else the Portfolio sheet's first row, else defaults."""
        data: dict[str, Any] = {"name": default_name}
        if table is not None and table.rows:
            data.update(self.entry(table, table.rows[0], (), PORTFOLIO.columns))
        for key, given in (("name", name), ("currency", currency)):
            if given is not None:
                data[key] = given
                self.cells[(key,)] = _Cell(f"--{key}", key, given, _LAST)
        return data

    def programmes(self, table: Table | None) -> list[dict[str, Any]]:
        """The Programmes sheet's rows (none: the programmes are made from the Benefits sheet)."""
        if table is None:
            return []
        return [self.entry(table, row, ("programmes", n), PROGRAMMES.columns) for n, row in enumerate(table.rows)]

    def benefits(self, table: Table, programmes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The initiatives and their benefits, from the Benefits sheet's rows."""
        initiatives: dict[str, _Initiative] = {}
        key_column = BENEFITS.column("initiative")
        for row in table.rows:
            key = row.values.get("initiative")
            if key is None:
                cell = _Cell(
                    table.where(key_column, row.number), "initiative", None, table.order(key_column, row.number)
                )
                self.problem(cell, "required: the key of the benefit's initiative")
                continue
            key = convert(key_column, key, self.dayfirst)
            initiative = initiatives.get(str(key))
            if initiative is None:
                initiative = initiatives[str(key)] = _Initiative(len(initiatives), {"benefits": []})
            self._initiative_fields(table, row, initiative)
            self._benefit(table, row, initiative)
        if not programmes:  # none declared: one per key the initiatives name
            named = dict.fromkeys(str(i.data["programme"]) for i in initiatives.values() if "programme" in i.data)
            programmes.extend({"key": key, "name": key} for key in named)
        return [initiative.data for initiative in initiatives.values()]

    def _initiative_fields(self, table: Table, row: Row, initiative: _Initiative) -> None:
        """An initiative's fields from one of its rows: the first value given counts, a different one is a problem."""
        for column in BENEFITS.columns:
            if not column.initiative:
                continue
            loc: Loc = ("initiatives", initiative.index, *column.loc)
            if row.values.get(column.field) is None:
                blank = _Cell(table.where(column, row.number), column.field, None, table.order(column, row.number))
                self.cells.setdefault(loc, blank)
                continue
            first = initiative.given.get(loc)
            cell, value = self.converted(table, column, row, loc)
            if first is None:
                initiative.given[loc] = self.cells[loc] = cell
                _put(initiative.data, column.loc, value)
            elif value != initiative.data.get(str(column.loc[0])):
                self.problem(cell, f"differs from '{_text(first.raw)}' given for this initiative in {first.where}")

    def _benefit(self, table: Table, row: Row, initiative: _Initiative) -> None:
        columns = tuple(c for c in BENEFITS.columns if not c.initiative)
        if all(row.values.get(c.field) is None for c in columns):
            return  # an initiative without benefits (yet)
        b = len(initiative.data["benefits"])
        loc: Loc = ("initiatives", initiative.index, "benefits", b)
        key_column = BENEFITS.column("benefit_key")
        self.cells[loc] = _Cell(table.where(key_column, row.number), "benefit_key", None, table.order(None, row.number))
        benefit = self.entry(table, row, loc, columns)
        initiative.data["benefits"].append(benefit)
        if isinstance(benefit.get("key"), str):
            self.benefit_at.setdefault(benefit["key"], (initiative.index, b))

    def milestones(self, table: Table, initiatives: list[dict[str, Any]]) -> None:
        """Each Milestones row into its initiative's milestones."""
        index = {str(data.get("key")): i for i, data in enumerate(initiatives)}
        for row in table.rows:
            i = self._owner(table, "initiative", row, index)
            if i is not None:
                listed = initiatives[i].setdefault("milestones", [])
                loc: Loc = ("initiatives", i, "milestones", len(listed))
                listed.append(self.entry(table, row, loc, MILESTONES.columns))

    def profile_points(self, table: Table, initiatives: list[dict[str, Any]]) -> None:
        """Each Profile points row into its benefit's profile (whose Profile is 'points', or blank)."""
        for row in table.rows:
            found = self._owner(table, "benefit_key", row, self.benefit_at)
            if found is None:
                continue
            i, b = found
            benefit = initiatives[i]["benefits"][b]
            profile = benefit.get("profile", "points")
            if profile == "points":
                profile = benefit["profile"] = {"points": []}
            if not isinstance(profile, dict):
                cell = self.cells[("initiatives", i, "benefits", b, "profile")]
                self.problem(cell, f"is {profile!r}: write 'points' to plan by the rows of '{PROFILE_POINTS.name}'")
                continue
            loc: Loc = ("initiatives", i, "benefits", b, "profile", "points", len(profile["points"]))
            profile["points"].append(self.entry(table, row, loc, PROFILE_POINTS.columns))

    def missing_points(self, initiatives: list[dict[str, Any]]) -> None:
        """A problem for each benefit whose Profile is 'points' without any rows in the Profile points sheet."""
        for i, initiative in enumerate(initiatives):
            for b, benefit in enumerate(initiative["benefits"]):
                if benefit.get("profile") == "points":
                    loc: Loc = ("initiatives", i, "benefits", b, "profile")
                    self.problem(self.cells[loc], f"no rows for this benefit in the '{PROFILE_POINTS.name}' sheet")
                    self.reported.add(loc)

    def _owner(self, table: Table, field: str, row: Row, found: dict[str, _T]) -> _T | None:
        """What a row's reference column names (its initiative, its benefit); a problem when nothing is named."""
        column = table.layout.column(field)
        key = row.values.get(field)
        owner = found.get(_text(key)) if key is not None else None
        if owner is None:
            cell = _Cell(table.where(column, row.number), field, key, table.order(column, row.number))
            self.problem(
                cell, f"no such {column.header.lower()} on the Benefits sheet" if key is not None else "required"
            )
        return owner

    def metrics(self, table: Table | None) -> list[dict[str, Any]]:
        """The Metrics sheet's rows: the catalogue."""
        if table is None:
            return []
        return [self.entry(table, row, ("metrics", n), METRICS.columns) for n, row in enumerate(table.rows)]

    def check(self, data: dict[str, Any]) -> Register | None:
        """Validate with the register's models; each problem is recorded at the cell its path came from."""
        register, problems = validate_register(data)
        for problem in problems:
            if any(problem.loc[:n] in self.reported for n in range(len(problem.loc), 0, -1)):
                continue  # a cell that could not be converted: already reported
            cell, exact = self._cell_for(problem.loc)
            if cell is None:
                where = ".".join(str(part) for part in problem.loc) or "(portfolio)"
                self.problems.append(ImportProblem(BENEFITS.name, where, problem.message, problem.value))
            else:
                self.problem(cell, problem.message, cell.raw if exact else problem.value)
        return register

    def _cell_for(self, loc: Loc) -> tuple[_Cell | None, bool]:
        for n in range(len(loc), 0, -1):
            if loc[:n] in self.cells:
                return self.cells[loc[:n]], n == len(loc)
        return None, False


def convert(column: Column, raw: object, dayfirst: bool = True) -> object:
    """A cell's value in the form the register takes; ValueError with a message when it has none."""
    if column.kind == "date":
        return parse_date(raw, dayfirst=dayfirst)
    if column.kind in {"number", "integer"}:
        number = _number(raw)
        if column.kind == "integer":
            if number != int(number):
                raise ValueError("must be a whole number")
            return int(number)
        return number
    if column.kind == "yes_no":
        return _yes_no(raw)
    text = _text(raw)
    if column.kind == "choice":
        written = choice(text)
        if written not in column.choices:
            raise ValueError(f"must be one of {', '.join(column.choices)}")
        return written
    return text


def _number(raw: object) -> float:
    """A number cell: a number, or text such as ``£1,234.5`` or ``1 234``, whose thousands separators (comma,
    space, no-break space) must separate groups of three digits (``52,5`` is refused, never read as 525)."""
    if isinstance(raw, bool) or isinstance(raw, dt.date):
        raise ValueError("must be a number")
    if isinstance(raw, int | float):
        number = float(raw)
    else:
        text = str(raw).strip().lstrip("£$€").strip()
        try:
            number = float(text.replace(",", "").replace(" ", "").replace("\u00a0", ""))
        except ValueError:
            raise ValueError("must be a number (thousands separators and a leading £, $ or € are fine)") from None
        try:
            without_thousands(text, _THOUSANDS_MARKS)
        except ValueError as exc:
            raise ValueError(f"must be a number: {exc}") from None
    if not math.isfinite(number):  # nan, inf, or too large for a float (1e400)
        raise ValueError("must be a finite number")
    return number


def _yes_no(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).lower()
    if text in _YES or text in _NO:
        return text in _YES
    raise ValueError("must be yes or no")


def _text(raw: object) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat()
    return str(raw).strip()


def _put(entry: dict[str, Any], loc: Loc, value: object) -> None:
    for part in loc[:-1]:
        entry = entry.setdefault(str(part), {})
    entry[str(loc[-1])] = value
