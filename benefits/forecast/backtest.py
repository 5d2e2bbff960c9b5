"""Rolling-origin backtests: raw forecasts from past origins, compared with what came after.

A backtest origin is the start of a calendar quarter before the as-of date (the latest, then 1,
3, 7… quarters before it, so horizons from weeks to two years are seen). From each origin the
benefit's model is fitted on the observations known then — exactly as a weekly run would have
done — and its raw median and 80% interval are kept for two years ahead (``forecast_backtests``,
keyed by a fingerprint of those observations, so later runs reuse them). Each later observation
gives one :class:`BacktestPoint`; its normalised error (:mod:`benefits.forecast.conformal`)
calibrates every forecast, and its calibrated interval says how far forecasts can be trusted.

Forecasts are compared with observations at the observations' own dates (interpolating the
forecast between its periods), so monthly, weekly and irregular metrics all give points. A
cumulative measure is compared on what accrued after the origin.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from benefits import realisation, register
from benefits.errors import ConfigError
from benefits.forecast import conformal, series
from benefits.forecast import fingerprints as fp
from benefits.forecast.fitting import sample_paths
from benefits.forecast.probability import noise_floor, orientation, raw_quantiles
from benefits.forecast.settings import METHOD_VERSION, ForecastSettings

#: How far ahead of its origin a backtest forecast is kept.
REACH = pd.Timedelta(weeks=104)
#: A raw half-width below this share of the target improvement has no scale to measure an error by.
SCALELESS = 1e-6
_DAY = pd.Timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class RawPath:
    """A raw forecast from one origin: its periods' median and interval (Q relative to the
    origin for a cumulative measure), with the fitted noise."""

    origin: dt.date
    fingerprint: str
    noise: float
    path: list[dict]
    """``{"period", "yhat", "lower", "upper"}`` from the period after the last observation."""


@dataclasses.dataclass(frozen=True)
class BacktestPoint:
    """One observation after an origin compared with the raw forecast made at that origin."""

    origin: dt.date
    period: dt.date
    horizon_days: int
    """Days from the origin's last observation to ``period``."""
    delivering_days: int
    """How long the benefit had been delivering at the origin (days since it started delivering,
    :func:`series.delivering_from`; 0 before it)."""
    actual: float
    yhat: float
    lower: float
    upper: float
    gap_days: float = 7.0
    """The days between its raw path's periods (their median): the metric's cadence, by which its
    error is weighed (:func:`conformal.calibrate`)."""
    orientation: int = 1
    """The benefit's orientation (:func:`probability.orientation`): -1 when its target is met by falling."""

    @property
    def error(self) -> float:
        """The oriented normalised error ``r`` (within [-1, 1] when the raw interval held the
        actual; positive when the actual was better for the benefit than the median)."""
        return float(conformal.normalised_errors(self.actual, self.yhat, self.lower, self.upper, self.orientation))


@dataclasses.dataclass(frozen=True)
class Backtest:
    """The points of one benefit's backtest, and their summary under a calibration."""

    kind: str
    points: list[BacktestPoint]
    scale: float
    """The target improvement, to express errors as a share of it."""
    calibration: conformal.Calibration = conformal.PRIOR
    interval: float = 0.8
    """The interval's width (``ForecastSettings.interval``): the raw paths kept its bounds."""

    def calibrated(self) -> list[tuple[BacktestPoint, float, float, float]]:
        """Each point with its calibrated (median, lower, upper)."""
        if not self.points:
            return []
        bands = [self.calibration.band(self.kind, p.horizon_days, p.delivering_days) for p in self.points]
        yhat, lower, upper = (np.array([getattr(p, f) for p in self.points]) for f in ("yhat", "lower", "upper"))
        c = conformal.apply(bands, yhat, lower, upper, np.zeros(len(bands)), self.interval, self.points[0].orientation)
        return [
            (p, float(m), float(lo), float(hi))
            for p, m, lo, hi in zip(self.points, c.median, c.lower, c.upper, strict=True)
        ]

    @property
    def coverage(self) -> float | None:
        """Share of actual values inside the calibrated interval (None without points)."""
        rows = self.calibrated()
        return float(np.mean([lo <= p.actual <= hi for p, _, lo, hi in rows])) if rows else None

    @property
    def raw_coverage(self) -> float | None:
        """Share of actual values inside the raw (uncalibrated) interval (None without points)."""
        return float(np.mean([p.lower <= p.actual <= p.upper for p in self.points])) if self.points else None

    @property
    def error(self) -> float | None:
        """Mean absolute error of the calibrated median, as a share of the target improvement."""
        rows = self.calibrated()
        if not rows:
            return None
        return float(np.mean([abs(p.actual - m) for p, m, _, _ in rows])) / self.scale


def origin_dates(as_of: dt.date, count: int) -> list[dt.date]:
    """The backtest origins before ``as_of``, newest first: the start of the latest calendar
    quarter at least four weeks before it, then the starts of 1, 3, 7… quarters before that."""
    latest = pd.Timestamp(as_of - dt.timedelta(weeks=4)).to_period("Q").start_time
    return [(latest - pd.DateOffset(months=3 * (2**k - 1))).date() for k in range(count)]


def raw_path(
    benefit: register.Benefit, observations: pd.DataFrame, origin: dt.date, settings: ForecastSettings, start: dt.date
) -> RawPath | None:
    """The raw forecast of ``benefit`` (starting at ``start``) made at ``origin`` (None when too
    little was known then).

    Raises what the fit raises.
    """
    learn = series.history(benefit, observations, origin, settings, start)
    if len(learn) < settings.min_points:
        return None
    key = path_fingerprint(benefit, learn, origin, settings)
    last = learn["period"].iloc[-1]
    future = series.future_weeks(
        learn, _reaching(benefit, last + REACH), settings.model_copy(update={"margin_weeks": 0})
    )
    if len(future) == 0:
        return None
    samples = sample_paths(benefit, learn, future, 0.0, settings, int(key[:8], 16), None, start)
    lower, median, upper = raw_quantiles(samples.paths, settings.interval)
    floor = noise_floor(benefit, samples.noise, len(future), settings.interval)
    lower, upper = np.minimum(lower, median - floor), np.maximum(upper, median + floor)
    path = [
        {"period": d.date().isoformat(), "yhat": float(y), "lower": float(lo), "upper": float(hi)}
        for d, y, lo, hi in zip(future, median, lower, upper, strict=True)
    ]
    return RawPath(origin, key, samples.noise, path)


def path_fingerprint(
    benefit: register.Benefit, learn: pd.DataFrame | series.Readings, origin: dt.date, settings: ForecastSettings
) -> str:
    """What a raw path depends on: the observations known at ``origin`` and the model's settings."""
    model = register.Benefit.model_validate(
        {**benefit.model_dump(), "target": {"value": benefit.target.value, "date": dt.date(2100, 1, 1)}}
    )
    return fp.window_fingerprint(model, origin, learn, origin, settings)


def _reaching(benefit: register.Benefit, until: pd.Timestamp) -> register.Benefit:
    """``benefit`` with its target date moved to ``until`` (the horizon of a backtest path)."""
    return benefit.model_copy(update={"target": benefit.target.model_copy(update={"date": until.date()})})


def points(benefit: register.Benefit, seen: pd.DataFrame, raw: RawPath, start: dt.date) -> list[BacktestPoint]:
    """The observations after ``raw``'s origin against its forecast; ``seen`` is what the model
    learns from up to the as-of date (:func:`series.history`), ``start`` when the benefit starts
    delivering."""
    periods = seen["period"].to_numpy(dtype="datetime64[ns]")
    observed = seen["value"].to_numpy(dtype=float)
    known = periods <= np.datetime64(raw.origin, "ns")
    if not raw.path or not known.any() or known.all():
        return []
    last = periods[known][-1]
    when = np.array([p["period"] for p in raw.path], dtype="datetime64[ns]")
    horizon = (when - last) / np.timedelta64(1, "D")
    after = ~known
    days = (periods[after] - last) / np.timedelta64(1, "D")
    inside = days <= horizon[-1]
    days, dates, values = days[inside], periods[after][inside], observed[after][inside]
    cumulative = benefit.measure is register.Measure.cumulative
    actual = np.cumsum(values) if cumulative else values
    level_now = 0.0 if cumulative else float(observed[known][-1])
    x = np.concatenate([[0.0], horizon])

    def at(field: str) -> np.ndarray:
        return np.interp(days, x, np.concatenate([[level_now], [p[field] for p in raw.path]]))

    yhat, lower, upper = at("yhat"), at("lower"), at("upper")
    # A raw interval of no width on the actual's side (a history with no variation at all, such as
    # a cumulative measure whose flows were all zero before it started) gives an error of no scale:
    # one such point would read as millions of half-widths and blow up every interval calibrated by
    # its band, so it gives no point.
    side = np.where(actual >= yhat, upper - yhat, yhat - lower)
    scaled = side > SCALELESS * realisation.target_improvement(benefit)
    since = series.delivering_from(benefit, periods[known], observed[known], start)
    delivering = 0 if since is None else max(int((last - since) // np.timedelta64(1, "D")), 0)
    towards = orientation(benefit)
    gap = float(np.median(np.diff(x))) if len(x) > 2 else float(x[-1])
    return [
        BacktestPoint(raw.origin, period, int(d), delivering, a, y, lo, hi, gap, towards)
        for period, d, a, y, lo, hi in zip(
            dates[scaled].astype("datetime64[D]").tolist(),
            days[scaled].tolist(),
            actual[scaled].tolist(),
            yhat[scaled].tolist(),
            lower[scaled].tolist(),
            upper[scaled].tolist(),
            strict=True,
        )
    ]


def backtest(
    benefit: register.Benefit,
    observations: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings = ForecastSettings(),
    origins: int = 4,
    calibration: conformal.Calibration = conformal.PRIOR,
    start: dt.date | None = None,
) -> Backtest:
    """Backtest ``benefit`` on its observations up to ``as_of`` from ``origins`` origins
    (fitted now; the weekly run keeps and reuses them instead). ``start`` is when it starts
    delivering (default: its baseline date)."""
    found: list[BacktestPoint] = []
    start = start or benefit.baseline.date
    seen = series.history(benefit, observations, as_of, settings, start)
    for origin in origin_dates(as_of, origins):
        try:
            raw = raw_path(benefit, observations, origin, settings, start)
        except Exception:  # noqa: BLE001 - an origin whose fit fails gives no points; the forecast reports failures
            raw = None
        if raw is not None:
            found += points(benefit, seen, raw, start)
    return Backtest(
        benefit.measure.value, found, realisation.target_improvement(benefit), calibration, settings.interval
    )


def backtest_portfolio(
    session: Session,
    as_of: dt.date,
    settings: ForecastSettings = ForecastSettings(),
    keys: Sequence[str] = (),
    origins: int = 4,
    progress: Callable[[int, int, str], None] | None = None,
) -> Iterator[tuple[str, Backtest]]:
    """Backtest every stored benefit (or those named in ``keys``) on its observations up to ``as_of``,
    calibrated by the latest forecast run's backtested errors.

    Yields (benefit key, backtest) in register order; ``progress(done, total, key)`` is called
    before each benefit. Raises ConfigError naming a key that is not in the register.
    """
    from benefits.forecast.runner import stored_inputs
    from benefits.store import repository

    rows = repository.benefits(session)
    unknown = sorted(set(keys) - {row.key for row in rows})
    if unknown:
        raise ConfigError(f"no benefit {unknown[0]!r} in the register (`benefits status` lists them)")
    chosen = [row for row in rows if not keys or row.key in keys]
    calibration = stored_calibration(session)
    for done, (row, benefit, observations) in enumerate(stored_inputs(session, chosen)):
        if progress:
            progress(done, len(chosen), row.key)
        yield row.key, backtest(benefit, observations, as_of, settings, origins, calibration, row.start_date)


def stored_calibration(session: Session) -> conformal.Calibration:
    """The calibration the latest forecast run learned; the prior before any run, or when that
    run's method learned its errors another way (a store upgraded since: method 8 orients them)."""
    from benefits.store import repository

    runs = repository.forecast_runs(session, limit=1)
    stored = runs[0].calibration if runs else None
    if not stored or stored.get("method") != METHOD_VERSION:
        return conformal.PRIOR
    return conformal.Calibration.from_json(stored["calibration"])


def errors(kind: str, found: Iterable[BacktestPoint]) -> list[tuple[str, float, float, float, float]]:
    """The ``(kind, horizon days, r, delivering days, days between readings)`` of backtest points,
    for :func:`conformal.calibrate`."""
    return [(kind, float(p.horizon_days), p.error, float(p.delivering_days), p.gap_days) for p in found]
