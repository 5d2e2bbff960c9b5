"""Calibration harness, the command line of :mod:`benefits.testing.calibration`: can the probability
of landing and the 80% interval be trusted on portfolios the forecast was not built around?

Each set of benefits with known outcomes (a generator of ``benefits/testing/generators.py`` at one
seed, or the real set of ``bench/real_series.py``) is forecast by the product on a fresh store and
scored against its known outcomes and four baselines (see the module).

Seeds: the training family (1, 2, 3) may be tuned on; the held-out family (``--holdout``: the next
untouched one, ``HOLDOUT_SEEDS`` in benefits/testing/calibration.py, which lists those spent) is
run once, at the end of a method's work.

    .venv/bin/python bench/calibration.py --generator all --count 60 --workers 2 --real
    .venv/bin/python bench/calibration.py --generator noise,after --seeds 1 --count 40 --skip-prophet-baseline

Prints Markdown: one block per generator, then a summary table against the goals (issue 07).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benefits.forecast import ForecastSettings
from benefits.testing.calibration import (
    AUC_GOAL,
    BRIER_GOAL,
    COVERAGE_GOAL,
    HOLDOUT_SEEDS,
    POOLED,
    REAL,
    TRAINING_SEEDS,
    Row,
    SetResult,
    Summary,
    block,
    by_horizon,
    log,
    pooled_bands,
    reliability_table,
    score_set,
    summarise,
    summary_table,
)
from benefits.testing.generators import DEFAULT_AS_OF, GENERATORS


def _settings(pairs: list[str]) -> ForecastSettings:
    values: dict[str, str] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        values[name] = value
    return ForecastSettings.model_validate(values)


def _revision() -> str:
    """The commit measured, and whether the working tree had uncommitted changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        found = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=root, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return found.stdout.strip().replace("-dirty", " with uncommitted changes")


def _seeds(text: str) -> tuple[int, ...]:
    return tuple(int(s) for s in text.split(",") if s.strip())


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--generator", default="all", help=f"comma-separated generators, 'all' or 'none' ({', '.join(GENERATORS)})"
    )
    parser.add_argument(
        "--seeds", type=_seeds, default=None, help="comma-separated seeds (default: the training family 1,2,3)"
    )
    parser.add_argument(
        "--holdout",
        action="store_true",
        help=f"the next untouched held-out seed family {','.join(map(str, HOLDOUT_SEEDS))} (run once, at the end)",
    )
    parser.add_argument("--count", type=int, default=60, help="benefits per generator and seed (default 60)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=DEFAULT_AS_OF,
        help=f"the portfolio's today, shared by every set (default {DEFAULT_AS_OF})",
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="also the sets built from real public series, one per seed, pooled (bench extra)",
    )
    parser.add_argument("--real-count", type=int, default=200, help="benefits of each real set (default 200)")
    parser.add_argument(
        "--skip-prophet-baseline", action="store_true", help="skip plain default Prophet (the slow part)"
    )
    parser.add_argument(
        "--backtest", action="store_true", help="also the portfolio's own rolling-origin backtest coverage"
    )
    parser.add_argument(
        "--set",
        dest="pairs",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a ForecastSettings field, e.g. samples=500 (repeatable)",
    )
    parser.add_argument(
        "--rows", type=Path, default=None, metavar="CSV", help="also write every benefit's row (set, forecast, outcome)"
    )
    args = parser.parse_args(argv)
    if args.holdout and args.seeds is not None:
        parser.error("--holdout and --seeds are exclusive")
    names = {"all": list(GENERATORS), "none": []}.get(args.generator, args.generator.split(","))
    unknown = [n for n in names if n not in GENERATORS]
    if unknown:
        parser.error(f"unknown generator {unknown[0]!r} (choose from {', '.join(GENERATORS)})")
    args.names = names
    args.seeds = HOLDOUT_SEEDS if args.holdout else args.seeds or TRAINING_SEEDS
    return args


def write_rows(path: Path, rows: Sequence[tuple[str, Row]]) -> None:
    """Every scored benefit as one CSV row: its set, then the fields of :class:`Row`."""
    fields = [f.name for f in dataclasses.fields(Row)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["set", *fields])
        for name, row in rows:
            writer.writerow([name, *(getattr(row, f) for f in fields)])
    log(f"wrote {len(rows)} rows to {path}")


def run(args: argparse.Namespace, out: Callable[[str], None] = print) -> dict[str, Summary]:
    """Run the harness for parsed ``args``, writing Markdown through ``out``; return the summaries."""
    settings = _settings(args.pairs)
    family = "HELD-OUT" if args.holdout else "training" if tuple(args.seeds) == TRAINING_SEEDS else "chosen"
    if args.holdout:
        warning = (
            f"WARNING: running the held-out seed family {args.seeds}: report these figures last, do not tune on them."
        )
        log(warning)
        out(f"> {warning}\n")
    seeds = ",".join(map(str, args.seeds))
    out(f"## Calibration at {args.as_of} ({family} seeds {seeds}; {args.count} benefits per generator and seed)\n")
    out(f"Settings: {settings.model_dump()}\n")
    out(f"Code: {_revision()}\n")
    summaries: dict[str, Summary] = {}
    pooled: list[Row] = []
    pooled_results: list[SetResult] = []
    every: list[tuple[str, Row]] = []
    started = time.perf_counter()
    for name in args.names:
        results = []
        for seed in args.seeds:
            log(f"{name}, seed {seed}: generating {args.count} benefits")
            items = GENERATORS[name](args.count, seed, args.as_of)
            results.append(
                score_set(
                    f"{name}/{seed}", items, settings, args.workers, not args.skip_prophet_baseline, args.backtest
                )
            )
        every += [(result.name, r) for result in results for r in result.rows]
        text, summaries[name] = block(name, results, seeds)
        pooled += [r for result in results for r in result.rows]
        pooled_results += results
        out(text)
    if args.real:
        from bench.real_series import real_set

        results = []
        for seed in args.seeds:  # one draw per seed: a single draw's Brier moves by +-0.02
            log(f"real, seed {seed}: building {args.real_count} benefits from public series")
            items = real_set(args.real_count, seed, args.as_of)
            results.append(
                score_set(f"real/{seed}", items, settings, args.workers, not args.skip_prophet_baseline, args.backtest)
            )
        every += [(result.name, r) for result in results for r in result.rows]
        text, summaries[REAL] = block(REAL, results, seeds)
        out(text)
    if args.rows is not None:
        write_rows(args.rows, every)
    synthetic = [n for n in summaries if n != REAL]
    if len(synthetic) > 1:
        summaries = {
            **{n: summaries[n] for n in synthetic},
            POOLED: summarise(pooled, trust=pooled_bands(pooled_results)),
            **({REAL: summaries[REAL]} if REAL in summaries else {}),
        }
    out("## Summary\n")
    out(summary_table(summaries))
    if len(synthetic) > 1:
        out(f"Reliability of {POOLED} pooled:\n\n{reliability_table(pooled)}\n")
        horizons = by_horizon(summaries[POOLED])
        out(f"Cross-fitted backtests of {POOLED} pooled, 80% interval held by horizon: {horizons}.\n")
    out(
        f"Goals: synthetic Brier <= {BRIER_GOAL} and below default Prophet; real Brier below the constant and "
        f"AUC >= {AUC_GOAL}; 80% interval coverage {COVERAGE_GOAL[0]:.0%}-{COVERAGE_GOAL[1]:.0%} at the target "
        "date and in the runs' own cross-fitted backtests (backtests held). "
        f"{len(synthetic)} generators; {time.perf_counter() - started:.0f} s on {args.workers} workers "
        f"({os.cpu_count()} cores)."
    )
    return summaries


def main() -> None:
    run(parse())


if __name__ == "__main__":
    main()
