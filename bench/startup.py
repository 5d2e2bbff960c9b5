"""Start-up time of `benefits --help` and `benefits status` on the demo database, against bare Python.

Builds a demo workspace in a temporary folder (`benefits init --demo`, `benefits run`), then runs
each command ``--repeat`` times in a fresh process and prints the median wall time of each, with
its ratio to `python -c pass` measured in the same run. With ``--benefits N`` it also times
`benefits status` on the large synthetic store of bench/dashboard.py (N benefits x 156 weeks).
Usage: .venv/bin/python bench/startup.py [--repeat 10] [--benefits 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AS_OF = "2026-11-23"


def median_seconds(command: list[str], env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--benefits", type=int, default=0, help="also time status on a large store of this many")
    args = parser.parse_args()
    benefits = [sys.executable, "-c", "from benefits.cli import main; main()"]
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "BENEFITS_CONFIG": str(Path(folder) / "config"),
            "GX_ANALYTICS_ENABLED": "false",
            "BENEFITS_DATABASE_URL": f"sqlite:///{Path(folder) / 'benefits.db'}",
        }
        for step in (["init", "--demo"], ["run", "--as-of", AS_OF, "--workers", "1"]):
            subprocess.run(benefits + step, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        python = median_seconds([sys.executable, "-c", "pass"], env, args.repeat)
        print(f"python -c pass          {python:6.3f} s  (baseline)")
        for label, step in (("benefits --help", ["--help"]), ("benefits status", ["status", "--as-of", AS_OF])):
            seconds = median_seconds(benefits + step, env, args.repeat)
            print(f"{label:<23} {seconds:6.3f} s  {seconds / python:5.1f}x baseline")
        if args.benefits:
            from dashboard import build_large_store  # bench/dashboard.py, next to this file

            large = {**env, "BENEFITS_DATABASE_URL": build_large_store(Path(folder) / "large.db", args.benefits)}
            seconds = median_seconds(benefits + ["status", "--as-of", AS_OF], large, args.repeat)
            print(
                f"{'benefits status':<15} {args.benefits:>5} {seconds:6.3f} s  {seconds / python:5.1f}x baseline"
                f"  (large store: {args.benefits} benefits x 156 weeks)"
            )
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
