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
from benefits.value.cases import InitiativeInput, Settings, forecast_ahead, horizon_of, initiative_start
from benefits.value.fiscal import FiscalYear

if TYPE_CHECKING:  # numpy is imported where the draws are made
    import numpy as np

Z90 = 1.2815515655446004  # the standard normal's 90th percentile
SEED = 20261201


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
) -> tuple[list[tuple[int, str]], list[list[list[float]]], list[dt.date]]:
    """Per benefit: (its initiative's index, its metric), and its P10, P50, P90 money banked by each of
    ``ends`` then by its initiative's horizon (as floats: the input of the sampling), low to high;
    and each initiative's horizon."""
    owners, bands, horizons = [], [], []
    for number, initiative in enumerate(initiatives):
        horizon = horizon_of(initiative, initiative_start(initiative, as_of), settings)
        horizons.append(horizon)
        for series in initiative.benefits:
            benefit = series.benefit
            factor = float(realisation.cash_factor(benefit))
            realised = realisation.banking(benefit, series.observed, benefit.baseline.date, exact=False)
            three = [realised.extended(forecast_ahead(series, horizon, key)) for key in ("lower", "yhat", "upper")]
            money = [[factor * value for value in banked.at([*ends, horizon])] for banked in three]
            bands.append([sorted(money[k][n] for k in range(3)) for n in range(len(ends) + 1)])
            owners.append((number, benefit.metric))
    return owners, bands, horizons


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
    import numpy as np

    owners, bands, horizons = benefit_percentiles(initiatives, settings, as_of, [year.end for year in years])
    values = np.asarray(bands, dtype=float).reshape(len(bands), len(years) + 1, 3)
    out = Rollup([], {})
    if years:
        p10, p50, p90 = _draws(values[:, :-1, :], [metric for _, metric in owners], correlation, samples, seed)
        out.years.extend(YearBand(y, _penny(p10[n]), _penny(p50[n]), _penny(p90[n])) for n, y in enumerate(years))
    for number, (initiative, horizon) in enumerate(zip(initiatives, horizons, strict=True)):
        mine = [n for n, (owner, _) in enumerate(owners) if owner == number]
        low, middle, high = _draws(values[mine, -1:, :], [owners[n][1] for n in mine], correlation, samples, seed)
        out.horizons[initiative.key] = HorizonBand(horizon, _penny(low[0]), _penny(middle[0]), _penny(high[0]))
    return out


def _draws(values: np.ndarray, metrics: list[str], correlation: float, samples: int, seed: int) -> np.ndarray:
    """:func:`band` of benefits on the named metrics (none: zeros)."""
    import numpy as np

    if not metrics:
        return np.zeros((3, values.shape[1]))
    index = {name: n for n, name in enumerate(sorted(set(metrics)))}
    column = np.array([index[metric] for metric in metrics])
    return band(values, column, len(index), correlation, samples, seed)


def band(
    values: np.ndarray, column: np.ndarray, metrics: int, correlation: float, samples: int, seed: int
) -> np.ndarray:
    """P10, P50 and P90 (rows) of the sum over benefits, per year (columns), from each benefit's
    ``values`` (benefits x years x (p10, p50, p90)) and the metric each draws on (``column``, of
    ``metrics``): the module's split normals joined by the Gaussian copula."""
    import numpy as np

    rng = np.random.default_rng(seed)
    shared = rng.standard_normal((samples, 1))
    own = rng.standard_normal((samples, metrics))
    z = np.sqrt(correlation) * shared + np.sqrt(1.0 - correlation) * own  # samples x metrics
    # A benefit's draw is p50 + z x (p50 - p10) / Z90 below its median, p50 + z x (p90 - p50) / Z90 above;
    # the benefits of one metric share its z, so their spreads add up per metric before the draws.
    years = values.shape[1]
    low, high = np.zeros((metrics, years)), np.zeros((metrics, years))
    np.add.at(low, column, (values[:, :, 1] - values[:, :, 0]) / Z90)
    np.add.at(high, column, (values[:, :, 2] - values[:, :, 1]) / Z90)
    totals = values[:, :, 1].sum(axis=0) + np.minimum(z, 0.0) @ low + np.maximum(z, 0.0) @ high  # samples x years
    return np.asarray(np.percentile(totals, [10, 50, 90], axis=0))


def _penny(value: float) -> Decimal:
    return from_float(float(value)).quantize(CENT)
