"""`benefits value` on 1,000 benefits after the weekly forecast, against `benefits status` on the same store.

    .venv/bin/python bench/value.py [--benefits 1000] [--weeks 156] [--repeat 5] [--against REF]

Builds the large synthetic store of bench/dashboard.py (N benefits x 156 weekly observations, the
latest forecast run with a 52-week path per benefit, as the weekly forecast leaves it), then times,
alternating, each ``--repeat`` times in a fresh process: `benefits value --format json` (the
business cases, fiscal years and the P10-P90 roll-up) and `benefits status --format json` (every
benefit's position: the reading the weekly job's users already wait for). Prints the medians of
wall and CPU time (user + system, which a busy machine inflates less), their ratios and the load
average. The goal is under 2 s for 1,000 benefits. (`benefits status` reads the position snapshot
the weekly job keeps since 149d129, so since then the baseline is reading kept rows, not computing them.
Likewise `benefits value` reads the report the weekly job, or the first run at a date, keeps
(``benefits.value.kept``): the first, untimed run here computes and keeps it, and its time is printed
apart.)

With ``--against REF`` it also times `benefits value` of that git commit (exported with ``git
archive`` into a temporary folder, with a store built by that commit's own bench/dashboard.py, so
each side has its own schema), alternating with this tree's, and prints the ratio of the medians.

With ``--coverage TRIALS`` it also checks the roll-up's P10-P90 band (``benefits.value.rollup.band``)
in a seeded simulation: each trial draws a portfolio of 200 benefits on 150 metrics (50 benefits
share a metric with another), each with calibrated P10/P50/P90 of its cash (a split normal), and
one outcome in which the metrics move with a true correlation; it counts how often the band of
the default correlation (0.5) holds the portfolio's total, for true correlations 0, 0.25, 0.5 and
0.8 (nominal: 80%).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard import AS_OF, build_large_store  # bench/dashboard.py, next to this file


def timed(command: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of the command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=cwd)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benefits", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--coverage", type=int, default=0, metavar="TRIALS", help="also the roll-up's coverage")
    parser.add_argument("--against", metavar="REF", help="also time `benefits value` of this git commit")
    args = parser.parse_args()
    if args.coverage:
        coverage(args.coverage)
    if args.against:
        against(args.against, args.benefits, args.weeks, args.repeat)
    benefits = [sys.executable, "-c", "from benefits.cli import main; main()"]
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        url = build_large_store(Path(folder) / "large.db", args.benefits, args.weeks)
        print(f"store: {args.benefits} benefits x {args.weeks} weeks built in {time.perf_counter() - start:.1f} s")
        env = {**os.environ, "BENEFITS_DATABASE_URL": url, "GX_ANALYTICS_ENABLED": "false"}
        value = benefits + ["value", "--as-of", AS_OF.isoformat(), "--format", "json"]
        status = benefits + ["status", "--as-of", AS_OF.isoformat(), "--format", "json"]
        load_before = Path("/proc/loadavg").read_text().split()[0]
        times: dict[str, list[tuple[float, float]]] = {"value": [], "status": []}
        first = timed(value, env)  # computes the report and keeps it, as the weekly job does; warms the file cache
        timed(status, env)
        for _ in range(args.repeat):
            times["value"].append(timed(value, env))
            times["status"].append(timed(status, env))
        load_after = Path("/proc/loadavg").read_text().split()[0]
    wall = {name: statistics.median(t[0] for t in found) for name, found in times.items()}
    cpu = {name: statistics.median(t[1] for t in found) for name, found in times.items()}
    print(f"benefits value first run (computes and keeps the report): {first[0]:6.3f} s wall, {first[1]:6.3f} s CPU")
    for name, label in (("value", "(goal < 2 s)"), ("status", "(baseline)")):
        print(
            f"benefits {name:<6} --format json  {wall[name]:6.3f} s wall, {cpu[name]:6.3f} s CPU,"
            f" median of {args.repeat}  {label}"
        )
    print(
        f"ratio value / status: {wall['value'] / wall['status']:.2f}x wall, {cpu['value'] / cpu['status']:.2f}x CPU"
        f"  load {load_before}->{load_after}"
    )


ROOT = Path(__file__).resolve().parent.parent
_BUILD = (
    "import sys; from pathlib import Path; sys.path.insert(0, 'bench'); from dashboard import build_large_store; "
    "build_large_store(Path({path!r}), {n}, {w})"
)


def against(ref: str, benefits: int, weeks: int, repeat: int) -> None:
    """Time this tree's `benefits value` against commit ``ref``'s, alternating, each on a store its own code built."""
    with tempfile.TemporaryDirectory(prefix="bench-value-") as folder:
        tree = Path(folder) / "tree"
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as exported:
            exported.extractall(tree)
        sides = {"this tree": ROOT, ref: tree}
        commands = {}
        for n, (name, source) in enumerate(sides.items()):
            path = Path(folder) / f"{n}.db"
            env = {**os.environ, "PYTHONPATH": str(source), "GX_ANALYTICS_ENABLED": "false"}
            build = [sys.executable, "-c", _BUILD.format(path=str(path), n=benefits, w=weeks)]
            subprocess.run(build, cwd=source, env=env, check=True, capture_output=True)
            env["BENEFITS_DATABASE_URL"] = f"sqlite:///{path}"
            value = [sys.executable, "-c", "from benefits.cli import main; main()", "value"]
            commands[name] = (value + ["--as-of", AS_OF.isoformat(), "--format", "json"], env, source)
        load_before = Path("/proc/loadavg").read_text().split()[0]
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        for command, env, source in commands.values():  # warm the file cache
            timed(command, env, source)
        for _ in range(repeat):
            for name, (command, env, source) in commands.items():
                times[name].append(timed(command, env, source))
        load_after = Path("/proc/loadavg").read_text().split()[0]
    wall = {name: statistics.median(t[0] for t in found) for name, found in times.items()}
    cpu = {name: statistics.median(t[1] for t in found) for name, found in times.items()}
    for name in sides:
        print(f"benefits value ({name}): {wall[name]:6.3f} s wall, {cpu[name]:6.3f} s CPU, median of {repeat}")
    print(
        f"this tree / {ref}: {wall['this tree'] / wall[ref]:.2f}x wall, {cpu['this tree'] / cpu[ref]:.2f}x CPU"
        f"  load {load_before}->{load_after}"
    )


def coverage(trials: int, benefits: int = 200, metrics: int = 150, assumed: float = 0.5) -> None:
    """How often the roll-up's P10-P90 band holds a simulated portfolio total (see the module's notes)."""
    import numpy as np

    from benefits.value.rollup import DEFAULT_SAMPLES, Z90, band

    rng = np.random.default_rng(20261201)
    column = np.r_[np.arange(metrics), rng.integers(0, metrics, benefits - metrics)]
    for true in (0.0, 0.25, 0.5, 0.8):
        inside = below = 0
        for trial in range(trials):
            median = rng.uniform(1e5, 1e6, benefits)
            low, high = median * rng.uniform(0.05, 0.4, benefits), median * rng.uniform(0.05, 0.6, benefits)
            values = np.stack([median - low, median, median + high], axis=-1)[:, None, :]  # benefits x 1 year x 3
            p10, _, p90 = band(values, column, metrics, assumed, DEFAULT_SAMPLES, trial)[:, 0]
            z = np.sqrt(true) * rng.standard_normal() + np.sqrt(1 - true) * rng.standard_normal(metrics)
            draw = z[column]
            total = (median + draw * np.where(draw < 0, low, high) / Z90).sum()
            inside += p10 <= total <= p90
            below += total < p10
        print(
            f"roll-up band (correlation {assumed}) holds the total in {inside / trials:.1%} of {trials} trials"
            f" when metrics move with correlation {true} (below P10: {below / trials:.1%}; nominal 80%)"
        )


if __name__ == "__main__":
    main()
