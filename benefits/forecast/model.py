"""The forecast of one benefit: Prophet on its weekly observations, as a pure function.

``forecast_benefit`` turns a benefit, its observations and a date into a ``BenefitForecast``:
a status, one human sentence, the probability of landing (reaching the target by the target
date), the expected landing week and the weekly path of the tracked quantity Q with an interval.
Q and improvement are defined in ``benefits.realisation``; how paths are sampled is in
``benefits.forecast.fitting``, how they become a probability in ``benefits.forecast.probability``.

Decided without a fit: no observations (``no_data``), target already reached (``achieved``,
never for a dis-benefit), target date passed (``off_track``; a dis-benefit is judged on its
observed value at the target date), fewer than ``min_points`` observations
(``insufficient_data``). A Prophet or Stan failure is returned as ``failed`` with the message
``forecast failed: <reason>`` (one line); the function does not raise for any series.

Sampling is seeded from a hash of the inputs, so the same inputs give the same forecast.
NumPy's global random state is left alone (samples come from seeded generators).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from benefits import realisation, register
from benefits.forecast import conformal, messages, series
from benefits.forecast import fingerprints as fp
from benefits.forecast.fitting import sample_paths
from benefits.forecast.probability import meets, raw_quantiles, summarise
from benefits.forecast.reference import ReferenceClass, class_of, weight
from benefits.forecast.result import BenefitForecast
from benefits.forecast.settings import ForecastSettings, status_for

#: How the message of a ``failed`` forecast begins; the one-line reason follows.
FAILED_PREFIX = "forecast failed: "


def forecast_benefit(
    benefit: register.Benefit,
    start: dt.date,
    observations: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings = ForecastSettings(),
    warm: dict[str, Any] | None = None,
    calibration: conformal.Calibration | None = None,
    reference: ReferenceClass | None = None,
    raw: dict[str, Any] | None = None,
) -> BenefitForecast:
    """Forecast one benefit at ``as_of`` from its observations (columns ``period``, ``value``).

    ``start`` is the date the benefit starts realising (its milestone, else its baseline date);
    ``warm`` the ``fit_params`` of its previous forecast, to start the optimiser from;
    ``calibration`` the portfolio's backtested errors (default: the documented prior) and
    ``reference`` the benefit's reference class (default: none decided yet); ``raw`` the raw
    forecast of an earlier run on the same inputs (its ``raw``): given, nothing is fitted and
    only the calibration is applied again.
    Observations before the baseline are used to learn seasonality and noise, not as realised value.
    Raises ValueError only for a malformed ``observations`` frame (missing columns, unparsable
    periods); modelling failures come back as ``failed`` (see :func:`failure`).
    """
    observed = _counted(benefit, start, observations, as_of)
    n = len(observed)
    big_t = realisation.target_improvement(benefit)

    if n == 0:
        since = (
            f"the {start.isoformat()} milestone"
            if start > benefit.baseline.date
            else f"the baseline ({start.isoformat()})"
        )
        return _verdict("no_data", f"no observations since {since}", 0)

    q_now = float(series.tracked(benefit, observed)[-1])  # the window ends on or before as_of
    realised = realisation.sign(benefit) * (q_now - benefit.baseline.value)
    so_far = messages.so_far(benefit, realised, big_t)
    reached = not benefit.dis_benefit and realised >= big_t

    if reached and benefit.measure is register.Measure.cumulative:
        landed = series.first_reached(benefit, observed)
        return _verdict(
            "achieved", f"achieved: {so_far} (reached {landed.isoformat()})", n, p_on_time=1.0, expected_landing=landed
        )
    if as_of > benefit.target.date:
        return _target_passed(benefit, start, observed, as_of, settings, so_far, warm)
    learn = series.history(benefit, observations, as_of, settings, start)
    if len(learn) < settings.min_points:
        reached_on = series.first_reached(benefit, observed) if reached else None
        return _verdict("insufficient_data", messages.too_few(len(learn), settings.min_points, reached_on, so_far), n)

    future = series.future_weeks(learn, benefit, settings)
    if len(future) == 0:
        # No period left before the horizon: the value at the target date is today's.
        p = 1.0 if meets(benefit, realised, big_t) else 0.0
        return _verdict(
            status_for(p, settings),
            f"{messages.likely(benefit, p)}; no period left before the target date, {so_far}",
            n,
            p_on_time=p,
            at_target=(q_now, q_now, q_now),
        )

    if raw is None or len(raw.get("median", [])) != len(future):
        seed = fp.seed(benefit, start, learn, as_of, settings)
        try:
            samples = sample_paths(benefit, learn, future, q_now, settings, seed, warm, start)
        except Exception as exc:  # noqa: BLE001 - any Prophet/Stan failure is a per-benefit result
            return failure(exc, n)
        lower, middle, upper = raw_quantiles(samples.paths, settings.interval)
        raw = {
            "lower": lower.tolist(),
            "median": middle.tolist(),
            "upper": upper.tolist(),
            "noise": samples.noise,
            "excluded": samples.excluded,
            "shifts": list(samples.shifts),
            "excursions": [list(run) for run in samples.excursions],
            "payments": list(samples.payments) if samples.payments else None,
            "season_months": samples.season_months,
            "params": samples.params,
        }

    calibration = calibration or conformal.PRIOR
    origin = learn["period"].iloc[-1]
    delivering_since = series.delivering_from(
        benefit, observed["period"].to_numpy(dtype="datetime64[ns]"), observed["value"].to_numpy(dtype=float), start
    )
    delivering = 0.0 if delivering_since is None else float((origin - pd.Timestamp(delivering_since)).days)
    quantiles = np.array([raw["lower"], raw["median"], raw["upper"]], dtype=float)
    flows = _flow_sign(observed["value"].to_numpy(dtype=float)) if benefit.measure is register.Measure.cumulative else 0
    reference = reference or class_of(benefit)
    beyond = not meets(benefit, realised, big_t)
    # A cumulative adverse effect past its limit whose flows never reduced it stays past it (what
    # has been incurred stays incurred): no chance, and nothing to lean on.
    incurred = beyond and benefit.dis_benefit and flows == realisation.sign(benefit)
    lean = 0.0 if incurred else _lean(benefit, start, origin.date(), delivering, settings)
    summary = summarise(
        benefit,
        future,
        quantiles,
        q_now,
        settings,
        calibration,
        origin,
        raw["noise"],
        delivering,
        flows,
        _flowing_days(benefit, learn, origin),
        start,
        reference.rate,
        lean,
    )
    if incurred:
        summary = dataclasses.replace(summary, p_on_time=0.0)
    p = (1.0 - lean) * summary.p_on_time + lean * reference.rate
    # The median can reach the target between the last reading and as_of (readings lag): the
    # landing is then not in the past but now, awaiting the readings that would show it.
    landing = max(summary.landing, as_of) if summary.landing else None
    status = status_for(p, settings)
    if reached:
        status = "achieved" if status == "on_track" else status
    reached_on = series.first_reached(benefit, observed) if reached else None
    message = _message(benefit, p, reached_on, beyond, landing, future[-1].date())
    if summary.landing and summary.landing < as_of and reached_on is None:
        message += f" (if the readings since {origin.date().isoformat()} show it)"
    message += _start_note(benefit, start, as_of, origin.date(), delivering_since is None)
    message += messages.fit_note(
        raw["excluded"],
        raw.get("shifts", ()),
        raw.get("excursions", ()),
        raw.get("payments"),
        benefit.unit,
        raw.get("season_months"),
    )
    return BenefitForecast(
        status=status,
        message=message,
        points=n,
        p_on_time=p,
        expected_landing=landing,
        forecast_at_target_date=summary.at_target[0],
        lower_at_target_date=summary.at_target[1],
        upper_at_target_date=summary.at_target[2],
        path=summary.path,
        fit_params=raw["params"],
        p_model=summary.p_on_time,
        reference_weight=lean,
        trust=messages.trust(calibration, reference, lean, n, delivering, benefit, origin.date()),
        raw=raw,
    )


def _lean(
    benefit: register.Benefit, start: dt.date, origin: dt.date, delivering: float, settings: ForecastSettings
) -> float:
    """How much the probability leans on the reference class (:func:`reference.weight`); not at
    all for a level whose go-live is after its target date: it plans no move by then, so only the
    metric's own course can land it."""
    if _awaits_start(benefit, start, origin) and start >= benefit.target.date:
        return 0.0
    return weight(settings.reference_weight, origin, benefit.target.date, delivering)


def _start_note(benefit: register.Benefit, start: dt.date, as_of: dt.date, last: dt.date, idle: bool) -> str:
    """What the message says of a benefit's start: that nothing came since it (``idle``: a
    cumulative measure with no flow since), that it is still ahead, or (a level whose ``last``
    reading is before it) that no reading has come since."""
    if idle and not benefit.dis_benefit:
        return f"; nothing delivered since its start on {start.isoformat()}"
    if not _awaits_start(benefit, start, last):
        return ""
    if start <= as_of:
        return f"; no readings since its start on {start.isoformat()}"
    late = ", after its target date" if start >= benefit.target.date else ""
    return f"; starts delivering on {start.isoformat()}{late}"


def _counted(benefit: register.Benefit, start: dt.date, observations: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The observations that count (:func:`series.window`); for a level benefit with none since its
    start (a go-live still ahead, or no reading since it yet), its readings since the baseline:
    what it moves from."""
    observed = series.window(benefit, start, observations, as_of)
    if observed.empty and benefit.measure is register.Measure.level:
        return series.window(benefit, benefit.baseline.date, observations, as_of)
    return observed


def _awaits_start(benefit: register.Benefit, start: dt.date, last: dt.date) -> bool:
    """Whether ``benefit`` is a level measure that starts delivering after its ``last`` reading (at
    a milestone still ahead, or with no reading since): it is forecast from its metric's readings
    since the baseline, leaning on its reference class for the move its go-live should bring
    (:func:`probability.range_leans`)."""
    return benefit.measure is register.Measure.level and start > last


def _flowing_days(benefit: register.Benefit, learn: pd.DataFrame, origin: pd.Timestamp) -> float:
    """How long a cumulative measure's flow has been seen in the history it learns from: days
    from its first non-zero flow to ``origin`` (0 for a level, or when every flow is zero). A
    revenue or sales flow observed for years before the baseline is evidence that it goes on."""
    if benefit.measure is not register.Measure.cumulative:
        return 0.0
    moving = learn["period"][learn["value"].to_numpy(dtype=float) != 0]
    return float((origin - moving.iloc[0]).days) if len(moving) else 0.0


def _flow_sign(values: np.ndarray) -> int:
    """1 when no flow was negative, -1 when none was positive, else 0 (see ``summarise``'s ``flows``)."""
    if (values >= 0).all():
        return 1
    return -1 if (values <= 0).all() else 0


def _message(
    benefit: register.Benefit,
    p: float,
    reached_on: dt.date | None,
    beyond: bool,
    landing: dt.date | None,
    horizon: dt.date,
) -> str:
    """The sentence of a fitted forecast: its probability, then its landing (or, for a
    dis-benefit, where its median path stands against the limit)."""
    if reached_on is not None:
        return f"target reached on {reached_on.isoformat()}; " + messages.holds(benefit, p)
    message = messages.likely(benefit, p)
    if benefit.dis_benefit:
        if beyond:
            return message + "; the adverse effect is already beyond the limit"
        if landing:
            return message + f"; the median path reaches the limit on {landing.isoformat()}"
        return message + f"; the median path stays within the limit to the horizon ({horizon.isoformat()})"
    if landing:
        return message + f"; expected landing {landing.isoformat()}"
    return message + f"; expected landing beyond the horizon ({horizon.isoformat()})"


def _target_passed(
    benefit: register.Benefit,
    start: dt.date,
    observed: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings,
    so_far: str,
    warm: dict[str, Any] | None,
) -> BenefitForecast:
    """The target date is behind ``as_of``: the verdict is a fact; a fit only adds a late landing."""
    target = benefit.target
    n = len(observed)
    q_at_target = series.tracked_at(benefit, observed, target.date)
    q_now = float(series.tracked(benefit, observed)[-1])

    if benefit.dis_benefit:
        observed_q = q_at_target if q_at_target is not None else q_now
        improvement = realisation.sign(benefit) * (observed_q - benefit.baseline.value)
        within = meets(benefit, improvement, realisation.target_improvement(benefit))
        p = 1.0 if within else 0.0
        return _verdict(
            status_for(p, settings),
            f"target date {target.date.isoformat()} has passed and the adverse effect "
            f"{'stayed within' if within else 'exceeded'} the tolerated limit of "
            f"{messages.amount(target.value, benefit.unit)}; {so_far}",
            n,
            p_on_time=p,
            at_target=(q_at_target, q_at_target, q_at_target),
        )

    message = (
        f"target date {target.date.isoformat()} has passed without reaching "
        f"{messages.amount(target.value, benefit.unit)}; {so_far}"
    )
    late = _late_landing(benefit, start, observed, as_of, settings, q_now, warm)
    if late is not None:
        message += late[0]
    return BenefitForecast(
        status="off_track",
        message=message,
        points=n,
        p_on_time=0.0,
        expected_landing=late[1] if late else None,
        forecast_at_target_date=q_at_target,
        lower_at_target_date=q_at_target,
        upper_at_target_date=q_at_target,
        path=late[2] if late else [],
        fit_params=late[3] if late else None,
    )


def _late_landing(
    benefit: register.Benefit,
    start: dt.date,
    observed: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings,
    q_now: float,
    warm: dict[str, Any] | None,
) -> tuple[str, dt.date | None, list[dict], dict[str, Any]] | None:
    """(message suffix, late landing, path, fit parameters), or None when no fit could be made."""
    future = series.future_weeks(observed, benefit, settings)
    if len(observed) < settings.min_points or len(future) == 0:
        return None
    seed = fp.seed(benefit, start, observed, as_of, settings)
    try:
        samples = sample_paths(benefit, observed, future, q_now, settings, seed, warm)
    except Exception:  # noqa: BLE001 - the verdict stands without the late-landing estimate
        return None
    summary = summarise(benefit, future, raw_quantiles(samples.paths, settings.interval), q_now, settings)
    suffix = (
        f"; late landing expected {summary.landing.isoformat()}"
        if summary.landing
        else f"; landing beyond the horizon ({future[-1].date().isoformat()})"
    )
    return (
        suffix
        + messages.fit_note(
            samples.excluded, samples.shifts, samples.excursions, samples.payments, benefit.unit, samples.season_months
        ),
        summary.landing,
        summary.path,
        samples.params,
    )


def failure(exc: BaseException, points: int) -> BenefitForecast:
    """The result of a benefit whose forecast raised: status ``failed``, message ``forecast failed: <reason>``
    (the exception's text on one line, at most 200 characters; no traceback)."""
    return _verdict("failed", FAILED_PREFIX + messages.reason(exc), points)


def _verdict(
    status: str,
    message: str,
    points: int,
    *,
    p_on_time: float | None = None,
    expected_landing: dt.date | None = None,
    at_target: tuple[float | None, float | None, float | None] = (None, None, None),
) -> BenefitForecast:
    """A forecast decided without a fit (no path)."""
    return BenefitForecast(
        status=status,
        message=message,
        points=points,
        p_on_time=p_on_time,
        expected_landing=expected_landing,
        forecast_at_target_date=at_target[0],
        lower_at_target_date=at_target[1],
        upper_at_target_date=at_target[2],
        path=[],
    )
