"""Independent generators of benefits with known outcomes, for the calibration harness.

Each generator is a function ``(count, seed, as_of) -> list[Item]``. Every item is a benefit as a
PMO would register it, its observations up to ``as_of`` (history before the baseline included
where the metric existed before), the whole true trajectory and the known outcome ``landed``:
the improvement at the target date (Q at the last period on or before it, ``benefits.realisation``)
meets the target. All items of one call share ``as_of`` (the portfolio's "today"); baselines
and target dates vary per benefit.

The trajectories are written from how benefits behave, not from the forecast's model:

- a business case plans an improvement (linear or S-shaped, sometimes from a go-live milestone);
  what is delivered is the plan times a realisation ratio (optimism bias: often below 1);
- flows (savings, revenue, hours released) are summed; levels (cost per case, adoption, error
  rates, scores) are read; percentages saturate below a ceiling that nobody knows in advance and
  their noise is sampling noise (a share of n cases);
- performance deviations persist (autocorrelated), payments are lumpy, readings heavy-tailed;
- regimes change: a team is moved (stall), adoption saturates (plateau), a second site goes live
  (acceleration), people revert (decline), a large customer is won or lost (step);
- projects slip: go-live dates move, ramps start late;
- reporting is weekly or monthly, with missed and irregular reports; many metrics are seasonal
  and have years of history before the baseline.

Targets are set the way businesses set them: a plan relative to the baseline, a projection times
an ambition factor, rounded to a round number.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from benefits import realisation, register

WEEK = dt.timedelta(days=7)
DEFAULT_AS_OF = dt.date(2026, 6, 30)


@dataclasses.dataclass(frozen=True)
class Item:
    """One generated benefit: what the tool sees (observations to ``as_of``) and the known outcome."""

    benefit: register.Benefit
    generator: str
    regime: str
    """The shape of the trajectory (for reading results by regime)."""
    observations: pd.DataFrame
    """``period`` (date), ``value`` up to ``as_of``, history before the baseline included."""
    truth: pd.DataFrame
    """The whole trajectory, past the target date."""
    as_of: dt.date
    landed: bool
    """Known outcome: the improvement at the target date meets the target."""
    milestones: tuple[register.Milestone, ...] = ()
    """The initiative's milestones (for a benefit that ``starts_after`` one)."""

    @property
    def start(self) -> dt.date:
        """The date the benefit starts realising (its milestone, else its baseline)."""
        for milestone in self.milestones:
            if milestone.key == self.benefit.starts_after:
                return milestone.date
        return self.benefit.baseline.date

    def q_at_target(self) -> float | None:
        """The true tracked quantity Q at the target date."""
        return realisation.tracked_value(self.benefit, self.truth, self.benefit.target.date)


# --- calendars, noise, rounding --------------------------------------------------------------


def weekly_periods(as_of: dt.date, first: dt.date, last: dt.date, rng: np.random.Generator) -> list[dt.date]:
    """Weekly periods (a week-ending day chosen per metric) covering ``first`` to ``last``."""
    anchor = as_of - dt.timedelta(days=int(rng.integers(0, 7)))
    before = (anchor - first).days // 7 + 1
    after = (last - anchor).days // 7 + 1
    return [anchor + k * WEEK for k in range(-before, after + 1)]


def monthly_periods(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month-end periods (ledger closes) covering ``first`` to ``last``."""
    ends = pd.date_range(
        pd.Timestamp(first) - pd.offsets.MonthEnd(1), pd.Timestamp(last) + pd.offsets.MonthEnd(1), freq="ME"
    )
    return [d.date() for d in ends]


def weeks_between(periods: list[dt.date], origin: dt.date) -> np.ndarray:
    """Time in weeks from ``origin`` to each period."""
    return np.array([(p - origin).days / 7.0 for p in periods])


def period_weeks(periods: list[dt.date]) -> np.ndarray:
    """Length in weeks of each period (the first takes the second's length)."""
    days = np.diff([p.toordinal() for p in periods]).astype(float)
    return np.concatenate([[days[0] if len(days) else 7.0], days]) / 7.0


def noise(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """Standardised noise: ``gaussian``, ``ar`` (persistent, AR(1) with rho 0.7) or ``heavy`` (Student t, 2.5 df)."""
    if kind == "heavy":
        return rng.standard_t(2.5, n) * 0.87  # the interquartile range of a standard normal
    if kind == "ar":
        shocks = rng.normal(0.0, math.sqrt(1 - 0.49), n)
        out = np.empty(n)
        level = rng.normal()
        for i in range(n):
            level = 0.7 * level + shocks[i]
            out[i] = level
        return out
    return rng.normal(0.0, 1.0, n)


def lumpy(rng: np.random.Generator, flows: np.ndarray, share: float) -> np.ndarray:
    """Flows with a ``share`` of periods booked late: their amount is paid in a later period."""
    out = flows.copy()
    for i in range(len(out) - 1):
        if rng.random() < share:
            j = min(len(out) - 1, i + int(rng.integers(1, 5)))
            out[j] += out[i]
            out[i] = 0.0
    return out


def nice(x: float) -> float:
    """``x`` rounded the way a business case rounds a target (two significant figures)."""
    if x == 0:
        return 0.0
    digits = 1 - int(math.floor(math.log10(abs(x))))
    return round(x, digits)


def loguniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(math.exp(rng.uniform(math.log(low), math.log(high))))


def realisation_ratio(rng: np.random.Generator, median: float = 0.97, spread: float = 0.22) -> float:
    """Delivered over planned: lognormal around a median a little below 1 (optimism bias)."""
    return float(median * math.exp(rng.normal(0.0, spread)))


# --- building items ---------------------------------------------------------------------------

_CATEGORY = {
    "savings": ("cost_reduction", "GBP"),
    "revenue": ("revenue", "GBP"),
    "hours": ("operational_efficiency", "hours"),
    "cost_per_case": ("cost_reduction", "GBP"),
    "cycle_time": ("operational_efficiency", "days"),
    "score": ("people_capability", "points"),
    "percent": ("operational_efficiency", "%"),
    "volume": ("operational_efficiency", "cases"),
    "sales": ("revenue", "GBP"),
    "certified": ("people_capability", "staff"),
}


def make_benefit(
    key: str,
    kind: str,
    measure: str,
    direction: str,
    baseline: tuple[float, dt.date],
    target: tuple[float, dt.date],
    **extra: Any,
) -> register.Benefit:
    """A benefit of metric ``kind`` (see ``_CATEGORY``) with its register fields."""
    category, unit = _CATEGORY[kind]
    return register.Benefit(
        key=key,
        name=f"{kind.replace('_', ' ').capitalize()} ({key})",
        category=category,
        metric=f"bench.{key}",
        unit=unit,
        direction=direction,
        measure=measure,
        owner="bench",
        baseline={"value": round(baseline[0], 4), "date": baseline[1]},
        target={"value": round(target[0], 4), "date": target[1]},
        **extra,
    )


def finish(
    generator: str,
    regime: str,
    benefit: register.Benefit,
    periods: list[dt.date],
    values: np.ndarray,
    as_of: dt.date,
    milestones: tuple[register.Milestone, ...] = (),
) -> Item:
    """The item of a benefit and its true trajectory: observations to ``as_of`` and the outcome."""
    truth = pd.DataFrame({"period": periods, "value": np.round(np.asarray(values, dtype=float), 4)})
    observations = truth[truth["period"] <= as_of].reset_index(drop=True)
    realised = realisation.realised_to_date(benefit, truth, benefit.target.date)
    landed = realised is not None and realised >= realisation.target_improvement(benefit)
    return Item(benefit, generator, regime, observations, truth, as_of, bool(landed), milestones)


@dataclasses.dataclass(frozen=True)
class Frame:
    """The dates of one benefit: baseline, target, and its periods (history before the baseline included)."""

    baseline: dt.date
    target: dt.date
    periods: list[dt.date]

    @property
    def duration(self) -> float:
        """Weeks from baseline to target date."""
        return (self.target - self.baseline).days / 7.0


def frame(
    rng: np.random.Generator,
    as_of: dt.date,
    elapsed: tuple[int, int],
    ahead: tuple[int, int],
    history: tuple[int, int] = (0, 0),
    monthly: bool = False,
) -> Frame:
    """Random baseline ``elapsed`` weeks before ``as_of``, target date ``ahead`` weeks after it,
    ``history`` weeks of observations before the baseline, weekly or monthly periods."""
    baseline = as_of - dt.timedelta(days=int(rng.integers(elapsed[0] * 7, elapsed[1] * 7 + 1)))
    target = as_of + dt.timedelta(days=int(rng.integers(ahead[0] * 7, ahead[1] * 7 + 1)))
    first = baseline - dt.timedelta(weeks=int(rng.integers(history[0], history[1] + 1)))
    last = target + dt.timedelta(weeks=13)
    periods = monthly_periods(first, last) if monthly else weekly_periods(as_of, first, last, rng)
    periods = [p for p in periods if p >= first]
    return Frame(baseline, target, periods)


def flow_item(
    generator: str,
    regime: str,
    key: str,
    f: Frame,
    rate: np.ndarray,
    planned: float,
    rng: np.random.Generator,
    as_of: dt.date,
    kind: str = "savings",
    relative_noise: float = 0.2,
    noise_kind: str = "gaussian",
    decrease: bool = False,
    late_share: float = 0.0,
    **extra: Any,
) -> Item:
    """A cumulative benefit: per-period flows ``rate`` (per week) times the period length, with
    noise; ``planned`` is the planned total improvement (the target). Flows before the baseline
    are kept as history only if ``rate`` is non-zero there."""
    length = period_weeks(f.periods)
    flows = rate * length * (1.0 + relative_noise * noise(rng, len(rate), noise_kind))
    if late_share:
        flows = lumpy(rng, flows, late_share)
    sign = -1.0 if decrease else 1.0
    target = sign * nice(planned)
    milestones = extra_milestones(extra)
    benefit = make_benefit(
        key, kind, "cumulative", "decrease" if decrease else "increase", (0.0, f.baseline), (target, f.target), **extra
    )
    keep = np.array([p > f.baseline or r != 0 for p, r in zip(f.periods, rate, strict=True)])
    periods = [p for p, k in zip(f.periods, keep, strict=True) if k]
    return finish(generator, regime, benefit, periods, sign * flows[keep], as_of, milestones)


def extra_milestones(extra: dict[str, Any]) -> tuple[register.Milestone, ...]:
    """Take the milestones (passed through ``**extra``) out of ``extra``."""
    return tuple(extra.pop("milestones", ()))


def level_item(
    generator: str,
    regime: str,
    key: str,
    f: Frame,
    level: np.ndarray,
    baseline_value: float,
    improvement: float,
    direction: str,
    as_of: dt.date,
    kind: str,
    **extra: Any,
) -> Item:
    """A level benefit: readings ``level`` (noise included), baseline as given, target ``improvement`` beyond it."""
    sign = 1.0 if direction == "increase" else -1.0
    milestones = extra_milestones(extra)
    bounds = extra.get("bounds")
    target = baseline_value + sign * nice(improvement)
    if bounds is not None:
        target = float(np.clip(target, bounds["min"] + 0.1, bounds["max"] - 0.1))
    benefit = make_benefit(key, kind, "level", direction, (baseline_value, f.baseline), (target, f.target), **extra)
    return finish(generator, regime, benefit, f.periods, level, as_of, milestones)


def baseline_reading(f: Frame, level: np.ndarray, periods_back: int = 4) -> float:
    """The baseline a business records: the mean of the last few readings on or before the baseline date."""
    before = [v for p, v in zip(f.periods, level, strict=True) if p <= f.baseline][-periods_back:]
    return float(np.mean(before)) if before else float(level[0])


# --- the generators ---------------------------------------------------------------------------

_NOISE = (
    ("low", 0.05, "gaussian"),
    ("medium", 0.2, "gaussian"),
    ("high", 0.5, "gaussian"),
    ("heavy", 0.3, "heavy"),
    ("persistent", 0.25, "ar"),
)


def noise_levels(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """Steady plans read through noise from low to heavy-tailed and persistent; flows and levels, weekly."""
    rng = np.random.default_rng([seed, 1])
    items = []
    for i in range(count):
        label, scale, kind = _NOISE[i % len(_NOISE)]
        key = f"noise-{seed}-{i:03d}"
        f = frame(rng, as_of, (13, 78), (13, 52), history=(26, 104))
        t = weeks_between(f.periods, f.baseline)
        r = realisation_ratio(rng)
        if rng.random() < 0.5:
            planned_rate = loguniform(rng, 2_000, 50_000)
            ramp = rng.uniform(2, 10)
            rate = np.where(t > 0, r * planned_rate * (1 - np.exp(-t / ramp)), 0.0)
            items.append(
                flow_item(
                    "noise",
                    label,
                    key,
                    f,
                    rate,
                    planned_rate * f.duration,
                    rng,
                    as_of,
                    relative_noise=scale,
                    noise_kind=kind,
                    decrease=rng.random() < 0.2,
                    late_share=0.15 if kind == "heavy" else 0.0,
                )
            )
        else:
            decrease = rng.random() < 0.6
            base = loguniform(rng, 20, 80) if decrease else rng.uniform(40, 70)
            planned = base * rng.uniform(0.1, 0.3)
            sign = -1.0 if decrease else 1.0
            progress = r * planned * np.clip(t / f.duration, 0, None)
            level = base + sign * progress + scale * planned * noise(rng, len(t), kind)
            items.append(
                level_item(
                    "noise",
                    label,
                    key,
                    f,
                    level,
                    round(baseline_reading(f, level), 1),
                    planned,
                    "decrease" if decrease else "increase",
                    as_of,
                    "cost_per_case" if decrease else "score",
                )
            )
    return items


def horizons(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """Target dates 13 to 104 weeks ahead; the rate itself drifts (random walk), so far targets are uncertain."""
    rng = np.random.default_rng([seed, 2])
    items = []
    for i in range(count):
        key = f"horizon-{seed}-{i:03d}"
        lo = 13 + (i % 4) * 23
        f = frame(rng, as_of, (26, 104), (lo, lo + 22), history=(0, 52))
        t = weeks_between(f.periods, f.baseline)
        ambition = rng.uniform(0.8, 1.3)
        drift = np.cumsum(rng.normal(0.0, rng.uniform(0.01, 0.04), len(t)))
        regime = f"{lo}-{lo + 22} weeks"
        if rng.random() < 0.5:
            rate0 = loguniform(rng, 1_000, 30_000)
            rate = np.where(t > 0, rate0 * np.clip(1.0 + drift - drift[np.searchsorted(t, 0)], 0.0, None), 0.0)
            items.append(
                flow_item(
                    "horizon",
                    regime,
                    key,
                    f,
                    rate,
                    rate0 * f.duration * ambition,
                    rng,
                    as_of,
                    kind="hours",
                    relative_noise=rng.uniform(0.1, 0.4),
                )
            )
        else:
            base = rng.uniform(5, 30)
            slope = base * rng.uniform(0.002, 0.006)  # a week, toward the plan
            walk = base * np.cumsum(rng.normal(0.0, rng.uniform(0.005, 0.015), len(t)))
            walk -= walk[np.searchsorted(t, 0)]
            level = base - slope * np.clip(t, 0, None) + walk + base * rng.uniform(0.01, 0.04) * rng.normal(size=len(t))
            items.append(
                level_item(
                    "horizon",
                    regime,
                    key,
                    f,
                    level,
                    round(baseline_reading(f, level), 2),
                    slope * f.duration * ambition,
                    "decrease",
                    as_of,
                    "cycle_time",
                )
            )
    return items


def bounded_percent(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """Percentages (bounds 0..100) near a bound: adoption saturating below an unknown ceiling,
    compliance near 100, error rates falling toward 0; sampling noise; weekly or monthly."""
    rng = np.random.default_rng([seed, 3])
    items = []
    bounds = {"min": 0, "max": 100}
    for i in range(count):
        key = f"bounded-{seed}-{i:03d}"
        kind = ("adoption", "compliance", "error_rate")[i % 3]
        f = frame(rng, as_of, (13, 78), (13, 52), history=(13, 52), monthly=rng.random() < 0.3)
        t = weeks_between(f.periods, f.baseline)
        cases = loguniform(rng, 50, 2_000) * period_weeks(f.periods)
        if kind == "adoption":
            start, ceiling, believed = rng.uniform(2, 30), rng.uniform(55, 98), rng.uniform(70, 95)
            speed = rng.uniform(2, 6) / f.duration  # (p + q) of a Bass curve, per week
            imitation = rng.uniform(2, 20)
            x = np.clip(t, 0, None) * speed
            diffusion = (1 - np.exp(-x)) / (1 + imitation * np.exp(-x))
            mean = start + (ceiling - start) * diffusion
            direction = "increase"
            target_value = min(95.0, 5 * round((start + (believed - start) * rng.uniform(0.5, 0.95)) / 5))
        elif kind == "compliance":
            start = rng.uniform(82, 95)
            target_value = min(99.5, round(start + rng.uniform(2, min(8, 99.5 - start)), 1))
            ceiling = rng.uniform(target_value - 3, min(99.9, target_value + 2.5))
            mean = ceiling - (ceiling - start) * np.exp(-np.clip(t, 0, None) / (rng.uniform(0.2, 0.8) * f.duration))
            direction = "increase"
        else:
            start = rng.uniform(2, 10)
            target_value = round(start * rng.uniform(0.3, 0.6), 1)
            floor = rng.uniform(0.1, start * 0.7)
            mean = floor + (start - floor) * np.exp(-np.clip(t, 0, None) / (rng.uniform(0.15, 0.7) * f.duration))
            direction = "decrease"
        share = np.clip(mean / 100.0, 1e-4, 1 - 1e-4)
        n = np.maximum(cases.astype(int), 1)
        level = np.clip(100.0 * rng.binomial(n, share) / n, 0, 100)
        baseline_value = round(baseline_reading(f, level), 1)
        improvement = abs(target_value - baseline_value)
        if (target_value - baseline_value) * (1 if direction == "increase" else -1) <= 0.2:
            improvement = max(0.5, abs(baseline_value) * 0.2) if direction == "decrease" else 2.0
        items.append(
            level_item(
                "bounded", kind, key, f, level, baseline_value, improvement, direction, as_of, "percent", bounds=bounds
            )
        )
    return items


def planned_ramps(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """S-curve plans and plans that start after a go-live milestone; go-lives slip, ramps are S-shaped."""
    rng = np.random.default_rng([seed, 4])
    items = []
    for i in range(count):
        key = f"ramp-{seed}-{i:03d}"
        f = frame(rng, as_of, (20, 78), (13, 52), history=(0, 52))
        t = weeks_between(f.periods, f.baseline)
        with_milestone = i % 2 == 0
        extra: dict[str, Any] = {"profile": "s_curve" if (i // 2) % 2 == 0 else "linear"}
        go_live = 0.0
        if with_milestone:
            elapsed = (as_of - f.baseline).days / 7.0
            go_live = float(rng.uniform(0.1, min(0.5, max(0.15, (elapsed - 6) / f.duration)))) * f.duration
            milestone = register.Milestone(
                key="go-live", name="Go-live", date=f.baseline + dt.timedelta(weeks=round(go_live))
            )
            go_live = (milestone.date - f.baseline).days / 7.0
            extra |= {"starts_after": "go-live", "milestones": (milestone,)}
        slip = 0.0 if rng.random() < 0.4 else min(30.0, loguniform(rng, 2, 20))
        actual = go_live + slip
        r = realisation_ratio(rng, median=1.15, spread=0.25)
        steep = rng.uniform(0.08, 0.25) * (f.duration - go_live)  # weeks for the S-curve's middle half
        middle = actual + 2.5 * steep
        s_shape = 1.0 / (1.0 + np.exp(-(t - middle) / steep)) * (t > actual)
        regime = f"{'go-live' if with_milestone else 'from baseline'}, {'slipped' if slip else 'on time'}"
        if rng.random() < 0.6:
            planned = loguniform(rng, 1e5, 3e6)
            # the plan's rate when fully ramped: enough for the planned total with a ramp like the plan's
            plateau = planned / max(1.0, f.duration - go_live) * (1.6 if extra["profile"] == "s_curve" else 1.3)
            items.append(
                flow_item(
                    "ramp",
                    regime,
                    key,
                    f,
                    r * plateau * s_shape,
                    planned,
                    rng,
                    as_of,
                    kind="revenue",
                    relative_noise=rng.uniform(0.1, 0.4),
                    **extra,
                )
            )
        else:
            base = rng.uniform(200, 2_000)
            planned = base * rng.uniform(0.1, 0.4)
            level = base - r * planned * s_shape + base * rng.uniform(0.01, 0.04) * rng.normal(size=len(t))
            items.append(
                level_item(
                    "ramp",
                    regime,
                    key,
                    f,
                    level,
                    round(baseline_reading(f, level)),
                    planned,
                    "decrease",
                    as_of,
                    "volume",
                    **extra,
                )
            )
    return items


_AFTER = ("none", "stall", "plateau", "accelerate", "decline", "step down", "step up")


def regimes_after(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """Trajectories on a steady course so far that change after ``as_of`` (not visible in the data)."""
    rng = np.random.default_rng([seed, 5])
    items = []
    for i in range(count):
        regime = _AFTER[i % len(_AFTER)]
        key = f"after-{seed}-{i:03d}"
        f = frame(rng, as_of, (20, 78), (13, 52), history=(13, 52))
        t = weeks_between(f.periods, f.baseline)
        now = (as_of - f.baseline).days / 7.0
        change = now + rng.uniform(0.0, 1.1) * (f.duration - now)
        after = np.clip(t - change, 0, None)
        r = realisation_ratio(rng, median=1.0, spread=0.12)
        multiplier = np.ones_like(t)
        if regime == "stall":
            multiplier = np.where(after > 0, rng.uniform(0.0, 0.25), 1.0)
        elif regime == "plateau":
            multiplier = np.exp(-after / rng.uniform(3, 12))
        elif regime == "accelerate":
            multiplier = np.where(after > 0, rng.uniform(1.5, 2.5), 1.0)
        elif regime == "decline":
            multiplier = np.where(after > 0, -rng.uniform(0.2, 0.8), 1.0)
        elif regime == "step down":
            multiplier = np.where(after > 0, rng.uniform(0.3, 0.7), 1.0)
        elif regime == "step up":
            multiplier = np.where(after > 0, rng.uniform(1.3, 1.8), 1.0)
        if rng.random() < 0.5:
            planned_rate = loguniform(rng, 2_000, 40_000)
            rate = np.where(t > 0, r * planned_rate * multiplier, 0.0)
            items.append(
                flow_item(
                    "after",
                    regime,
                    key,
                    f,
                    rate,
                    planned_rate * f.duration,
                    rng,
                    as_of,
                    relative_noise=rng.uniform(0.1, 0.35),
                    noise_kind="ar" if i % 3 == 0 else "gaussian",
                )
            )
        else:
            base = rng.uniform(30, 60)
            slope = base * rng.uniform(0.2, 0.5) / f.duration
            progress = np.cumsum(np.where(t > 0, multiplier, 0.0) * period_weeks(f.periods)) * r * slope
            level = base + progress + base * rng.uniform(0.005, 0.03) * noise(rng, len(t), "gaussian")
            items.append(
                level_item(
                    "after",
                    regime,
                    key,
                    f,
                    level,
                    round(baseline_reading(f, level), 1),
                    slope * f.duration,
                    "increase",
                    as_of,
                    "score",
                )
            )
    return items


_BEFORE = ("late start", "stalled", "plateaued", "accelerated", "declined", "stepped up", "stepped down")


def regimes_before(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """Trajectories whose regime changed before ``as_of`` (visible in the data) and stays changed."""
    rng = np.random.default_rng([seed, 6])
    items = []
    for i in range(count):
        regime = _BEFORE[i % len(_BEFORE)]
        key = f"before-{seed}-{i:03d}"
        f = frame(rng, as_of, (30, 90), (13, 52), history=(13, 52))
        t = weeks_between(f.periods, f.baseline)
        now = (as_of - f.baseline).days / 7.0
        change = rng.uniform(0.25, 0.8) * now
        after = t > change
        r = realisation_ratio(rng, median=1.0, spread=0.15)
        if regime == "late start":
            multiplier = np.where(after, rng.uniform(1.0, 2.2), 0.0)
        elif regime == "stalled":
            multiplier = np.where(after, rng.uniform(0.0, 0.4), rng.uniform(1.1, 1.8))
        elif regime == "plateaued":
            multiplier = np.where(after, np.exp(-(t - change) / rng.uniform(4, 10)), rng.uniform(1.2, 2.0))
        elif regime == "accelerated":
            multiplier = np.where(after, rng.uniform(1.3, 2.2), rng.uniform(0.3, 0.8))
        elif regime == "declined":
            multiplier = np.where(after, -rng.uniform(0.1, 0.5), rng.uniform(1.2, 2.0))
        elif regime == "stepped up":
            multiplier = np.where(after, rng.uniform(1.2, 1.8), rng.uniform(0.5, 0.9))
        else:
            multiplier = np.where(after, rng.uniform(0.3, 0.8), rng.uniform(1.1, 1.5))
        if rng.random() < 0.5:
            planned_rate = loguniform(rng, 2_000, 40_000)
            rate = np.where(t > 0, r * planned_rate * multiplier, 0.0)
            items.append(
                flow_item(
                    "before",
                    regime,
                    key,
                    f,
                    rate,
                    planned_rate * f.duration,
                    rng,
                    as_of,
                    kind="hours",
                    relative_noise=rng.uniform(0.1, 0.35),
                    decrease=rng.random() < 0.2,
                )
            )
        else:
            base = rng.uniform(100, 400)
            slope = base * rng.uniform(0.2, 0.5) / f.duration
            progress = np.cumsum(np.where(t > 0, multiplier, 0.0) * period_weeks(f.periods)) * r * slope
            level = base + progress + base * rng.uniform(0.005, 0.03) * rng.normal(size=len(t))
            items.append(
                level_item(
                    "before",
                    regime,
                    key,
                    f,
                    level,
                    round(baseline_reading(f, level)),
                    slope * f.duration,
                    "increase",
                    as_of,
                    "certified",
                )
            )
    return items


_CADENCE = ("monthly", "monthly, missed months", "irregular invoices", "weekly, missed weeks")


def cadences(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """Monthly and irregular reporting: month-end closes, missed months and weeks (booked in the
    next report), invoices every 2 to 6 weeks; persistent deviations from plan."""
    rng = np.random.default_rng([seed, 7])
    items = []
    for i in range(count):
        cadence = _CADENCE[i % len(_CADENCE)]
        key = f"cadence-{seed}-{i:03d}"
        f = frame(rng, as_of, (13, 78), (13, 78), history=(13, 52), monthly=cadence.startswith("monthly"))
        if cadence == "irregular invoices":
            periods, day = [], f.periods[0]
            while day <= f.periods[-1]:
                periods.append(day)
                day += dt.timedelta(days=int(rng.integers(14, 43)))
            f = Frame(f.baseline, f.target, periods)
        t = weeks_between(f.periods, f.baseline)
        missed = rng.random(len(t)) < (0.2 if "missed" in cadence else 0.0)
        latest = np.searchsorted(t, (as_of - f.baseline).days / 7.0, side="right") - 1
        missed[latest] = False  # the latest report came in
        r = realisation_ratio(rng)
        deviation = 1.0 + 0.15 * noise(rng, len(t), "ar")
        if rng.random() < 0.6:
            planned_rate = loguniform(rng, 2_000, 40_000)
            rate = np.where(t > 0, r * planned_rate * deviation, 0.0)
            flows = rate * period_weeks(f.periods) * (1 + 0.15 * rng.normal(size=len(t)))
            for j in np.flatnonzero(missed[:-1]):  # a missed report is booked in the next one
                flows[j + 1] += flows[j]
            periods = [p for p, m in zip(f.periods, missed, strict=True) if not m and p > f.baseline]
            flows = flows[[not m and p > f.baseline for p, m in zip(f.periods, missed, strict=True)]]
            benefit = make_benefit(
                key, "savings", "cumulative", "increase", (0.0, f.baseline), (nice(planned_rate * f.duration), f.target)
            )
            items.append(finish("cadence", cadence, benefit, periods, flows, as_of))
        else:
            base = rng.uniform(20, 80)
            planned = base * rng.uniform(0.1, 0.3)
            progress = r * planned * np.clip(t / f.duration, 0, None) * deviation
            level = base - progress + base * 0.02 * rng.normal(size=len(t))
            keep = ~missed
            f = Frame(f.baseline, f.target, [p for p, k in zip(f.periods, keep, strict=True) if k])
            items.append(
                level_item(
                    "cadence",
                    cadence,
                    key,
                    f,
                    level[keep],
                    round(baseline_reading(f, level[keep]), 1),
                    planned,
                    "decrease",
                    as_of,
                    "cost_per_case",
                )
            )
    return items


_TARGETS = ("plan on the baseline reading", "last year's value times an ambition", "trailing-year average plus a plan")


def seasonal(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """Seasonal metrics with one to three years of history before the baseline, weekly or monthly;
    the benefit is an uplift on a seasonal pattern; targets from the baseline reading, from last
    year's value at the target date's season, or from the trailing-year average."""
    rng = np.random.default_rng([seed, 8])
    items = []
    for i in range(count):
        setting = _TARGETS[i % len(_TARGETS)]
        key = f"seasonal-{seed}-{i:03d}"
        f = frame(rng, as_of, (13, 52), (13, 52), history=(52, 156), monthly=rng.random() < 0.5)
        t = weeks_between(f.periods, f.baseline)
        phase, amplitude = rng.uniform(0, 2 * math.pi), rng.uniform(0.05, 0.3)
        angle = 2 * math.pi * t / 52.18 + phase
        season = 1 + amplitude * (np.sin(angle) + rng.uniform(0, 0.5) * np.sin(2 * angle))
        growth = 1 + rng.normal(0.0, 0.05) * t / 52.18
        uplift_plan = rng.uniform(0.05, 0.2)
        ramp = np.clip(t / (rng.uniform(0.3, 1.0) * f.duration), 0, 1) * uplift_plan * realisation_ratio(rng, 0.95, 0.4)
        cumulative = rng.random() < 0.35
        decrease = not cumulative and rng.random() < 0.5
        sign = -1.0 if decrease else 1.0
        base = loguniform(rng, 100, 10_000)
        mean = base * season * growth * (1 + sign * ramp)
        values = mean * (1 + rng.uniform(0.02, 0.08) * noise(rng, len(t), "gaussian"))
        last_year = [p for p in f.periods if p <= f.target - dt.timedelta(days=365)]
        if cumulative:
            window = [
                (p, v)
                for p, v in zip(f.periods, values, strict=True)
                if f.baseline - dt.timedelta(days=365) < p <= f.target - dt.timedelta(days=365)
            ]
            projection = sum(v for _, v in window)
            benefit = make_benefit(
                key,
                "sales",
                "cumulative",
                "increase",
                (0.0, f.baseline),
                (nice(projection * (1 + rng.uniform(0.0, 0.15))), f.target),
            )
            regime = "cumulative, last year's sales plus an ambition"
            items.append(finish("seasonal", regime, benefit, f.periods, values, as_of))
            continue
        kind, direction = ("volume", "decrease") if decrease else ("sales", "increase")
        reading = baseline_reading(f, values, periods_back=1)
        if setting == "last year's value times an ambition" and last_year:
            projected = float(values[f.periods.index(last_year[-1])]) * (1 + sign * rng.uniform(0.0, 0.15))
            improvement = sign * (projected - reading)
            if improvement <= 0.01 * reading:
                improvement = uplift_plan * reading
        elif setting == "trailing-year average plus a plan":
            year_before = f.baseline - dt.timedelta(days=365)
            reading = float(
                np.mean([v for p, v in zip(f.periods, values, strict=True) if year_before < p <= f.baseline])
            )
            improvement = uplift_plan * reading
        else:
            improvement = uplift_plan * reading
        items.append(
            level_item("seasonal", setting, key, f, values, round(reading, 1), improvement, direction, as_of, kind)
        )
    return items


GENERATORS: dict[str, Callable[[int, int, dt.date], list[Item]]] = {
    "noise": noise_levels,
    "horizon": horizons,
    "bounded": bounded_percent,
    "ramp": planned_ramps,
    "after": regimes_after,
    "before": regimes_before,
    "cadence": cadences,
    "seasonal": seasonal,
}
"""Every generator by name, as the harness's ``--generator`` names them."""
