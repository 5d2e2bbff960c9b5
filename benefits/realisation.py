"""Realisation maths: planned-to-date, realised-to-date and value, as pure functions.

Every benefit tracks a quantity Q over time. For a ``level`` measure Q is the metric's latest
value; for a ``cumulative`` measure Q is the baseline value plus the sum of the period values
observed since the baseline date. The *improvement* at a date is ``sign * (Q - baseline)``,
with ``sign`` +1 for ``increase`` and -1 for ``decrease``, so improvement is positive when the
benefit is being realised, whatever its direction. Planned and realised figures are both
improvements in the metric's unit; money value multiplies by ``value_per_unit`` and the
attribution share, and a dis-benefit counts against its initiative.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from benefits.register import Benefit, Direction, ExplicitProfile, Measure

if TYPE_CHECKING:  # pandas is imported only when a DataFrame is passed: `benefits status` runs without it
    import pandas as pd

S_CURVE_STEEPNESS = 10.0


def sign(benefit: Benefit) -> int:
    """+1 when the metric should rise, -1 when it should fall."""
    return 1 if benefit.direction is Direction.increase else -1


def target_improvement(benefit: Benefit) -> float:
    """The full improvement promised by the target, in the metric's unit (always > 0)."""
    return sign(benefit) * (benefit.target.value - benefit.baseline.value)


def planned_fraction(benefit: Benefit, start: dt.date, at: dt.date) -> float:
    """Share (0..1) of the target improvement that a linear or s-curve profile plans by ``at``."""
    if at <= start:
        return 0.0
    if at >= benefit.target.date:
        return 1.0
    x = (at - start).days / (benefit.target.date - start).days
    if benefit.profile == "s_curve":
        def logistic(v: float) -> float:
            return 1.0 / (1.0 + math.exp(-S_CURVE_STEEPNESS * (v - 0.5)))

        return (logistic(x) - logistic(0.0)) / (logistic(1.0) - logistic(0.0))
    return x


def planned_value(benefit: Benefit, start: dt.date, at: dt.date) -> float:
    """The planned tracked quantity Q at ``at`` (baseline before ``start``, target after its date)."""
    base, target = benefit.baseline.value, benefit.target.value
    if isinstance(benefit.profile, ExplicitProfile):
        anchors = [(start, base)] + [(p.date, p.value) for p in benefit.profile.points if p.date > start]
        anchors.append((benefit.target.date, target))
        return _interpolate(anchors, at)
    return base + (target - base) * planned_fraction(benefit, start, at)


def planned_to_date(benefit: Benefit, start: dt.date, at: dt.date) -> float:
    """Improvement the profile plans by ``at``, in the metric's unit."""
    return sign(benefit) * (planned_value(benefit, start, at) - benefit.baseline.value)


def tracked_value(benefit: Benefit, observations: pd.DataFrame | Sequence[tuple[dt.date, float]], at: dt.date) -> float | None:
    """Q at ``at`` from observations (a frame with ``period``, ``value``, or (period, value) pairs); None when there are none."""
    if not hasattr(observations, "columns"):
        window = sorted((p, v) for p, v in observations if benefit.baseline.date < p <= at)
        if not window:
            return None
        if benefit.measure is Measure.cumulative:
            return benefit.baseline.value + float(sum(v for _, v in window))
        return float(window[-1][1])
    import pandas as pd

    periods = pd.to_datetime(observations["period"]).dt.date
    window = observations[(periods > benefit.baseline.date) & (periods <= at)]
    if window.empty:
        return None
    if benefit.measure is Measure.cumulative:
        return benefit.baseline.value + float(window["value"].sum())
    latest = window.assign(_p=periods[window.index]).sort_values("_p").iloc[-1]
    return float(latest["value"])


def realised_to_date(benefit: Benefit, observations: pd.DataFrame | Sequence[tuple[dt.date, float]], at: dt.date) -> float | None:
    """Improvement realised by ``at`` in the metric's unit; None when nothing has been observed."""
    value = tracked_value(benefit, observations, at)
    if value is None:
        return None
    return sign(benefit) * (value - benefit.baseline.value)


def percent_realised(benefit: Benefit, realised: float | None) -> float | None:
    """Realised improvement as a percentage of the target improvement."""
    if realised is None:
        return None
    return 100.0 * realised / target_improvement(benefit)


def money_value(benefit: Benefit, improvement: float | None) -> float:
    """Value credited to the initiative: improvement x value per unit x attribution; negative for a dis-benefit."""
    if improvement is None:
        return 0.0
    value = improvement * benefit.value_per_unit * benefit.attribution
    return -value if benefit.dis_benefit else value


def net_value(values: Iterable[float]) -> float:
    """An initiative's net value from its benefits' money values (dis-benefits already negative)."""
    return float(sum(values))


def _interpolate(anchors: list[tuple[dt.date, float]], at: dt.date) -> float:
    if at <= anchors[0][0]:
        return anchors[0][1]
    for (d0, v0), (d1, v1) in zip(anchors, anchors[1:]):
        if at <= d1:
            return v0 + (v1 - v0) * (at - d0).days / max((d1 - d0).days, 1)
    return anchors[-1][1]
