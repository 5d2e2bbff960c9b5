"""From sampled paths to the probability of landing, the expected landing week and the interval."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd

from benefits import realisation, register
from benefits.forecast.settings import ForecastSettings


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
    paths: np.ndarray,
    q_now: float,
    settings: ForecastSettings,
) -> Summary:
    """Probability, landing, value at the target date and weekly interval from ``paths``
    (shape ``(len(future), samples)``). "At the target date" means at the last weekly period on
    or before it, as for realised values; before the first future week Q stays at ``q_now``."""
    sign = realisation.sign(benefit)
    big_t = realisation.target_improvement(benefit)
    tail = (1.0 - settings.interval) / 2.0
    lower, median, upper = np.quantile(paths, [tail, 0.5, 1.0 - tail], axis=1)

    before = np.flatnonzero(future <= pd.Timestamp(benefit.target.date))
    if len(before):
        i = int(before[-1])
        q_target = paths[i]
        at_target = (float(median[i]) + 0.0, float(lower[i]) + 0.0, float(upper[i]) + 0.0)
    else:
        q_target = np.full(paths.shape[1], q_now)
        at_target = (q_now, q_now, q_now)
    improvement = sign * (q_target - benefit.baseline.value)
    p = float(np.mean(improvement <= big_t)) if benefit.dis_benefit else float(np.mean(improvement >= big_t))

    reached = np.flatnonzero(sign * (median - benefit.target.value) >= 0)
    landing = future[int(reached[0])].date() if len(reached) else None
    path = [
        {"period": d.date().isoformat(), "yhat": float(y) + 0.0, "lower": float(lo) + 0.0, "upper": float(hi) + 0.0}
        for d, y, lo, hi in zip(future, median, lower, upper)
    ]
    return Summary(p_on_time=p, landing=landing, at_target=at_target, path=path)
