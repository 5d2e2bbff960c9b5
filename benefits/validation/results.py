"""Our own result types, and the step that turns GX results into them (reasons, statistics).

Reason templates are ``str.format`` strings with these fields: ``field`` (the batch field(s) the
expectation checks), ``raw`` (the connector's value, quoted when a string), ``value`` (the typed
value GX saw), ``at.<column>`` (any column of the typed frame for that row, e.g. ``at.metric``,
``at.min_value``; shortened like ``raw``, a ``*_hint`` column whole), every argument of the expectation
(``max_value``, ``regex``, ...) and the :data:`HINTS` (``number_format_hint``, ``period_hint``: text to append,
made from ``raw``), all formatted for people, on one line. An expectation's reason comes from :data:`REASONS` (by
expectation type) unless it carries ``meta={"reason": "..."}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from benefits.errors import shorten
from benefits.validation.frame import is_missing, is_nan, json_safe, number_format_hint, period_hint, show

#: Columns of the typed frame that stand for a batch field under another name.
FIELD_OF_COLUMN: dict[str, str] = {"value_text": "value"}

#: Default reason text per expectation type. An expectation's ``meta["reason"]`` overrides it.
REASONS: dict[str, str] = {
    "expect_column_values_to_not_be_null": "{field}: missing",
    "expect_column_values_to_match_regex": "{field}: {raw} does not match {regex}",
    "expect_column_values_to_be_in_set": "{field}: {raw} is not one of {value_set}",
    "expect_column_values_to_be_between": "{field}: {value} is outside [{min_value}, {max_value}]",
    "expect_column_values_to_be_unique": "{field}: duplicate of another row in this batch",
    "expect_compound_columns_to_be_unique": "({field}): duplicate of another row in this batch",
}
#: Fallback for an expectation type that has no entry in :data:`REASONS` and no meta reason.
DEFAULT_REASON = "{field}: fails {expectation}"

#: A not-null check on a typed column fails both when the field is missing and when the
#: connector's value could not be read as that type; the second case gets this reason instead.
UNREADABLE_REASONS: dict[str, str] = {
    "period": "{field}: {raw} is not an ISO date (YYYY-MM-DD){period_hint}",
}
DEFAULT_UNREADABLE_REASON = "{field}: {raw} could not be read"
#: A field whose float NaN from a connector is not a missing value but one that is not a number (its record keeps
#: it as ``"nan"``); a NaN in any other field (pandas' blank cell) is missing.
NAN_FIELDS: dict[str, str] = {"value": "{field}: not a number (NaN)"}
#: Hints a reason template may name, each made from the row's value of the checked field ("" for no hint).
HINTS: dict[str, Callable[[Any], str]] = {"number_format_hint": number_format_hint, "period_hint": period_hint}
_NOT_NULL = "expect_column_values_to_not_be_null"


@dataclass(frozen=True)
class QuarantineEntry:
    """One rejected row, kept whole with every reason it was rejected."""

    row: int  # the record number within the sync (from the batch's `row` column)
    record: dict[str, Any]  # the row verbatim as the connector gave it (source_ref included), JSON-safe
    reasons: list[str]  # every reason, human readable, naming the field


@dataclass(frozen=True)
class RowWarning:
    """An accepted row that failed a warning-severity expectation (e.g. the jump check)."""

    row: int
    record: dict[str, Any]
    reasons: list[str]


# eq=False: a generated __eq__ would compare DataFrames, which raises instead of answering.
@dataclass(frozen=True, eq=False)
class ValidationOutcome:
    """What validation made of one batch (or one chunk of a sync run)."""

    rows_read: int
    accepted: pd.DataFrame  # row:int, metric:str, period: datetime.date, value: float, unit: str
    quarantined: list[QuarantineEntry]
    statistics: dict[str, dict]  # one JSON-safe entry per expectation, see statistics_entry
    success: bool  # True when nothing was quarantined
    warnings: list[RowWarning] = field(default_factory=list)  # accepted rows, loaded but shown


def is_warning(expectation: Any) -> bool:
    """True for an expectation whose failures warn instead of quarantining."""
    return str(getattr(expectation.severity, "value", expectation.severity)) == "warning"


class ReasonMaker:
    """Reason text for the rows one expectation rejected (the template is resolved once)."""

    def __init__(self, expectation: Any, rows: Rows) -> None:
        columns = columns_of(expectation)
        self._rows = rows
        self._column = columns[0] if len(columns) == 1 else None
        self._field = FIELD_OF_COLUMN.get(columns[0], columns[0]) if self._column else None
        self._template = (expectation.meta or {}).get("reason") or REASONS.get(
            expectation.expectation_type, DEFAULT_REASON
        )
        self._unreadable = None
        if expectation.expectation_type == _NOT_NULL and self._field:
            self._unreadable = UNREADABLE_REASONS.get(self._field, DEFAULT_UNREADABLE_REASON)
        self._values = _TemplateValues(
            {name: show(arg) for name, arg in kwargs_of(expectation).items() if name not in ("column", "column_list")}
        )
        self._values.update(
            expectation=expectation.expectation_type,
            field=", ".join(FIELD_OF_COLUMN.get(c, c) for c in columns),
            raw="",
            value="",
        )
        self._values.update(dict.fromkeys(HINTS, ""))
        templates = self._template + (self._unreadable or "")
        self._hints = {name: hint for name, hint in HINTS.items() if f"{{{name}}}" in templates}

    def __call__(self, row: int) -> str:
        self._values["at"] = _TypedRow(self._rows, row)
        if self._field is None or self._column is None:  # several columns: no single raw or typed value to show
            return self._template.format_map(self._values)
        raw = self._rows.raw(row, self._field)
        template = self._template
        if self._unreadable is not None and not is_missing(raw):
            template = self._unreadable  # present, but the typed column could not hold it
        elif self._unreadable is not None and self._field in NAN_FIELDS and is_nan(raw):
            template = NAN_FIELDS[self._field]  # a number's NaN: there, but not a number
        self._values["raw"] = show(raw, quote=True)
        self._values["value"] = show(self._rows.typed(row, self._column))
        for name, hint in self._hints.items():
            self._values[name] = hint(raw)
        return template.format_map(self._values)


class _TemplateValues(dict):
    def __missing__(self, key: str) -> str:
        return "?"


class _TypedRow:
    """``{at.<column>}`` in a reason template: a typed-frame value of one row, shown for people; at most its first
    :data:`~benefits.errors.SHOWN` characters (a 5,000-character unit is not repeated whole), except a hint the
    framework wrote (a column named ``*_hint``, e.g. ``metric_hint``), kept whole."""

    def __init__(self, rows: Rows, row: int) -> None:
        self._rows, self._row = rows, row

    def __getattr__(self, column: str) -> str:
        text = show(self._rows.typed(self._row, column))
        return text if column.endswith("_hint") else shorten(text)


def statistics_key(expectation: Any, taken: Mapping[str, Any]) -> str:
    """A readable, unique key for an expectation: ``<type>(<columns>)``, numbered when repeated."""
    key = f"{expectation.expectation_type}({', '.join(columns_of(expectation))})"
    n = 2
    unique = key
    while unique in taken:
        unique, n = f"{key}#{n}", n + 1
    return unique


def statistics_entry(expectation: Any, result: Any) -> dict[str, Any]:
    """``{expectation, column, severity, success, unexpected_count}`` of one expectation's result."""
    columns = columns_of(expectation)
    return {
        "expectation": expectation.expectation_type,
        "column": columns[0] if len(columns) == 1 else list(columns),
        "severity": "warning" if is_warning(expectation) else "critical",
        "success": bool(result.success),
        "unexpected_count": int((result.result or {}).get("unexpected_count") or 0),
    }


def columns_of(expectation: Any) -> list[str]:
    """The typed-frame columns an expectation checks (``["batch"]`` for a table expectation)."""
    kwargs = kwargs_of(expectation)
    if kwargs.get("column") is not None:
        return [str(kwargs["column"])]
    if kwargs.get("column_list"):
        return [str(c) for c in kwargs["column_list"]]
    if kwargs.get("column_A") is not None:
        return [str(kwargs["column_A"]), str(kwargs["column_B"])]
    return ["batch"]


def kwargs_of(expectation: Any) -> dict[str, Any]:
    """An expectation's arguments, without GX's ``batch_id``."""
    kwargs = dict(expectation.configuration.kwargs)
    kwargs.pop("batch_id", None)
    return kwargs


def describe(expectation: Any) -> str:
    """``<type> on <columns>``, for error messages."""
    return f"{expectation.expectation_type} on {', '.join(columns_of(expectation))}"


def accepted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The accepted rows in the outcome's column types (periods as ``datetime.date``)."""
    periods = frame["period"].to_numpy(dtype="datetime64[D]").astype(object)
    return pd.DataFrame(
        {
            "row": frame["row"].astype("int64").to_numpy(),
            "metric": pd.Series(frame["metric"].to_numpy(), dtype="str"),
            "period": pd.Series(periods, dtype=object),
            "value": frame["value"].astype("float64").to_numpy(),
            "unit": pd.Series(frame["unit"].to_numpy(), dtype="str"),
        }
    )


class Rows:
    """A row's raw (batch) and typed (frame) values, found by ``row``; built on first use.

    The typed frame has one row per batch row, in the same order, so one position serves both.
    """

    def __init__(self, batch: pd.DataFrame, frame: pd.DataFrame) -> None:
        self._batch, self._frame = batch, frame
        self._position: dict[int, int] | None = None
        self._raw: dict[str, np.ndarray] = {}
        self._typed: dict[str, np.ndarray] = {}

    def _at(self, row: int) -> int:
        if self._position is None:
            self._position = {r: i for i, r in enumerate(self._frame["row"].tolist())}
        return self._position[row]

    def raw(self, row: int, field: str) -> Any:
        """The connector's value of ``field`` in ``row``, verbatim."""
        column = self._raw_arrays().get(field)
        return None if column is None else column[self._at(row)]

    def typed(self, row: int, column: str) -> Any:
        """The typed-frame value of ``column`` in ``row`` (None for an unknown column)."""
        if column not in self._typed:
            if column not in self._frame.columns:
                return None
            self._typed[column] = self._frame[column].to_numpy()
        return self._typed[column][self._at(row)]

    def record(self, row: int) -> dict[str, Any]:
        """The row as the connector gave it (every key but ``row``), JSON-safe (a NaN value as ``"nan"``).

        ``source_ref`` is left out when the connector gave none.
        """
        position = self._at(row)
        record = {
            name: "nan" if name in NAN_FIELDS and is_nan(values[position]) else json_safe(values[position])
            for name, values in self._raw_arrays().items()
            if name != "row"
        }
        if record.get("source_ref", "") is None:
            del record["source_ref"]
        return record

    def _raw_arrays(self) -> dict[str, np.ndarray]:
        if not self._raw:
            self._raw = {str(name): self._batch[name].to_numpy(dtype=object) for name in self._batch.columns}
        return self._raw


def unexpected_rows(result: Any) -> list[int]:
    """The ``row`` of every row an expectation rejected, from either shape GX reports.

    With ``exclude_unexpected_values`` GX groups them as ``[{"row": [1, 2, ...]}]``; otherwise
    each row comes as ``{"row": 1, <column>: <value>}``.
    """
    rows: list[int] = []
    for entry in (result.result or {}).get("unexpected_index_list") or []:
        found = entry["row"]
        if isinstance(found, list | tuple | np.ndarray):
            rows.extend(int(r) for r in found)
        else:
            rows.append(int(found))
    return rows
