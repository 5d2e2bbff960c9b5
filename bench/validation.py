"""Validation benchmark (issue 03): our GX suite per 100,000 rows next to the same checks in plain pandas.

One batch of ``--rows`` records (default 100,000; 200 metrics of a generated register, about 1%
of rows broken in the ways the suite catches) is validated ``--repeat`` times each way in one
process, medians reported:

- ``gx``: ``Validator.validate`` (one GX context, reused as in a sync): typing the batch, the
  register-derived columns, the GX run (14 expectations) and quarantine entries with reasons;
- ``pandas``: the same typing and columns, then each check as a pandas mask, failing rows
  grouped with the names of the checks they failed.

Both must quarantine and warn exactly the same rows (checked), so the figures compare like with
like. Run: ``.venv/bin/python bench/validation.py [--rows N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from ingest import AS_OF, BASELINE, METRICS, register_data  # bench/ is the script's folder

from benefits.register import Register
from benefits.validation import (
    NUMBER_PATTERN,
    ValidationConfig,
    ValidationRules,
    Validator,
    batch_frame,
    default_expectations,
    prepare_frame,
)


def make_batch(rows: int, seed: int = 0) -> pd.DataFrame:
    """``rows`` records, one in a hundred broken (text value, wrong unit, future, negative, duplicate)."""
    rng = np.random.default_rng(seed)
    values: list[object] = list(np.round(rng.normal(1000.0, 50.0, size=rows), 2))
    units = ["GBP"] * rows
    metrics = [f"m.ingest_{n % METRICS}" for n in range(rows)]
    periods = [(BASELINE + dt.timedelta(days=n // METRICS)).isoformat() for n in range(rows)]
    for n in range(0, rows, 100):
        kind = (n // 100) % 5
        if kind == 0:
            values[n] = "n/a"
        elif kind == 1:
            units[n] = "USD"
        elif kind == 2:
            periods[n] = (AS_OF + dt.timedelta(days=7)).isoformat()
        elif kind == 3:
            values[n] = -5.0
        elif n:
            metrics[n], periods[n] = metrics[n - 1], periods[n - 1]  # a second copy of the clean row before
    records = [{"metric": metrics[n], "period": periods[n], "value": values[n], "unit": units[n]} for n in range(rows)]
    return batch_frame(records)


def pandas_checks(batch: pd.DataFrame, rules: ValidationRules, as_of: dt.date) -> tuple[dict[int, list[str]], set[int]]:
    """The suite's checks as pandas masks: (failing row -> check names, rows that only warn)."""
    frame = rules.add_columns(prepare_frame(batch))
    value, period = frame["value"], frame["period"]
    keyed = frame[["metric", "period"]].notna().all(axis=1)
    checks = {
        "metric missing": frame["metric"].isna(),
        "period missing": period.isna(),
        "value missing": frame["value_text"].isna(),
        "unit missing": frame["unit"].isna(),
        "not a number": frame["value_text"].notna()
        & ~frame["value_text"].str.fullmatch(NUMBER_PATTERN).fillna(False).astype(bool),
        "not finite": value.notna() & ~np.isfinite(value),
        "duplicate": keyed & frame.duplicated(["metric", "period"], keep=False),
        "future": period > pd.Timestamp(as_of),
        "unknown metric": frame["metric"].notna() & ~frame["metric"].isin(list(rules.metrics)),
        "wrong unit": frame["unit"].notna()
        & frame["declared_unit"].notna()
        & (frame["unit"] != frame["declared_unit"]),
        "below min": value.notna() & frame["min_value"].notna() & (value < frame["min_value"]),
        "above max": value.notna() & frame["max_value"].notna() & (value > frame["max_value"]),
        "before window": period.notna() & frame["earliest_period"].notna() & (period < frame["earliest_period"]),
    }
    failing: dict[int, list[str]] = {}
    rows = frame["row"].to_numpy()
    for name, mask in checks.items():
        for row in rows[mask.to_numpy(dtype=bool)].tolist():
            failing.setdefault(row, []).append(name)
    jumps = rows[(frame["jump_score"] > rules.jump.max_score).to_numpy(dtype=bool)].tolist()
    return failing, {r for r in jumps if r not in failing}


def timed(call: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rules = ValidationRules.from_register(
        Register.model_validate(register_data()),
        ValidationConfig.model_validate({"bounds": {"units": {"GBP": {"min": 0}}}}),
    )
    batch = make_batch(args.rows)
    started = time.perf_counter()
    validator = Validator(default_expectations(as_of=AS_OF, rules=rules), rules)
    setup = time.perf_counter() - started
    validator.validate(batch.head(1000))  # warm up GX's first-run caches
    gx_seconds, outcome = timed(lambda: validator.validate(batch), args.repeat)
    pd_seconds, (failing, warned) = timed(lambda: pandas_checks(batch, rules, AS_OF), args.repeat)
    prepare_seconds, _ = timed(lambda: rules.add_columns(prepare_frame(batch)), args.repeat)
    if {q.row for q in outcome.quarantined} != set(failing) or {w.row for w in outcome.warnings} != warned:
        sys.exit("the two ways disagree on which rows fail: not comparable")
    per = 100_000 / args.rows
    print(f"rows: {args.rows:,} ({len(failing):,} quarantined, {len(warned):,} warned), median of {args.repeat}")
    print(f"GX import + context + suite (once per sync): {setup:.2f} s")
    print(f"{'per 100,000 rows':<44}{'seconds':>9}")
    print(f"{'typing + register columns (both sides)':<44}{prepare_seconds * per:>9.2f}")
    print(f"{'gx: Validator.validate (14 expectations)':<44}{gx_seconds * per:>9.2f}")
    print(f"{'pandas: the same checks as masks':<44}{pd_seconds * per:>9.2f}")
    print(f"gx / pandas: {gx_seconds / pd_seconds:.1f}x")


if __name__ == "__main__":
    main()
