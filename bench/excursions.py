"""Excursion benchmark: does a dip that came back blow up a benefit's interval?

Takes the benefits built from real public series (``bench/real_series.py``, the calibration
bench's real sets) and forecasts each twice at its origin: as it is, and with a transient dip
injected into its readings — 2 to 8 consecutive readings, ending 4 to 20 readings before the
last one:

- a level drops (or rises, against its direction) by 10 to 30 noise standard deviations of its
  steps (``series.noise_scale``), flat or rounded, and comes back: its true value at the target
  date is unchanged;
- a cumulative measure's flow falls to 0-30% of itself (a strike, an outage) and comes back: the
  value lost stays lost, so its true Q at the target date is lower by what the dip took from the
  flows Q counts (those since the baseline).

With ``--one-off`` it injects instead a one-off into each cumulative benefit: one flow, 4 to 40
readings before the last, is 5 to 50 times what it was (a one-time saving, a true-up); what it
added stays banked, so the true Q is higher by it when Q counts that flow.

Each forecast is the product's (``forecast_benefit``) with the documented prior calibration (no
portfolio track record), so the two differ only by the dip. It prints, per kind of benefit, how
often the 80% interval at the target date held the truth with and without the dip, the ratio of
the interval's width with the dip to its width without (median and 90th percentile), and how
often the forecast said it left readings out as an excursion (with ``--one-off``, as an
outlier). To compare methods, run it from each tree with that tree's package first on the path:

    .venv/bin/python bench/excursions.py --seeds 1,2,3
    PYTHONPATH=/path/to/other/tree .venv/bin/python bench/excursions.py --seeds 1,2,3
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from real_series import arguments, outcomes, per_kind, seeded_items

from benefits import register
from benefits.forecast import forecast_benefit
from benefits.forecast.series import noise_scale
from benefits.forecast.settings import METHOD_VERSION
from benefits.testing.generators import Item

Outcome = tuple[str, bool | None, bool | None, float | None, bool]
"""(kind, held without the dip, held with it, width ratio, excursion said), None where unknown."""


def dipped(item: Item, rng: np.random.Generator) -> tuple[pd.DataFrame, float] | None:
    """The item's observations with a dip that came back, and how much Q the dip lost (0 for a
    level); None when its history is too short to hold one."""
    obs = item.observations.sort_values("period").reset_index(drop=True)
    values = obs["value"].to_numpy(dtype=float)
    length, end = int(rng.integers(2, 9)), int(rng.integers(4, 21))
    first = len(values) - end - length
    if first < 8:
        return None
    shape = np.ones(length) if rng.uniform() < 0.5 else np.sin(np.linspace(0.0, np.pi, length + 2))[1:-1]
    changed = values.copy()
    if item.benefit.measure is register.Measure.level:
        depth = rng.uniform(10.0, 30.0) * noise_scale(np.diff(values)) * rng.choice([-1.0, 1.0])
        changed[first : first + length] += depth * shape
        lost = 0.0
    else:
        kept = 1.0 - (1.0 - rng.uniform(0.0, 0.3)) * shape
        changed[first : first + length] *= kept
        periods = pd.to_datetime(obs["period"])
        counted = (periods > pd.Timestamp(item.benefit.baseline.date)) & (periods >= pd.Timestamp(item.start))
        lost = float((values - changed)[counted.to_numpy()].sum())  # what Q (baseline + flows since) lost
    return obs.assign(value=changed), lost


def one_off(item: Item, rng: np.random.Generator) -> tuple[pd.DataFrame, float] | None:
    """A cumulative item's observations with one flow 5 to 50 times larger, and minus what it added
    to Q (the ``lost`` of :func:`dipped`); None for a level or a history too short."""
    if item.benefit.measure is register.Measure.level:
        return None
    obs = item.observations.sort_values("period").reset_index(drop=True)
    values = obs["value"].to_numpy(dtype=float)
    at = len(values) - int(rng.integers(4, 41))
    if at < 8 or values[at] == 0:
        return None
    changed = values.copy()
    changed[at] *= rng.uniform(5.0, 50.0)
    period = pd.Timestamp(obs["period"].iloc[at])
    counted = period > pd.Timestamp(item.benefit.baseline.date) and period >= pd.Timestamp(item.start)
    return obs.assign(value=changed), float(values[at] - changed[at]) if counted else 0.0


def one(args: tuple[Item, int, bool]) -> Outcome | None:
    """Forecast one item with and without its dip, or its one-off (seeded by ``args[1]``)."""
    item, seed, spike = args
    made = (one_off if spike else dipped)(item, np.random.default_rng(seed))
    truth = item.q_at_target()
    if made is None or truth is None:
        return None
    changed, lost = made
    clean = forecast_benefit(item.benefit, item.start, item.observations, item.as_of)
    dip = forecast_benefit(item.benefit, item.start, changed, item.as_of)
    if clean.lower_at_target_date is None or dip.lower_at_target_date is None:
        return None
    assert clean.upper_at_target_date is not None and dip.upper_at_target_date is not None
    cadence = "monthly" if "monthly" in item.regime else "weekly"
    kind = f"{cadence} {item.benefit.measure.value}"
    shifted = truth - lost
    width = clean.upper_at_target_date - clean.lower_at_target_date
    return (
        kind,
        clean.lower_at_target_date <= truth <= clean.upper_at_target_date,
        dip.lower_at_target_date <= shifted <= dip.upper_at_target_date,
        (dip.upper_at_target_date - dip.lower_at_target_date) / width if width > 0 else None,
        "came back" in dip.message or (spike and "outlier" in dip.message),
    )


def report(found: Sequence[Outcome]) -> str:
    """The table: per kind of benefit, coverage without and with the dip, width ratios, excursions said."""
    lines = [
        "| benefits | n | 80% held, no dip | 80% held, dip | width ratio median | width ratio p90 | said so |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, rows in per_kind(found):
        ratios = np.array([r[3] for r in rows if r[3] is not None])
        lines.append(
            f"| {kind} | {len(rows)} | {np.mean([r[1] for r in rows]):.0%} | {np.mean([r[2] for r in rows]):.0%} "
            f"| {np.median(ratios):.2f} | {np.quantile(ratios, 0.9):.2f} | {np.mean([r[4] for r in rows]):.0%} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its table."""
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--one-off", action="store_true", help="inject a one-off flow into cumulative benefits instead")
    args = parser.parse_args(argv)
    jobs = [(item, seed, args.one_off) for item, seed in seeded_items(args)]
    found = outcomes(one, jobs, args.workers)
    what = "A one-off flow" if args.one_off else "A dip that came back"
    print(f"## {what}, method {METHOD_VERSION}: real sets {args.seeds}, {len(found)} benefits\n")
    print(report(found))


if __name__ == "__main__":
    main()
