"""How far the probability of landing can be trusted: Brier score, reliability table, baselines.

Pure functions over probabilities and known outcomes. The two baselines answer the same
question (will the benefit reach its target by the target date?) the way a PMO would without a
model, as a yes (1) or no (0):

- ``straight_line``: extrapolate a least-squares line through the last quarter (13 weeks) of the
  tracked quantity Q to the target date;
- ``on_plan``: realised to date is at least planned to date.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from benefits import realisation, register
from benefits.forecast import series
from benefits.forecast.probability import meets

QUARTER_WEEKS = 13


@dataclasses.dataclass(frozen=True)
class ReliabilityBin:
    """Forecasts whose probability fell in [lower, upper): how often they actually landed."""

    lower: float
    upper: float
    count: int
    mean_p: float | None
    """Mean forecast probability in the bin (None when empty)."""
    observed: float | None
    """Share that landed (None when empty)."""


def brier(p: Sequence[float], landed: Sequence[bool]) -> float:
    """Mean squared difference between probability and outcome (0 is perfect; 0.25 is a coin at 0.5)."""
    probs, outcomes = _arrays(p, landed)
    return float(np.mean((probs - outcomes) ** 2))


def reliability(p: Sequence[float], landed: Sequence[bool], bins: int = 10) -> list[ReliabilityBin]:
    """The reliability table: ``bins`` equal-width probability bins (the last includes 1.0)."""
    probs, outcomes = _arrays(p, landed)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges, probs, side="right") - 1, 0, bins - 1)
    table = []
    for i in range(bins):
        mask = index == i
        count = int(mask.sum())
        table.append(
            ReliabilityBin(
                lower=float(edges[i]),
                upper=float(edges[i + 1]),
                count=count,
                mean_p=float(probs[mask].mean()) if count else None,
                observed=float(outcomes[mask].mean()) if count else None,
            )
        )
    return table


def straight_line(benefit: register.Benefit, start: dt.date, observations: pd.DataFrame, as_of: dt.date) -> float:
    """1.0 when a line through the last quarter of Q reaches the target at the target date, else 0.0."""
    observed = series.window(benefit, start, observations, as_of)
    if observed.empty:
        return 0.0
    q = series.tracked(benefit, observed)
    recent = observed["period"] >= observed["period"].iloc[-1] - pd.Timedelta(weeks=QUARTER_WEEKS - 1)
    days = (observed["period"][recent] - observed["period"].iloc[-1]).dt.days.to_numpy(dtype=float)
    values = q[recent.to_numpy()]
    ahead = (pd.Timestamp(benefit.target.date) - observed["period"].iloc[-1]).days
    if len(values) < 2:
        projected = float(values[-1])
    else:
        slope, intercept = np.polyfit(days, values, 1)
        projected = float(intercept + slope * ahead)
    if benefit.bounds is not None:
        projected = float(np.clip(projected, benefit.bounds.min, benefit.bounds.max))
    improvement = realisation.sign(benefit) * (projected - benefit.baseline.value)
    return 1.0 if meets(benefit, improvement, realisation.target_improvement(benefit)) else 0.0


def on_plan(benefit: register.Benefit, start: dt.date, observations: pd.DataFrame, as_of: dt.date) -> float:
    """1.0 when realised to date is at least planned to date, else 0.0 (dis-benefit: at most)."""
    observed = series.window(benefit, start, observations, as_of)
    frame = observed.assign(period=observed["period"].dt.date)
    realised = realisation.realised_to_date(benefit, frame, as_of)
    if realised is None:
        return 0.0
    planned = realisation.planned_to_date(benefit, start, as_of)
    return 1.0 if meets(benefit, realised, planned) else 0.0


def _arrays(p: Sequence[float], landed: Sequence[bool]) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(p, dtype=float)
    outcomes = np.asarray(landed, dtype=float)
    if probs.shape != outcomes.shape or probs.ndim != 1 or len(probs) == 0:
        raise ValueError("need as many probabilities as outcomes, and at least one")
    if ((probs < 0) | (probs > 1) | ~np.isfinite(probs)).any():
        raise ValueError("probabilities must lie in [0, 1]")
    return probs, outcomes
