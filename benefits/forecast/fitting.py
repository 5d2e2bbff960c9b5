"""Prophet fitting and sampling: sampled future paths of a benefit's tracked quantity Q.

- ``cumulative`` measures: Prophet's model is fitted on the flows as rates, each period's value
  over the days since the reading before it, in units of one typical period (:func:`flow_rates`):
  an invoice covering six weeks, or a report booking a missed week, is then not read as a jump in
  the flow. Predictive samples of the rate are drawn for every future period up to the horizon
  and scaled by that period's length; each sampled path is ``Q now + cumulative sum`` of them.
  The rate's fitted trend is **damped** beyond the history (its change fades with time constant
  ``damping_weeks``, :func:`faded_time`): a linear trend in a flow is a quadratic in Q, and
  carried on for a year it turns a noisy slowdown into a stall, or a ramp into runaway growth.
  Rates that left their course and came back (a strike, an outage), and a single one-off (a
  one-time saving booked before the run rate), are left out of the fit; Q keeps what they banked.
  An intermittent flow (payments with zero readings between, :func:`payments`) is fitted on its
  payments, each a rate over its interval (Croston's reading of intermittent demand: the time
  since the payment before, or the mean interval), and its paths bank whole payments.
- ``level`` measures: the model is fitted on the values themselves (logistic growth between
  ``bounds.min`` and ``bounds.max`` when both are set); each sample is a path of Q. Readings far
  from their neighbours, and excursions from the level that came back, are left out of the fit;
  a level that stepped and stayed is fitted as a step.
- The Stan inputs are built and fitted by :mod:`benefits.forecast.stan` (Prophet's model and
  compiled Stan program without ``Prophet.fit``'s pandas preprocessing).
- :func:`predictive_samples` draws from Prophet's generative model at the MAP parameters, as
  ``Prophet.predictive_samples`` does (future trend changes at the history's rate and mean size,
  seasonality, noise; the logistic trend through Prophet's vectorised logistic uncertainty), with
  a seeded NumPy generator instead of the global one, and one difference: fitted trend changes
  that the next ones reverse are netted before their mean size is taken (:func:`trend_change_scale`).
- For linear growth each path also draws the trend's slope and offset from their (Laplace)
  posterior given the fitted changepoints (``ForecastSettings.parameter_uncertainty``).

A fit can start from the parameters of the benefit's previous fit (``warm``); Prophet's own
starting value is kept for any parameter whose shape no longer matches (e.g. a different number
of changepoints).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from benefits import register
from benefits.forecast import stan
from benefits.forecast.series import between_payments, set_apart
from benefits.forecast.settings import ForecastSettings

_TWO_YEARS = np.timedelta64(730, "D")
_ONE_YEAR = np.timedelta64(365, "D")
_TWO_WEEKS = np.timedelta64(14, "D")
_DAY = np.timedelta64(1, "D")
#: Consecutive fitted trend changes netted against each other when sizing future ones (see
#: :func:`trend_change_scale`).
TREND_CHANGE_WINDOW = 6


@dataclasses.dataclass(frozen=True)
class Samples:
    """Sampled paths of Q, shape (len(future), samples), and what the fit left behind."""

    paths: np.ndarray
    excluded: int
    """Observations left out of the fit as outliers (of a flow, a single one-off at most)."""
    shifts: tuple[str, ...]
    """The periods (ISO dates) from which the level shifted, fitted as steps (level measures only)."""
    excursions: tuple[tuple[str, str], ...]
    """The first and last periods (ISO dates) of each excursion that came back (of the level, or of
    a cumulative measure's flow rate), left out of the fit."""
    params: dict[str, Any]
    """The fitted parameters (JSON-safe), to warm-start the next fit."""
    noise: float
    """The fitted noise level (standard deviation of one period's value), in the metric's unit."""
    payments: tuple[float, float] | None = None
    """(typical payment, mean days between payments) of a flow read as payments (:func:`payments`)."""
    season_months: int | None = None
    """The months of readings a yearly season was learned from when fewer than 24 (method 17's
    one to two years, :func:`_season_shown`); None without a yearly season or with two years."""


def quiet_prophet() -> None:
    """Silence cmdstanpy's logging, prophet's below errors, and the deprecation warnings that
    prophet's own use of pandas raises (not ours to fix), for code that runs Prophet itself (the
    forecast does not import it). Process-wide and idempotent: a ``catch_warnings`` block would
    not be thread-safe in a multi-threaded Dask worker."""
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=r"prophet(\.|$)")
    logging.getLogger("cmdstanpy").disabled = True
    for name in ("prophet", "prophet.forecaster", "prophet.models"):
        logger = logging.getLogger(name)
        if logger.level < logging.ERROR:
            logger.setLevel(logging.ERROR)


def sample_paths(
    benefit: register.Benefit,
    observed: pd.DataFrame,
    future: pd.DatetimeIndex,
    q_now: float,
    settings: ForecastSettings,
    seed: int,
    warm: dict[str, Any] | None = None,
    start: dt.date | None = None,
) -> Samples:
    """Fit Prophet's model to ``observed`` and sample paths of Q at the ``future`` weeks.

    Raises whatever Stan raises, ValueError for a series Prophet refuses (fewer than two points),
    and RuntimeError for non-finite samples.
    """
    bounds = benefit.bounds
    level = benefit.measure is register.Measure.level
    values = observed["value"].to_numpy(dtype=float)
    periods = observed["period"].to_numpy(dtype="datetime64[ns]")
    dates = future.to_numpy(dtype="datetime64[ns]")
    lengths = np.ones(len(dates))
    paid = None
    if not level:
        values, periods, lengths, paid = _rates(values, periods, dates)
    weekly = sub_weekly(periods)
    apart = set_apart(values, periods, level, weekly)
    periods = periods[~apart.away]
    span = periods[-1] - periods[0] if len(periods) else np.timedelta64(0, "D")
    order = yearly_order(periods)
    design = stan.design(
        periods,
        values[~apart.away],
        yearly=paid is None and bool(span >= _ONE_YEAR) and order > 0,
        tau=settings.changepoint_prior_scale,
        limits=_limits(benefit),
        changepoint_range=changepoint_range(periods, start),
        shifts=apart.shifts,
        weekly=weekly,
        yearly_order=order,
    )
    params = stan.fit(design, seed & 0x7FFFFFFF, warm if settings.warm_start else None)
    if design.yearly and span < _TWO_YEARS:
        design, params = _season_shown(design, params, periods, seed, warm if settings.warm_start else None)

    persistence = residual_persistence(design, params) if settings.residual_persistence else (0.0, 0.0)
    fade = None if level else 7.0 * settings.damping_weeks
    draws = predictive_samples(
        design, params, dates, settings.samples, np.random.default_rng(seed), *persistence, fade_days=fade
    )
    if settings.parameter_uncertainty and not design.logistic:
        draws = draws + _trend_parameter_draws(design, params, dates, draws.shape[1], seed, fade_days=fade)

    if level:
        paths = draws
        if bounds is not None and (bounds.min is not None or bounds.max is not None):
            paths = np.clip(paths, bounds.min, bounds.max)
    else:
        accrued = np.cumsum(draws * lengths[:, None], axis=0)
        paths = q_now + (accrued if paid is None else paid.banked(accrued, float(np.median(lengths)), seed))
    if paths.shape != (len(future), settings.samples) or not np.isfinite(paths).all():
        raise RuntimeError("the fitted model gave non-finite samples")
    return Samples(
        paths=paths,
        excluded=int(apart.outliers.sum()),
        shifts=tuple(np.datetime_as_string(apart.shifts, unit="D").tolist()),
        excursions=apart.excursions,
        params=params.as_json(),
        noise=float(design.y_scale * params.sigma_obs),
        payments=None if paid is None else (paid.size, paid.interval),
        season_months=round(span / _DAY / 30.44) if design.yearly and span < _TWO_YEARS else None,
    )


@dataclasses.dataclass(frozen=True)
class Payments:
    """An intermittent flow read as its payments (:func:`payments`)."""

    periods: np.ndarray
    """The readings fitted: each payment's last reading, and zero readings that are not waits (a
    silence longer than any wait before it)."""
    amounts: np.ndarray
    """What each of those readings booked: a payment's whole amount (0 for the zero readings)."""
    size: float
    """A typical payment: the median payment, unsigned."""
    interval: float
    """The mean time between payments, in days."""
    regular: bool
    """Whether the payments came at regular intervals (every gap within a tenth of their median)."""
    accrued: bool
    """Whether each payment is for the time since the one before (a payment over its own
    interval is steadier than the payment alone); else payments come at the mean interval."""

    def banked(self, accrued: np.ndarray, period: float, seed: int) -> np.ndarray:
        """What is banked of the sampled ``accrued`` flows (shape (periods, samples)) when they
        come as whole payments: a path banks one each time what accrued since the last reaches
        it. Regular payments come when the next is due (within half a future ``period``, in
        units of the typical gap); otherwise when in its cycle the next falls is not known and
        each path draws it (uniform). Q at a date is then one of the whole numbers of payments
        either side of what accrued, as it will be, and the interval spans them: a smooth
        accrual of 120,000 a quarter gave an interval of no width between two quarterly
        payments that the outcome fell outside."""
        offset = 0.5 * period if self.regular else np.random.default_rng([seed, 1]).random(accrued.shape[1])
        return self.size * np.floor(accrued / self.size + offset)


def payments(flows: np.ndarray, periods: np.ndarray) -> Payments | None:
    """The payments of a cumulative measure whose flows come as occasional payments with zeros
    between (:func:`benefits.forecast.series.between_payments`), or None when its flows are read
    as they are: when they are not intermittent, and when the payments recur at the same readings
    each year and the yearly seasonality can show any such pattern (two years of readings and an
    order of half the readings in a year: a quarterly payment read monthly is the metric's
    season, and fitted as one it is forecast exactly; measured with ``bench/payments.py``).

    A run of consecutive non-zero flows (a campaign's three weeks of sales) is one payment,
    booked at its last reading. Each payment is then read as a rate (Croston's reading of
    intermittent demand, its size over its interval): over the time since the one before when
    that makes the rates steadier than the payments themselves (invoices for the time they cover),
    else over the mean interval (payments of sizes that do not follow their timing, whose rate
    over their own intervals would be too high on average: the mean of 1/interval exceeds 1 over
    the mean interval)."""
    waits = between_payments(flows, periods)
    if not waits.any():
        return None
    nonzero = flows != 0
    first = nonzero & ~np.r_[False, nonzero[:-1]]
    last = nonzero & ~np.r_[nonzero[1:], False]
    run = np.maximum(np.cumsum(first) - 1, 0)
    sums = np.bincount(run[nonzero], weights=flows[nonzero])
    keep = last | (~waits & ~nonzero)
    paid = periods[last]
    gaps = np.diff(paid) / _DAY
    regular = len(gaps) >= 2 and float(gaps.max() - gaps.min()) <= 0.1 * float(np.median(gaps))
    size = float(np.median(np.abs(sums)))
    if not size > 0 or (regular and _in_season(periods, float(np.median(gaps)))):
        return None  # bookings that mostly net to nothing (a booking and its reversal) are no payments
    accrued = len(gaps) < 2 or _spread(sums[1:] / gaps) <= _spread(sums[1:])
    return Payments(
        periods=periods[keep],
        amounts=np.where(last, sums[run], 0.0)[keep],
        size=size,
        interval=float(gaps.mean()) if len(gaps) else typical_gap(periods),
        regular=regular,
        accrued=accrued,
    )


def _spread(values: np.ndarray) -> float:
    """The coefficient of variation of ``values`` (their standard deviation over their mean's size)."""
    scale = abs(float(np.mean(values)))
    return float(np.std(values)) / scale if scale > 0 else np.inf


def _in_season(periods: np.ndarray, gap_days: float) -> bool:
    """Whether payments every ``gap_days`` on readings at ``periods`` are a yearly pattern the
    yearly seasonality fits (see :func:`payments`)."""
    typical = typical_gap(periods)
    per_year, every = round(365.25 / typical), round(gap_days / typical)
    fitted = periods[-1] - periods[0] >= _TWO_YEARS and 2 * yearly_order(periods) >= per_year
    return fitted and every > 0 and per_year % every == 0


def _rates(
    flows: np.ndarray, periods: np.ndarray, future: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Payments | None]:
    """What a cumulative measure's fit reads: its rates (:func:`flow_rates`; of its payments when it
    is paid in lumps, :func:`payments`), their periods, the ``future`` periods' lengths and the
    payments (None when its flows are read as they are)."""
    paid = payments(flows, periods)
    if paid is not None:
        flows, periods = paid.amounts, paid.periods
    rates, lengths = flow_rates(periods, flows, future)
    if paid is not None and not paid.accrued:
        rates = paid.amounts * (typical_gap(periods) / paid.interval)
    return rates, periods, lengths, paid


def _season_shown(
    seasonal: stan.Design, params: stan.Params, periods: np.ndarray, seed: int, warm: dict[str, Any] | None
) -> tuple[stan.Design, stan.Params]:
    """The fit with yearly seasonality (``seasonal``, ``params``) of one to two years of readings,
    or the same model without it when its Bayesian information criterion is not worse.

    With two years the season shows twice and Prophet fits it (its ``auto``); with one, a season
    and a one-off change (a step, a bend, a ramp) fit the year alike, and fitted as a season the
    change is carried on as if it recurred. Its Fourier terms must earn their ``2 × order``
    parameters: ``n log(RSS / n) + 2 × order × log n`` below the plain model's ``n log(RSS / n)``.
    Measured on the training seeds (docs/forecasting.md, method 17): seasonality on every such
    history made the seasonal sets and the real series better (0.125 → 0.114, 0.152 → 0.143) and
    regime changes worse (*before* 0.080 → 0.111); chosen by this criterion, seasonal 0.112, real
    0.147, *before* 0.079. A plain fit that Stan fails leaves the seasonal one."""
    plain = dataclasses.replace(
        seasonal, yearly=False, X=stan.features(periods, False, seasonal.shifts, seasonal.weekly, seasonal.yearly_order)
    )
    try:
        plain_params = stan.fit(plain, seed & 0x7FFFFFFF, warm)
    except RuntimeError:  # Stan failed on the plain model only: the seasonal fit stands
        return seasonal, params
    terms = 2 * seasonal.yearly_order
    if _information(plain, plain_params, 0) <= _information(seasonal, params, terms):
        return plain, plain_params
    return seasonal, params


def _information(design: stan.Design, params: stan.Params, extra: int) -> float:
    """Schwarz's criterion of a fit, up to what every model of the same readings shares: ``n log(RSS
    / n)`` of its residuals plus ``extra × log n``."""
    n = len(design.y)
    residuals = _residuals(design, params)
    return n * math.log(max(float(residuals @ residuals) / n, 1e-300)) + extra * math.log(n)


def yearly_order(periods: np.ndarray) -> int:
    """The order of the yearly Fourier series the readings can show (0: none): Prophet's 10, but no
    more than half the readings in a year (6 for monthly readings, 2 for quarterly ones), and no
    more than leaves as many readings over as the season and the trend's offset and slope have
    terms (``2 × order + 2``).

    Above half the readings in a year (Nyquist's limit) an order repeats a lower one at the
    readings' dates (aliasing), so Prophet's 10 orders on monthly readings fit two or three years of
    them almost exactly: a flat monthly series with noise 2 (scaled 0.018) was fitted with a noise
    of 0.0001 and forecast at 108.7 within 105.9 to 111.0 after 25 readings at 100 (now 98.2 within
    91.6 to 104.9). With too few readings for its terms a season is fitted exactly as well: 13
    monthly readings of overtime hours with order 6 left a noise of 4e-12 and a forecast of hours
    given back, "97% likely to stay within" a limit it passed (method 18)."""
    return min(_order(round(365.25 / typical_gap(periods))), max((len(periods) - 2) // 4, 0))


def _order(per_year: int) -> int:
    """:func:`yearly_order` of readings that come ``per_year`` times a year."""
    return int(min(stan.YEARLY_ORDER, max(1, per_year // 2)))


def sub_weekly(periods: np.ndarray) -> bool:
    """Whether readings come more often than weekly (median gap under 7 days) over at least two
    weeks: then the model has weekly seasonality, as Prophet's ``auto`` gives it (a daily count of
    tickets is quieter at weekends)."""
    if len(periods) < 3 or periods[-1] - periods[0] < _TWO_WEEKS:
        return False
    return typical_gap(periods) < 7.0


def typical_gap(periods: np.ndarray) -> float:
    """The median gap between readings, in days (a week for fewer than two readings)."""
    days = np.diff(periods) / _DAY
    typical = float(np.median(days)) if len(days) else 7.0
    return typical if typical > 0 else 7.0


def flow_rates(periods: np.ndarray, flows: np.ndarray, future: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A cumulative measure's flows as rates, and the lengths of the ``future`` periods, both in
    units of one typical period (the median gap between readings).

    Each flow is divided by the days since the reading before it (the first by the typical gap):
    what a period books is the flow over the time it covers, so two weeks booked in one report,
    or invoices two to six weeks apart, are one steady rate, as the cumulative quantity Q itself
    shows. The future periods' lengths (the first counted from the last reading) turn sampled
    rates back into flows."""
    typical = typical_gap(periods)
    covered = np.concatenate([[typical], np.diff(periods) / _DAY]) / typical
    ahead = np.diff(np.concatenate([periods[-1:], future])) / _DAY
    return flows / covered, ahead / typical


def changepoint_range(periods: np.ndarray, start: dt.date | None) -> float:
    """Prophet's share of the history that may hold trend changes (0.8), stretched when the
    history runs from before the benefit's ``start``: the benefit changes the trend at its start,
    so potential changepoints cover 80% of the time since the start too (with Prophet's 80% of
    the whole history, a benefit that started in its last fifth could not bend the trend)."""
    if start is None or len(periods) < 2 or periods[0] >= np.datetime64(start, "ns"):
        return stan.CHANGEPOINT_RANGE
    since = int(np.searchsorted(periods, np.datetime64(start, "ns")))
    delivering = len(periods) - since
    return max(stan.CHANGEPOINT_RANGE, (since + stan.CHANGEPOINT_RANGE * delivering) / len(periods))


def _limits(benefit: register.Benefit) -> tuple[float, float] | None:
    """(floor, cap) for logistic growth: a level measure bounded on both sides; else None (linear)."""
    bounds = benefit.bounds
    if benefit.measure is not register.Measure.level or bounds is None or bounds.min is None or bounds.max is None:
        return None
    return float(bounds.min), float(bounds.max)


def residual_persistence(design: stan.Design, params: stan.Params) -> tuple[float, float]:
    """``(phi, last)``: the lag-one autocorrelation of the fitted residuals (what the trend and
    seasonality leave unexplained, in scaled units), clipped to [0, 0.95], and the last residual.

    Fewer than eight readings, or residuals of no variation, give ``(0, 0)``: independent noise,
    as Prophet draws it."""
    if len(design.y) < 8:
        return 0.0, 0.0
    residuals = _residuals(design, params)
    spread = float(residuals @ residuals)
    if not np.isfinite(spread) or spread <= 1e-18:
        return 0.0, 0.0
    phi = float(residuals[1:] @ residuals[:-1]) / spread
    return min(max(phi, 0.0), 0.95), float(residuals[-1])


def _residuals(design: stan.Design, params: stan.Params) -> np.ndarray:
    """What the fitted trend and seasonality leave unexplained of each reading, in scaled units."""
    return design.y - fitted_trend(design, params, design.t) - design.X @ params.beta


def predictive_samples(
    design: stan.Design,
    params: stan.Params,
    dates: np.ndarray,
    n: int,
    rng: np.random.Generator,
    phi: float = 0.0,
    last: float = 0.0,
    fade_days: float | None = None,
    trend_window: int = TREND_CHANGE_WINDOW,
) -> np.ndarray:
    """Prophet's predictive samples at ``dates`` after the history, shape (len(dates), n).

    The generative model of ``Prophet.predictive_samples`` at the MAP parameters: future trend
    changes occur at the history's changepoint rate with the mean absolute fitted change (Laplace;
    changes that the next ones reverse netted first, :func:`trend_change_scale`),
    the logistic trend goes through them as in Prophet's vectorised sampler, plus additive
    seasonality and Gaussian noise; computed from ``design`` and ``params`` alone. With ``phi`` >
    0 the noise is an AR(1) with that coefficient and the same variance, starting from the last
    fitted residual ``last`` (:func:`residual_persistence`); with 0 it is independent, as
    Prophet's. With ``fade_days`` the fitted linear trend is damped after the history
    (:func:`faded_time`); the sampled future trend changes are not. ``trend_window`` 1 sizes the
    future trend changes exactly as Prophet does (:func:`trend_change_scale`).
    """
    t = design.time(dates)
    step = float(np.diff(t).mean()) if len(t) > 1 else float(np.diff(design.t).mean())
    likelihood = len(design.changepoints_t) * step
    mean_delta = trend_change_scale(params.delta, trend_window) + 1e-8
    shifts = rng.laplace(0.0, mean_delta, size=(n, len(t))) * (rng.uniform(size=(n, len(t))) < likelihood)
    shifts = (np.hstack([np.zeros((n, 1)), shifts])[:, :-1] + shifts) / 2.0
    if design.cap is None:
        trend = (
            fitted_trend(design, params, faded_time(design, t, fade_days)) + shifts.cumsum(axis=1).cumsum(axis=1) * step
        )
    else:
        trend = fitted_trend(design, params, t) + _logistic_uncertainty(shifts, design, params, t, step)
    seasonal = design.features(dates) @ params.beta
    noise = rng.normal(0.0, params.sigma_obs, size=(n, len(t)))
    if phi > 0.0:
        noise *= np.sqrt(1.0 - phi * phi)
        carried = np.full(n, last)
        for i in range(len(t)):
            carried = phi * carried + noise[:, i]
            noise[:, i] = carried
    return (design.y_scale * (trend + seasonal + noise) + design.floor).T


def trend_change_scale(delta: np.ndarray, window: int) -> float:
    """The size of the future trend changes drawn (the scale of their Laplace distribution): the
    fitted changes' mean absolute size, as Prophet's, but with the changes within ``window``
    consecutive changepoints netted against each other first.

    It is the mean, over every run of ``window`` consecutive changepoints (runs cut short at
    either end included, so that each change is in ``window`` of them), of the absolute sum of the
    run's changes, over ``window``. Changes of one sign, or further apart than ``window``, give
    Prophet's mean absolute change exactly; a change that the next ones reverse (the trend bent to
    follow a dip and bent back) counts only by what is left of it, so a wobble the level came back
    from does not widen every future path. Never more than Prophet's scale.
    """
    d = np.asarray(delta, dtype=float)
    if not len(d):
        return 0.0
    total = np.concatenate([[0.0], np.cumsum(d)])
    ends = np.arange(1, len(d) + window)
    runs = total[np.minimum(ends, len(d))] - total[np.maximum(ends - window, 0)]
    return float(np.abs(runs).sum()) / (window * len(d))


def faded_time(design: stan.Design, t: np.ndarray, fade_days: float | None) -> np.ndarray:
    """Scaled times after the history's end (t = 1) at which a linear trend continued to ``t``
    has moved as far as a trend fading with time constant ``fade_days`` (None: ``t`` itself)."""
    if fade_days is None:
        return t
    tau = fade_days * 86400e9 / float(design.span.astype("timedelta64[ns]").astype(float))
    ahead = np.maximum(t - 1.0, 0.0)
    return np.minimum(t, 1.0) + tau * (1.0 - np.exp(-ahead / tau))


def fitted_trend(design: stan.Design, params: stan.Params, t: np.ndarray) -> np.ndarray:
    """The fitted trend at scaled times ``t``: linear, or logistic under the design's capacity."""
    if design.cap is None:
        return piecewise_linear(t, params, design.changepoints_t)
    return piecewise_logistic(t, design.cap, params, design.changepoints_t)


def piecewise_linear(t: np.ndarray, params: stan.Params, changepoints_t: np.ndarray) -> np.ndarray:
    """Prophet's linear trend at scaled times ``t``."""
    deltas = (changepoints_t[None, :] <= t[..., None]) * params.delta
    return (deltas.sum(axis=1) + params.k) * t + (deltas * -changepoints_t).sum(axis=1) + params.m


def piecewise_logistic(t: np.ndarray, cap: float, params: stan.Params, changepoints_t: np.ndarray) -> np.ndarray:
    """Prophet's logistic trend at scaled times ``t`` under the scaled capacity ``cap``."""
    rates = np.concatenate([[params.k], params.k + np.cumsum(params.delta)])
    gammas = np.zeros(len(changepoints_t))
    for i, t_s in enumerate(changepoints_t):
        gammas[i] = (t_s - params.m - gammas.sum()) * (1 - rates[i] / rates[i + 1])
    passed = changepoints_t[None, :] <= t[:, None]
    k_t = params.k + passed @ params.delta
    m_t = params.m + passed @ gammas
    return _logistic(cap, k_t * (t - m_t))


def _logistic_uncertainty(
    shifts: np.ndarray, design: stan.Design, params: stan.Params, t: np.ndarray, step: float
) -> np.ndarray:
    """Prophet's ``_logistic_uncertainty``: each sampled path's logistic trend with its future rate
    changes (``shifts``, shape (n, len(t))) after the fitted ones, minus the mean over paths."""
    if design.cap is None:
        raise ValueError("a logistic trend needs a cap")
    grid = np.arange(0, 1 + step, step)  # the history on a regular grid of future steps
    past = np.zeros(len(grid))
    past[[int(np.flatnonzero(grid > c)[0]) for c in design.changepoints_t]] = params.delta
    changes = np.concatenate([np.broadcast_to(past, (len(shifts), len(grid))), shifts], axis=1)
    times = np.concatenate([grid, t])
    rates = np.where(changes != 0, np.cumsum(changes, axis=1) + params.k, 0.0)
    rates = np.concatenate([np.full((len(changes), 1), params.k), rates], axis=1)
    filled = np.where(rates != 0, np.arange(rates.shape[1]), 0)  # forward-fill zero rates
    np.maximum.accumulate(filled, axis=1, out=filled)
    rates = rates[np.arange(len(rates))[:, None], filled]
    gammas = np.zeros_like(changes)
    total = np.zeros(len(changes))
    for i in range(changes.shape[1]):
        gammas[:, i] = (times[i] - params.m - total) * (1 - rates[:, i] / rates[:, i + 1])
        total += gammas[:, i]
    k_t = (changes.cumsum(axis=1) + params.k)[:, -len(t) :]
    m_t = (gammas.cumsum(axis=1) + params.m)[:, -len(t) :]
    trends = _logistic(design.cap, k_t * (t - m_t))
    return trends - trends.mean(axis=0)


def _logistic(cap: float, x: np.ndarray) -> np.ndarray:
    """``cap / (1 + exp(-x))``; far below the curve's middle ``exp`` overflows to infinity and the
    value is its limit, 0, without numpy's overflow warning on the console."""
    with np.errstate(over="ignore"):
        return cap / (1 + np.exp(-x))


def _trend_parameter_draws(
    design: stan.Design, params: stan.Params, dates: np.ndarray, n: int, seed: int, fade_days: float | None = None
) -> np.ndarray:
    """Draws of ``y_scale * (dk * t + dm)`` at the future ``dates``, shape (len(dates), n).

    For linear growth Prophet's trend is ``(k + sum of passed deltas) * t + (m + offsets)``, linear
    in the initial slope k and offset m. Given the MAP changepoints, noise level and seasonality,
    the posterior of (k, m) is Gaussian: precision ``X'X / sigma^2`` (X = [t, 1] over the history,
    scaled units) plus the N(0, 5) priors. Adding its draws to the samples carries the
    uncertainty of the fitted trend into the forecast.
    """
    matrix = np.column_stack([design.t, np.ones_like(design.t)])
    precision = matrix.T @ matrix / max(params.sigma_obs, 1e-12) ** 2 + np.eye(2) / 25.0
    cov = np.linalg.inv(precision)
    rng = np.random.default_rng(seed)
    dk, dm = rng.multivariate_normal(np.zeros(2), cov, size=n, method="cholesky").T
    return design.y_scale * (np.outer(faded_time(design, design.time(dates), fade_days), dk) + dm[None, :])
