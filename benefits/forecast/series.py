"""Series preparation: the observations that count for a benefit, its future weeks, and the
readings a fit treats apart (outliers, excursions that came back, steps of the level)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from benefits import realisation, register
from benefits.forecast.settings import ForecastSettings

WEEK = pd.Timedelta(days=7)
_OUTLIER_Z = 8.0
"""A level reading is left out when it is more than this many noise standard deviations from each
of its neighbourhoods (see :func:`level_outliers`)."""
_QN_STEPS = 400
"""Above this many steps the noise scale is the steps' MAD (Qn's pairwise distances grow as the square)."""
_SHIFT_Z = 6.0
"""A level shift is taken when the step into a reading and the change of level after it are both
more than this many noise standard deviations (see :func:`level_shifts`)."""
_SHIFT_SIDE = 4
"""Readings compared on either side of a level shift."""
_SHIFT_CONFIRM = 3
"""Readings at a new level before its shift is taken."""
_EXCURSION_LONGEST = 13
"""The most readings a transient excursion lasts (a quarter of weekly readings); see :func:`excursions`."""
_EXCURSION_Z = 6.0
"""How sharp an excursion is: its depth over the square root of twice the readings it took to get
there, in noise standard deviations (see :func:`excursions`)."""
_EXCURSION_EDGE_Z = 3.0
"""Readings further than this many noise standard deviations from the level around them belong to an excursion."""
_EXCURSION_SIDE = 3
"""Readings needed on each side of an excursion (the level it left and came back to)."""
_RARE_OUTLIERS = 10
"""At most one reading in this many (or 3) is an outlier; more are the series' own pattern."""
_RARE_EVENTS = 13
"""At most one level shift, or one excursion, in this many readings (or 3); more are the series'
own pattern (a month-to-date figure read weekly, a weekday cycle of daily readings), not events."""
_INTERMITTENT = 1.32
"""A flow is intermittent when its readings between the first and the last non-zero one are on
average this many per non-zero one or more (Syntetos and Boylan's cut-off for the average
interval between demands; see :func:`between_payments`)."""
_INTERMITTENT_PAYMENTS = 3
"""Non-zero flows an intermittent flow needs before its zeros are read as waits."""
_YEAR = np.timedelta64(365, "D")
_DAY = np.timedelta64(1, "D")
_SEASON = np.timedelta64(35, "D")


@dataclasses.dataclass(frozen=True)
class Readings:
    """Observations reduced to one reading per period, sorted: what :func:`window` and
    :func:`history` give as a frame, as two aligned arrays — a fingerprint needs no frame, and a
    weekly run that reuses most forecasts builds none for them."""

    period: np.ndarray
    """datetime64[ns] at midnight."""
    value: np.ndarray
    """float."""

    def __len__(self) -> int:
        return len(self.period)

    def frame(self) -> pd.DataFrame:
        """Columns ``period`` and ``value``, as :func:`window` gives them."""
        return pd.DataFrame({"period": self.period, "value": self.value})


def window(benefit: register.Benefit, start: dt.date, observations: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The observations that count: baseline < period <= as_of and period >= start, finite values,
    one row per period (a cumulative measure sums repeats, a level keeps the last), sorted.
    Columns: ``period`` (datetime64, midnight) and ``value`` (float).

    Raises ValueError for a malformed frame (missing columns, unparsable periods).
    """
    return window_readings(benefit, start, observations, as_of).frame()


def window_readings(benefit: register.Benefit, start: dt.date, observations: pd.DataFrame, as_of: dt.date) -> Readings:
    """:func:`window` as :class:`Readings`."""
    missing = {"period", "value"} - set(observations.columns)
    if missing:
        raise ValueError(f"observations lack column(s) {', '.join(sorted(missing))}")
    if observations.empty:
        return Readings(np.array([], dtype="datetime64[ns]"), np.array([], dtype=float))
    period, value = _typed(observations)
    lower = max(np.datetime64(benefit.baseline.date, "ns") + 1, np.datetime64(start, "ns"))
    mask = (period >= lower) & (period <= np.datetime64(as_of, "ns")) & np.isfinite(value)
    order = np.argsort(period[mask], kind="stable")
    period, value = period[mask][order], value[mask][order]
    if (np.diff(period) > np.timedelta64(0)).all():  # one value per period: the usual case
        return Readings(period, value)
    how = "sum" if benefit.measure is register.Measure.cumulative else "last"
    grouped = pd.DataFrame({"period": period, "value": value}).groupby("period", sort=True)["value"].agg(how)
    return Readings(grouped.index.to_numpy(dtype="datetime64[ns]"), grouped.to_numpy(dtype=float))


def _typed(observations: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Periods (datetime64[ns] at midnight, no time zone) and values (float, NaN when not a
    number) of a non-empty observations frame; already typed columns pass through cheaply."""
    column = observations["period"]
    if isinstance(column.dtype, np.dtype) and column.dtype.kind == "M":  # datetime64 without a time zone
        period = column.to_numpy().astype("datetime64[D]").astype("datetime64[ns]")
    else:
        try:
            periods = pd.to_datetime(column)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"observations have an unparsable period: {exc}") from None
        if periods.dt.tz is not None:
            periods = periods.dt.tz_localize(None)
        period = periods.dt.normalize().to_numpy(dtype="datetime64[ns]")
    values = observations["value"]
    if values.dtype != np.dtype(float):
        values = pd.to_numeric(values, errors="coerce")
    return period, values.to_numpy(dtype=float)


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


def delivering_from(
    benefit: register.Benefit, periods: np.ndarray, values: np.ndarray, start: dt.date
) -> np.datetime64 | None:
    """When the benefit started delivering, from its readings (``periods``, ``values``): its
    ``start`` for a level; for a cumulative measure its first non-zero flow on or after ``start``,
    None before any (a go-live that slipped has not started delivering, whatever its plan says).
    How long it has delivered sets a forecast's stage (:func:`benefits.forecast.conformal.stage`)
    and its lean on the reference class."""
    begin = np.datetime64(start, "ns")
    if benefit.measure is register.Measure.level:
        return begin
    dates = np.asarray(periods, dtype="datetime64[ns]")
    moving = dates[(dates >= begin) & (np.asarray(values, dtype=float) != 0)]
    return moving[0] if len(moving) else None


def future_weeks(observed: pd.DataFrame, benefit: register.Benefit, settings: ForecastSettings) -> pd.DatetimeIndex:
    """Future periods at the series' own cadence (:func:`cadence`), from the period after the last
    observation up to the horizon (target date + ``margin_weeks``). A cumulative measure's flow is
    forecast per period, so a monthly metric must be stepped monthly, not weekly."""
    horizon = pd.Timestamp(benefit.target.date) + settings.margin_weeks * WEEK
    last = observed["period"].iloc[-1]
    months = cadence(observed)
    if isinstance(months, int):
        count = ((horizon.year - last.year) * 12 + horizon.month - last.month) // months + 1
        step = pd.offsets.MonthEnd if last.is_month_end else (lambda n: pd.DateOffset(months=n))
        steps = pd.DatetimeIndex([last + step(months * k) for k in range(1, max(count, 0) + 1)])
        return steps[steps <= horizon]
    first = last + months
    if first > horizon:
        return pd.DatetimeIndex([])
    return pd.date_range(first, horizon, freq=months)


def cadence(observed: pd.DataFrame) -> pd.Timedelta | int:
    """The step between periods: a whole number of months for monthly (1) or quarterly (3) data,
    else the median gap in days (a week for weekly data and for fewer than two periods)."""
    periods = observed["period"]
    if len(periods) < 2:
        return WEEK
    gap = float(np.median(np.diff(periods.to_numpy(dtype="datetime64[D]")).astype(float)))
    for months, (low, high) in ((1, (27, 32)), (3, (85, 95))):
        if low <= gap <= high:
            return months
    return pd.Timedelta(days=max(1, round(gap)))


def history(
    benefit: register.Benefit,
    observations: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings,
    start: dt.date | None = None,
) -> pd.DataFrame:
    """The observations the model learns from: every finite value up to ``as_of`` within
    ``settings.history_weeks``, one row per period, sorted; columns as :func:`window`.

    Values before the baseline count (a year or more of earlier history is what teaches the
    model seasonality and noise), except for a cumulative benefit that starts after its baseline
    at a milestone (``start``): its flows before the milestone belong to another regime (a pilot,
    the old system), so it learns from its window alone.
    """
    return history_readings(benefit, observations, as_of, settings, start).frame()


def history_readings(
    benefit: register.Benefit,
    observations: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings,
    start: dt.date | None = None,
) -> Readings:
    """:func:`history` as :class:`Readings`."""
    earliest = as_of - dt.timedelta(weeks=settings.history_weeks)
    if start is not None and start > benefit.baseline.date and benefit.measure is register.Measure.cumulative:
        return window_readings(benefit, start, observations, as_of)
    before = benefit.model_copy(update={"baseline": benefit.baseline.model_copy(update={"date": earliest})})
    return window_readings(before, earliest, observations, as_of)


def level_outliers(values: np.ndarray) -> np.ndarray:
    """Readings far from every neighbourhood: a mis-keyed reading of a level metric (x10, an extra
    digit, a sign error) would otherwise drive its trend. A cumulative measure's flow rates are
    searched too (:func:`set_apart`), but only a single one-off is left out of their fit (it stays
    banked in Q): flows that spike more often are the flow's own pattern.

    The series is detrended by its median step, and the noise's standard deviation is estimated
    from its steps (:func:`noise_scale`), which ordinary Gaussian noise does not shrink, unlike
    residuals from a rolling median that includes the reading itself. A reading is flagged when it
    is more than ``_OUTLIER_Z`` of those from the median of the (up to) three readings before it,
    from that of the three after it, and from that of the two on either side. A real step change
    is close to the readings on its own side and stays in; a step in the last two readings leaves
    the last one out until a third reading confirms it. Nothing is flagged when most steps are
    zero (no noise to measure against).
    """
    v = np.asarray(values, dtype=float)
    return _outliers(*_detrended(v)) if len(v) >= 5 else np.zeros(len(v), dtype=bool)


def _outliers(level: np.ndarray, sigma: float) -> np.ndarray:
    """:func:`level_outliers` of a series already detrended (:func:`_detrended`)."""
    n = len(level)
    if n < 5 or not sigma > 0:
        return np.zeros(n, dtype=bool)
    gap = np.full(3, np.nan)
    rows = np.lib.stride_tricks.sliding_window_view(np.concatenate([gap, level, gap]), 7)  # row i: i-3 .. i+3
    before, after = np.isfinite(rows[:, 2]), np.isfinite(rows[:, 4])
    distance = np.full(n, np.inf)
    for side, present in ((rows[:, :3], before), (rows[:, 4:], after), (rows[:, [1, 2, 4, 5]], before & after)):
        distance = np.where(present, np.minimum(distance, np.abs(level - _medians(side))), distance)
    flags = distance > _OUTLIER_Z * sigma
    return flags if flags.sum() <= _most(n, _RARE_OUTLIERS) else np.zeros(n, dtype=bool)


def level_shifts(values: np.ndarray) -> np.ndarray:
    """Indices of the readings of a level metric that start a new level and keep it: a go-live that
    cuts handling time from 50 to 38 minutes in one week. Prophet's trend is piecewise linear and
    can follow such a step only by two large changes of slope, after which it draws future trend
    changes as large: a level at 38 for 25 weeks with noise 0.1 was forecast at 37 within 16 to 56.
    Fitted as a step of the level instead (:func:`benefits.forecast.stan.design`'s ``shifts``), it
    leaves the trend as it was.

    After detrending by the median step, a reading starts a new level when its step from the
    reading before and the change between the medians of the (up to) ``_SHIFT_SIDE`` readings from
    it and of those before it are both more than ``_SHIFT_Z`` noise standard deviations
    (:func:`noise_scale`), in the same direction, with at least ``_SHIFT_CONFIRM`` readings at the
    new level (a step in the last two readings waits for a third, as the outlier filter does); of
    two such readings closer than ``_SHIFT_SIDE``, the larger change is kept. A steady trend, a
    bend in it, a single mis-keyed reading or ordinary noise does not start one.
    """
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n < 3 + _SHIFT_CONFIRM:
        return np.empty(0, dtype=int)
    level, sigma = _detrended(v)
    if not sigma > 0:
        return np.empty(0, dtype=int)
    gap = np.full(_SHIFT_SIDE, np.nan)
    # window k: the (up to) _SHIFT_SIDE readings before reading k; window k + _SHIFT_SIDE: those from it
    windows = np.lib.stride_tricks.sliding_window_view(np.concatenate([gap, level, gap]), _SHIFT_SIDE)
    at = np.arange(3, n - _SHIFT_CONFIRM + 1)
    change = _medians(windows[at + _SHIFT_SIDE]) - _medians(windows[at])
    step = level[at] - level[at - 1]
    found = np.flatnonzero((np.minimum(np.abs(change), np.abs(step)) > _SHIFT_Z * sigma) & (change * step > 0))
    kept: list[int] = []
    for i in found[np.lexsort((-at[found], -np.abs(change[found])))]:  # the largest change first
        if all(abs(at[i] - other) >= _SHIFT_SIDE for other in kept):
            kept.append(int(at[i]))
    return np.array(sorted(kept) if len(kept) <= _most(n, _RARE_EVENTS) else [], dtype=int)


def excursions(values: np.ndarray, periods: np.ndarray | None = None) -> np.ndarray:
    """Readings that left the series' course for a while and came back: a month-long dip in
    handling time during a strike, a quarter's outage in a flow of sales (a cumulative measure's
    flow rates are searched as a level's values are). Prophet's trend is piecewise linear and
    follows such an excursion by large changes of slope, then draws future trend changes as large:
    a level at 50 (noise 0.3) that dipped by 8 for five weeks was forecast within 5 to 105. Left out
    of the fit, they leave the trend as it was; the portfolio's calibration still learns from the
    errors they caused in its backtests. (What a flow lost in them stays lost: Q counts it.)

    After detrending by the median step, each reading is compared with the median of the
    ``2 * _EXCURSION_LONGEST + 1`` readings around it (which an excursion of up to
    ``_EXCURSION_LONGEST`` readings does not move). A run of two or more readings all further than
    ``_EXCURSION_EDGE_Z`` noise standard deviations (:func:`noise_scale`) from it, on one side, is
    an excursion when it lasts at most ``_EXCURSION_LONGEST`` readings; when the medians of the
    ``_EXCURSION_SIDE`` readings on either side of it agree within ``_EXCURSION_EDGE_Z`` noise
    deviations or a third of its depth, whichever is larger (the level came back); and when it is
    sharp: some reading of it is more than ``_EXCURSION_Z * sqrt(2 k)`` noise deviations from the
    level, k being the readings from it to the nearer edge (a random walk whose steps are as large
    as the noise's wanders about that far in k steps). With ``periods`` (datetime64), a run with a
    like deviation a year before or after it (within ``_SEASON``) is a season, not an excursion,
    and stays in. A steady or bending trend, a step that stays, a random walk, noise or a single
    mis-keyed reading is not an excursion.
    """
    v = np.asarray(values, dtype=float)
    return _excursions(*_detrended(v), periods) if len(v) >= 5 else np.zeros(len(v), dtype=bool)


def _excursions(level: np.ndarray, sigma: float, periods: np.ndarray | None) -> np.ndarray:
    """:func:`excursions` of a series already detrended (:func:`_detrended`)."""
    n = len(level)
    flags = np.zeros(n, dtype=bool)
    if n < 2 * _EXCURSION_SIDE + 2 or not sigma > 0:
        return flags
    dates = None if periods is None else np.asarray(periods, dtype="datetime64[ns]")
    gap = np.full(_EXCURSION_LONGEST, np.nan)
    around = _medians(
        np.lib.stride_tricks.sliding_window_view(np.concatenate([gap, level, gap]), 2 * _EXCURSION_LONGEST + 1)
    )
    z = (level - around) / sigma
    side = np.where(np.abs(z) > _EXCURSION_EDGE_Z, np.sign(z), 0.0)
    edges = np.flatnonzero(np.diff(np.concatenate([[0.0], side, [0.0]])))
    found = 0
    for i, j in zip(edges[:-1], edges[1:], strict=True):
        if side[i] == 0 or not _came_back(level, z, sigma, i, j):
            continue
        if dates is not None and _seasonal(dates, side, i, j):
            continue
        flags[i:j] = True
        found += 1
    return flags if found <= _most(n, _RARE_EVENTS) else np.zeros(n, dtype=bool)


@dataclasses.dataclass(frozen=True)
class SetApart:
    """What a fit treats apart from the readings' course."""

    away: np.ndarray
    """The readings left out of the fit: outliers and excursions that came back."""
    outliers: np.ndarray
    """The readings left out as outliers (of a flow, a single one-off at most)."""
    excursions: tuple[tuple[str, str], ...]
    """Each excursion's first and last period (ISO dates)."""
    shifts: np.ndarray
    """The periods from which the level stepped (level measures only), among the readings kept."""


def set_apart(values: np.ndarray, periods: np.ndarray, level: bool, weekly: bool) -> SetApart:
    """The excursions that came back (:func:`excursions`; a level's values or a flow's rates), then
    the outliers (:func:`level_outliers`; of a flow's rates only a single one-off, such as a
    one-time saving booked before the run rate: more than one is the flow's own lumpiness) and a
    level's steps among the rest (:func:`level_shifts`); readings that come more often than weekly
    are searched less their weekday medians (:func:`weekday_profile`). The excursion and outlier
    searches share one detrending."""
    probe = np.asarray(values, dtype=float)
    probe = probe - weekday_profile(probe, periods) if weekly else probe
    nothing = np.zeros(len(probe), dtype=bool)
    detrended = _detrended(probe) if len(probe) >= 5 else None
    flags = _excursions(*detrended, periods) if detrended else nothing
    outliers = _outliers(*detrended) & ~flags if detrended else nothing
    if not level and outliers.sum() > 1:
        outliers = nothing
    away = flags | outliers
    kept = periods[~away]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(int), [0]])))
    days = np.datetime_as_string(periods, unit="D")
    runs = tuple((str(days[i]), str(days[j - 1])) for i, j in zip(edges[::2], edges[1::2], strict=True))
    return SetApart(away, outliers, runs, kept[level_shifts(probe[~away])] if level else kept[:0])


def between_payments(flows: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """The zero flows of an intermittent cumulative measure that are waits between payments, not
    readings of its rate: a contract paying 120,000 every quarter, read weekly, books 12 zeros
    between payments; fitted as weekly rates, the rate swings from 0 to 120,000 and back, and its
    noise, not the payments, sets the interval (840,000 banked after seven payments was forecast
    within 840,000 to 1,986,000 seventeen weeks on, when one payment more was due). Left out, the
    payments are read as Croston's method reads intermittent demand, each its size over its
    interval (:func:`benefits.forecast.fitting.payments`).

    A flow is intermittent when, from its first to its last non-zero flow, there are on average
    ``_INTERMITTENT`` readings or more per non-zero one, with at least ``_INTERMITTENT_PAYMENTS``
    of them. The zeros before and between them are waits; so are the zeros since the last payment
    while they have lasted no longer than the longest wait so far (the next payment accrues
    meanwhile). A silence longer than any wait before it (a flow that stopped) stays readings.
    Returns the mask of the waits."""
    f = np.asarray(flows, dtype=float)
    waits = np.zeros(len(f), dtype=bool)
    paid = np.flatnonzero(f != 0)
    if len(paid) < _INTERMITTENT_PAYMENTS or (paid[-1] - paid[0] + 1) < _INTERMITTENT * len(paid):
        return waits
    waits[: paid[-1]] = True
    longest = np.diff(np.asarray(periods, dtype="datetime64[ns]")[paid]).max()
    if periods[-1] - periods[paid[-1]] <= longest:
        waits[paid[-1] :] = True
    waits[paid] = False
    return waits


def weekday_profile(values: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Each reading's weekday's median less the median of the seven: the weekly cycle of readings
    that come more often than weekly, taken out before the searches for outliers, excursions and
    steps (a quiet weekend is neither)."""
    weekday = ((periods - np.datetime64("1970-01-05", "ns")) // _DAY).astype(int) % 7  # 0 on Mondays
    medians = np.array([np.median(values[weekday == d]) if (weekday == d).any() else np.nan for d in range(7)])
    medians = np.where(np.isfinite(medians), medians - np.nanmedian(medians), 0.0)
    return medians[weekday]


def _came_back(level: np.ndarray, z: np.ndarray, sigma: float, i: int, j: int) -> bool:
    """Whether the run of readings ``i`` to ``j`` (exclusive), all off the detrended ``level`` on
    one side (``z``: in noise deviations ``sigma`` from the median around each), is an excursion:
    2 to ``_EXCURSION_LONGEST`` readings with ``_EXCURSION_SIDE`` on each side whose medians agree,
    and sharper than a random walk (see :func:`excursions`)."""
    n = len(level)
    if not (_EXCURSION_SIDE <= i and j <= n - _EXCURSION_SIDE and 2 <= j - i <= _EXCURSION_LONGEST):
        return False
    before, after = np.median(level[i - _EXCURSION_SIDE : i]), np.median(level[j : j + _EXCURSION_SIDE])
    back = max(_EXCURSION_EDGE_Z * sigma, float(np.abs(level[i:j] - before).max()) / 3)
    depth = np.abs(z[i:j]) / np.sqrt(2 * np.minimum(np.arange(1, j - i + 1), np.arange(j - i, 0, -1)))
    return bool(abs(after - before) <= back and depth.max() > _EXCURSION_Z)


def _most(n: int, every: int) -> int:
    """How many of a detector's findings a series of ``n`` readings can have before they are its
    own pattern rather than anomalies: one in ``every`` readings, at least 3."""
    return max(3, n // every)


def _seasonal(periods: np.ndarray, side: np.ndarray, i: int, j: int) -> bool:
    """Whether readings a year before or after readings ``i`` to ``j`` (within ``_SEASON``) are off
    their level on the same side (``side``: -1, 0 or 1 per reading)."""
    for year in (-_YEAR, _YEAR):
        near = (periods >= periods[i] + year - _SEASON) & (periods <= periods[j - 1] + year + _SEASON)
        if (side[near] == side[i]).any():
            return True
    return False


def _detrended(v: np.ndarray) -> tuple[np.ndarray, float]:
    """``v`` less its median step times the reading's index, and the noise's standard deviation
    estimated from its steps (:func:`noise_scale`): what the outlier filter and the level-shift
    search compare readings on."""
    steps = np.diff(v)
    return v - float(np.median(steps)) * np.arange(len(v)), noise_scale(steps)


def _medians(rows: np.ndarray) -> np.ndarray:
    """The median of each row, leaving out the NaNs that pad the rows at either end of a series
    (sorted, NaNs come last: the median is read at the middle of each row's finite values)."""
    ordered = np.sort(rows, axis=1)
    count = np.isfinite(rows).sum(axis=1)
    at = np.arange(len(rows))
    return (ordered[at, np.maximum(count - 1, 0) // 2] + ordered[at, count // 2]) / 2


def noise_scale(steps: np.ndarray) -> float:
    """The standard deviation of a series' noise from its steps (differences of consecutive
    readings, each the difference of two noises): Rousseeuw and Croux's Qn of the steps / sqrt 2.

    Qn (2.2219 x the first quartile of the steps' pairwise distances) ignores up to half of them
    (a mis-keyed reading spoils two steps) and, unlike the median absolute deviation, is rarely far
    too small on a short series: on 3,000 seeded trend-plus-Gaussian-noise series of 8, 12 and 16
    readings, an ordinary reading was flagged in 88, 19 and 6 of them with the MAD, 23, 3 and 0
    with Qn (tests/test_forecast_outliers.py), while a reading 25 deviations off is still caught
    in 96% of 12-reading series. Above ``_QN_STEPS`` steps the MAD, by then as steady and much
    cheaper, is used instead.
    """
    steps = np.asarray(steps, dtype=float)
    if len(steps) > _QN_STEPS:
        return 1.4826 * float(np.median(np.abs(steps - np.median(steps)))) / np.sqrt(2.0)
    distances = np.abs(steps[:, None] - steps[None, :])[np.triu_indices(len(steps), 1)]
    if not len(distances):
        return 0.0
    h = len(steps) // 2 + 1
    kth = max(h * (h - 1) // 2, 1)
    return 2.2219 * float(np.partition(distances, kth - 1)[kth - 1]) / np.sqrt(2.0)
