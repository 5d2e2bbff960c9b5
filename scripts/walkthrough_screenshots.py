"""Regenerate the screenshots docs/walkthrough.md shows (docs/images/) from the demo portfolio, in headless Chromium.

    .venv/bin/python scripts/walkthrough_screenshots.py [--out docs/images] [--as-of 2026-11-30]
        [--benefit crm-upsell-revenue] [--chromium /usr/bin/chromium]

In a temporary folder it runs the README's start as a new user does: ``benefits init --demo``, ``benefits run``
(at ``--as-of``, a fixed Monday by default, so that a second run draws the same pictures), then a note, two actions
(one overdue) and a risk on ``--benefit``, and ``benefits serve`` on a free loopback port. Chromium (Playwright,
launched from ``--chromium``; never ``playwright install``) opens the pages 1,100 px wide and writes:

- ``dashboard-portfolio.png``: the portfolio page, from its title down to its charts by initiative and status;
- ``dashboard-fan-chart.png``: the portfolio's fan chart of cash by fiscal year end;
- ``dashboard-benefit.png``: the benefit page, from its title down to the probability of landing, run by run;
- ``dashboard-commentary.png``: the benefit page's commentary, actions and risks.

Each file must stay under 250 KB (``tests/test_docs_images.py``): the script prints every file's size and exits 1
when one is larger, or when a page does not draw. Nothing is fetched from the internet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENEFITS = Path(sys.executable).parent / "benefits"
MAX_BYTES = 250_000  # tests/test_docs_images.py
WIDTH = 1100
DRAWN = " .js-plotly-plot .cartesianlayer .trace"  # plotly has drawn a trace in the chart


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the images")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 30), help="YYYY-MM-DD")
    parser.add_argument("--benefit", default="crm-upsell-revenue", help="the demo benefit whose page is shown")
    parser.add_argument("--chromium", type=Path, default=Path("/usr/bin/chromium"))
    args = parser.parse_args()
    if not args.chromium.exists():
        print(f"error: no Chromium at {args.chromium} (apt-get install chromium, or pass --chromium)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="benefits-screenshots-") as folder:
        work = Path(folder)
        demo_workspace(work, args.as_of, args.benefit)
        with serving(work) as base:
            written = screenshots(base, args.as_of, args.benefit, args.chromium, args.out)
    too_large = [path for path in written if path.stat().st_size >= MAX_BYTES]
    for path in written:
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size / 1024:.0f} KiB")
    for path in too_large:
        print(f"error: {path.name} is {path.stat().st_size:,} bytes, over {MAX_BYTES:,}", file=sys.stderr)
    return 1 if too_large else 0


def benefits(work: Path, *args: str) -> str:
    """Run ``benefits ARGS`` in ``work`` as a user does; its output, or SystemExit with its error."""
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "BENEFITS_USER": "Priya Shah"}
    for name in ("BENEFITS_CONFIG", "BENEFITS_DATABASE_URL"):  # the temporary folder's config/ and benefits.db
        env.pop(name, None)
    done = subprocess.run([str(BENEFITS), *args], cwd=work, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benefits {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def demo_workspace(work: Path, as_of: dt.date, benefit: str) -> None:
    """The demo portfolio after a weekly run at ``as_of``, with commentary, actions and a risk on ``benefit``."""
    benefits(work, "init", "--demo")
    benefits(work, "run", "--as-of", as_of.isoformat())
    benefits(work, "note", benefit, "Guided selling live in two of three regions; the third goes live in January")
    overdue, due = as_of - dt.timedelta(days=7), as_of + dt.timedelta(days=21)
    benefits(
        work, "action", "add", benefit, "Send the upsell report for Q3", "--owner", "Tom Okafor", "--due", str(overdue)
    )
    benefits(
        work, "action", "add", benefit, "Train the northern sales team", "--owner", "Priya Shah", "--due", str(due)
    )
    benefits(
        work,
        "risk",
        "add",
        benefit,
        "Northern region go-live slips past January",
        "--likelihood",
        "3",
        "--impact",
        "4",
        "--mitigation",
        "Weekly readiness review with the regional lead",
    )


@contextmanager
def serving(work: Path) -> Iterator[str]:
    """``benefits serve`` over the workspace on a free loopback port; its base URL once the portfolio answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    log = work / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(BENEFITS), "serve", "--port", str(port)], cwd=work, env=env, stdout=output, stderr=output
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not answers(base + "/"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"benefits serve did not answer at {base}:\n{log.read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def screenshots(base: str, as_of: dt.date, benefit: str, chromium: Path, out: Path) -> list[Path]:
    """Open the portfolio and the benefit page in headless Chromium and save the four images into ``out``."""
    from playwright.sync_api import sync_playwright

    from benefits.report_pdf import HEADLESS_ARGS

    query = f"?as_of={as_of.isoformat()}"
    written: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=list(HEADLESS_ARGS))
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.goto(base + "/" + query)
        for chart in ("#portfolio-initiatives", "#portfolio-status", "#portfolio-fan"):
            page.wait_for_selector(chart + DRAWN, state="attached", timeout=60_000)
        written.append(_down_to(page, "#portfolio-initiatives", out / "dashboard-portfolio.png"))
        written.append(_element(page, "#portfolio-fan", out / "dashboard-fan-chart.png"))

        page.goto(f"{base}/benefit/{benefit}{query}")
        for chart in ("#benefit-chart", "#benefit-history"):
            page.wait_for_selector(chart + DRAWN, state="attached", timeout=60_000)
        written.append(_down_to(page, "#benefit-history", out / "dashboard-benefit.png"))
        written.append(_element(page, "#benefit-commentary", out / "dashboard-commentary.png"))
        browser.close()
    return written


def _down_to(page: Any, selector: str, path: Path) -> Path:
    """The page from its top down to the bottom of ``selector``, the viewport's width."""
    box = page.locator(selector).bounding_box()
    if box is None:
        raise SystemExit(f"{page.url}: no {selector} on the page")
    page.screenshot(
        path=str(path), full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": box["y"] + box["height"] + 16}
    )
    return path


def _element(page: Any, selector: str, path: Path) -> Path:
    page.locator(selector).screenshot(path=str(path))
    return path


if __name__ == "__main__":
    sys.exit(main())
