"""`benefits register import` of a 1,000-benefit workbook, against loading the same register from portfolio.yaml.

Builds the register by copying the demo's initiatives (keys and metrics renamed per copy) up to
``--benefits``, writes it as a workbook (`benefits register export`'s layout) and as portfolio.yaml,
then times, ``--repeat`` times in this process: the import (read the workbook, check it, write
portfolio.yaml) and, as the baseline, `load_register` of the equivalent portfolio.yaml; and up to
three times, the whole command in a fresh process (start-up included).
Usage: .venv/bin/python bench/register_import.py [--benefits 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from benefits.register import Register, load_register
from benefits.register_io.importing import import_register
from benefits.register_io.portfolio_yaml import register_yaml, write_text
from benefits.register_io.writing import write_workbook
from benefits.workspace import demo_config_dir


def large_register(count: int) -> Register:
    """The demo's initiatives copied, keys and metrics suffixed per copy, until there are ``count`` benefits."""
    demo = load_register(demo_config_dir())
    initiatives, total, copy = [], 0, 0
    while total < count:
        for initiative in demo.initiatives:
            benefits = [
                b.model_copy(update={"key": f"{b.key}-{copy}", "metric": f"{b.metric}.{copy}"})
                for b in initiative.benefits[: count - total]
            ]
            if not benefits:
                break
            initiatives.append(initiative.model_copy(update={"key": f"{initiative.key}-{copy}", "benefits": benefits}))
            total += len(benefits)
        copy += 1
    return demo.model_copy(update={"initiatives": initiatives})


def seconds(work: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benefits", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    register = large_register(args.benefits)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        workbook, config, out = root / "register.xlsx", root / "config", root / "out" / "portfolio.yaml"
        write_workbook(workbook, register)
        write_text(config / "portfolio.yaml", register_yaml(register, workbook.name))

        def imported() -> None:
            write_text(out, register_yaml(import_register(workbook).register, workbook.name))

        imported()
        assert load_register(out.parent) == load_register(config), "the import differs from the register"
        importing = seconds(imported, args.repeat)
        loading = seconds(lambda: load_register(config), args.repeat)
        command = [sys.executable, "-c", "from benefits.cli import main; main()", "--config", str(root / "cli")]
        run = [*command, "register", "import", str(workbook), "--force"]
        whole = seconds(lambda: subprocess.run(run, check=True, stdout=subprocess.DEVNULL), min(args.repeat, 3))
        size = workbook.stat().st_size
    n = sum(1 for _ in register.benefits())
    print(f"register of {n} benefits in {len(register.initiatives)} initiatives; workbook {size / 1024:.0f} KiB")
    show("import (xlsx -> check -> portfolio.yaml)", importing)
    show("load_register(portfolio.yaml) (baseline)", loading)
    print(f"{'ratio (medians)':<44} {statistics.median(importing) / statistics.median(loading):.2f}x")
    show("`benefits register import`, a new process", whole)
    print("goal: < 5 s for the command")


def show(label: str, times: list[float]) -> None:
    print(f"{label:<44} median {statistics.median(times):.3f} s  best {min(times):.3f} s  ({len(times)} runs)")


if __name__ == "__main__":
    main()
