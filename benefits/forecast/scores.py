"""Scores of forecasts against known outcomes: ranking (AUC) and interval coverage, as pure functions.

Companions of :mod:`benefits.forecast.calibration` (Brier score, reliability table): the AUC says
whether benefits given a higher probability of landing land more often, whatever the scale of
the probabilities; the coverage says how often the true value fell inside the interval.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def auc(p: Sequence[float], landed: Sequence[bool]) -> float | None:
    """Area under the ROC curve: the chance that a benefit that landed was given a higher
    probability than one that did not (ties count half). 0.5 is no ranking, 1 a perfect one;
    None when all benefits landed or none did."""
    probs = np.asarray(p, dtype=float)
    outcomes = np.asarray(landed, dtype=bool)
    if probs.shape != outcomes.shape or probs.ndim != 1:
        raise ValueError("need as many probabilities as outcomes")
    positives, negatives = int(outcomes.sum()), int((~outcomes).sum())
    if positives == 0 or negatives == 0:
        return None
    ranks = pd.Series(probs).rank(method="average").to_numpy()  # tied ranks averaged: ties count half (Mann-Whitney U)
    u = float(ranks[outcomes].sum()) - positives * (positives + 1) / 2.0
    return u / (positives * negatives)


def covered(actual: Sequence[float], lower: Sequence[float], upper: Sequence[float]) -> np.ndarray:
    """Whether each actual value lies within its interval [lower, upper] (bounds included)."""
    a, lo, hi = (np.asarray(x, dtype=float) for x in (actual, lower, upper))
    if not a.shape == lo.shape == hi.shape or a.ndim != 1:
        raise ValueError("need as many actual values as interval bounds")
    if (lo > hi).any():
        raise ValueError("an interval's lower bound is above its upper bound")
    return (lo <= a) & (a <= hi)


def coverage(actual: Sequence[float], lower: Sequence[float], upper: Sequence[float]) -> float | None:
    """Share of actual values inside their intervals (None without any)."""
    inside = covered(actual, lower, upper)
    return float(inside.mean()) if len(inside) else None
