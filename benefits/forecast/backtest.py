"""Rolling-origin backtest of one benefit: interval coverage and error of real past forecasts.

From each origin (the last ``origins`` quarters of the observed series, ``step`` weeks apart)
the benefit is forecast with only the observations up to that origin, exactly as the weekly run
would have done then; each forecast's median and interval are compared with what was observed
in the ``horizon`` weeks after it. Origins decided without a fit (achieved, too few points) give
no points.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from benefits import realisation, register
from benefits.errors import ConfigError
from benefits.forecast import series
from benefits.forecast.model import forecast_benefit
from benefits.forecast.runner import stored_inputs
from benefits.forecast.settings import ForecastSettings
from benefits.store import repository


@dataclasses.dataclass(frozen=True)
class BacktestPoint:
    """One forecast week compared with what was observed."""

    origin: dt.date
    period: dt.date
    actual: float
    yhat: float
    lower: float
    upper: float

    @property
    def covered(self) -> bool:
        """Whether the actual value fell inside the interval."""
        return self.lower <= self.actual <= self.upper


@dataclasses.dataclass(frozen=True)
class Backtest:
    """The points of a rolling-origin backtest and their summary."""

    points: list[BacktestPoint]
    scale: float
    """The target improvement, to express errors as a share of it."""

    @property
    def coverage(self) -> float | None:
        """Share of actual values inside the forecast interval (None without points)."""
        return float(np.mean([p.covered for p in self.points])) if self.points else None

    @property
    def error(self) -> float | None:
        """Mean absolute error of the median, as a share of the target improvement (None without points)."""
        if not self.points:
            return None
        return float(np.mean([abs(p.actual - p.yhat) for p in self.points])) / self.scale


def backtest(
    benefit: register.Benefit,
    start: dt.date,
    observations: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings = ForecastSettings(),
    origins: int = 4,
    step: int = 13,
    horizon: int = 13,
) -> Backtest:
    """Backtest ``benefit`` on its observations up to ``as_of`` from ``origins`` past origins."""
    observed = series.window(benefit, start, observations, as_of)
    actual = dict(zip(observed["period"].dt.date, series.tracked(benefit, observed).tolist()))
    points: list[BacktestPoint] = []
    last = observed["period"].iloc[-1].date() if len(observed) else as_of
    for k in range(origins, 0, -1):
        origin = last - dt.timedelta(weeks=k * step)
        if origin <= start:
            continue
        result = forecast_benefit(benefit, start, observed, origin, settings)
        for point in result.path[:horizon]:
            period = dt.date.fromisoformat(point["period"])
            if period in actual:
                points.append(BacktestPoint(origin, period, actual[period], point["yhat"], point["lower"], point["upper"]))
    return Backtest(points, realisation.target_improvement(benefit))


def backtest_portfolio(
    session: Session,
    as_of: dt.date,
    settings: ForecastSettings = ForecastSettings(),
    keys: Sequence[str] = (),
    origins: int = 4,
    progress: Callable[[int, int, str], None] | None = None,
) -> Iterator[tuple[str, Backtest]]:
    """Backtest every stored benefit (or those named in ``keys``) on its observations up to ``as_of``.

    Yields (benefit key, backtest) in register order; ``progress(done, total, key)`` is called
    before each benefit. Raises ConfigError naming a key that is not in the register.
    """
    rows = repository.benefits(session)
    unknown = sorted(set(keys) - {row.key for row in rows})
    if unknown:
        raise ConfigError(f"no benefit {unknown[0]!r} in the register (`benefits status` lists them)")
    chosen = [row for row in rows if not keys or row.key in keys]
    for done, (row, benefit, observations) in enumerate(stored_inputs(session, chosen)):
        if progress:
            progress(done, len(chosen), row.key)
        yield row.key, backtest(benefit, row.start_date, observations, as_of, settings, origins=origins)
