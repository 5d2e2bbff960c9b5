"""The portfolio's cash by each fiscal-year end with its uncertainty: P10, P50 and P90.

The forecast keeps, per benefit, the 10th, 50th and 90th percentiles of the tracked quantity at
each future week (``forecasts.path``: ``lower``, ``yhat``, ``upper``, calibrated), not its sampled
paths. So:

- **within a benefit**, a percentile is taken to hold over time (a benefit that runs low runs
  low all along): its P10 cash by a date is what its P10 path banks (:func:`cases.forecast_ahead`
  with ``lower``), likewise P50 and P90 — exact for comonotone weeks;
- **each benefit's cash by a year end** is drawn from a split normal through those three
  values (a normal below the median through P10, another above it through P90), so skew is kept;
- **across benefits**, the draws are joined by a Gaussian copula with one correlation between
  every two metrics (``correlation``; 0 = independent, the narrowest band; 1 = comonotone, the
  sum of the percentiles, the widest). Benefits that draw on **one metric share one draw**: the
  same movement is never treated as two independent chances, and each benefit still counts only
  its attribution share of it;
- money already realised is certain; a benefit without a forecast path counts what it realised.

The portfolio's P10/P50/P90 are percentiles of ``samples`` seeded draws of the sum (rounded to
the penny; an estimate, so the last pennies move with the seed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from benefits import realisation
from benefits.claims.money import CENT, from_float
from benefits.value import DEFAULT_CORRELATION, DEFAULT_SAMPLES
from benefits.value.cases import InitiativeInput, Settings, forecast_columns, horizon_of, initiative_start
from benefits.value.fiscal import FiscalYear

if TYPE_CHECKING:  # numpy is imported where the draws are made
    import numpy as np

Z90 = 1.2815515655446004  # the standard normal's 90th percentile
SEED = 20261201
Normals = tuple["np.ndarray", "np.ndarray"]  # shared draws (samples x 1), then the metrics' own, in one stream


@dataclass(frozen=True)
class YearBand:
    """The portfolio's cash banked from the benefits' baselines to one fiscal year's end: P10, P50, P90."""

    fiscal_year: FiscalYear
    p10: Decimal
    p50: Decimal
    p90: Decimal


@dataclass(frozen=True)
class HorizonBand:
    """One initiative's cash banked from its benefits' baselines to its business case's horizon: P10, P50, P90."""

    horizon: dt.date
    p10: Decimal
    p50: Decimal
    p90: Decimal


@dataclass(frozen=True)
class Rollup:
    """The portfolio's band by each fiscal year's end, and each initiative's by its horizon (by key)."""

    years: list[YearBand]
    horizons: dict[str, HorizonBand]


def benefit_percentiles(
    initiatives: Sequence[InitiativeInput], settings: Settings, as_of: dt.date, ends: Sequence[dt.date]
) -> tuple[list[tuple[int, str]], np.ndarray, list[dt.date]]:
    """Per benefit: (its initiative's index, its metric), and its P10, P50, P90 money banked by each of
    ``ends`` then by its initiative's horizon (as floats, the input of the sampling: benefits x dates x
    3, low to high); and each initiative's horizon."""
    import numpy as np

    owners, banked, factors, horizons = [], [], [], []
    for number, initiative in enumerate(initiatives):
        horizon = horizon_of(initiative, initiative_start(initiative, as_of), settings)
        horizons.append(horizon)
        dates = [*ends, horizon]
        for series in initiative.benefits:
            benefit = series.benefit
            realised = realisation.banking(benefit, series.observed, benefit.baseline.date, exact=False)
            ahead, columns = forecast_columns(series, horizon)
            days = [day.toordinal() for day in ahead]
            banked.append([realised.continued(days, column).at(dates) for column in columns])  # lower, yhat, upper
            factors.append(float(realisation.cash_factor(benefit)))
            owners.append((number, benefit.metric))
    banked_by = np.asarray(banked, dtype=float).reshape(len(banked), 3, len(ends) + 1)  # benefits x 3 x dates
    money = np.asarray(factors).reshape(-1, 1, 1) * banked_by
    return owners, np.ascontiguousarray(np.sort(money, axis=1).transpose(0, 2, 1)), horizons


def rollup(
    initiatives: Sequence[InitiativeInput],
    settings: Settings,
    as_of: dt.date,
    years: Sequence[FiscalYear],
    correlation: float = DEFAULT_CORRELATION,
    samples: int = DEFAULT_SAMPLES,
    seed: int = SEED,
) -> Rollup:
    """P10/P50/P90 of the portfolio's cash banked by each of ``years``' ends, and of each initiative's
    by its horizon (see the module's notes)."""
    owners, values, horizons = benefit_percentiles(initiatives, settings, as_of, [year.end for year in years])
    mine: list[list[int]] = [[] for _ in initiatives]  # each initiative's benefits (rows of values)
    for n, (owner, _) in enumerate(owners):
        mine[owner].append(n)
    widest = max([len({owners[n][1] for n in rows}) for rows in [range(len(owners)), *mine]])
    normals = standard_normals(samples, widest, seed)  # every band below draws from the same seeded stream
    out = Rollup([], {})
    if years:
        p10, p50, p90 = _draws(values[:, :-1, :], [metric for _, metric in owners], correlation, normals)
        out.years.extend(YearBand(y, _penny(p10[n]), _penny(p50[n]), _penny(p90[n])) for n, y in enumerate(years))
    for rows, initiative, horizon in zip(mine, initiatives, horizons, strict=True):
        low, middle, high = _draws(values[rows, -1:, :], [owners[n][1] for n in rows], correlation, normals)
        out.horizons[initiative.key] = HorizonBand(horizon, _penny(low[0]), _penny(middle[0]), _penny(high[0]))
    return out


def _draws(values: np.ndarray, metrics: list[str], correlation: float, normals: Normals) -> np.ndarray:
    """:func:`band` of benefits on the named metrics (none: zeros)."""
    import numpy as np

    if not metrics:
        return np.zeros((3, values.shape[1]))
    index = {name: n for n, name in enumerate(sorted(set(metrics)))}
    column = np.array([index[metric] for metric in metrics])
    return band(values, column, len(index), correlation, normals=normals)


def standard_normals(samples: int, metrics: int, seed: int) -> Normals:
    """The seeded draws of :func:`band`: ``samples`` shared ones, then ``samples x metrics`` of the metrics' own.

    A band of fewer metrics reads the first of the own draws in the same order as one of its own seed
    would (one generator's stream is the same however it is cut), so one stream serves every band."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return rng.standard_normal((samples, 1)), rng.standard_normal(samples * metrics)


def band(
    values: np.ndarray,
    column: np.ndarray,
    metrics: int,
    correlation: float,
    samples: int = DEFAULT_SAMPLES,
    seed: int = SEED,
    normals: Normals | None = None,
) -> np.ndarray:
    """P10, P50 and P90 (rows) of the sum over benefits, per year (columns), from each benefit's
    ``values`` (benefits x years x (p10, p50, p90)) and the metric each draws on (``column``, of
    ``metrics``): the module's split normals joined by the Gaussian copula. The draws are
    :func:`standard_normals` of ``samples`` and ``seed``, or ``normals`` when given (drawn for at
    least ``metrics``)."""
    import numpy as np

    shared, stream = standard_normals(samples, metrics, seed) if normals is None else normals
    own = stream[: len(shared) * metrics].reshape(len(shared), metrics)
    z = np.sqrt(1.0 - correlation) * own  # samples x metrics
    z += np.sqrt(correlation) * shared
    # A benefit's draw is p50 + z x (p50 - p10) / Z90 below its median, p50 + z x (p90 - p50) / Z90 above;
    # the benefits of one metric share its z, so their spreads add up per metric before the draws.
    years = values.shape[1]
    low, high = np.zeros((metrics, years)), np.zeros((metrics, years))
    np.add.at(low, column, (values[:, :, 1] - values[:, :, 0]) / Z90)
    np.add.at(high, column, (values[:, :, 2] - values[:, :, 1]) / Z90)
    below = np.minimum(z, 0.0)
    above = np.maximum(z, 0.0, out=z)
    totals = values[:, :, 1].sum(axis=0) + below @ low + above @ high  # samples x years
    return np.asarray(np.percentile(totals, [10, 50, 90], axis=0))


def _penny(value: float) -> Decimal:
    return from_float(float(value)).quantize(CENT)
