"""The dashboard in a real headless Chromium: both pages draw their charts without console errors.

Runs ``dashboards.app.serve`` in a subprocess over the fixture store, drives Debian's
``/usr/bin/chromium`` with Playwright (never ``playwright install``), saves screenshots and the
measured navigation-to-chart times to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import dashboard_data as dd

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AS_OF = f"?as_of={dd.AS_OF.isoformat()}"
SERVE = "import sys; from dashboards.app import serve; serve('127.0.0.1', int(sys.argv[1]), sys.argv[2])"
DRAWN = " .js-plotly-plot .cartesianlayer .trace"  # plotly has drawn at least one trace inside the chart


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (CI must provide it: apt-get install chromium chromium-driver)")
        pytest.skip("chromium not installed: apt-get install chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``serve()`` on a free local port over the fixture store; its base URL once it answers."""
    directory = tmp_path_factory.mktemp("browser")
    url = dd.build_store(directory)
    port = _free_port()
    log = (directory / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), url],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, directory / "server.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


class Watch:
    """Console errors, page errors, dialogs and requests that leave the app, seen by one page."""

    def __init__(self, page: Any, base: str) -> None:
        self.problems: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss()))
        page.route("**/*", lambda route: self._local_only(route, base))

    def _local_only(self, route: Any, base: str) -> None:
        if route.request.url.startswith(base):
            route.continue_()
        else:
            self.problems.append(f"external request: {route.request.url}")
            route.abort()


def test_portfolio_and_benefit_pages_draw_their_charts(browser: Any, server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    timings: dict[str, float] = {}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page, server)

    # cold: a new browser context (empty cache) and the server's first page view
    timings["portfolio_cold_s"] = _open(page, server + "/" + AS_OF, ["#portfolio-initiatives", "#portfolio-status"])
    assert page.locator("#portfolio-initiatives .cartesianlayer .trace.bars .point").count() == 4  # 2 initiatives x 2
    assert page.locator("#portfolio-status .cartesianlayer .trace.bars .point").count() == 6  # every status
    assert "Cloud & data platform" in page.locator("#portfolio-initiatives .xtick text").all_text_contents()
    assert page.locator("#card-planned").inner_text().endswith("£317,500")
    page.screenshot(path=str(ARTIFACTS / "dashboard-portfolio.png"), full_page=True)

    # warm: reload with the scripts cached
    started = time.perf_counter()
    page.reload()
    page.wait_for_selector("#portfolio-initiatives" + DRAWN, state="attached")
    timings["portfolio_reload_s"] = time.perf_counter() - started

    # client-side navigation through the benefit's link
    started = time.perf_counter()
    page.get_by_role("link", name="Lower IT running cost").click()
    page.wait_for_selector("#benefit-chart" + DRAWN, state="attached")
    timings["benefit_via_link_s"] = time.perf_counter() - started
    assert page.url == server + "/benefit/it-opex" + AS_OF
    _check_benefit_chart(page)
    assert "27% likely by 2026-01-05" in page.locator("#benefit-likely").inner_text()
    page.locator("#benefit-chart .cartesianlayer .trace.scatter .point").last.hover(force=True)  # the target star
    hover = page.locator("#benefit-chart .hoverlayer")
    hover.get_by_text("£400,000 by 2026-01-05").wait_for()
    assert "27% likely on time" in (hover.text_content() or "")
    page.screenshot(path=str(ARTIFACTS / "dashboard-benefit.png"), full_page=True)
    context.close()

    # cold again, straight onto a benefit page
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    cold = Watch(page, server)
    timings["benefit_cold_s"] = _open(page, server + "/benefit/upsell-revenue" + AS_OF, ["#benefit-chart"])
    _check_benefit_chart(page)
    page.screenshot(path=str(ARTIFACTS / "dashboard-benefit-upsell.png"), full_page=True)

    page.goto(server + "/benefit/does-not-exist")
    page.get_by_text("No benefit called “does-not-exist”").wait_for()
    page.screenshot(path=str(ARTIFACTS / "dashboard-unknown-benefit.png"), full_page=True)
    page.goto(server + "/nowhere")
    page.get_by_text("Page not found").wait_for()
    context.close()

    (ARTIFACTS / "dashboard-timings.json").write_text(json.dumps(timings, indent=2) + "\n")
    print("navigation to drawn chart (s):", json.dumps({k: round(v, 3) for k, v in timings.items()}))
    assert watch.problems + cold.problems == []


def _open(page: Any, url: str, charts: list[str]) -> float:
    """Seconds from navigation to every chart drawn."""
    started = time.perf_counter()
    page.goto(url)
    for chart in charts:
        page.wait_for_selector(chart + DRAWN, state="attached")
    return time.perf_counter() - started


def _check_benefit_chart(page: Any) -> None:
    # baseline, planned, band lower, band upper, median, actual, target
    assert page.locator("#benefit-chart .cartesianlayer .trace.scatter").count() == 7
    assert page.locator("#benefit-chart .cartesianlayer .trace.scatter path.js-line").count() >= 4
    assert page.locator("#benefit-chart .cartesianlayer .trace.scatter path.js-fill").count() == 1  # the 80% band
    assert page.locator("#benefit-chart .cartesianlayer .trace.scatter .point").count() > 20  # actuals and target
    legend = page.locator("#benefit-chart .legend text").all_text_contents()
    for name in ("Baseline", "Planned", "Forecast 80% interval", "Forecast (median)", "Actual", "Target"):
        assert name in legend


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the dashboard exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the dashboard did not answer at {base} within {timeout:.0f}s:\n{log.read_text()}")
