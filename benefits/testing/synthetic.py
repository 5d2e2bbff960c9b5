"""Seeded synthetic benefits with known outcomes, for the calibration report and the forecast benchmark.

Each synthetic benefit has a weekly trajectory that runs from its baseline to its target date and
beyond. Only the weeks up to ``as_of`` are observed; the rest is the future that decides the
known outcome: ``landed`` is True when the trajectory's improvement at the target date (the
last weekly period on or before it) reaches the target improvement.

Scenarios (the shape of the trajectory after ``as_of`` is what makes them hard):

- ``stall``: a steady flow that stops (to a trickle) at a random week, often after ``as_of``;
- ``accelerate``: a flow that starts slowly and keeps growing;
- ``plateau``: a level metric (percentage, bounded 0..100) saturating towards a ceiling;
- ``late``: a steady flow whose target lies just beyond what it delivers
  by the target date, so it lands a few weeks late;
- ``early``: the same, with the target just within reach: it lands before the target date.

For ``stall``, ``accelerate`` and ``plateau`` the target is the trajectory's own value at the
target date times a random factor (0.8 to 1.2), so outcomes are mixed and depend on the future.
A quarter of the flows are "decrease is good" benefits (negative period values, a negative
target). Observation noise varies per benefit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np
import pandas as pd

from benefits import realisation, register

SCENARIOS = ("stall", "accelerate", "plateau", "late", "early")
BASELINE = dt.date(2024, 1, 1)  # a Monday
WEEK = dt.timedelta(days=7)


@dataclasses.dataclass(frozen=True)
class SyntheticBenefit:
    """One synthetic benefit: what the tool sees (observations to ``as_of``) and the known outcome."""

    benefit: register.Benefit
    scenario: str
    observations: pd.DataFrame
    """Weekly ``period``, ``value`` up to ``as_of`` (what the forecast may use)."""
    truth: pd.DataFrame
    """The whole weekly trajectory to the target date and beyond (the future included)."""
    as_of: dt.date
    landed: bool
    """Known outcome: the target improvement was reached by the target date."""
    milestones: tuple[register.Milestone, ...] = ()
    """The initiative's milestones (none here; ``benefits.testing.generators`` has benefits that start after one)."""


class Stored(Protocol):
    """What :func:`load_store` needs of a benefit: the benefit, its initiative's milestones and its observations."""

    @property
    def benefit(self) -> register.Benefit: ...

    @property
    def milestones(self) -> tuple[register.Milestone, ...]: ...

    @property
    def observations(self) -> pd.DataFrame: ...


def generate(
    count: int, seed: int = 0, weeks_observed: tuple[int, int] = (26, 104), weeks_ahead: tuple[int, int] = (8, 52)
) -> list[SyntheticBenefit]:
    """``count`` synthetic benefits cycling through the scenarios, reproducible from ``seed``.

    Each has between ``weeks_observed`` weekly observations and a target date between
    ``weeks_ahead`` weeks after ``as_of`` (both ranges inclusive).
    """
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        scenario = SCENARIOS[i % len(SCENARIOS)]
        observed = int(rng.integers(weeks_observed[0], weeks_observed[1] + 1))
        ahead = int(rng.integers(weeks_ahead[0], weeks_ahead[1] + 1))
        out.append(_one(f"syn-{i:04d}-{scenario}", scenario, observed, ahead, rng))
    return out


def _one(key: str, scenario: str, observed: int, ahead: int, rng: np.random.Generator) -> SyntheticBenefit:
    total = observed + ahead + 26
    weeks = np.arange(1, total + 1, dtype=float)
    target_week = observed + ahead
    if scenario == "plateau":
        values, fields = _plateau(weeks, observed, target_week, rng)
    else:
        values, fields = _flow(scenario, weeks, target_week, rng)
    periods = [BASELINE + int(w) * WEEK for w in weeks]
    truth = pd.DataFrame({"period": periods, "value": values})
    benefit = register.Benefit(
        key=key,
        name=f"Synthetic {scenario}",
        category="cost_reduction",
        metric=f"synthetic.{key}",
        owner="bench",
        baseline={"value": fields["baseline"], "date": BASELINE},
        target={"value": fields["target"], "date": BASELINE + target_week * WEEK},
        **{k: v for k, v in fields.items() if k not in ("baseline", "target")},
    )
    as_of = BASELINE + observed * WEEK
    reached = realisation.realised_to_date(benefit, truth, benefit.target.date)
    landed = reached is not None and reached >= realisation.target_improvement(benefit)
    return SyntheticBenefit(benefit, scenario, truth.iloc[:observed].reset_index(drop=True), truth, as_of, landed)


def _flow(scenario: str, weeks: np.ndarray, target_week: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Weekly period values of a cumulative benefit and its register fields."""
    rate = float(rng.uniform(2_000, 20_000))
    if scenario == "stall":
        stop = float(rng.uniform(0.3, 1.0)) * target_week
        mean = np.where(weeks < stop, rate, rate * rng.uniform(0.0, 0.2))
    elif scenario == "accelerate":
        mean = rate * (0.3 + rng.uniform(0.5, 2.0) * weeks / target_week)
    else:  # late, early: steady
        mean = np.full_like(weeks, rate)
    noise = rng.normal(0.0, rng.uniform(0.1, 0.5), len(weeks))
    values = np.round(mean * (1.0 + noise), 2)
    delivered = float(values[:target_week].sum())
    factor = _target_factor(scenario, rng)
    sign = -1.0 if rng.random() < 0.25 else 1.0
    fields = {
        "unit": "GBP",
        "measure": "cumulative",
        "direction": "decrease" if sign < 0 else "increase",
        "baseline": 0.0,
        "target": round(sign * delivered * factor, 2),
    }
    return sign * values, fields


def _plateau(weeks: np.ndarray, observed: int, target_week: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """A bounded percentage saturating towards a ceiling (adoption), and its register fields."""
    start = float(rng.uniform(5, 30))
    ceiling = float(rng.uniform(start + 20, 98))
    tau = float(rng.uniform(0.3, 1.2)) * target_week
    mean = start + (ceiling - start) * (1.0 - np.exp(-weeks / tau))
    values = np.clip(mean + rng.normal(0.0, rng.uniform(0.5, 3.0), len(weeks)), 0.0, 100.0).round(2)
    at_target = float(values[target_week - 1])
    target = min(99.0, start + (at_target - start) * _target_factor("plateau", rng))
    fields = {
        "unit": "%",
        "measure": "level",
        "direction": "increase",
        "baseline": round(start, 2),
        "target": round(max(target, start + 1.0), 2),
        "bounds": {"min": 0, "max": 100},
    }
    return values, fields


def _target_factor(scenario: str, rng: np.random.Generator) -> float:
    """Target as a multiple of what the trajectory delivers by the target date."""
    if scenario == "late":
        return float(rng.uniform(1.03, 1.2))
    if scenario == "early":
        return float(rng.uniform(0.8, 0.97))
    return float(rng.uniform(0.8, 1.2))


def portfolio(benefits: Iterable[Stored]) -> register.Register:
    """A register holding the synthetic benefits, one initiative each (with its milestones) in one programme."""
    return register.Register(
        name="Synthetic portfolio",
        programmes=[{"key": "synthetic", "name": "Synthetic"}],
        initiatives=[
            {
                "key": s.benefit.key,
                "name": s.benefit.name,
                "programme": "synthetic",
                "tactic": "optimised_processes",
                "owner": "bench",
                "milestones": list(s.milestones),
                "benefits": [s.benefit],
            }
            for s in benefits
        ],
    )


def load_store(database_url: str, benefits: Sequence[Stored]) -> None:
    """Create the schema at ``database_url`` and store the register and every observation
    (those before the baseline too)."""
    from benefits.store import db, migrate, models, repository

    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    with sessions.begin() as session:
        repository.save_register(session, portfolio(benefits))
        run = models.SyncRun(connector="synthetic", connector_type="bench", status="succeeded")
        session.add(run)
        session.flush()
        rows = [
            {"metric": s.benefit.metric, "period": period, "value": float(value), "unit": s.benefit.unit}
            for s in benefits
            for period, value in zip(s.observations["period"], s.observations["value"], strict=True)
        ]
        repository.load_observations(session, "synthetic", run.id, rows)
    engine.dispose()
