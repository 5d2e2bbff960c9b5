"""Steering pack speed on a large synthetic portfolio: the PDF and PowerPoint packs against the HTML pack.

    .venv/bin/python bench/pack.py [--benefits 1000] [--weeks 156] [--repeat 3] [--chromium PATH]

Builds the store of ``bench/dashboard.py`` (1,000 benefits, 3 years of weekly data, two forecast
runs), then writes each pack as ``benefits report --out`` does, median of ``--repeat`` rounds in
this one process: the HTML pack (``benefits.report.steering_pack``, the baseline), the PDF pack
(the same HTML printed by headless Chromium, ``benefits.report_pdf``) and the PowerPoint pack
(``benefits.report_pptx``). Prints each time, its ratio to the HTML pack, the file's size and the
PDF's page and the deck's slide count. The goal (issue 11): a PDF pack of 1,000 benefits in < 30 s.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from dashboard import AS_OF, build_large_store  # bench/dashboard.py, beside this file
from pptx import Presentation

from benefits.dashboards import cache
from benefits.report import steering_pack
from benefits.report_pdf import find_chromium, print_pdf
from benefits.report_pptx import steering_deck
from benefits.store.db import make_engine, session_factory


def median_s(write: Callable[[], None], repeat: int) -> float:
    """Median seconds of ``write``, each round from a cold snapshot cache (as a new `benefits report`)."""
    times = []
    for _ in range(repeat):
        cache.clear()
        start = time.perf_counter()
        write()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Build the store, write each pack, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benefits", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chromium", default=None)
    args = parser.parse_args()
    chromium = find_chromium(args.chromium)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        start = time.perf_counter()
        url = build_large_store(out / "large.db", args.benefits, args.weeks)
        print(f"store: {args.benefits} benefits x {args.weeks} weeks built in {time.perf_counter() - start:.1f} s")
        sessions = session_factory(make_engine(url))

        def html() -> None:
            with sessions() as session:
                (out / "pack.html").write_text(steering_pack(session, AS_OF), encoding="utf-8")

        def pdf() -> None:
            with sessions() as session:
                page = steering_pack(session, AS_OF)
            print_pdf(page, out / "pack.pdf", chromium)

        def pptx() -> None:
            with sessions() as session:
                (out / "pack.pptx").write_bytes(steering_deck(session, AS_OF))

        baseline = median_s(html, args.repeat)
        timed = {"pdf": median_s(pdf, args.repeat), "pptx": median_s(pptx, args.repeat)}
        pages = len(re.findall(rb"/Type\s*/Page\b", (out / "pack.pdf").read_bytes()))
        slides = len(Presentation(str(out / "pack.pptx")).slides)
        size = {name: (out / f"pack.{name}").stat().st_size / 2**20 for name in ("html", "pdf", "pptx")}
        print(f"median of {args.repeat}, each from a cold snapshot:")
        print(f"  html pack  {baseline:6.2f} s  (baseline)  {size['html']:.1f} MiB")
        for name, count in (("pdf", f"{pages} pages"), ("pptx", f"{slides} slides")):
            ratio = timed[name] / baseline
            print(f"  {name:4s} pack  {timed[name]:6.2f} s  {ratio:.2f}x html  {size[name]:.1f} MiB, {count}")


if __name__ == "__main__":
    main()
