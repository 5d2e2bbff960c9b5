"""Rendering status rows as a terminal table, JSON or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from benefits import spreadsheet
from benefits.status import StatusRow

COLUMNS = (
    ("benefit", "BENEFIT"),
    ("initiative", "INITIATIVE"),
    ("category", "CATEGORY"),
    ("planned_to_date", "PLANNED"),
    ("realised_to_date", "REALISED"),
    ("unit", "UNIT"),
    ("percent_realised", "% OF TARGET"),
    ("cash_to_date", "CASH TO DATE"),
    ("run_rate", "RUN-RATE /YR"),
    ("p_on_time", "P(ON TIME)"),
    ("expected_landing", "LANDING"),
    ("overdue_actions", "OVERDUE"),  # open actions past their due date (`benefits action list --overdue`)
    ("status", "STATUS"),
)


PREVIOUS = ("previous_status", "WAS")  # before STATUS in the table of changes (`benefits status --changes`)
CHANGE = ("change", "CHANGE")  # re-baselined or status changed, before WAS in the table of changes


def render_status(rows: Sequence[StatusRow], fmt: str, changes: bool = False) -> str:
    """Rows as ``table``, ``json`` (a list of objects) or ``csv``; ends with a newline. The table
    of ``changes`` has what changed (re-baselined, or status changed) and the previous forecast run's
    status (WAS) before the status. The table's money
    (cash to date, run-rate per year) is in whole units of the register's currency, rounded half up;
    JSON and CSV carry it to the penny."""
    if fmt == "json":
        return json.dumps([row.as_dict() for row in rows], indent=2, default=_decimal_text) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(StatusRow.__dataclass_fields__))
        writer.writeheader()
        writer.writerows(spreadsheet.row(row.as_dict()) for row in rows)
        return buffer.getvalue()
    return _table(rows, (*COLUMNS[:-1], CHANGE, PREVIOUS, COLUMNS[-1]) if changes else COLUMNS)


def forecast_note(rows: Sequence[StatusRow], as_of: dt.date) -> str:
    """The line under `benefits status --as-of DATE`'s table saying which forecast its P(ON TIME), LANDING and
    STATUS come from when it is not of DATE itself: the latest made as of DATE or before, never a later one (or
    that there was none); ``""`` when the forecast is of DATE."""
    made = max((row.forecast_as_of for row in rows if row.forecast_as_of), default=None)
    if made is None:
        return f"no forecast as of {as_of} or before: P(ON TIME) and LANDING are empty\n"
    if made == as_of.isoformat():
        return ""
    return f"P(ON TIME), LANDING and STATUS: the forecast as of {made}, the latest at or before {as_of}\n"


def _decimal_text(value: object) -> str:
    """Money (Decimal) in JSON: exact decimal text, as in the claims' JSON."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal):  # money, in whole units of the register's currency
        return f"{value.quantize(Decimal(1), rounding=ROUND_HALF_UP):,}"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _table(rows: Sequence[StatusRow], columns: Sequence[tuple[str, str]]) -> str:
    cells = [[_cell(getattr(row, field)) for field, _ in columns] for row in rows]
    headers = [title for _, title in columns]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)]
    numeric = {
        i
        for i, (field, _) in enumerate(columns)
        if field in {"planned_to_date", "realised_to_date", "percent_realised", "p_on_time", "cash_to_date", "run_rate"}
    }

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if i in numeric else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), *(line(c) for c in cells)]) + "\n"
