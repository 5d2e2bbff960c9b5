"""Series preparation: the observations that count for a benefit, its future weeks, and outliers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from benefits import realisation, register
from benefits.forecast.settings import ForecastSettings

WEEK = pd.Timedelta(days=7)
_OUTLIER_Z = 8.0


def window(benefit: register.Benefit, start: dt.date, observations: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The observations that count: baseline < period <= as_of and period >= start, finite values,
    one row per period (a cumulative measure sums repeats, a level keeps the last), sorted.
    Columns: ``period`` (datetime64, midnight) and ``value`` (float).

    Raises ValueError for a malformed frame (missing columns, unparsable periods).
    """
    missing = {"period", "value"} - set(observations.columns)
    if missing:
        raise ValueError(f"observations lack column(s) {', '.join(sorted(missing))}")
    if observations.empty:
        return pd.DataFrame({"period": pd.Series([], dtype="datetime64[ns]"), "value": pd.Series([], dtype=float)})
    try:
        periods = pd.to_datetime(observations["period"])
    except (ValueError, TypeError) as exc:
        raise ValueError(f"observations have an unparsable period: {exc}") from None
    if periods.dt.tz is not None:
        periods = periods.dt.tz_localize(None)
    period = periods.dt.normalize().to_numpy(dtype="datetime64[ns]")
    value = pd.to_numeric(observations["value"], errors="coerce").to_numpy(dtype=float)
    lower = max(np.datetime64(benefit.baseline.date, "ns") + 1, np.datetime64(start, "ns"))
    mask = (period >= lower) & (period <= np.datetime64(as_of, "ns")) & np.isfinite(value)
    order = np.argsort(period[mask], kind="stable")
    frame = pd.DataFrame({"period": period[mask][order], "value": value[mask][order]})
    if (np.diff(frame["period"].to_numpy()) > np.timedelta64(0)).all():  # one value per period: the usual case
        return frame
    how = "sum" if benefit.measure is register.Measure.cumulative else "last"
    frame = frame.groupby("period", as_index=False, sort=True)["value"].agg(how)
    return frame.reset_index(drop=True)


def tracked(benefit: register.Benefit, observed: pd.DataFrame) -> np.ndarray:
    """The tracked quantity Q at each period of a :func:`window` (``realisation.tracked``)."""
    return realisation.tracked(benefit, observed["value"].to_numpy(dtype=float))


def tracked_at(benefit: register.Benefit, observed: pd.DataFrame, at: dt.date) -> float | None:
    """Q at ``at`` from a :func:`window` (None when no period of it is on or before ``at``)."""
    return realisation.tracked_value(benefit, observed, at)


def first_reached(benefit: register.Benefit, observed: pd.DataFrame) -> dt.date:
    """The first observed period at which the improvement reached the target (the last period if none did)."""
    last = observed["period"].iloc[-1].date()
    return realisation.first_reached(benefit, observed, last) or last


def future_weeks(observed: pd.DataFrame, benefit: register.Benefit, settings: ForecastSettings) -> pd.DatetimeIndex:
    """Weekly periods from the week after the last observation up to the horizon."""
    horizon = pd.Timestamp(benefit.target.date) + settings.margin_weeks * WEEK
    first = observed["period"].iloc[-1] + WEEK
    if first > horizon:
        return pd.DatetimeIndex([])
    return pd.date_range(first, horizon, freq="7D")


def level_outliers(values: np.ndarray) -> np.ndarray:
    """Values far from their neighbours (> 8 robust standard deviations from a centred rolling
    median of 5): a mis-keyed reading of a level metric would otherwise drive its trend. A real
    step change moves the rolling median with it and stays in; flows (cumulative measures) are
    left alone, as lumpy payments are real."""
    flags = np.zeros(len(values), dtype=bool)
    if len(values) < 5:
        return flags
    rolling = pd.Series(values).rolling(5, center=True, min_periods=1).median().to_numpy()
    residual = values - rolling
    scale = 1.4826 * float(np.median(np.abs(residual)))
    if not scale > 0:
        return flags
    return np.abs(residual) > _OUTLIER_Z * scale
