"""Validate one batch of observations from one connector with Great Expectations.

The batch is the connector's raw output: columns ``row`` (the record number within the sync),
``metric``, ``period``, ``value`` and ``unit``, object dtype, holding whatever the connector
yielded. :func:`validate_batch` prepares a typed frame, runs an expectation suite built in code
against it (one ephemeral GX context per call) and turns the GX results into our own types at once:
:class:`ValidationOutcome` with the accepted rows and a :class:`QuarantineEntry` per rejected row,
carrying every reason that row failed.

Great Expectations is imported lazily, inside the validating code path: ``import
benefits.validation`` must stay fast because the CLI imports it (GX takes ~4-5 s to import).

Growth points: :func:`validate_batch_with` takes any list of row-level GX expectation objects on
the typed frame (:func:`default_expectations` plus, later, register, unit, bounds and plugin
checks), and :func:`build_suite` turns such a list into a suite. An expectation's reason text comes from :data:`REASONS` (by expectation type) unless the expectation carries
``meta={"reason": "..."}``. Reason templates are ``str.format`` strings with these fields:
``field`` (the batch field(s) the expectation checks), ``raw`` (the connector's value, quoted when a
string), ``value`` (the typed value GX saw) and every argument of the expectation (``max_value``,
``regex``, ...), formatted for people.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from benefits.errors import BenefitsError

if TYPE_CHECKING:  # pragma: no cover - typing only; GX is imported lazily
    from great_expectations.expectations import Expectation

__all__ = [
    "BATCH_COLUMNS",
    "FIELD_OF_COLUMN",
    "REASONS",
    "UNREADABLE_REASONS",
    "QuarantineEntry",
    "ValidationOutcome",
    "build_suite",
    "default_expectations",
    "prepare_frame",
    "validate_batch",
    "validate_batch_with",
]

#: Columns every batch must have (``row`` is added by the sync, the rest come from the connector).
BATCH_COLUMNS = ("row", "metric", "period", "value", "unit")

#: A number as text: optional sign, digits with an optional fraction, optional exponent.
#: ASCII digits only. ``inf``, ``nan``, ``1,234``, ``0x10`` and ``1_000`` are not numbers here.
NUMBER_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

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
    "period": "{field}: {raw} is not an ISO date (YYYY-MM-DD)",
}
DEFAULT_UNREADABLE_REASON = "{field}: {raw} could not be read"

_NOT_NULL = "expect_column_values_to_not_be_null"
#: Every failing row, named by ``row``. ``exclude_unexpected_values`` drops the failing values
#: (we read them from our own frames) and makes GX report ``[{"row": [...]}]``; on 100k failing
#: rows it halves the run, most of which is GX serialising the result into its in-memory store.
_RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["row"],
    "exclude_unexpected_values": True,
}


@dataclass(frozen=True)
class QuarantineEntry:
    """One rejected row, kept whole with every reason it was rejected."""

    row: int  # the record number within the sync (from the batch's `row` column)
    record: dict[str, Any]  # the row verbatim as the connector gave it, JSON-safe
    reasons: list[str]  # every reason, human readable, naming the field


# eq=False: a generated __eq__ would compare DataFrames, which raises instead of answering.
@dataclass(frozen=True, eq=False)
class ValidationOutcome:
    """What validation made of one batch."""

    rows_read: int
    accepted: pd.DataFrame  # row:int, metric:str, period: datetime.date, value: float, unit: str
    quarantined: list[QuarantineEntry]
    statistics: dict[str, dict]  # one JSON-safe entry per expectation
    success: bool  # True when nothing was quarantined


# --------------------------------------------------------------------------------------------
# Public entry points


def validate_batch(batch: pd.DataFrame, *, as_of: dt.date) -> ValidationOutcome:
    """Validate one connector batch against the default expectations as of ``as_of``."""
    return validate_batch_with(batch, default_expectations(as_of=as_of))


def validate_batch_with(batch: pd.DataFrame, expectations: Sequence[Expectation]) -> ValidationOutcome:
    """Validate ``batch`` against ``expectations`` (GX expectation objects on the typed frame).

    Every expectation must be row-level (a column map or multicolumn map expectation), so that
    failing rows are identified by ``row``. An expectation that errored, or that failed without
    naming rows, fails the whole batch with a :class:`BenefitsError`.
    """
    frame = prepare_frame(batch)
    results = _run_suite(frame, expectations)

    reasons_by_row: dict[int, list[str]] = {}
    statistics: dict[str, dict] = {}
    rows = _Rows(batch, frame)
    for expectation, result in results:
        statistics[_statistics_key(expectation, statistics)] = _statistics_entry(expectation, result)
        if result.success:
            continue
        reason_for = _ReasonMaker(expectation, rows)
        for row in _unexpected_rows(result):
            reason = reason_for(row)
            reasons = reasons_by_row.setdefault(row, [])
            if reason not in reasons:
                reasons.append(reason)

    failed = frame["row"].isin(list(reasons_by_row)).to_numpy()
    quarantined = [
        QuarantineEntry(row=row, record=rows.record(row), reasons=reasons_by_row[row])
        for row in frame.loc[failed, "row"].tolist()
    ]
    accepted = _accepted(frame.loc[~failed])
    outcome = ValidationOutcome(
        rows_read=len(batch),
        accepted=accepted,
        quarantined=quarantined,
        statistics=statistics,
        success=not quarantined,
    )
    assert outcome.rows_read == len(outcome.accepted) + len(outcome.quarantined)
    return outcome


def default_expectations(*, as_of: dt.date) -> list[Expectation]:
    """The expectations every batch must meet, on the columns of :func:`prepare_frame`."""
    gxe = _gx().expectations
    as_of = _as_date(as_of)
    return [
        gxe.ExpectColumnValuesToNotBeNull(column="metric"),
        gxe.ExpectColumnValuesToNotBeNull(column="period"),
        gxe.ExpectColumnValuesToNotBeNull(column="value_text"),
        gxe.ExpectColumnValuesToNotBeNull(column="unit"),
        gxe.ExpectColumnValuesToMatchRegex(
            column="value_text",
            regex=NUMBER_PATTERN,
            meta={"reason": "{field}: {raw} is not a number"},
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="value",
            min_value=-sys.float_info.max,
            max_value=sys.float_info.max,
            meta={"reason": "{field}: {raw} is not a finite number"},
        ),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["metric", "period"],
            ignore_row_if="any_value_is_missing",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="period",
            max_value=dt.datetime.combine(as_of, dt.time()),
            meta={"reason": "{field}: {value} is in the future (after {max_value})"},
        ),
    ]


def build_suite(context: Any, expectations: Sequence[Expectation], name: str = "benefits.batch") -> Any:
    """Add an expectation suite holding ``expectations`` to ``context`` and return it."""
    gx = _gx()
    suite = context.suites.add(gx.ExpectationSuite(name=name))
    for expectation in expectations:
        # A suite takes ownership (sets ``id``); add a copy so that callers can reuse theirs.
        suite.add_expectation(expectation.copy(update={"id": None}, deep=True))
    return suite


def prepare_frame(batch: pd.DataFrame) -> pd.DataFrame:
    """Type a raw batch for GX: one row per batch row, in order.

    - ``metric``, ``unit``: str, or None when missing (None, NaN, blank);
    - ``period``: datetime64[s]; NaT when missing or not a strict ISO date (``YYYY-MM-DD``, a
      ``datetime.date``, or a ``datetime.datetime`` at midnight);
    - ``value_text``: the value as text (stripped), None when missing, for the number pattern;
    - ``value``: float64 parsed from ``value_text`` when it is a number, NaN otherwise.
    """
    missing = [column for column in BATCH_COLUMNS if column not in batch.columns]
    if missing:
        raise BenefitsError(f"batch: missing column(s) {', '.join(missing)}")
    rows = pd.to_numeric(batch["row"], errors="coerce")
    if rows.isna().any() or (rows % 1 != 0).any() or rows.duplicated().any():
        raise BenefitsError("batch: column 'row' must hold a unique integer for every row")

    value_text = _texts(batch["value"], strip=True)
    numeric = value_text.where(value_text.str.fullmatch(NUMBER_PATTERN).fillna(False).astype(bool))
    return pd.DataFrame(
        {
            "row": rows.astype("int64").to_numpy(),
            "metric": _texts(batch["metric"]).to_numpy(dtype=object),
            "period": _periods(batch["period"]),
            "value_text": value_text.to_numpy(dtype=object),
            "value": pd.to_numeric(numeric, errors="coerce").astype("float64").to_numpy(),
            "unit": _texts(batch["unit"]).to_numpy(dtype=object),
        }
    )


# --------------------------------------------------------------------------------------------
# Running GX


def _gx() -> Any:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    import great_expectations.expectations  # noqa: F401  (gx.expectations)

    return gx


def _run_suite(frame: pd.DataFrame, expectations: Sequence[Expectation]) -> list[tuple[Any, Any]]:
    """Run ``expectations`` on ``frame``; return (expectation, result) pairs in suite order."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    asset = context.data_sources.add_pandas("benefits").add_dataframe_asset("batch")
    batch_definition = asset.add_batch_definition_whole_dataframe("whole batch")
    suite = build_suite(context, expectations)
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name="benefits.batch", data=batch_definition, suite=suite)
    )
    run = validation.run(batch_parameters={"dataframe": frame}, result_format=_RESULT_FORMAT)

    by_id = {result.expectation_config.id: result for result in run.results}
    pairs = []
    for expectation in suite.expectations:
        result = by_id.get(expectation.id)
        if result is None:
            raise BenefitsError(f"validation: {_describe(expectation)} returned no result")
        error = _error_message(result)
        if error is not None:
            raise BenefitsError(f"validation: {_describe(expectation)} errored: {error}")
        if not result.success and "unexpected_index_list" not in (result.result or {}):
            raise BenefitsError(f"validation: {_describe(expectation)} failed for the whole batch")
        pairs.append((expectation, result))
    return pairs


def _error_message(result: Any) -> str | None:
    """The first error of an expectation result, in either shape GX reports it, else None.

    GX reports ``{"raised_exception": True, "exception_message": ...}`` for an expectation that
    raised, but an error while computing a metric (a missing column, say) comes back keyed by an
    internal metric id: ``{"MetricConfigurationID(...)": {"raised_exception": True, ...}}``.
    """
    info = result.exception_info or {}
    candidates = [info] + [v for v in info.values() if isinstance(v, Mapping)]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "unknown error")
            return " ".join(message.split())
    return None


# --------------------------------------------------------------------------------------------
# Results -> our types


class _ReasonMaker:
    """Reason text for the rows one expectation rejected (the template is resolved once)."""

    def __init__(self, expectation: Any, rows: _Rows) -> None:
        columns = _columns(expectation)
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
            {name: _show(arg) for name, arg in _kwargs(expectation).items() if name not in ("column", "column_list")}
        )
        self._values.update(
            expectation=expectation.expectation_type,
            field=", ".join(FIELD_OF_COLUMN.get(c, c) for c in columns),
            raw="",
            value="",
        )

    def __call__(self, row: int) -> str:
        if self._field is None:  # several columns: no single raw or typed value to show
            return self._template.format_map(self._values)
        raw = self._rows.raw(row, self._field)
        template = self._template
        if self._unreadable is not None and not _is_missing(raw):
            template = self._unreadable  # present, but the typed column could not hold it
        self._values["raw"] = _show(raw, quote=True)
        self._values["value"] = _show(self._rows.typed(row, self._column))
        return template.format_map(self._values)


class _TemplateValues(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def _statistics_key(expectation: Any, taken: Mapping[str, Any]) -> str:
    key = f"{expectation.expectation_type}({', '.join(_columns(expectation))})"
    n = 2
    unique = key
    while unique in taken:
        unique, n = f"{key}#{n}", n + 1
    return unique


def _statistics_entry(expectation: Any, result: Any) -> dict[str, Any]:
    columns = _columns(expectation)
    return {
        "expectation": expectation.expectation_type,
        "column": columns[0] if len(columns) == 1 else list(columns),
        "success": bool(result.success),
        "unexpected_count": int((result.result or {}).get("unexpected_count") or 0),
    }


def _columns(expectation: Any) -> list[str]:
    kwargs = _kwargs(expectation)
    if kwargs.get("column") is not None:
        return [str(kwargs["column"])]
    if kwargs.get("column_list"):
        return [str(c) for c in kwargs["column_list"]]
    if kwargs.get("column_A") is not None:
        return [str(kwargs["column_A"]), str(kwargs["column_B"])]
    return ["batch"]


def _kwargs(expectation: Any) -> dict[str, Any]:
    kwargs = dict(expectation.configuration.kwargs)
    kwargs.pop("batch_id", None)
    return kwargs


def _describe(expectation: Any) -> str:
    return f"{expectation.expectation_type} on {', '.join(_columns(expectation))}"


def _accepted(frame: pd.DataFrame) -> pd.DataFrame:
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


class _Rows:
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
        column = self._raw_arrays().get(field)
        return None if column is None else column[self._at(row)]

    def typed(self, row: int, column: str) -> Any:
        if column not in self._typed:
            if column not in self._frame.columns:
                return None
            self._typed[column] = self._frame[column].to_numpy()
        return self._typed[column][self._at(row)]

    def record(self, row: int) -> dict[str, Any]:
        position = self._at(row)
        return {name: _json_safe(values[position]) for name, values in self._raw_arrays().items() if name != "row"}

    def _raw_arrays(self) -> dict[str, np.ndarray]:
        if not self._raw:
            self._raw = {str(name): self._batch[name].to_numpy(dtype=object) for name in self._batch.columns}
        return self._raw


def _unexpected_rows(result: Any) -> list[int]:
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


# --------------------------------------------------------------------------------------------
# Raw values


def _is_missing(value: Any) -> bool:
    """None, NaN, NA, NaT, or a blank string."""
    if isinstance(value, str):
        return not value.strip()
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


def _texts(raw: pd.Series, *, strip: bool = False) -> pd.Series:
    """Each value as text (``str(value)``), None when missing (None, NaN, NaT, blank)."""
    text = raw.astype("str")
    stripped = text.str.strip()
    if strip:
        text = stripped
    text = text.where(stripped.ne("").fillna(False).astype(bool))
    return text.astype(object).where(text.notna(), None)


def _periods(raw: pd.Series) -> np.ndarray:
    """Parse periods (each distinct value once) to datetime64, NaT when missing or unreadable.

    The unit is ns when every date fits (GX compares datetime64[ns] columns vectorised, other
    units one value at a time), else s, so that dates such as 9999-12-31 survive to be judged.
    """
    try:
        codes, uniques = pd.factorize(raw.to_numpy(dtype=object))
        parsed = np.array([_parse_period(v) for v in uniques] + [None], dtype="datetime64[D]")
        days = parsed[codes]  # code -1 (missing) picks the trailing None
    except TypeError:  # unhashable values: parse one by one
        days = np.array([_parse_period(v) for v in raw], dtype="datetime64[D]")
    known = days[~np.isnat(days)]
    fits_ns = known.size == 0 or (known.min() >= _NS_MIN and known.max() <= _NS_MAX)
    return days.astype("datetime64[ns]" if fits_ns else "datetime64[s]")


_NS_MIN = np.datetime64(pd.Timestamp.min.ceil("D").date(), "D")
_NS_MAX = np.datetime64(pd.Timestamp.max.floor("D").date(), "D")


def _parse_period(value: Any) -> dt.date | None:
    """A strict ISO date, or None. Accepts ``date``, midnight ``datetime``, ``'YYYY-MM-DD'``."""
    if _is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date() if value.time() == dt.time() else None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DATE.fullmatch(text):
            try:
                return dt.date.fromisoformat(text)
            except ValueError:
                return None
    return None


def _as_date(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"as_of must be a datetime.date, not {type(value).__name__}")


def _show(value: Any, *, quote: bool = False) -> str:
    """A value as people read it in a reason: dates in ISO form, strings quoted when asked."""
    if isinstance(value, str):
        return repr(value) if quote else value
    if _is_missing(value):
        return "missing"
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def _json_safe(value: Any) -> Any:
    """A raw connector value as JSON: dates -> ISO strings, NaN/None -> None, others -> str."""
    if isinstance(value, str):
        return str(value)  # verbatim, blank included (np.str_ -> str)
    if _is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)  # Decimal, numpy datetime64, anything else
