"""From a connector's records to a batch frame, and from a batch frame to the typed frame GX checks.

A *batch frame* is the connector's raw output, one row per record, object dtype: ``row`` (the
record number within the sync run), the record fields ``metric``, ``period``, ``value``, ``unit``,
the optional ``source_ref`` (where the record came from, e.g. ``file.csv:12``) and any further key
the connector gave, all verbatim. The *typed frame* (:func:`prepare_frame`) holds the same rows in
the same order with typed columns for the expectations.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from benefits.errors import BenefitsError, shorten
from benefits.plugins.connector import RECORD_FIELDS
from benefits.plugins.text import printable

#: Columns every batch must have (``row`` is added by the sync, the rest come from the connector).
BATCH_COLUMNS = ("row", "metric", "period", "value", "unit")
#: The optional pointer a connector may give with each record (``file:line``, a URL, a key).
SOURCE_REF = "source_ref"

#: A number as text: optional sign, digits with an optional fraction, optional exponent.
#: ASCII digits only. ``inf``, ``nan``, ``1,234``, ``0x10`` and ``1_000`` are not numbers here.
NUMBER_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_INT_DIGITS = 4_300
"""The digits of the longest int that Python writes as text (``sys.get_int_max_str_digits()``'s default)."""
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_WEEK = re.compile(r"([0-9]{4})-?W([0-9]{2})(?:-?([1-7]))?")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")
_NUMBER = re.compile(NUMBER_PATTERN)
#: A number written with a thousands mark (``315,602``, ``1.234.567``) or a decimal comma (``12,5``).
_MARKED_NUMBER = re.compile(
    r"^[+-]?(?:[0-9]{1,3}(?:([,. '\u00a0\u202f])[0-9]{3})(?:\1[0-9]{3})*(?:[.,][0-9]+)?|[0-9]+,[0-9]+)$"
)


def batch_frame(records: Iterable[Any], *, first_row: int = 1) -> pd.DataFrame:
    """Turn a connector's records into a batch frame, numbering rows from ``first_row``.

    This is what the sync validates, chunk by chunk; the conformance kit (``benefits.testing``)
    and ``benefits quarantine retry`` build their batches with it too, so they validate exactly
    what a sync would. Every key a record has is kept
    verbatim (``source_ref`` and keys beyond the record fields included); a missing record field
    is None. A record that is not a dict raises :class:`BenefitsError` naming its row.
    """
    fixed = ("row", *RECORD_FIELDS, SOURCE_REF)
    columns: dict[str, list[Any]] = {name: [] for name in fixed}
    extra: dict[str, dict[int, Any]] = {}
    known = set(fixed)
    rows, metrics, periods, values, units, refs = (columns[name] for name in fixed)
    for position, record in enumerate(records):
        number = first_row + position
        if not isinstance(record, dict):
            raise BenefitsError(f"record {number} is a {type(record).__name__}, not a dict")
        rows.append(number)
        metrics.append(record.get("metric"))
        periods.append(record.get("period"))
        values.append(record.get("value"))
        units.append(record.get("unit"))
        refs.append(record.get(SOURCE_REF))
        if not record.keys() <= known:
            for key, value in record.items():
                if key not in columns:
                    extra.setdefault(str(key), {})[position] = value
    frame = pd.DataFrame({name: pd.Series(values_, dtype=object) for name, values_ in columns.items()})
    for name, found in extra.items():
        frame[name] = pd.Series([found.get(i) for i in range(len(frame))], dtype=object)
    return frame


def prepare_frame(batch: pd.DataFrame) -> pd.DataFrame:
    """Type a raw batch for GX: one row per batch row, in order.

    - ``metric``: str without surrounding blanks, or None when missing (None, NaN, blank);
    - ``unit``: str without surrounding blanks, or None when missing;
    - ``period``: datetime64; NaT when missing or not a strict ISO date (``YYYY-MM-DD``, a
      ``datetime.date``, or a ``datetime.datetime`` at midnight);
    - ``value_text``: the value as text (stripped), None when missing, for the number pattern;
    - ``value``: float64 parsed from ``value_text`` when it is a number (±inf when it overflows, so that the
      finite-number check rejects it), NaN otherwise (:func:`numbers`).
    """
    missing = [column for column in BATCH_COLUMNS if column not in batch.columns]
    if missing:
        raise BenefitsError(f"batch: missing column(s) {', '.join(missing)}")
    rows = pd.to_numeric(batch["row"], errors="coerce")
    if rows.isna().any() or (rows % 1 != 0).any() or rows.duplicated().any():
        raise BenefitsError("batch: column 'row' must hold a unique integer for every row")

    value_text = texts(batch["value"], strip=True)
    return pd.DataFrame(
        {
            "row": rows.astype("int64").to_numpy(),
            "metric": texts(batch["metric"], strip=True).to_numpy(dtype=object),
            "period": _periods(batch["period"]),
            "value_text": value_text.to_numpy(dtype=object),
            "value": numbers(value_text),
            "unit": texts(batch["unit"], strip=True).to_numpy(dtype=object),
        }
    )


def numbers(value_text: pd.Series) -> np.ndarray:
    """Each text that matches :data:`NUMBER_PATTERN` as a float64, NaN for every other value (None included).

    A matching text is never NaN: pandas reads it, and the few it cannot (an integer of more than
    Python's 4,300 digits, which ``int()`` refuses) are read by ``float()``, which has no such limit and
    gives ±inf for a number too large, or the number itself (``000…05`` is 5).
    """
    number = _NUMBER.fullmatch
    numeric = [t if t is not None and number(t) else None for t in value_text.tolist()]
    values = pd.to_numeric(pd.Series(numeric, dtype=object), errors="coerce").to_numpy(dtype="float64", copy=True)
    for position in np.flatnonzero(np.isnan(values)):
        text = numeric[position]
        if text is not None:
            values[position] = float(text)
    return values


def number_format_hint(raw: Any) -> str:
    """For a value that reads as a number once its thousands or decimal marks are known, a hint
    naming the setting (starting with a space); ``""`` for anything else."""
    if isinstance(raw, str) and _MARKED_NUMBER.fullmatch(raw.strip()):
        return (
            " (it has thousands or decimal marks: declare them with `number_format` in the connector's settings "
            "(csv, sql, http), e.g. {thousands: ','} or {decimal: ',', thousands: '.'})"
        )
    return ""


def period_hint(raw: Any) -> str:
    """For a period that is text but not a date, what it is instead (starting with ``": "``): an ISO week
    (with the day it starts) or a month; ``""`` for anything else."""
    if not isinstance(raw, str):
        return ""
    text = raw.strip()
    week = _ISO_WEEK.fullmatch(text)
    if week:
        year, number, day = int(week[1]), int(week[2]), int(week[3] or 1)
        try:
            date = dt.date.fromisocalendar(year, number, day)
        except ValueError:
            return f": {year} has no week {number}"
        if week[3]:
            return f": an ISO week date; write it as {date.isoformat()}"
        return f": it names a week; write the day it starts, {date.isoformat()}"
    if _MONTH.fullmatch(text):
        return ": it names a month; write one day of it"
    return ""


def texts(raw: pd.Series, *, strip: bool = False) -> pd.Series:
    """Each value as text (``str(value)``), None when missing (None, NaN, NaT, blank).

    One pass in plain Python: on object columns it is several times faster than pandas' string
    methods, and it is run on every row of every batch.
    """
    return pd.Series([_text(v, strip) for v in raw.to_numpy(dtype=object)], index=raw.index, dtype=object)


def _text(value: Any, strip: bool) -> str | None:
    if value is None:
        return None
    text = value if type(value) is str else None if is_missing(value) else as_text(value)
    if text is None or not text.strip():
        return None
    return text.strip() if strip else text


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
    if is_missing(value):
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


def as_text(value: Any) -> str:
    """``str(value)``, also for an int past Python's limit of 4,300 digits for ``str()``: its digits (read through
    Decimal, which has no such limit), so that it is judged (not a finite number) instead of failing the sync."""
    try:
        return str(value)
    except ValueError:
        if isinstance(value, int):
            return f"{Decimal(value):f}"
        raise


def is_missing(value: Any) -> bool:
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


def is_nan(value: Any) -> bool:
    """A float NaN (a value a source can hold: PostgreSQL's 'NaN', JSON's NaN, 0/0), which :func:`is_missing`
    counts as missing too."""
    return isinstance(value, float | np.floating) and math.isnan(value)


def show(value: Any, *, quote: bool = False) -> str:
    """A value as people read it in a reason, on one line: dates in ISO form, strings quoted when asked (a quoted
    one, the row's own value, at most its first :data:`~benefits.errors.SHOWN` characters: a 5,000-digit number
    is not repeated whole)."""
    if isinstance(value, str):
        return repr(shorten(value)) if quote else printable(value)
    if is_missing(value):
        return "missing"
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e18:
        return str(int(value))
    text = as_text(value)
    return shorten(text) if quote else text


def json_safe(value: Any) -> Any:
    """A raw connector value as JSON: dates -> ISO strings, NaN/None -> None, others -> str."""
    if isinstance(value, str):
        return str(value)  # verbatim, blank included (np.str_ -> str)
    if is_missing(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):  # as it is, or its digits as text past the limit of JSON's (and str()'s) 4,300
        text = as_text(value)
        return value if len(text.lstrip("-")) <= _INT_DIGITS else text
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)  # Decimal, numpy datetime64, anything else
