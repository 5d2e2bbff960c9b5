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
"""

from __future__ import annotations

import dataclasses
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


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its table."""
    args = arguments(__doc__.splitlines()[0]).parse_args(argv)
    jobs = [job for job in seeded_items(args) if job[0].benefit.measure is register.Measure.cumulative]
    found = outcomes(one, jobs, args.workers)
    print(f"## Paid in lumps, method {METHOD_VERSION}: real sets {args.seeds}, {len(found)} benefits\n")
    print(report(found))


if __name__ == "__main__":
    main()
