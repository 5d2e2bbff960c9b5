"""From sampled paths to the probability of landing, the expected landing week and the interval."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from benefits import realisation, register
from benefits.forecast import conformal
from benefits.forecast.reference import PRIOR_RATE, lean, margins
from benefits.forecast.settings import ForecastSettings

WEEK = pd.Timedelta(days=7)


@dataclasses.dataclass(frozen=True)
class Summary:
    """What the sampled paths say about one benefit."""

    p_on_time: float
    """Share of paths whose improvement at the target date reaches the target (dis-benefit: stays within it)."""
    landing: dt.date | None
    """First future week the median path reaches the target value; None beyond the horizon."""
    at_target: tuple[float, float, float]
    """Median, lower and upper Q at the target date."""
    path: list[dict]
    """Weekly ``{"period", "yhat", "lower", "upper"}`` of Q; JSON-safe."""


def meets(benefit: register.Benefit, improvement: float, big_t: float) -> bool:
    """Whether an improvement meets the target (for a dis-benefit: stays within the limit)."""
    return improvement <= big_t if benefit.dis_benefit else improvement >= big_t


def summarise(
    benefit: register.Benefit,
    future: pd.DatetimeIndex,
    raw: np.ndarray,
    q_now: float,
    settings: ForecastSettings,
    calibration: conformal.Calibration = conformal.PRIOR,
    origin: pd.Timestamp | None = None,
    noise: float = 0.0,
    delivering_days: float = 0.0,
    flows: int = 0,
    flowing_days: float = 0.0,
    start: dt.date | None = None,
    reference_rate: float = PRIOR_RATE,
    reference_weight: float = 0.0,
) -> Summary:
    """Probability, landing, value at the target date and interval from the raw forecast ``raw``
    (:func:`raw_quantiles` of the sampled paths, shape ``(3, len(future))``), calibrated by
    ``calibration`` (:mod:`benefits.forecast.conformal`).

    ``origin`` is the last observed period (horizons are counted from it), ``noise`` the
    fitted noise of one period's value (the least half-width of an interval) and
    ``delivering_days`` how long the benefit has been delivering (since its start): the less,
    the more weight the damped-trend hypothesis gets (:func:`damped_share`). "At the target
    date" means at the last future period on or before it, as for realised values; before the
    first future period Q stays at ``q_now``. ``flows`` is the sign every observed flow of a
    cumulative measure has had (1: none negative, -1: none positive, 0: both): Q then cannot move
    back past ``q_now`` (what has been banked stays banked), and no quantile does either.
    ``flowing_days`` is how long a cumulative measure's flow has been seen (before its start too):
    the damped-trend hypothesis weighs the longer of it and ``delivering_days`` as its evidence.
    ``reference_weight`` is how much the probability leans on the benefit's reference class, whose
    landing rate is ``reference_rate``; a cumulative measure that has delivered nothing yet
    (``delivering_days`` 0) leans its interval and median as much on how far comparable benefits
    land from their targets (:func:`reference_paths`, along its plan from ``start``), as its own
    fit has only zeros to go on. ``p_on_time`` is the model's own probability, before the lean.
    """
    kind = benefit.measure.value
    origin = origin if origin is not None else future[0] - (future[1] - future[0] if len(future) > 1 else WEEK)
    days = ((future - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    bands = [calibration.band(kind, d, delivering_days) for d in days]
    floor = noise_floor(benefit, noise, len(future), settings.interval)
    w_lo, w_hi = np.maximum(raw[1] - raw[0], floor), np.maximum(raw[2] - raw[1], floor)
    share = damped_share(settings, benefit, origin, max(delivering_days, flowing_days))
    components = [(1.0 - share, raw[1])] + (
        [(share * w, path) for w, path in damped_paths(benefit, raw[1], q_now, days, settings)] if share > 0 else []
    )
    model = conformal.predictive(bands, components, w_lo, w_hi, orientation(benefit))
    before = np.flatnonzero(future <= pd.Timestamp(benefit.target.date))
    dist = model
    if reference_weight > 0 and range_leans(benefit, delivering_days) and len(before):
        # with no delivery as evidence the lean is the same at every future date (see reference.lean)
        weights = np.full(len(future), reference_weight)
        dist = model.mixed(reference_paths(benefit, future, q_now, start, origin, reference_rate), weights)
    tail = (1.0 - settings.interval) / 2.0
    lower, median, upper = (
        _bounded(benefit, row, q_now, flows, settings) for row in dist.quantiles([tail, 0.5, 1.0 - tail])
    )

    if len(before):
        i = int(before[-1])
        at_target = (float(median[i]) + 0.0, float(lower[i]) + 0.0, float(upper[i]) + 0.0)
        above = model.share_at_least(i, benefit.target.value)
        p = above if _meets_upwards(benefit) else 1.0 - above
    else:
        at_target = (q_now, q_now, q_now)
        p = (
            1.0
            if meets(
                benefit,
                realisation.sign(benefit) * (q_now - benefit.baseline.value),
                realisation.target_improvement(benefit),
            )
            else 0.0
        )

    reached = landing_index(
        future,
        realisation.sign(benefit) * (median - benefit.target.value) >= 0,
        int(before[-1]) if len(before) else None,
    )
    landing = future[reached].date() if reached is not None else None
    path = [
        {"period": d.date().isoformat(), "yhat": float(y) + 0.0, "lower": float(lo) + 0.0, "upper": float(hi) + 0.0}
        for d, y, lo, hi in zip(future, median, lower, upper, strict=True)
    ]
    return Summary(p_on_time=float(p), landing=landing, at_target=at_target, path=path)


def range_leans(benefit: register.Benefit, delivering_days: float) -> bool:
    """Whether the interval and median lean on the reference class as the probability does: for a
    cumulative measure that has delivered nothing yet, whose own fit has only zeros to go on, and
    for a level whose start is still ahead (``delivering_days`` below 0), whose fit has only the
    metric before its go-live."""
    if benefit.measure is register.Measure.cumulative:
        return delivering_days <= 0
    return delivering_days < 0


def reference_paths(
    benefit: register.Benefit,
    future: pd.DatetimeIndex,
    q_now: float,
    start: dt.date | None,
    origin: pd.Timestamp,
    rate: float,
    points: int = 201,
) -> np.ndarray:
    """Q at each ``future`` date as comparable benefits would have it, shape (dates, ``points``):
    at the target date the target moved by each of the reference class's margins
    (:func:`benefits.forecast.reference.margins`) times the target improvement; before it, Q today
    moved towards that as the rest of the plan from ``start`` moves (as time passes when the plan
    has nothing left to move); after it, as at the target date."""
    improvement = realisation.target_improvement(benefit)
    at_target = benefit.target.value + orientation(benefit) * improvement * margins(rate, points)
    return q_now + np.outer(plan_share(benefit, future, start, origin), at_target - q_now)


def plan_share(
    benefit: register.Benefit, future: pd.DatetimeIndex, start: dt.date | None, origin: pd.Timestamp
) -> np.ndarray:
    """The share (0..1) of the plan's remaining move from ``origin`` to the target date made by
    each ``future`` date; by time where the plan has none left (or no ``start`` is known)."""
    target = pd.Timestamp(benefit.target.date)
    if target <= origin:
        return np.ones(len(future))
    if start is not None:
        dates = [origin.date(), *(d.date() for d in future)]
        planned = np.array(realisation.planned_values(benefit, start, dates))
        rest = benefit.target.value - planned[0]
        if abs(rest) > 1e-12 * (abs(benefit.target.value) + 1.0):
            return np.clip((planned[1:] - planned[0]) / rest, 0.0, 1.0)
    return np.clip(((future - origin) / (target - origin)).to_numpy(dtype=float), 0.0, 1.0)


def landing_index(future: pd.DatetimeIndex, meets: np.ndarray, target: int | None = None) -> int | None:
    """The first of the ``future`` periods from which the median ``meets`` the target for a whole
    week (that period alone at a weekly or longer cadence; for readings more often than weekly,
    every period of the seven days from it: a quiet weekend of a metric with a weekly cycle is not
    a landing while its weekdays are still short) and keeps meeting it up to the ``target``-th
    period, the target date's (a level whose median passes the target in a seasonal high and is
    back below it by the target date has not landed then), or, from beyond it, up to the
    horizon. None when there is none."""
    n = len(meets)
    index = np.arange(n)
    ends = np.searchsorted(future.values, (future + pd.Timedelta(days=6)).values, side="right")
    misses = np.concatenate([[0], np.cumsum(~meets)])
    whole = misses[ends] == misses[index]
    last = n - 1 if target is None else target
    holds = misses[np.where(index <= last, last, n - 1) + 1] == misses[index]
    found = np.flatnonzero(meets & whole & holds)
    return int(found[0]) if len(found) else None


def damped_share(
    settings: ForecastSettings, benefit: register.Benefit, origin: pd.Timestamp, evidence_days: float
) -> float:
    """The weight of the damped-trend hypothesis: ``regime_share * H / (H + S)`` for H days from
    the last observation to the target date and S days of evidence that the trend goes on (of
    delivery so far, or of a cumulative measure's flow when it was seen for longer)."""
    return lean(settings.regime_share, (pd.Timestamp(benefit.target.date) - origin).days, evidence_days)


def damped_paths(
    benefit: register.Benefit, median: np.ndarray, q_now: float, days: np.ndarray, settings: ForecastSettings
) -> list[tuple[float, np.ndarray]]:
    """The regime-change hypotheses beside the fitted trend (Q's median path ``median``), each with
    its share of their weight: a level's change fades (it plateaus); a cumulative measure's flow
    either levels off (its change fades, :func:`levelling_flow`) or stalls (the flow itself
    fades), half each."""
    if benefit.measure is not register.Measure.cumulative:
        return [(1.0, damped(median, float(median[0]), days, settings))]
    return [(0.5, levelling_flow(median, q_now, days, settings)), (0.5, damped(median, q_now, days, settings))]


def levelling_flow(median: np.ndarray, q_now: float, days: np.ndarray, settings: ForecastSettings) -> np.ndarray:
    """A cumulative measure's median path whose flow (per day) keeps its next period's rate but
    for a change that fades (:func:`damped` applied to the flow): an acceleration or a slowdown
    that levels off, while the flow itself goes on."""
    span = np.diff(np.concatenate([[0.0], days]))
    span = np.where(span > 0, span, 1.0)
    rate = np.diff(np.concatenate([[q_now], median])) / span
    return q_now + np.cumsum(damped(rate, float(rate[0]), days - days[0], settings) * span)


def damped(median: np.ndarray, anchor: float, days: np.ndarray, settings: ForecastSettings) -> np.ndarray:
    """The median path under the damped-trend hypothesis: its change from ``anchor`` (Q now for a
    cumulative measure, the next value for a level) fades with time constant ``damping_weeks``,
    as the flow of a stalling benefit or the rise of a plateauing one does (Gardner and
    McKenzie's damped trend)."""
    tau = 7.0 * settings.damping_weeks
    fade = np.where(days > 0, tau / np.maximum(days, 1e-9) * (1.0 - np.exp(-days / tau)), 1.0)
    return anchor + (median - anchor) * fade


def raw_quantiles(paths: np.ndarray, interval: float) -> np.ndarray:
    """Lower, median and upper of the sampled paths at each future period, shape (3, periods)."""
    tail = (1.0 - interval) / 2.0
    return np.quantile(paths, [tail, 0.5, 1.0 - tail], axis=1)


def noise_floor(benefit: register.Benefit, noise: float, periods: int, interval: float) -> np.ndarray:
    """The least half-width of the interval at each of ``periods`` future periods: the noise of
    one reading (a level) or of the sum of the periods so far (a cumulative measure)."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + interval / 2.0)
    steps = np.arange(1, periods + 1, dtype=float)
    grows = np.sqrt(steps) if benefit.measure is register.Measure.cumulative else np.ones(periods)
    return z * max(noise, 0.0) * grows


def _meets_upwards(benefit: register.Benefit) -> bool:
    """Whether meeting the target means Q at or above the target value (else at or below)."""
    return (realisation.sign(benefit) > 0) != benefit.dis_benefit


def orientation(benefit: register.Benefit) -> int:
    """+1 when meeting the target means Q rising to it, -1 when it means Q falling (or staying
    below a dis-benefit's limit): the sign that orients backtested errors
    (:func:`conformal.normalised_errors`)."""
    return 1 if _meets_upwards(benefit) else -1


def _bounded(
    benefit: register.Benefit, values: np.ndarray, q_now: float, flows: int, settings: ForecastSettings
) -> np.ndarray:
    """Values clipped to the range a level measure's metric can read (``settings.value_range``:
    its declared bounds, validation.yaml's metric and unit bounds), or a cumulative measure's to
    ``q_now`` on the side its flows have never crossed (see :func:`summarise`)."""
    if benefit.measure is register.Measure.cumulative:
        if flows:
            return np.maximum(values, q_now) if flows > 0 else np.minimum(values, q_now)
        return values
    low, high = settings.value_range(benefit)
    if low is None and high is None:
        return values
    return np.clip(values, low, high)
