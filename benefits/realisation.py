"""Realisation maths: planned-to-date, realised-to-date and value, as pure functions.

The one place these quantities are computed: the forecast (``benefits.forecast.series``),
``benefits status`` and the dashboard's snapshot (both through ``benefits.status.positions``),
the dashboard's series and the steering pack all call it.

Every benefit tracks a quantity Q over time. For a ``level`` measure Q is the metric's latest
value; for a ``cumulative`` measure Q is the baseline value plus the sum of the period values
observed since the baseline date. The *improvement* at a date is ``sign * (Q - baseline)``,
with ``sign`` +1 for ``increase`` and -1 for ``decrease``, so improvement is positive when the
benefit is being realised, whatever its direction. Planned and realised figures are both
improvements in the metric's unit; money value multiplies by ``value_per_unit`` and the
attribution share, and a dis-benefit counts against its initiative.

Q over a window of observations comes from :func:`quantity` (from a window's latest value and
total, as SQL aggregates them) or :func:`tracked` (running, one value per period: numpy); the
functions that take observations take a DataFrame with ``period`` and ``value``.

**Cash and run-rate.** A benefit's money value is either a rate per year (``run_rate``: a level
metric's improvement, e.g. a lower weekly cost times 52) or an amount banked by then (``amount``:
a cumulative metric's total, or a one-off) — :func:`value_type`. What has been *banked* by a date
(:func:`banked`) is, for an amount, the improvement at the latest point on or before it; for a
run-rate, each point's improvement accrued over the days since the point before (actual/365:
a day banks 1/365 of the annual rate), the first point from the start of the ramp. It works on
any dated improvements: observed (:func:`improvements`), planned (:func:`planned_points`) or a
forecast path; :func:`cash` turns it into money, as Decimal.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from benefits.register import Benefit, Direction, ExplicitProfile, Measure, ValueType

if TYPE_CHECKING:  # numpy and pandas are imported only by the array functions: `benefits status` runs without them
    import numpy as np
    import pandas as pd
    from numpy.typing import ArrayLike

S_CURVE_STEEPNESS = 10.0
YEAR_DAYS = 365  # actual/365: a run-rate banks 1/365 of a year's value per day
PLAN_STEP = dt.timedelta(days=7)  # the planned profile is stepped weekly, like most metrics' periods


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
    return _shape(benefit.profile == "s_curve", (at - start).days / (benefit.target.date - start).days)


def _logistic(values: Iterable[float]) -> list[float]:
    exp = math.exp
    return [1.0 / (1.0 + exp(-S_CURVE_STEEPNESS * (v - 0.5))) for v in values]


_S_LOW, _S_HIGH = _logistic([0.0, 1.0])


def _shares(s_curve: bool, xs: list[float]) -> list[float]:
    """The share planned at each of ``xs`` (0..1 of the way from the start to the target date)."""
    if not s_curve:
        return xs
    low, scale = _S_LOW, _S_HIGH - _S_LOW
    return [(v - low) / scale for v in _logistic(xs)]


def _shape(s_curve: bool, x: float) -> float:
    """The share planned at ``x`` (0..1) of the way from the start to the target date."""
    return _shares(s_curve, [x])[0]


def planned_value(benefit: Benefit, start: dt.date, at: dt.date) -> float:
    """The planned tracked quantity Q at ``at`` (baseline before ``start``, target after its date)."""
    return _planned_values(benefit, start, [at.toordinal()])[0]


def planned_values(benefit: Benefit, start: dt.date, dates: Sequence[dt.date]) -> list[float]:
    """:func:`planned_value` at each of ``dates`` (in order), its constants worked out once."""
    return _planned_values(benefit, start, [at.toordinal() for at in dates])


def _planned_values(benefit: Benefit, start: dt.date, days: Sequence[int]) -> list[float]:
    """:func:`planned_value` at each of ``days`` (proleptic ordinals, in order), its constants worked out once."""
    base, target, end = benefit.baseline.value, benefit.target.value, benefit.target.date
    if isinstance(benefit.profile, ExplicitProfile):
        anchors = [(start, base)] + [(p.date, p.value) for p in benefit.profile.points if p.date > start]
        anchors.append((end, target))
        return [_interpolate(anchors, at) for at in map(dt.date.fromordinal, days)]
    first, last = start.toordinal(), end.toordinal()
    before = bisect_right(days, first)  # the baseline up to the start, then the target
    after = max(bisect_left(days, last), before)  # a start after the target date plans nothing before it
    span, gain = last - first, target - base
    shares = _shares(benefit.profile == "s_curve", [(day - first) / span for day in days[before:after]])
    return [base] * before + [base + gain * share for share in shares] + [target] * (len(days) - after)


def planned_to_date(benefit: Benefit, start: dt.date, at: dt.date) -> float:
    """Improvement the profile plans by ``at``, in the metric's unit (0.0, never -0.0, before the
    start of a benefit that falls: `status --format json` printed ``"planned_to_date": -0.0``)."""
    return float(improvement(benefit, planned_value(benefit, start, at))) + 0.0


def improvement(benefit: Benefit, quantity: Any) -> Any:
    """``sign * (Q - baseline)``: positive when the benefit is being realised (a float or an array)."""
    return improvement_of(benefit)(quantity)


def improvement_of(benefit: Benefit) -> Callable[[Any], Any]:
    """:func:`improvement` as a function of Q alone, its constants taken once (for many values)."""
    direction, base = sign(benefit), benefit.baseline.value
    return lambda quantity: direction * (quantity - base)


def quantity(benefit: Benefit, latest: Any, total: Any) -> Any:
    """Q from the observations since the baseline: the ``latest`` value of a level metric, the
    baseline plus the ``total`` of a cumulative one.

    Takes floats (a window's aggregates, as ``benefits status`` reads them from SQL) or arrays
    (running values and running totals, as :func:`tracked` computes them)."""
    if benefit.measure is Measure.cumulative:
        return benefit.baseline.value + total
    return latest


def tracked(benefit: Benefit, values: ArrayLike) -> np.ndarray:
    """Q after each value of a window of observations (one value per period, in period order)."""
    import numpy as np

    flows = np.asarray(values, dtype=float)
    return np.asarray(quantity(benefit, flows, np.cumsum(flows)), dtype=float)


def tracked_series(benefit: Benefit, observations: pd.DataFrame, at: dt.date) -> pd.DataFrame:
    """Q at each observed period after the baseline date up to ``at``: columns ``period``
    (``datetime.date``) and ``q``. ``observations`` has ``period`` and ``value``, one row per
    period (``repository.observations``), in any order."""
    import pandas as pd

    periods, values = _window(benefit, observations, at)
    q = tracked(benefit, values)
    return pd.DataFrame({"period": pd.DatetimeIndex(periods).date, "q": q}, columns=["period", "q"])


def tracked_value(benefit: Benefit, observations: pd.DataFrame, at: dt.date) -> float | None:
    """Q at ``at`` from observations (``period``, ``value``); None when none is after the baseline date."""
    _, values = _window(benefit, observations, at)
    return float(tracked(benefit, values)[-1]) if len(values) else None


def realised_to_date(benefit: Benefit, observations: pd.DataFrame, at: dt.date) -> float | None:
    """Improvement realised by ``at`` in the metric's unit; None when nothing has been observed."""
    value = tracked_value(benefit, observations, at)
    return None if value is None else float(improvement(benefit, value))


def first_reached(benefit: Benefit, observations: pd.DataFrame, at: dt.date) -> dt.date | None:
    """The first observed period up to ``at`` at which the improvement reached the target; None if none did."""
    periods, values = _window(benefit, observations, at)
    hits = (improvement(benefit, tracked(benefit, values)) >= target_improvement(benefit)).nonzero()[0]
    return periods[hits[0]].astype("datetime64[D]").item() if len(hits) else None


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


def value_type(benefit: Benefit) -> ValueType:
    """The benefit's value type as declared; else ``run_rate`` for a level measure, ``amount`` for a cumulative one."""
    if benefit.value_type is not None:
        return benefit.value_type
    return ValueType.run_rate if benefit.measure is Measure.level else ValueType.amount


def improvements(benefit: Benefit, points: Iterable[tuple[dt.date, float]]) -> list[tuple[dt.date, float]]:
    """The improvement after each observed period after the baseline date, from ``points``: (period,
    value) in period order, one per period (``repository.observation_points``)."""
    since, direction, base = benefit.baseline.date, sign(benefit), benefit.baseline.value
    cumulative, total, out = benefit.measure is Measure.cumulative, 0.0, []
    for period, value in points:  # improvement_of(quantity(...)) inlined: the same float operations, per reading
        if period > since:
            total += value
            out.append((period, float(direction * ((base + total if cumulative else value) - base))))
    return out


def planned_points(benefit: Benefit, start: dt.date, until: dt.date) -> list[tuple[dt.date, float]]:
    """The planned improvement weekly after ``start`` up to ``until``: every week to the target date, the
    target date itself, then ``until`` (the plan holds the target from its date on)."""
    days, improved = _planned_weeks(benefit, start, until)
    return list(zip(map(dt.date.fromordinal, days), improved, strict=True))


def _planned_weeks(benefit: Benefit, start: dt.date, until: dt.date) -> tuple[list[int], list[float]]:
    """:func:`planned_points` as two lists: the days (proleptic ordinals) and the improvements."""
    first, end = start.toordinal(), min(until, benefit.target.date).toordinal()
    days = list(range(first + PLAN_STEP.days, end + 1, PLAN_STEP.days))
    days += [d for d in (end, until.toordinal()) if first < d and (not days or d > days[-1])]
    direction, base = sign(benefit), benefit.baseline.value  # improvement_of inlined, per week
    return days, [float(direction * (v - base)) for v in _planned_values(benefit, start, days)]


@dataclass(frozen=True)
class Banking:
    """What a benefit banks over time, from dated improvements: built once (:func:`banking`), read at
    any dates (:meth:`at`). Exact (Decimal, each improvement crossing from float once) or, for
    sampling, float."""

    amount: bool  # an amount: the latest step's improvement; else a run-rate accrued over the days
    edges: list[int]  # ``since`` then each step's day (an amount: the steps' days), as proleptic ordinals
    totals: list[Any]  # a run-rate: improvement x days accrued up to each edge; an amount: each step's improvement
    rates: list[Any]  # a run-rate: each step's improvement (the rate over the days before it)
    number: Any  # one float as Decimal (``money.from_float``) or as float
    numbers: Any  # many floats at once, alike (``money.from_floats``)
    zero: Any

    def at(self, days: Iterable[dt.date]) -> list[Any]:
        """Banked by the end of each day of ``days``: improvement (amount) or improvement-years (run-rate)."""
        edges, totals = self.edges, self.totals
        if self.amount:
            return [
                self.number(totals[k - 1]) if (k := bisect_right(edges, day.toordinal())) else self.zero for day in days
            ]
        out = []
        for day in map(dt.date.toordinal, days):
            k = bisect_left(edges, day)
            if k == 0:
                out.append(self.zero)
            elif k == len(edges):
                out.append(totals[-1] / YEAR_DAYS)
            else:
                out.append((totals[k - 1] + self.rates[k - 1] * (day - edges[k - 1])) / YEAR_DAYS)
        return out

    def extended(self, steps: Sequence[tuple[dt.date, float]]) -> Banking:
        """This banking continued by ``steps`` (dated improvements after its last date, in date order)."""
        if not steps:
            return self
        dates, values = zip(*steps, strict=True)
        return self.continued(list(map(dt.date.toordinal, dates)), values)

    def continued(self, days: Sequence[int], values: Sequence[float]) -> Banking:
        """:meth:`extended` by improvements ``values`` at ``days`` (proleptic ordinals, after its last)."""
        if self.amount:  # read as Decimal only where asked
            return replace(self, edges=[*self.edges, *days], totals=[*self.totals, *values])
        rates = self.numbers(values)
        gaps = map(operator.sub, days, [self.edges[-1], *days[:-1]])
        # totals[-1] + rate x days, step after step (itertools runs the loop; the same operations in the same order)
        totals = accumulate(map(operator.mul, rates, gaps), initial=self.totals[-1])
        next(totals)
        return replace(self, edges=[*self.edges, *days], totals=[*self.totals, *totals], rates=self.rates + rates)


def banking(benefit: Benefit, steps: Sequence[tuple[dt.date, float]], since: dt.date, exact: bool = True) -> Banking:
    """What the benefit banks from ``steps`` (dated improvements after ``since``, in date order): in
    the metric's unit for an ``amount``, in unit-years for a ``run_rate``.

    An amount is the improvement of the latest step on or before the date (0 before the first). A
    run-rate step's improvement holds over the days since the step before (``since`` for the first)
    and banks ``improvement x days / 365``; a date inside that stretch banks its share of the days,
    and nothing accrues after the last step. ``exact``: each improvement crosses into Decimal once
    (``money.from_float``) and is added up as Decimal; else floats (the roll-up's sampling)."""
    return _empty(benefit, since, exact).extended(steps)


def planned_banking(benefit: Benefit, start: dt.date, until: dt.date) -> Banking:
    """What the planned profile banks from ``start`` (exact): :func:`banking` of :func:`planned_points`."""
    days, improved = _planned_weeks(benefit, start, until)
    return _empty(benefit, start, True).continued(days, improved)


def _empty(benefit: Benefit, since: dt.date, exact: bool) -> Banking:
    """A banking with no steps yet (see :func:`banking`)."""
    from benefits.claims.money import from_float, from_floats  # the one float-to-Decimal boundary

    number: Any = from_float if exact else float
    numbers: Any = from_floats if exact else _floats
    zero = number(0.0)
    if value_type(benefit) is ValueType.amount:
        return Banking(True, [], [], [], number, numbers, zero)
    return Banking(False, [since.toordinal()], [zero], [], number, numbers, zero)


def _floats(values: Iterable[float]) -> list[float]:
    return list(map(float, values))


def banked(
    benefit: Benefit, steps: Sequence[tuple[dt.date, float]], since: dt.date, at: Iterable[dt.date]
) -> list[Decimal]:
    """What the benefit has banked by each date of ``at`` (Decimal): :func:`banking`'s reading."""
    return banking(benefit, steps, since).at(at)


def cash_factor(benefit: Benefit) -> Decimal:
    """Money per unit of improvement (or per unit-year of a run-rate): value per unit x attribution,
    negative for a dis-benefit (:func:`money_value`'s factor, exactly, as Decimal)."""
    from benefits.claims.money import from_float  # the one float-to-Decimal boundary

    factor = from_float(benefit.value_per_unit) * from_float(benefit.attribution)
    return -factor if benefit.dis_benefit else factor


def cash(benefit: Benefit, quantity: float | Decimal, factor: Decimal | None = None) -> Decimal:
    """Money (Decimal) for what :func:`banked` gives, or for an improvement (a run-rate's annual value);
    ``factor`` is :func:`cash_factor` when the caller already has it."""
    from benefits.claims.money import from_float

    exact = quantity if isinstance(quantity, Decimal) else from_float(quantity)
    return exact * (cash_factor(benefit) if factor is None else factor)


def net_value(values: Iterable[float]) -> float:
    """An initiative's net value from its benefits' money values (dis-benefits already negative)."""
    return float(sum(values))


def _interpolate(anchors: list[tuple[dt.date, float]], at: dt.date) -> float:
    if at <= anchors[0][0]:
        return anchors[0][1]
    for (d0, v0), (d1, v1) in zip(anchors, anchors[1:], strict=False):
        if at <= d1:
            return v0 + (v1 - v0) * (at - d0).days / max((d1 - d0).days, 1)
    return anchors[-1][1]


def _window(benefit: Benefit, observations: pd.DataFrame, at: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Periods (``datetime64[D]``) and values of the observations with baseline < period <= ``at``, by period."""
    import numpy as np
    import pandas as pd

    periods = pd.to_datetime(observations["period"]).to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    values = observations["value"].to_numpy(dtype=float)
    kept = (periods > np.datetime64(benefit.baseline.date, "D")) & (periods <= np.datetime64(at, "D"))
    order = np.argsort(periods[kept], kind="stable")
    return periods[kept][order], values[kept][order]
