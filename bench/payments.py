"""Payments benchmark: a benefit paid in lumps, read every week or month with zeros between.

Takes the cumulative benefits built from real public series (``bench/real_series.py``, the
calibration bench's real sets) and books each one's flows as payments: the flows of every block of
k readings (k drawn from 2 to 13 for weekly series, 2 to 6 for monthly ones, with a random phase)
are paid in one sum at the block's last reading, and the readings between show zero. Its true Q
at the target date is then what the payments banked by then, and its known outcome is that Q
against the target.

Each benefit is forecast twice with the documented prior calibration (no portfolio track record),
as it is and paid in lumps. It prints, per kind of benefit, how often the 80% interval at the
target date held the truth, its width against the smooth forecast's (median and 90th percentile)
and the Brier score of the probability, each as read and as paid. To compare methods, run it from
each tree (the script puts its own tree first on the path):

    .venv/bin/python bench/payments.py --seeds 1,2,3
    .venv/bin/python /path/to/other/tree/bench/payments.py --seeds 1,2,3

With ``--shapes N`` it forecasts instead N seeded series of each of four shapes of payments read
weekly (60 weeks known, the truth 26 weeks on, prior calibration): invoices of random size
(lognormal) in 30% of the weeks; three weeks of sales every ten weeks; about 40,000 every four
weeks; invoices 2-6 weeks apart for the time each covers. It prints per shape the median error of
the median at the target date (relative to the truth), its median absolute error, how often the
80% interval held the truth and its median width (relative to the truth).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_series import arguments, outcomes, per_kind, seeded_items

from benefits import realisation, register
from benefits.forecast import forecast_benefit
from benefits.forecast.settings import METHOD_VERSION
from benefits.testing.generators import Item

Outcome = tuple[str, bool, bool, float | None, float, float]
"""(kind, held as read, held as paid, width ratio, Brier term as read, Brier term as paid)."""


def paid(item: Item, rng: np.random.Generator) -> Item:
    """The item with its flows booked as payments every k readings (see the module's text)."""
    truth = item.truth.sort_values("period").reset_index(drop=True)
    monthly = "monthly" in item.regime
    every = int(rng.integers(2, 7 if monthly else 14))
    block = (np.arange(len(truth)) + int(rng.integers(every))) // every
    values = truth["value"].to_numpy(dtype=float)
    sums = pd.Series(values).groupby(block).transform("sum").to_numpy()
    last = np.r_[block[1:] != block[:-1], True]
    lumped = truth.assign(value=np.where(last, sums, 0.0))
    known = set(pd.to_datetime(item.observations["period"]))
    observations = lumped[pd.to_datetime(lumped["period"]).isin(known)].reset_index(drop=True)
    q = realisation.tracked_value(item.benefit, lumped, item.benefit.target.date)
    landed = q is not None and realisation.sign(item.benefit) * (q - item.benefit.baseline.value) >= (
        realisation.target_improvement(item.benefit)
    )
    return dataclasses.replace(item, observations=observations, truth=lumped, landed=landed)


def one(args: tuple[Item, int]) -> Outcome | None:
    """Forecast one item as read and paid in lumps (seeded by ``args[1]``)."""
    item, seed = args
    lumpy = paid(item, np.random.default_rng(seed))
    results = []
    for case in (item, lumpy):
        truth = case.q_at_target()
        f = forecast_benefit(case.benefit, case.start, case.observations, case.as_of)
        if truth is None or f.lower_at_target_date is None or f.upper_at_target_date is None or f.p_on_time is None:
            return None
        held = f.lower_at_target_date <= truth <= f.upper_at_target_date
        results.append((held, f.upper_at_target_date - f.lower_at_target_date, (f.p_on_time - case.landed) ** 2))
    (held, width, brier), (held_paid, width_paid, brier_paid) = results
    cadence = "monthly" if "monthly" in item.regime else "weekly"
    return (f"{cadence} flows", held, held_paid, width_paid / width if width > 0 else None, brier, brier_paid)


def report(found: Sequence[Outcome]) -> str:
    """The table: per kind of benefit, coverage, width ratio and Brier, as read and as paid."""
    lines = [
        "| benefits | n | 80% held, as read | as paid | width ratio median | p90 | Brier as read | as paid |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, rows in per_kind(found):
        ratios = np.array([r[3] for r in rows if r[3] is not None])
        lines.append(
            f"| {kind} | {len(rows)} | {np.mean([r[1] for r in rows]):.0%} | {np.mean([r[2] for r in rows]):.0%} "
            f"| {np.median(ratios):.2f} | {np.quantile(ratios, 0.9):.2f} "
            f"| {np.mean([r[4] for r in rows]):.3f} | {np.mean([r[5] for r in rows]):.3f} |"
        )
    return "\n".join(lines)


SHAPES = ("random invoices", "three-week runs", "every four weeks", "invoices for the time covered")


def shape(kind: str, rng: np.random.Generator, weeks: int) -> np.ndarray:
    """Weekly flows of one of :data:`SHAPES`."""
    flows = np.zeros(weeks)
    if kind == "random invoices":
        return np.where(rng.random(weeks) < 0.3, rng.lognormal(9.5, 1.2, weeks), 0.0)
    if kind == "three-week runs":
        for begin in range(int(rng.integers(10)), weeks, 10):
            flows[begin : begin + 3] = 10_000 * rng.uniform(0.8, 1.2, len(flows[begin : begin + 3]))
        return flows
    if kind == "every four weeks":
        due = flows[int(rng.integers(4)) :: 4]
        due[:] = 40_000 * rng.uniform(0.9, 1.1, len(due))
        return flows
    week, last = int(rng.integers(6)), -1
    while week < weeks:
        flows[week], last = 5_000.0 * (week - last), week
        week += int(rng.integers(2, 7))
    return flows


def shaped(job: tuple[str, int]) -> tuple[str, float, bool, float]:
    """(shape, relative error of the median, interval held, relative width) of one series of a
    shape and seed (``job``)."""
    kind, seed = job
    flows = shape(kind, np.random.default_rng([seed, SHAPES.index(kind)]), 86)
    base = dt.date(2025, 1, 6)
    periods = [base + dt.timedelta(weeks=k + 1) for k in range(60)]
    truth = float(flows.sum())
    benefit = register.Benefit(
        key="paid",
        name="Paid in lumps",
        category="revenue",
        metric="bench.paid",
        unit="GBP",
        direction="increase",
        measure="cumulative",
        owner="bench",
        baseline={"value": 0, "date": base},
        target={"value": truth, "date": periods[-1] + dt.timedelta(weeks=26)},
    )
    observed = pd.DataFrame({"period": periods, "value": flows[:60]})
    f = forecast_benefit(benefit, base, observed, periods[-1] + dt.timedelta(days=2))
    assert f.forecast_at_target_date is not None and f.lower_at_target_date is not None
    assert f.upper_at_target_date is not None
    return (
        kind,
        (f.forecast_at_target_date - truth) / truth,
        f.lower_at_target_date <= truth <= f.upper_at_target_date,
        (f.upper_at_target_date - f.lower_at_target_date) / truth,
    )


def shapes_report(count: int, workers: int) -> str:
    """The table of ``--shapes``: per shape, bias and error of the median, interval held and width."""
    found = outcomes(shaped, [(kind, seed) for kind in SHAPES for seed in range(count)], workers)
    lines = [
        "| shape | n | median error (median) | median absolute error | 80% held | width (median) |",
        "|---|---|---|---|---|---|",
    ]
    for kind in SHAPES:
        rows = [r for r in found if r[0] == kind]
        errors = np.array([r[1] for r in rows])
        lines.append(
            f"| {kind} | {len(rows)} | {np.median(errors):+.3f} | {np.median(np.abs(errors)):.3f} "
            f"| {np.mean([r[2] for r in rows]):.0%} | {np.median([r[3] for r in rows]):.2f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its table."""
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument(
        "--shapes", type=int, default=0, help="forecast N seeded series of each shape of payments instead"
    )
    args = parser.parse_args(argv)
    if args.shapes:
        print(f"## Shapes of payments, method {METHOD_VERSION}: {args.shapes} series each\n")
        print(shapes_report(args.shapes, args.workers))
        return
    jobs = [job for job in seeded_items(args) if job[0].benefit.measure is register.Measure.cumulative]
    found = outcomes(one, jobs, args.workers)
    print(f"## Paid in lumps, method {METHOD_VERSION}: real sets {args.seeds}, {len(found)} benefits\n")
    print(report(found))


if __name__ == "__main__":
    main()
