"""The forecast of one benefit: Prophet on its weekly observations, as a pure function.

``forecast_benefit`` turns a benefit, its observations and a date into a ``BenefitForecast``:
a status, one human sentence, the probability of landing (reaching the target by the target
date), the expected landing week and the weekly path of the tracked quantity Q with an interval.
Q and improvement are defined in ``benefits.realisation``.

How the probability is obtained:

- ``cumulative`` measures: Prophet is fitted on the period values; predictive samples of the
  future period values are drawn for every future week up to the horizon (target date +
  ``margin_weeks``); each sampled path is ``Q now + cumulative sum`` of its period values.
- ``level`` measures: Prophet is fitted on the values themselves (logistic growth between
  ``bounds.min`` and ``bounds.max`` when both are set); each sample is a path of Q.
- The probability is the share of paths whose improvement at the target date reaches the target
  improvement (for a dis-benefit: stays within it, the target being the tolerated limit).
  "At the target date" means at the last weekly period on or before it, as for realised values.
- Prophet's MAP fit samples future trend changes and noise but not the uncertainty of the fitted
  slope, which makes p_on_time nearly 0 or 1 when a trend is extrapolated for months. For linear
  growth each path therefore also draws the trend's slope and offset from their (Laplace)
  posterior given the fitted changepoints (``ForecastSettings.parameter_uncertainty``).
- A level metric's readings far from their neighbours (mis-keyed values) are left out of the fit
  and the message says how many; realised values still use every observation.

Decided without a fit: no observations (``no_data``), target already reached (``achieved``,
never for a dis-benefit), target date passed (``off_track``; a dis-benefit is judged on its
observed value at the target date), fewer than ``min_points`` observations
(``insufficient_data``). A Prophet or Stan failure is returned as ``insufficient_data`` with
the message ``forecast failed: <reason>``; the function does not raise for any series.

Sampling is seeded from a hash of the inputs, so the same inputs give the same forecast
(a status does not flip between weeks from Monte Carlo noise alone). NumPy's global random state
is restored afterwards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
import logging
import math
import tempfile
import warnings

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from benefits import realisation, register

#: Bump when the forecasting method changes, so that cached forecasts are recomputed.
METHOD_VERSION = "1"

STATUSES = ("achieved", "on_track", "at_risk", "off_track", "insufficient_data", "no_data")

_WEEK = pd.Timedelta(days=7)
_TWO_YEARS_DAYS = 730
_OUTLIER_Z = 8.0


class ForecastSettings(BaseModel):
    """Thresholds and sampling settings of the forecast."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    on_track: float = Field(0.7, ge=0.0, le=1.0)
    """p_on_time at or above this is ``on_track``."""
    at_risk: float = Field(0.4, ge=0.0, le=1.0)
    """p_on_time at or above this (and below ``on_track``) is ``at_risk``; below is ``off_track``."""
    min_points: int = Field(8, ge=1)
    """Fewer observations than this give ``insufficient_data``."""
    samples: int = Field(300, ge=10, le=100_000)
    """Predictive samples (paths) drawn per benefit."""
    margin_weeks: int = Field(13, ge=0)
    """The horizon is the target date plus this many weeks."""
    interval: float = Field(0.8, gt=0.0, lt=1.0)
    """Width of the reported interval (0.8: 10th to 90th percentile)."""
    parameter_uncertainty: bool = True
    """Add the estimation uncertainty of the trend's slope and offset to the samples (linear growth).

    Prophet's MAP fit samples only future trend changes and noise, not the uncertainty of the
    fitted slope, so its paths are far too narrow when a trend is extrapolated over months and
    p_on_time becomes nearly 0 or 1. With this on, each path also draws (slope, offset) from the
    Laplace approximation of their posterior given the fitted changepoints and noise level."""

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> ForecastSettings:
        if self.at_risk > self.on_track:
            raise ValueError("at_risk must not be above on_track")
        return self


@dataclasses.dataclass(frozen=True)
class BenefitForecast:
    """The forecast of one benefit at one date."""

    status: str
    """achieved | on_track | at_risk | off_track | insufficient_data | no_data"""
    message: str
    """One human sentence."""
    points: int
    """Observations used."""
    p_on_time: float | None
    """Probability of reaching the target improvement by the target date (dis-benefit: of staying within it)."""
    expected_landing: dt.date | None
    """First week the median path reaches the target value (achieved: the week it was first reached)."""
    forecast_at_target_date: float | None
    """Median tracked quantity Q at the target date, in the metric's unit (not improvement)."""
    lower_at_target_date: float | None
    upper_at_target_date: float | None
    path: list[dict]
    """Weekly future points ``{"period", "yhat", "lower", "upper"}`` of Q up to the horizon; JSON-safe."""


def quiet_prophet() -> None:
    """Silence cmdstanpy's and prophet's informational logging (idempotent)."""
    logging.getLogger("cmdstanpy").disabled = True
    for name in ("prophet", "prophet.forecaster", "prophet.models"):
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def fingerprint(
    benefit: register.Benefit,
    start: dt.date,
    observations: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings,
) -> str:
    """SHA-256 (hex) of everything the forecast depends on.

    Only the observations that count (inside the benefit's window up to ``as_of``, after
    de-duplication) enter the hash, together with the method version and Prophet's version.
    """
    return _fingerprint(benefit, start, _window(benefit, start, observations, as_of), as_of, settings)


def forecast_benefit(
    benefit: register.Benefit,
    start: dt.date,
    observations: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings = ForecastSettings(),
) -> BenefitForecast:
    """Forecast one benefit at ``as_of`` from its weekly observations (columns ``period``, ``value``).

    ``start`` is the date the benefit starts realising (its milestone, else its baseline date).
    Raises ValueError only for a malformed ``observations`` frame (missing columns, unparsable
    periods); modelling failures come back as ``insufficient_data``.
    """
    window = _window(benefit, start, observations, as_of)
    n = len(window)
    target = benefit.target
    big_t = realisation.target_improvement(benefit)

    if n == 0:
        since = f"the {start.isoformat()} milestone" if start > benefit.baseline.date else f"the baseline ({start.isoformat()})"
        return _verdict("no_data", f"no observations since {since}", 0)

    frame = window.assign(period=window["period"].dt.date)
    realised = realisation.realised_to_date(benefit, frame, as_of)
    assert realised is not None  # the window is not empty
    q_now = realisation.tracked_value(benefit, frame, as_of)
    so_far = _so_far(benefit, realised, big_t)

    if not benefit.dis_benefit and realised >= big_t:
        landed = _first_reached(benefit, window)
        return _verdict(
            "achieved",
            f"achieved: {so_far} (reached {landed.isoformat()})",
            n,
            p_on_time=1.0,
            expected_landing=landed,
        )

    if as_of > target.date:
        return _target_passed(benefit, start, window, as_of, settings, so_far)

    if n < settings.min_points:
        return _verdict(
            "insufficient_data",
            f"only {n} observation{'s' if n != 1 else ''} ({settings.min_points} needed to forecast); {so_far}",
            n,
        )

    future = _future_weeks(window, benefit, settings)
    if len(future) == 0:
        # No weekly period left before the horizon: the value at the target date is today's.
        hit = _meets(benefit, realised, big_t)
        p = 1.0 if hit else 0.0
        return _verdict(
            _status(p, settings),
            f"{_likely(benefit, p)}; no weekly period left before the target date, {so_far}",
            n,
            p_on_time=p,
            forecast_at_target_date=q_now,
            lower_at_target_date=q_now,
            upper_at_target_date=q_now,
        )

    seed = _seed(benefit, start, window, as_of, settings)
    try:
        paths, excluded = _sample_paths(benefit, window, future, float(q_now), settings, seed)
    except Exception as exc:  # noqa: BLE001 - any Prophet/Stan failure is a per-benefit result
        return _verdict("insufficient_data", f"forecast failed: {_reason(exc)}", n)

    summary = _summarise(benefit, future, paths, float(q_now), settings)
    p = summary.p_on_time
    landing = summary.landing
    horizon = future[-1].date()
    message = _likely(benefit, p)
    if benefit.dis_benefit:
        if not _meets(benefit, realised, big_t):
            message += "; the adverse effect is already beyond the limit"
        elif landing:
            message += f"; the median path reaches the limit on {landing.isoformat()}"
        else:
            message += f"; the median path stays within the limit to the horizon ({horizon.isoformat()})"
    else:
        message += (
            f"; expected landing {landing.isoformat()}"
            if landing
            else f"; expected landing beyond the horizon ({horizon.isoformat()})"
        )
    message += _excluded_note(excluded)
    return BenefitForecast(
        status=_status(p, settings),
        message=message,
        points=n,
        p_on_time=p,
        expected_landing=landing,
        forecast_at_target_date=summary.at_target[0],
        lower_at_target_date=summary.at_target[1],
        upper_at_target_date=summary.at_target[2],
        path=summary.path,
    )


# --- decisions without a fit -------------------------------------------------------------------


def _target_passed(
    benefit: register.Benefit,
    start: dt.date,
    window: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings,
    so_far: str,
) -> BenefitForecast:
    """The target date is behind ``as_of``: the verdict is a fact; a fit only adds a late landing."""
    target = benefit.target
    big_t = realisation.target_improvement(benefit)
    n = len(window)
    frame = window.assign(period=window["period"].dt.date)
    q_at_target = realisation.tracked_value(benefit, frame, target.date)
    at_target = (q_at_target, q_at_target, q_at_target)

    if benefit.dis_benefit:
        observed = q_at_target if q_at_target is not None else realisation.tracked_value(benefit, frame, as_of)
        within = _meets(benefit, realisation.sign(benefit) * (observed - benefit.baseline.value), big_t)
        p = 1.0 if within else 0.0
        verb = "stayed within" if within else "exceeded"
        return _verdict(
            _status(p, settings),
            f"target date {target.date.isoformat()} has passed and the adverse effect {verb} "
            f"the tolerated limit of {_amount(target.value, benefit.unit)}; {so_far}",
            n,
            p_on_time=p,
            forecast_at_target_date=at_target[0],
            lower_at_target_date=at_target[1],
            upper_at_target_date=at_target[2],
        )

    message = f"target date {target.date.isoformat()} has passed without reaching {_amount(target.value, benefit.unit)}; {so_far}"
    landing: dt.date | None = None
    path: list[dict] = []
    future = _future_weeks(window, benefit, settings)
    if n >= settings.min_points and len(future) > 0:
        seed = _seed(benefit, start, window, as_of, settings)
        q_now = realisation.tracked_value(benefit, frame, as_of)
        try:
            paths, excluded = _sample_paths(benefit, window, future, float(q_now), settings, seed)
        except Exception:  # noqa: BLE001 - the verdict stands without the late-landing estimate
            paths = None
        if paths is not None:
            summary = _summarise(benefit, future, paths, float(q_now), settings)
            landing, path = summary.landing, summary.path
            message += (
                f"; late landing expected {landing.isoformat()}"
                if landing
                else f"; landing beyond the horizon ({future[-1].date().isoformat()})"
            )
            message += _excluded_note(excluded)
    return BenefitForecast(
        status="off_track",
        message=message,
        points=n,
        p_on_time=0.0,
        expected_landing=landing,
        forecast_at_target_date=at_target[0],
        lower_at_target_date=at_target[1],
        upper_at_target_date=at_target[2],
        path=path,
    )


def _verdict(
    status: str,
    message: str,
    points: int,
    *,
    p_on_time: float | None = None,
    expected_landing: dt.date | None = None,
    forecast_at_target_date: float | None = None,
    lower_at_target_date: float | None = None,
    upper_at_target_date: float | None = None,
) -> BenefitForecast:
    return BenefitForecast(
        status=status,
        message=message,
        points=points,
        p_on_time=p_on_time,
        expected_landing=expected_landing,
        forecast_at_target_date=forecast_at_target_date,
        lower_at_target_date=lower_at_target_date,
        upper_at_target_date=upper_at_target_date,
        path=[],
    )


# --- observations ------------------------------------------------------------------------------


def _window(benefit: register.Benefit, start: dt.date, observations: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The observations that count: baseline < period <= as_of and period >= start, finite values,
    one row per period (a cumulative measure sums repeats, a level keeps the last), sorted.
    Columns: ``period`` (datetime64, midnight) and ``value`` (float)."""
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
    frame = pd.DataFrame(
        {
            "period": periods.dt.normalize().to_numpy(),
            "value": pd.to_numeric(observations["value"], errors="coerce").astype(float).to_numpy(),
        }
    )
    lower = pd.Timestamp(benefit.baseline.date)
    mask = (
        (frame["period"] > lower)
        & (frame["period"] >= pd.Timestamp(start))
        & (frame["period"] <= pd.Timestamp(as_of))
        & np.isfinite(frame["value"])
    )
    frame = frame[mask].sort_values("period", kind="stable")
    how = "sum" if benefit.measure is register.Measure.cumulative else "last"
    frame = frame.groupby("period", as_index=False, sort=True)["value"].agg(how)
    return frame.reset_index(drop=True)


def _first_reached(benefit: register.Benefit, window: pd.DataFrame) -> dt.date:
    """The first observed period at which the improvement reached the target."""
    values = window["value"].to_numpy()
    q = benefit.baseline.value + np.cumsum(values) if benefit.measure is register.Measure.cumulative else values
    improvement = realisation.sign(benefit) * (q - benefit.baseline.value)
    hits = np.flatnonzero(improvement >= realisation.target_improvement(benefit))
    return window["period"].iloc[int(hits[0]) if len(hits) else -1].date()


def _future_weeks(window: pd.DataFrame, benefit: register.Benefit, settings: ForecastSettings) -> pd.DatetimeIndex:
    """Weekly periods from the week after the last observation up to the horizon."""
    horizon = pd.Timestamp(benefit.target.date) + settings.margin_weeks * _WEEK
    first = window["period"].iloc[-1] + _WEEK
    if first > horizon:
        return pd.DatetimeIndex([])
    return pd.date_range(first, horizon, freq="7D")


# --- Prophet -----------------------------------------------------------------------------------


def _sample_paths(
    benefit: register.Benefit,
    window: pd.DataFrame,
    future: pd.DatetimeIndex,
    q_now: float,
    settings: ForecastSettings,
    seed: int,
) -> tuple[np.ndarray, int]:
    """Sampled paths of Q at the future weeks, shape (len(future), samples), and how many
    observations were left out of the fit as outliers (level measures only)."""
    quiet_prophet()
    from prophet import Prophet  # imported here: ~1 s, only the forecasting path pays it

    bounds = benefit.bounds
    level = benefit.measure is register.Measure.level
    logistic = level and bounds is not None and bounds.min is not None and bounds.max is not None
    outliers = _level_outliers(window["value"].to_numpy()) if level else np.zeros(len(window), dtype=bool)
    fitted = window[~outliers]
    span_days = (fitted["period"].iloc[-1] - fitted["period"].iloc[0]).days
    model = Prophet(
        growth="logistic" if logistic else "linear",
        yearly_seasonality=span_days >= _TWO_YEARS_DAYS,
        weekly_seasonality=False,
        daily_seasonality=False,
        uncertainty_samples=settings.samples,
        interval_width=settings.interval,
    )
    history = pd.DataFrame({"ds": fitted["period"], "y": fitted["value"]})
    rows = pd.DataFrame({"ds": future})
    if logistic:
        assert bounds is not None and bounds.min is not None and bounds.max is not None
        for frame in (history, rows):
            frame["cap"] = float(bounds.max)
            frame["floor"] = float(bounds.min)
    with warnings.catch_warnings():
        # prophet's own use of pandas APIs deprecated in pandas 3 (not ours to fix)
        for category in (DeprecationWarning, FutureWarning):
            warnings.filterwarnings("ignore", category=category, module=r"prophet(\.|$)")
        # Own output directory per fit: cmdstanpy otherwise keeps every fit's CSV files until the
        # process exits, and parallel workers can clash on file names.
        with tempfile.TemporaryDirectory(prefix="benefits-prophet-") as output_dir:
            # kwargs of Prophet.fit go to CmdStanModel.optimize: LBFGS instead of the Newton default
            # under 100 points (~6x faster). Prophet still falls back to Newton if LBFGS fails.
            model.fit(history, algorithm="LBFGS", output_dir=output_dir, seed=seed & 0x7FFFFFFF)
            model.stan_fit = None  # its CSV files are about to go
            model.stan_backend.stan_fit = None

        state = np.random.get_state()  # prophet samples with NumPy's global generator
        np.random.seed(seed & 0xFFFFFFFF)
        try:
            draws = np.asarray(model.predictive_samples(rows)["yhat"], dtype=float)
        finally:
            np.random.set_state(state)
    if settings.parameter_uncertainty and not logistic:
        draws = draws + _trend_parameter_draws(model, future, draws.shape[1], seed)

    if level:
        paths = draws
        if bounds is not None and (bounds.min is not None or bounds.max is not None):
            paths = np.clip(paths, bounds.min, bounds.max)
    else:
        paths = q_now + np.cumsum(draws, axis=0)
    if paths.shape != (len(future), paths.shape[1]) or not np.isfinite(paths).all():
        raise RuntimeError("Prophet returned non-finite samples")
    return paths, int(outliers.sum())


def _level_outliers(values: np.ndarray) -> np.ndarray:
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


def _trend_parameter_draws(model: object, future: pd.DatetimeIndex, n: int, seed: int) -> np.ndarray:
    """Draws of ``y_scale * (dk * t + dm)`` at the future weeks, shape (len(future), n).

    For linear growth Prophet's trend is ``(k + sum of passed deltas) * t + (m + offsets)``, linear
    in the initial slope k and offset m. Given the MAP changepoints, noise level and seasonality,
    the posterior of (k, m) is Gaussian: precision ``X'X / sigma^2`` (X = [t, 1] over the history,
    scaled units) plus the N(0, 5) priors. Adding its draws to Prophet's samples carries the
    uncertainty of the fitted trend into the forecast.
    """
    t_hist = np.asarray(model.history["t"], dtype=float)  # type: ignore[attr-defined]
    sigma = float(np.asarray(model.params["sigma_obs"]).reshape(-1)[0])  # type: ignore[attr-defined]
    design = np.column_stack([t_hist, np.ones_like(t_hist)])
    precision = design.T @ design / max(sigma, 1e-12) ** 2 + np.eye(2) / 25.0
    cov = np.linalg.inv(precision)
    rng = np.random.default_rng(seed)
    dk, dm = rng.multivariate_normal(np.zeros(2), cov, size=n, method="cholesky").T
    t_future = ((future - model.start) / model.t_scale).to_numpy(dtype=float)  # type: ignore[attr-defined]
    return float(model.y_scale) * (np.outer(t_future, dk) + dm[None, :])  # type: ignore[attr-defined]


@dataclasses.dataclass(frozen=True)
class _Summary:
    p_on_time: float
    landing: dt.date | None
    at_target: tuple[float, float, float]
    path: list[dict]


def _summarise(
    benefit: register.Benefit,
    future: pd.DatetimeIndex,
    paths: np.ndarray,
    q_now: float,
    settings: ForecastSettings,
) -> _Summary:
    sign = realisation.sign(benefit)
    big_t = realisation.target_improvement(benefit)
    tail = (1.0 - settings.interval) / 2.0
    median = np.median(paths, axis=1)
    lower = np.quantile(paths, tail, axis=1)
    upper = np.quantile(paths, 1.0 - tail, axis=1)

    before = np.flatnonzero(future <= pd.Timestamp(benefit.target.date))
    if len(before):
        i = int(before[-1])
        q_target = paths[i]
        at_target = (float(median[i]) + 0.0, float(lower[i]) + 0.0, float(upper[i]) + 0.0)
    else:  # the target date falls before the next weekly period: Q stays as it is
        q_target = np.full(paths.shape[1], q_now)
        at_target = (q_now, q_now, q_now)
    improvement = sign * (q_target - benefit.baseline.value)
    p = float(np.mean(improvement <= big_t)) if benefit.dis_benefit else float(np.mean(improvement >= big_t))

    reached = np.flatnonzero(sign * (median - benefit.target.value) >= 0)
    landing = future[int(reached[0])].date() if len(reached) else None
    path = [
        {"period": d.date().isoformat(), "yhat": float(y) + 0.0, "lower": float(lo) + 0.0, "upper": float(hi) + 0.0}
        for d, y, lo, hi in zip(future, median, lower, upper)
    ]
    return _Summary(p_on_time=p, landing=landing, at_target=at_target, path=path)


# --- small helpers -----------------------------------------------------------------------------


def _status(p: float, settings: ForecastSettings) -> str:
    if p >= settings.on_track:
        return "on_track"
    if p >= settings.at_risk:
        return "at_risk"
    return "off_track"


def _meets(benefit: register.Benefit, improvement: float, big_t: float) -> bool:
    return improvement <= big_t if benefit.dis_benefit else improvement >= big_t


def _likely(benefit: register.Benefit, p: float) -> str:
    target = benefit.target
    goal = (
        f"stay within the tolerated limit of {_amount(target.value, benefit.unit)}"
        if benefit.dis_benefit
        else f"reach {_amount(target.value, benefit.unit)}"
    )
    return f"{round(100 * p)}% likely to {goal} by {target.date.isoformat()}"


def _so_far(benefit: register.Benefit, realised: float, big_t: float) -> str:
    unit = "percentage points" if benefit.unit == "%" else benefit.unit  # improvements of a percentage
    if benefit.dis_benefit:
        return f"adverse effect so far {_number(realised)} of {_amount(big_t, unit)} tolerated"
    return f"realised {_number(realised)} of {_amount(big_t, unit)} targeted"


def _number(x: float) -> str:
    if not math.isfinite(x):
        return str(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    text = f"{x:,.2f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def _amount(x: float, unit: str) -> str:
    return f"{_number(x)}{'' if unit == '%' else ' '}{unit}"


def _excluded_note(excluded: int) -> str:
    if not excluded:
        return ""
    return f"; {excluded} outlier{'s' if excluded != 1 else ''} left out of the fit"


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


@functools.cache
def _prophet_version() -> str:
    try:
        return importlib.metadata.version("prophet")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _seed(
    benefit: register.Benefit,
    start: dt.date,
    window: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings,
) -> int:
    """Random seed from the inputs that shape the samples (not the status thresholds)."""
    sampling = ForecastSettings(
        samples=settings.samples,
        margin_weeks=settings.margin_weeks,
        parameter_uncertainty=settings.parameter_uncertainty,
    )
    return int(_fingerprint(benefit, start, window, as_of, sampling)[:8], 16)


def _fingerprint(
    benefit: register.Benefit,
    start: dt.date,
    window: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings,
) -> str:
    payload = {
        "method": METHOD_VERSION,
        "prophet": _prophet_version(),
        "benefit": benefit.model_dump(mode="json"),
        "start": start.isoformat(),
        "as_of": as_of.isoformat(),
        "settings": settings.model_dump(mode="json"),
        "observations": [
            [p.date().isoformat(), float(v).hex()] for p, v in zip(window["period"], window["value"])
        ],
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
