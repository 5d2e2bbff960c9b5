"""Forecast benchmark: `benefits forecast` against a plain sequential loop of default Prophet.

Both sides forecast the same seeded synthetic benefits (``benefits/testing/synthetic.py``, ``--weeks``
weekly points each, target 13 to 52 weeks ahead) in the same run, each in its own child process
whose wall time, CPU time and peak memory (resident set of the process and all its children, sampled every
50 ms) are measured:

- ``benefits forecast``: the CLI on a SQLite store holding the benefits (parallel workers,
  LBFGS, samples only up to the horizon); then once more with no new data (every input
  fingerprint unchanged: forecasts reused);
- the baseline: for each benefit in turn, ``Prophet()`` with default settings, ``fit``, then
  ``predictive_samples`` (1,000 by default) for the weeks to the horizon, the probability of
  landing from those paths and the status from the same thresholds.

It prints the wall-time ratio and the share of benefits with the same status. With ``--against
REF`` it also runs ``benefits forecast`` of another commit (checked out into a temporary git
worktree, on a store that commit builds itself) on the same benefits, in the same job, and prints
the time ratio of this tree's forecast to that commit's: the cost of a change to the method. Each side
then gets the next week of every benefit's trajectory and is timed again (``a week later``): the
weekly job's run, which refits every benefit but reuses what the first run kept (backtests). On a machine
shared with other work, ``--repeat N`` runs N rounds of both sides and compares each side's
best wall time (the least disturbed), as the load moves from one side to the other.

    .venv/bin/python bench/forecast.py --count 1000 --weeks 156 --repeat 3
    .venv/bin/python bench/forecast.py --count 1000 --weeks 156 --against de74bb6 --skip-baseline
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benefits.testing.synthetic import SyntheticBenefit, generate, load_store  # noqa: E402 - after the sys.path line


@dataclasses.dataclass(frozen=True)
class Measured:
    """What one child process cost."""

    wall: float
    """Wall time, s."""
    cpu: float
    """User + system CPU time of the process and all its descendants, s (less sensitive to a busy machine)."""
    peak_mib: float
    """Peak resident memory of the process tree, MiB."""
    stdout: str


def measure(command: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` (in ``cwd``, with ``env`` added to the environment) and measure it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.DEVNULL,
            cwd=cwd,
            env={**os.environ, "GX_ANALYTICS_ENABLED": "false", **(env or {})},
        )
        parent = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss(parent))
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        out.seek(0)
        text = out.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # descendants are included once reaped
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(elapsed, cpu, peak / 2**20, text)


def _tree_rss(parent: psutil.Process) -> int:
    total = 0
    for process in [parent, *parent.children(recursive=True)]:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def baseline(count: int, weeks: int, seed: int) -> None:
    """The plain sequential loop; prints ``{benefit: status}`` as JSON."""
    import logging

    import numpy as np
    import pandas as pd
    from prophet import Prophet

    from benefits import realisation
    from benefits.forecast.probability import meets
    from benefits.forecast.settings import ForecastSettings, status_for

    logging.getLogger("cmdstanpy").disabled = True
    settings = ForecastSettings()
    statuses = {}
    for item in generate(count, seed=seed, weeks_observed=(weeks, weeks), weeks_ahead=(13, 52)):
        b = item.benefit
        history = pd.DataFrame({"ds": pd.to_datetime(item.observations["period"]), "y": item.observations["value"]})
        model = Prophet().fit(history)
        horizon = pd.Timestamp(b.target.date) + pd.Timedelta(weeks=settings.margin_weeks)
        future = pd.DataFrame({"ds": pd.date_range(history["ds"].iloc[-1] + pd.Timedelta(weeks=1), horizon, freq="7D")})
        draws = model.predictive_samples(future)["yhat"]
        big_t = realisation.target_improvement(b)
        if realisation.realised_to_date(b, item.observations, item.as_of) >= big_t:
            statuses[b.key] = "achieved"
            continue
        q_now = float(realisation.tracked_value(b, item.observations, item.as_of))
        paths = q_now + np.cumsum(draws, axis=0) if b.measure.value == "cumulative" else draws
        at_target = paths[int(np.flatnonzero(future["ds"] <= pd.Timestamp(b.target.date))[-1])]
        improvement = realisation.sign(b) * (at_target - b.baseline.value)
        p = float(np.mean([meets(b, float(x), big_t) for x in improvement]))
        statuses[b.key] = status_for(p, settings)
    print(json.dumps(statuses))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="synthetic benefits (default 1000)")
    parser.add_argument("--weeks", type=int, default=156, help="weekly points per benefit (default 156)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=None, help="forecast workers (default: all cores)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds of both sides; the speed-up compares each side's best wall time (default 1)",
    )
    parser.add_argument("--against", metavar="REF", help="also time `benefits forecast` of this git commit")
    parser.add_argument("--skip-baseline", action="store_true", help="skip the sequential default Prophet loop")
    parser.add_argument("--role", choices=["compare", "baseline"], default="compare", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "baseline":
        baseline(args.count, args.weeks, args.seed)
        return
    if args.against:
        against(args)
        return

    items = generate(args.count, seed=args.seed, weeks_observed=(args.weeks, args.weeks), weeks_ahead=(13, 52))
    as_of = max(item.as_of for item in items)
    load = os.getloadavg()
    rounds = [_round(items, as_of, args) for _ in range(args.repeat)]
    print(
        f"{args.count} benefits x {args.weeks} weekly points, {os.cpu_count()} cores, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} before and {_load()} after the run, "
        f"{dt.datetime.now():%Y-%m-%d %H:%M}"
    )
    for i, (ours, again, plain, _, _) in enumerate(rounds, 1):
        if len(rounds) > 1:
            print(f"round {i}:")
        for name, m in (
            ("benefits forecast", ours),
            ("  again, inputs unchanged", again),
            ("sequential default Prophet", plain),
        ):
            print(f"{name:<28} {m.wall:8.1f} s wall  {m.cpu:8.1f} s CPU  peak {m.peak_mib:7.0f} MiB")
    ours, again, plain = (min((r[k] for r in rounds), key=lambda m: m.wall) for k in range(3))
    best = " (best wall time of each side over the rounds)" if len(rounds) > 1 else ""
    print(
        f"speed-up: {plain.wall / ours.wall:.2f}x wall, {plain.cpu / ours.cpu:.2f}x CPU "
        f"(unchanged re-run: {plain.wall / again.wall:.1f}x wall){best}"
    )
    for _, _, _, ours_status, plain_status in rounds:
        same = sum(ours_status[key] == status for key, status in plain_status.items())
        print(f"same status: {same}/{len(plain_status)} ({same / len(plain_status):.1%})")
    print("statuses (ours):", _counts(rounds[-1][3].values()))
    print("statuses (baseline):", _counts(rounds[-1][4].values()))


def _round(
    items: list[SyntheticBenefit], as_of: dt.date, args: argparse.Namespace
) -> tuple[Measured, Measured, Measured, dict[str, str], dict[str, str]]:
    """One round: `benefits forecast` on a fresh store, again unchanged, then the baseline loop.

    Returns the three measurements and both sides' statuses by benefit."""
    with tempfile.TemporaryDirectory(prefix="bench-forecast-") as folder:
        url = f"sqlite:///{Path(folder) / 'benefits.db'}"
        load_store(url, items)
        cli = [
            str(Path(sys.executable).parent / "benefits"),
            "--database",
            url,
            "forecast",
            "--as-of",
            as_of.isoformat(),
        ]
        if args.workers:
            cli += ["--workers", str(args.workers)]
        ours = measure(cli)
        again = measure(cli)
        ours_status = _stored_statuses(url)
    plain = measure(
        [
            sys.executable,
            __file__,
            "--role",
            "baseline",
            "--count",
            str(args.count),
            "--weeks",
            str(args.weeks),
            "--seed",
            str(args.seed),
        ]
    )
    return ours, again, plain, ours_status, json.loads(plain.stdout)


_ITEMS = """
import sys
sys.path.insert(0, ".")
try:
    from benefits.testing.synthetic import generate, load_store
except ImportError:  # a commit from before the synthetic benefits moved into the package
    from bench.synthetic import generate, load_store
items = generate({count}, seed={seed}, weeks_observed=({weeks}, {weeks}), weeks_ahead=(13, 52))
"""
"""The benchmark's benefits, generated with the code of the working directory (either commit)."""

_LOADER = (
    _ITEMS
    + """
load_store("{url}", items)
"""
)
"""Builds the store of the benefits."""

_NEXT_WEEK = (
    _ITEMS
    + """
import pandas as pd
from benefits.store import db, models, repository
since, until = pd.Timestamp("{since}"), pd.Timestamp("{until}")
engine = db.make_engine("{url}")
with db.session_factory(engine).begin() as session:
    run = models.SyncRun(connector="synthetic", connector_type="bench", status="succeeded")
    session.add(run)
    session.flush()
    rows = [
        {{
            "metric": s.benefit.metric,
            "period": pd.Timestamp(period).date(),
            "value": float(value),
            "unit": s.benefit.unit,
        }}
        for s in items
        for period, value in zip(s.truth["period"], s.truth["value"])
        if since < pd.Timestamp(period) <= until
    ]
    repository.load_observations(session, "synthetic", run.id, rows)
engine.dispose()
"""
)
"""Adds the next week of every benefit's true trajectory to the store: the weekly run's input."""


def against(args: argparse.Namespace) -> None:
    """Time this tree's `benefits forecast` against commit ``args.against``'s, alternating, in one job."""
    items = generate(args.count, seed=args.seed, weeks_observed=(args.weeks, args.weeks), weeks_ahead=(13, 52))
    as_of = max(item.as_of for item in items)
    with tempfile.TemporaryDirectory(prefix="bench-against-") as folder:
        tree = Path(folder) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), args.against], cwd=ROOT, check=True, capture_output=True
        )
        try:
            rows = []
            for i in range(args.repeat):
                for name, source in (("this tree", ROOT), (args.against, tree)):
                    url = f"sqlite:///{Path(folder) / f'{i}-{source.name}.db'}"
                    env_path = {"PYTHONPATH": str(source)}
                    loader = [
                        sys.executable,
                        "-c",
                        _LOADER.format(url=url, count=args.count, weeks=args.weeks, seed=args.seed),
                    ]
                    subprocess.run(loader, cwd=source, check=True, env={**os.environ, **env_path}, capture_output=True)
                    cli = [
                        sys.executable,
                        "-c",
                        "from benefits.cli import main; main()",
                        "--database",
                        url,
                        "forecast",
                        "--as-of",
                        as_of.isoformat(),
                        "--allow-failures",
                        str(args.count),
                    ]
                    if source != ROOT:
                        cli.remove("--allow-failures")
                        cli.remove(str(args.count))
                    if args.workers:
                        cli += ["--workers", str(args.workers)]
                    first = measure(cli, cwd=source, env=env_path)
                    again = measure(cli, cwd=source, env=env_path)
                    week = as_of + dt.timedelta(days=7)
                    script = _NEXT_WEEK.format(
                        url=url, count=args.count, weeks=args.weeks, seed=args.seed, since=as_of, until=week
                    )
                    added = [sys.executable, "-c", script]
                    subprocess.run(added, cwd=source, check=True, env={**os.environ, **env_path}, capture_output=True)
                    cli[cli.index(as_of.isoformat())] = week.isoformat()
                    weekly = measure(cli, cwd=source, env=env_path)
                    rows.append((name, first, again, weekly))
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False, capture_output=True
            )
    print(
        f"{args.count} benefits x {args.weeks} weekly points, {os.cpu_count()} cores, load average {_load()} after, "
        f"{dt.datetime.now():%Y-%m-%d %H:%M}"
    )
    for name, first, again, weekly in rows:
        print(
            f"{name:<12} forecast {first.wall:7.1f} s wall {first.cpu:7.1f} s CPU peak {first.peak_mib:6.0f} MiB; "
            f"unchanged re-run {again.wall:5.1f} s; a week later {weekly.wall:7.1f} s wall {weekly.cpu:7.1f} s CPU"
        )

    def best(side: str, step: int) -> float:
        return min(r[step].wall for r in rows if (r[0] == "this tree") == (side == "this tree"))

    print(
        f"this tree / {args.against}: first run {best('this tree', 1) / best('other', 1):.2f}x wall, "
        f"a week later (one new reading per benefit) {best('this tree', 3) / best('other', 3):.2f}x wall "
        f"(best of {args.repeat}); unchanged re-run {best('this tree', 2):.1f} s"
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _stored_statuses(url: str) -> dict[str, str]:
    from benefits.store import db, repository

    engine = db.make_engine(url)
    with db.session_factory(engine)() as session:
        run = repository.forecast_runs(session, limit=1)[0]
        statuses = {key: row.status for key, row in repository.forecasts_of(session, run).items()}
    engine.dispose()
    return statuses


def _counts(values: Iterable[str]) -> str:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


if __name__ == "__main__":
    main()
