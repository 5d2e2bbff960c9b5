"""An outside check of the forecast: the calibration harness run on generators it was not built around.

New, independent generators of KPI-like benefit trajectories, with shapes that
``benefits/testing/generators.py`` does not cover, scored by the same harness. Each is
``fn(count, seed, as_of) -> list[Item]``, like ``generators.GENERATORS``:

- ``growth``: compounding growth (revenue 10-40 %/year, cumulative and level) with multiplicative
  yearly seasonality (its amplitude grows with the level), and compounding unit-cost decline;
  two to three years of history before the baseline;
- ``adoption``: Gompertz and logistic adoption of a user count without declared bounds, and
  random walks with drift (a price, a headcount);
- ``cadence2``: quarterly readings (8-16 in all, history included) and daily readings with
  weekday effects;
- ``scale``: 1e9-scale revenue, 0.001-scale rates, metrics that cross zero (cumulative net cash
  flow, a margin) and dis-benefits (an adverse effect that must stay within a limit).

Targets are set the way a business might: an ambition around a naive projection made with what
was known at the baseline date. Values are stored to six significant figures (``generators.finish``
rounds to four decimals, which would flatten a 0.001-scale rate), and a dis-benefit's known outcome
is "stayed within its limit" (``generators.finish`` judges every item as a benefit).

    .venv/bin/python bench/outside.py --seeds 1,2,3 --count 30 --workers 2 --rows /tmp/outside_rows.csv

``main`` puts these generators in place of ``GENERATORS`` in this process only, then runs
``bench/calibration.py``: the same options, scoring, tables and rows (``--rows``).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import calibration as cli
from benefits import realisation, register
from benefits.forecast.probability import meets
from benefits.testing.generators import (
    DEFAULT_AS_OF,
    GENERATORS,
    Frame,
    Item,
    baseline_reading,
    frame,
    loguniform,
    nice,
    noise,
    period_weeks,
    realisation_ratio,
    weeks_between,
)

YEAR = 52.18
"""Weeks in a year."""

Trajectory = tuple[list[dt.date], np.ndarray]
"""Periods and their values."""

Built = tuple[register.Benefit, list[dt.date], np.ndarray]
"""A benefit, and the periods and values of its true trajectory."""

# --- building items (own versions: own categories and units, six significant figures, dis-benefits) ---


@dataclasses.dataclass(frozen=True)
class Kind:
    """What a benefit measures: its label, category, unit, measure and direction."""

    label: str
    category: str
    unit: str
    measure: str
    direction: str = "increase"


def sig(x: float, digits: int = 6) -> float:
    """``x`` to ``digits`` significant figures."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return round(float(x), digits - 1 - int(math.floor(math.log10(abs(x)))))


def benefit(
    key: str, kind: Kind, baseline: tuple[float, dt.date], target: tuple[float, dt.date], **extra: Any
) -> register.Benefit:
    """The benefit ``key`` of ``kind`` from ``baseline`` to ``target`` (value, date), values to six figures."""
    return register.Benefit(
        key=key,
        name=f"{kind.label} ({key})",
        category=kind.category,
        metric=f"outside.{key}",
        unit=kind.unit,
        direction=kind.direction,
        measure=kind.measure,
        owner="outside",
        baseline={"value": sig(baseline[0]), "date": baseline[1]},
        target={"value": sig(target[0]), "date": target[1]},
        **extra,
    )


def item(
    generator: str,
    regime: str,
    b: register.Benefit,
    periods: Sequence[dt.date],
    values: np.ndarray,
    as_of: dt.date,
) -> Item:
    """The item of benefit ``b`` and its true trajectory (observations to ``as_of``), outcome judged
    as the product judges it: a benefit meets its target, a dis-benefit stays within its limit."""
    truth = pd.DataFrame({"period": list(periods), "value": [sig(v) for v in np.asarray(values, dtype=float)]})
    truth = truth.sort_values("period").drop_duplicates("period").reset_index(drop=True)
    observations = truth[truth["period"] <= as_of].reset_index(drop=True)
    realised = realisation.realised_to_date(b, truth, b.target.date)
    landed = realised is not None and meets(b, realised, realisation.target_improvement(b))
    return Item(b, generator, regime, observations, truth, as_of, landed)


def kept(periods: Sequence[dt.date], values: np.ndarray, keep: Sequence[bool] | np.ndarray) -> Trajectory:
    """The periods and values where ``keep`` holds."""
    mask = np.asarray(keep, dtype=bool)
    return [p for p, k in zip(periods, mask, strict=True) if k], values[mask]


def seasonal_log(rng: np.random.Generator, t: np.ndarray, amplitude: float) -> np.ndarray:
    """Log of a multiplicative yearly season (a first and a second harmonic)."""
    phase = rng.uniform(0, 2 * math.pi)
    angle = 2 * math.pi * t / YEAR + phase
    return amplitude * (np.sin(angle) + rng.uniform(0.0, 0.5) * np.sin(2 * angle + rng.uniform(0, 2 * math.pi)))


def sum_window(periods: Sequence[dt.date], values: np.ndarray, start: dt.date, end: dt.date) -> float:
    """Sum of the values of the periods in (``start``, ``end``]."""
    return float(sum(v for p, v in zip(periods, values, strict=True) if start < p <= end))


def trailing_growth(periods: Sequence[dt.date], values: np.ndarray, at: dt.date) -> float:
    """Year-on-year growth of the trailing-year sum at ``at`` (a flow or a level's readings summed)."""
    year = dt.timedelta(days=365)
    last = sum_window(periods, values, at - year, at)
    before = sum_window(periods, values, at - 2 * year, at - year)
    return last / before - 1 if before > 0 else 0.0


def linear_projection(f: Frame, values: np.ndarray, weeks_back: float = 13) -> float:
    """A straight line through the readings of the ``weeks_back`` weeks before the baseline, at the target date."""
    t = weeks_between(f.periods, f.baseline)
    mask = (t <= 0) & (t > -weeks_back)
    if mask.sum() < 2:
        mask = t <= 0
    slope, intercept = np.polyfit(t[mask], np.asarray(values)[mask], 1)
    return float(intercept + slope * f.duration)


# --- growth: compounding trajectories with multiplicative seasonality ---------------------------

_GROWTH = (
    "compounding revenue, cumulative",
    "compounding run-rate x season, level",
    "compounding unit-cost decline, level",
)


def growth(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """Revenue compounding 10-40 %/year (its growth rate itself drifting) with a multiplicative
    yearly season, two to three years of history; and unit cost compounding down 5-30 %/year.
    Targets: the trailing year's growth carried forward, times an ambition, seasons ignored."""
    rng = np.random.default_rng([seed, 101])
    items = []
    for i in range(count):
        regime = _GROWTH[i % len(_GROWTH)]
        key = f"growth-{seed}-{i:03d}"
        monthly = rng.random() < 0.5
        f = frame(rng, as_of, (13, 52), (13, 78), history=(104, 156), monthly=monthly)
        decline = regime.startswith("compounding unit-cost")
        path = _compounding(rng, f, decline)
        if regime == "compounding revenue, cumulative":
            built = _cumulative_revenue(rng, key, f, path)
        else:
            built = _growth_level(rng, key, f, path, decline)
        items.append(item("growth", regime, *built, as_of))
    return items


def _compounding(rng: np.random.Generator, f: Frame, decline: bool) -> np.ndarray:
    """Log of a path compounding up 10-40 %/year (or down 5-30 %/year) at a drifting rate, zero at
    the baseline, with a multiplicative yearly season (milder for a decline) and persistent shocks."""
    t = weeks_between(f.periods, f.baseline)
    length = period_weeks(f.periods)
    g = rng.uniform(0.05, 0.30) if decline else rng.uniform(0.10, 0.40)
    weekly = math.log(1 - g if decline else 1 + g) / YEAR
    drift = np.cumsum(rng.normal(0.0, rng.uniform(0.5e-4, 2e-4), len(t)) * np.sqrt(length))
    log_level = np.cumsum((weekly + drift) * length)
    log_level -= log_level[np.searchsorted(t, 0)]
    amplitude = rng.uniform(0.0, 0.1) if decline else rng.uniform(0.05, 0.35)
    season = seasonal_log(rng, t, amplitude)
    sd = rng.uniform(0.02, 0.10)
    shocks = sd * noise(rng, len(t), "ar" if rng.random() < 0.4 else "gaussian")
    return log_level + season + shocks


def _cumulative_revenue(rng: np.random.Generator, key: str, f: Frame, path: np.ndarray) -> Built:
    """Revenue booked along ``path``, the last three years kept; target: the trailing year's run-rate
    compounding at its growth, plus or minus an ambition, to the target date."""
    rate0 = loguniform(rng, 5e3, 5e5)  # per week at the baseline
    flows = rate0 * period_weeks(f.periods) * np.exp(path)
    g_hist = trailing_growth(f.periods, flows, f.baseline)
    g_plan = max(0.0, g_hist + rng.normal(0.0, 0.08))
    run_rate = sum_window(f.periods, flows, f.baseline - dt.timedelta(days=365), f.baseline) / YEAR
    start_rate = run_rate * math.sqrt(1 + g_hist)  # the trailing year is centred half a year back
    d = f.duration
    k = math.log(1 + g_plan) / YEAR
    projection = start_rate * (d if k == 0 else (math.exp(k * d) - 1) / k)
    b = benefit(key, Kind("Revenue", "revenue", "GBP", "cumulative"), (0.0, f.baseline), (nice(projection), f.target))
    keep = [p > f.baseline - dt.timedelta(days=3 * 365) for p in f.periods]
    return (b, *kept(f.periods, flows, keep))


def _growth_level(rng: np.random.Generator, key: str, f: Frame, path: np.ndarray, decline: bool) -> Built:
    """Recurring revenue (or a unit cost, ``decline``) read along ``path``; target: the growth (or
    decline) of the year before the baseline, plus or minus an ambition, compounded to the target date."""
    base = loguniform(rng, 50_000, 5e6) if not decline else rng.uniform(5, 500)
    level = base * np.exp(path)
    reading = baseline_reading(f, level)
    known = [p <= f.baseline for p in f.periods]
    g_hist = trailing_growth(f.periods, np.where(known, level, 0.0), f.baseline)
    if decline:
        g_plan = min(0.5, max(0.02, -g_hist + rng.normal(0.0, 0.06)))
        improvement = reading - reading * (1 - g_plan) ** (f.duration / YEAR)
        kind = Kind("Unit cost", "cost_reduction", "GBP", "level", "decrease")
        return benefit(key, kind, (reading, f.baseline), (reading - nice(improvement), f.target)), f.periods, level
    g_plan = max(0.02, g_hist + rng.normal(0.0, 0.08))
    projected = reading * (1 + g_plan) ** (f.duration / YEAR)
    kind = Kind("Monthly recurring revenue", "revenue", "GBP", "level")
    return benefit(key, kind, (reading, f.baseline), (reading + nice(projected - reading), f.target)), f.periods, level


# --- adoption: S-curves without declared bounds, random walks with drift --------------------------

_ADOPTION = ("gompertz users", "logistic users", "random-walk price", "random-walk headcount")


def adoption(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """Active users following a Gompertz or a logistic curve toward a ceiling nobody declared
    (target: the last quarter's straight line before the baseline, times an ambition); a price and
    a headcount that walk randomly with a drift (target: last year's drift carried on, times an ambition)."""
    rng = np.random.default_rng([seed, 102])
    items = []
    for i in range(count):
        regime = _ADOPTION[i % len(_ADOPTION)]
        key = f"adoption-{seed}-{i:03d}"
        monthly = regime == "random-walk price" and rng.random() < 0.5
        f = frame(rng, as_of, (13, 78), (13, 52), history=(26, 78), monthly=monthly)
        if regime.endswith("users"):
            built = _users(rng, key, f, gompertz=regime == "gompertz users")
        elif regime == "random-walk price":
            built = _price(rng, key, f)
        else:
            built = _headcount(rng, key, f)
        items.append(item("adoption", regime, *built, as_of))
    return items


def _users(rng: np.random.Generator, key: str, f: Frame, gompertz: bool) -> Built:
    """Active users on a Gompertz (or logistic) curve launched before or during the history."""
    t = weeks_between(f.periods, f.baseline)
    ceiling = loguniform(rng, 2e3, 2e6)
    span = f.duration + (f.baseline - f.periods[0]).days / 7.0  # from the first reading to the target
    launch = t[0] + rng.uniform(-0.3, 0.5) * span  # launched before or during the history
    x = np.clip(t - launch, 0, None)
    if gompertz:
        c = rng.uniform(2.0, 6.0) / span
        mean = ceiling * np.exp(-rng.uniform(3, 8) * np.exp(-c * x))
    else:
        middle = rng.uniform(0.2, 1.0) * span
        mean = ceiling / (1 + np.exp(-(x - middle) / (rng.uniform(0.08, 0.25) * span)))
    mean = np.maximum(mean, 1.0) + rng.uniform(0, 50)
    level = np.maximum(0.0, np.round(rng.poisson(mean) * (1 + rng.uniform(0.01, 0.05) * noise(rng, len(t), "ar"))))
    reading = round(baseline_reading(f, level))
    ambition = rng.uniform(0.7, 1.5) if gompertz else rng.uniform(0.9, 2.0)
    plan = (linear_projection(f, level) - reading) * ambition
    if plan <= 0.05 * reading:
        plan = max(10.0, 0.1 * reading)
    kind = Kind("Active users", "operational_efficiency", "users", "level")
    return benefit(key, kind, (reading, f.baseline), (reading + nice(plan), f.target)), f.periods, level


def _price(rng: np.random.Generator, key: str, f: Frame) -> Built:
    """A selling price walking randomly (lognormal steps) with a drift of -5 to +15 %/year."""
    t = weeks_between(f.periods, f.baseline)
    length = period_weeks(f.periods)
    mu = rng.uniform(-0.05, 0.15) / YEAR  # log drift a week
    vol = rng.uniform(0.05, 0.30) / math.sqrt(YEAR)
    base = loguniform(rng, 5, 500)
    steps = mu * length + vol * np.sqrt(length) * rng.normal(size=len(t))
    log_p = np.cumsum(steps)
    log_p -= log_p[np.searchsorted(t, 0)]
    level = np.round(base * np.exp(log_p), 2)
    reading = baseline_reading(f, level, periods_back=1)
    before = [v for p, v in zip(f.periods, level, strict=True) if p <= f.baseline - dt.timedelta(days=365)]
    g_hist = reading / (before[-1] if before else level[0]) - 1
    plan = reading * g_hist * f.duration / YEAR * rng.uniform(0.5, 1.5)
    if plan <= 0.01 * reading:
        plan = reading * rng.uniform(0.01, 0.05)
    kind = Kind("Average selling price", "revenue", "GBP", "level")
    return benefit(key, kind, (reading, f.baseline), (reading + nice(plan), f.target)), f.periods, level


def _headcount(rng: np.random.Generator, key: str, f: Frame) -> Built:
    """A headcount moved by random hires and leavers, growing or (half the time) being cut."""
    t = weeks_between(f.periods, f.baseline)
    length = period_weeks(f.periods)
    base = rng.uniform(50, 2000)
    cutting = rng.random() < 0.5
    hires = base * rng.uniform(0.002, 0.006)  # a week
    leavers = hires * (rng.uniform(1.3, 2.5) if cutting else rng.uniform(0.3, 0.9))
    steps = rng.poisson(hires * length) - rng.poisson(leavers * length)
    heads = np.cumsum(steps).astype(float)
    heads = np.maximum(0.0, base + heads - heads[np.searchsorted(t, 0)])
    reading = heads[np.searchsorted(t, 0, side="right") - 1]
    before = [v for p, v in zip(f.periods, heads, strict=True) if p <= f.baseline - dt.timedelta(days=182)]
    drift = (reading - (before[-1] if before else heads[0])) / 26.0  # a week, last half year
    sign = -1 if cutting else 1
    plan = sign * drift * f.duration * rng.uniform(0.6, 1.4)
    if plan < 2:
        plan = max(2.0, 0.02 * reading)
    staff = round(nice(plan))
    kind = Kind("Headcount", "people_capability", "staff", "level", "decrease" if cutting else "increase")
    return benefit(key, kind, (reading, f.baseline), (reading + sign * staff, f.target)), f.periods, heads


# --- cadence2: quarterly and daily readings --------------------------------------------------------

_CADENCE2 = (
    "quarterly level",
    "quarterly cumulative",
    "daily level, weekday effect",
    "daily cumulative, weekday effect",
)


def cadence2(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """Quarterly readings (8-16 to ``as_of``, history included; a mild quarterly pattern) and daily
    readings with a weekday pattern (weekends low); planned linear improvements delivered at a
    realisation ratio, persistent deviations."""
    rng = np.random.default_rng([seed, 103])
    items = []
    for i in range(count):
        regime = _CADENCE2[i % len(_CADENCE2)]
        key = f"cadence2-{seed}-{i:03d}"
        r = realisation_ratio(rng)
        if regime.startswith("quarterly"):
            f, season, deviation = _quarterly(rng, as_of)
            build = _quarterly_level if regime == "quarterly level" else _quarterly_savings
        else:
            f, season, deviation = _daily(rng, as_of)
            build = _daily_orders if regime.startswith("daily level") else _daily_sales
        items.append(item("cadence2", regime, *build(rng, key, f, season, deviation, r), as_of))
    return items


def quarter_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """The quarter ends from ``first`` to the one on or after ``last``."""
    ends = pd.date_range(pd.Timestamp(first), pd.Timestamp(last) + pd.offsets.QuarterEnd(1), freq="QE")
    return [d.date() for d in ends]


def _quarterly(rng: np.random.Generator, as_of: dt.date) -> tuple[Frame, np.ndarray, np.ndarray]:
    """8-16 quarter ends to ``as_of`` and 1-6 after, the baseline 2-6 quarters back; each period's
    factor of a mild quarterly pattern, and a persistent deviation factor."""
    readings = int(rng.integers(8, 17))
    since = int(rng.integers(2, min(7, readings - 1)))  # quarters from the baseline to as_of
    ahead = int(rng.integers(1, 7))
    ends = quarter_ends(
        as_of - dt.timedelta(days=int(91.3 * (readings + 1))), as_of + dt.timedelta(days=int(91.3 * (ahead + 2)))
    )
    past = [p for p in ends if p <= as_of][-readings:]
    future = [p for p in ends if p > as_of]
    target = future[ahead - 1] + dt.timedelta(days=int(rng.integers(0, 21)))
    f = Frame(past[-1 - since], target, past + future)
    quarter = np.array([(p.month - 1) // 3 for p in f.periods])
    pattern = rng.normal(0, rng.uniform(0.0, 0.06), 4)
    deviation = 1 + 0.2 * noise(rng, len(f.periods), "ar")
    return f, 1 + pattern[quarter], deviation


def _daily(rng: np.random.Generator, as_of: dt.date) -> tuple[Frame, np.ndarray, np.ndarray]:
    """Days from 6-13 months before a baseline 4-26 weeks back to three months past a target 4-26
    weeks ahead; each day's factor of a weekday pattern (weekends low), and a persistent deviation factor."""
    baseline = as_of - dt.timedelta(days=int(rng.integers(28, 183)))
    target = as_of + dt.timedelta(days=int(rng.integers(28, 183)))
    first = baseline - dt.timedelta(days=int(rng.integers(180, 400)))
    f = Frame(baseline, target, [first + dt.timedelta(days=k) for k in range((target - first).days + 92)])
    weekday = np.array([p.weekday() for p in f.periods])
    weekend = rng.uniform(0.2, 0.7)
    pattern = np.array(
        [rng.uniform(1.0, 1.15), 1.0, 1.0, 1.0, rng.uniform(0.9, 1.1), weekend, weekend * rng.uniform(0.5, 1.0)]
    )
    pattern = pattern / pattern.mean()
    deviation = 1 + 0.1 * noise(rng, len(f.periods), "ar")
    return f, pattern[weekday], deviation


def _quarterly_level(
    rng: np.random.Generator, key: str, f: Frame, season: np.ndarray, deviation: np.ndarray, r: float
) -> Built:
    """A quarterly cost (or, half the time, a satisfaction index) improving linearly from the baseline."""
    t = weeks_between(f.periods, f.baseline)
    decrease = rng.random() < 0.5
    base = loguniform(rng, 10, 10_000)
    planned = base * rng.uniform(0.05, 0.25)
    sign = -1 if decrease else 1
    progress = r * planned * np.clip(t / f.duration, 0, None) * deviation
    level = (base + sign * progress) * season + base * rng.uniform(0.01, 0.05) * rng.normal(size=len(t))
    reading = baseline_reading(f, level, periods_back=1)
    if decrease:
        kind = Kind("Quarterly cost", "cost_reduction", "GBP", "level", "decrease")
    else:
        kind = Kind("Quarterly satisfaction index", "operational_efficiency", "points", "level")
    return benefit(key, kind, (reading, f.baseline), (reading + sign * nice(planned), f.target)), f.periods, level


def _quarterly_savings(
    rng: np.random.Generator, key: str, f: Frame, season: np.ndarray, deviation: np.ndarray, r: float
) -> Built:
    """Savings booked each quarter from the baseline at a planned weekly rate."""
    t = weeks_between(f.periods, f.baseline)
    planned_rate = loguniform(rng, 2_000, 50_000)  # a week
    rate = np.where(t > 0, r * planned_rate * np.clip(deviation, 0, None), 0.0) * season
    flows = rate * period_weeks(f.periods) * (1 + 0.1 * rng.normal(size=len(t)))
    kind = Kind("Savings booked quarterly", "cost_reduction", "GBP", "cumulative")
    b = benefit(key, kind, (0.0, f.baseline), (nice(planned_rate * f.duration), f.target))
    return (b, *kept(f.periods, flows, t > 0))


def _daily_orders(
    rng: np.random.Generator, key: str, f: Frame, season: np.ndarray, deviation: np.ndarray, r: float
) -> Built:
    """Orders handled a day, improving linearly from the baseline; its baseline is the last week's mean."""
    t = weeks_between(f.periods, f.baseline)
    base = loguniform(rng, 50, 5_000)
    planned = base * rng.uniform(0.05, 0.3)
    progress = r * planned * np.clip(t / f.duration, 0, None)
    mean = (base + progress) * season * deviation
    level = np.round(np.maximum(0.0, mean * (1 + rng.uniform(0.03, 0.1) * rng.normal(size=len(t)))))
    reading = round(baseline_reading(f, level, periods_back=7), 1)
    kind = Kind("Orders handled a day", "operational_efficiency", "orders", "level")
    return benefit(key, kind, (reading, f.baseline), (reading + nice(planned), f.target)), f.periods, level


def _daily_sales(
    rng: np.random.Generator, key: str, f: Frame, season: np.ndarray, deviation: np.ndarray, r: float
) -> Built:
    """Online sales a day from the baseline, ramping up to a planned daily rate."""
    t = weeks_between(f.periods, f.baseline)
    planned_rate = loguniform(rng, 100, 20_000)  # a day
    rate = np.where(t > 0, r * planned_rate * (1 - np.exp(-np.clip(t, 0, None) / rng.uniform(1, 6))), 0.0)
    flows = rate * season * np.clip(deviation, 0, None) * (1 + 0.15 * rng.normal(size=len(t)))
    days = (f.target - f.baseline).days
    kind = Kind("Online sales a day", "revenue", "GBP", "cumulative")
    b = benefit(key, kind, (0.0, f.baseline), (nice(planned_rate * days * rng.uniform(0.85, 1.05)), f.target))
    return (b, *kept(f.periods, flows, t > 0))


# --- scale: extreme scales, metrics crossing zero, dis-benefits ------------------------------------

_SCALE = (
    "1e9 revenue, cumulative",
    "0.001 rate, level",
    "net cash flow crossing zero, cumulative",
    "margin crossing zero, level",
    "dis-benefit, level",
    "dis-benefit, cumulative",
)


def scale(count: int, seed: int, as_of: dt.date = DEFAULT_AS_OF) -> list[Item]:
    """1e9-scale monthly revenue (target: the trailing run-rate grown by a plan), a 0.001-scale
    defect rate read through sampling noise, a cumulative net cash flow that starts negative and
    turns positive, a margin that starts below zero, and dis-benefits (an order backlog during a
    cut-over that rises then falls back; overtime hours incurred), with limits set around a projection."""
    rng = np.random.default_rng([seed, 104])
    items = []
    for i in range(count):
        regime = _SCALE[i % len(_SCALE)]
        key = f"scale-{seed}-{i:03d}"
        monthly = regime.startswith(("1e9", "net cash", "margin")) or rng.random() < 0.3
        f = frame(rng, as_of, (13, 78), (13, 52), history=(26, 104), monthly=monthly)
        r = realisation_ratio(rng)
        if regime == "1e9 revenue, cumulative":
            built = _group_revenue(rng, key, f)
        elif regime == "0.001 rate, level":
            built = _defect_rate(rng, key, f, r)
        elif regime == "net cash flow crossing zero, cumulative":
            built = _net_cash_flow(rng, key, f, r)
        elif regime == "margin crossing zero, level":
            built = _margin(rng, key, f, r)
        elif regime == "dis-benefit, level":
            built = _backlog(rng, key, f)
        else:
            built = _overtime(rng, key, f, r)
        items.append(item("scale", regime, *built, as_of))
    return items


def _group_revenue(rng: np.random.Generator, key: str, f: Frame) -> Built:
    """Revenue of 0.3-3 billion a month growing -5 to +15 %/year."""
    t = weeks_between(f.periods, f.baseline)
    g = rng.uniform(-0.05, 0.15)
    monthly_revenue = loguniform(rng, 3e8, 3e9)
    trend = np.exp(math.log(1 + g) / YEAR * t + 0.04 * noise(rng, len(t), "ar"))
    flows = monthly_revenue * period_weeks(f.periods) / (YEAR / 12) * trend * (1 + 0.03 * rng.normal(size=len(t)))
    run_rate = sum_window(f.periods, flows, f.baseline - dt.timedelta(days=365), f.baseline) / YEAR
    g_plan = g + rng.normal(0, 0.05)
    projection = run_rate * math.sqrt(1 + g) * f.duration * (1 + g_plan * f.duration / YEAR / 2)
    kind = Kind("Group revenue", "revenue", "GBP", "cumulative")
    return benefit(key, kind, (0.0, f.baseline), (nice(projection), f.target)), f.periods, flows


def _defect_rate(rng: np.random.Generator, key: str, f: Frame, r: float) -> Built:
    """A defect rate of 0.05-0.5 % cut by a fifth to a half, read through binomial sampling noise."""
    t = weeks_between(f.periods, f.baseline)
    base = loguniform(rng, 5e-4, 5e-3)
    planned = base * rng.uniform(0.2, 0.5)
    cases = loguniform(rng, 2e4, 5e5) * period_weeks(f.periods)
    mean = np.clip(base - r * planned * np.clip(t / f.duration, 0, None), 1e-6, None)
    level = rng.binomial(cases.astype(int), mean) / cases.astype(int)
    reading = baseline_reading(f, level)
    kind = Kind("Defect rate", "operational_efficiency", "rate", "level", "decrease")
    return benefit(key, kind, (reading, f.baseline), (reading - nice(planned), f.target)), f.periods, level


def _net_cash_flow(rng: np.random.Generator, key: str, f: Frame, r: float) -> Built:
    """A new line's net cash flow from the baseline: an investment fading out, income ramping up.
    Its plan is drawn again (up to 50 times) until it gains over a fifth of a running month by the target."""
    t = weeks_between(f.periods, f.baseline)
    length = period_weeks(f.periods)
    for _ in range(50):
        size = loguniform(rng, 1e4, 1e6)  # a month's net cash flow when running
        invest = size * rng.uniform(0.5, 3.0)
        tau_in, tau_up = rng.uniform(4, 26), rng.uniform(8, 40)
        plan_flow = (
            size * (1 - np.exp(-np.clip(t, 0, None) / tau_up)) - invest * np.exp(-np.clip(t, 0, None) / tau_in)
        ) * (t > 0)
        plan_flow = plan_flow * length / (YEAR / 12)
        planned_total = sum_window(f.periods, plan_flow, f.baseline, f.target)
        if planned_total > 0.2 * size:
            break
    truth_flow = (
        size * r * (1 - np.exp(-np.clip(t, 0, None) / (tau_up * rng.uniform(0.7, 1.6))))
        - invest * rng.uniform(0.8, 1.3) * np.exp(-np.clip(t, 0, None) / tau_in)
    ) * (t > 0)
    flows = truth_flow * length / (YEAR / 12) + size * 0.15 * noise(rng, len(t), "ar") * (t > 0)
    kind = Kind("Net cash flow of the new line", "revenue", "GBP", "cumulative")
    b = benefit(key, kind, (0.0, f.baseline), (nice(max(planned_total, 0.2 * size)), f.target))
    return (b, *kept(f.periods, flows, t > 0))


def _margin(rng: np.random.Generator, key: str, f: Frame, r: float) -> Built:
    """An operating margin (%) starting 1-8 points below zero, planned to end 1-6 points above it."""
    t = weeks_between(f.periods, f.baseline)
    start = -rng.uniform(1, 8)
    planned = -start + rng.uniform(1, 6)
    progress = r * planned * np.clip(t / f.duration, 0, None)
    level = start + progress + rng.uniform(0.3, 1.5) * noise(rng, len(t), "ar")
    reading = round(baseline_reading(f, level, periods_back=3), 2)
    kind = Kind("Operating margin", "revenue", "%", "level")
    return benefit(key, kind, (reading, f.baseline), (round(reading + planned, 1), f.target)), f.periods, level


def _backlog(rng: np.random.Generator, key: str, f: Frame) -> Built:
    """A dis-benefit: an order backlog that rises during a cut-over, then falls back; its limit is set
    around the expected backlog at the target date, at least ten orders above the baseline."""
    t = weeks_between(f.periods, f.baseline)
    base = rng.uniform(0, 200)
    peak = loguniform(rng, 200, 5_000)
    cutover = rng.uniform(0.0, 0.6) * f.duration
    width = rng.uniform(0.15, 0.6) * f.duration
    bump = np.exp(-0.5 * ((t - cutover - width) / width) ** 2) * (t > cutover)
    mean = base + peak * bump
    noisy = mean * (1 + 0.1 * noise(rng, len(t), "ar")) + rng.normal(0, 0.02 * peak, len(t))
    level = np.round(np.maximum(0.0, noisy))
    reading = baseline_reading(f, level, periods_back=1)
    expected = base + peak * math.exp(-0.5 * ((f.duration - cutover - width) / width) ** 2)
    limit = max(reading + 10, expected * rng.uniform(0.6, 1.8))
    kind = Kind("Order backlog during cut-over", "operational_efficiency", "orders", "level")
    b = benefit(key, kind, (reading, f.baseline), (nice(limit), f.target), dis_benefit=True)
    if b.target.value <= b.baseline.value:
        b = b.model_copy(update={"target": register.Point(value=reading + 10, date=f.target)})
    return b, f.periods, level


def _overtime(rng: np.random.Generator, key: str, f: Frame, r: float) -> Built:
    """A dis-benefit: overtime hours incurred from the baseline, fading out; its limit is set around the plan."""
    t = weeks_between(f.periods, f.baseline)
    rate0 = loguniform(rng, 20, 2_000)  # overtime hours a week at the start
    fade = rng.uniform(0.3, 3.0) * f.duration
    rate = np.where(t > 0, rate0 * np.exp(-t / fade) * r, 0.0)
    flows = np.maximum(0.0, rate * period_weeks(f.periods) * (1 + 0.25 * noise(rng, len(t), "gaussian")))
    planned = rate0 * fade * (1 - math.exp(-f.duration / fade))
    kind = Kind("Overtime hours during transition", "operational_efficiency", "hours", "cumulative")
    b = benefit(key, kind, (0.0, f.baseline), (nice(planned * rng.uniform(0.75, 1.3)), f.target), dis_benefit=True)
    return (b, *kept(f.periods, flows, t > 0))


OUTSIDE: dict[str, Callable[[int, int, dt.date], list[Item]]] = {
    "growth": growth,
    "adoption": adoption,
    "cadence2": cadence2,
    "scale": scale,
}


# --- running them through the harness ---------------------------------------------------------------


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The harness's arguments (``bench/calibration.py``'s); ``--help`` shows this script's, then those."""
    parser = argparse.ArgumentParser(
        description=f"{(__doc__ or '').splitlines()[0]} Generators: {', '.join(OUTSIDE)}.",
        epilog="Every other option is bench/calibration.py's, passed through: they follow.",
        add_help=False,
        allow_abbrev=False,
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this help and the harness's, then exit")
    own, rest = parser.parse_known_args(argv)
    if own.help:
        parser.print_help()
        print()
        rest = ["--help"]
    return cli.parse(rest)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the calibration harness on the outside generators, in place of ``GENERATORS`` in this process only."""
    GENERATORS.clear()
    GENERATORS.update(OUTSIDE)
    cli.run(parse(argv))


if __name__ == "__main__":
    main()
