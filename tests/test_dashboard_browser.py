"""The dashboard in a real headless Chromium: every page draws its charts without console errors, with
the partial plotly.js bundle from ``dashboards/assets`` (never the full one), filters live in the URL,
source text stays text, exports download, a users file asks for a password.

Runs ``benefits.dashboards.app.serve`` in a subprocess over the fixture store, drives Debian's
``/usr/bin/chromium`` with Playwright (never ``playwright install``), saves screenshots and the
measured navigation-to-chart times to ``test-artifacts/``.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from benefits.report_pdf import HEADLESS_ARGS

from . import dashboard_data as dd

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = list(HEADLESS_ARGS)
AS_OF = f"?as_of={dd.AS_OF.isoformat()}"
SERVE = (
    "import sys, pathlib; from benefits.dashboards.app import serve; "
    "from benefits.dashboards.auth import AuthSettings; "
    "serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], "
    "auth=AuthSettings(users_file=pathlib.Path(sys.argv[3])) if len(sys.argv) > 3 else None)"
)
DRAWN = " .js-plotly-plot .cartesianlayer .trace"  # plotly has drawn at least one trace inside the chart
XSS = "<script>alert(1)</script>"


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
def warm(browser: Any) -> Iterator[Any]:
    """One browser context shared by the tests that do not time cold loads: scripts stay cached."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    yield context
    context.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``serve()`` on a free local port over the fixture store; its base URL once it answers."""
    directory = tmp_path_factory.mktemp("browser")
    with _serving(dd.build_store(directory), directory) as base:
        yield base


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same over a register whose benefit, initiative and programme are named like a script."""
    directory = tmp_path_factory.mktemp("hostile")
    hostile = (
        dd.REGISTER_YAML.replace("name: Lower IT running cost", f"name: '{XSS}'")
        .replace("name: Cloud & data platform", f"name: '{XSS}'")
        .replace("name: Operations transformation", f"name: '{XSS}'")
    )
    with _serving(dd.build_store(directory, hostile), directory) as base:
        yield base


LONG_INITIATIVE = (
    "Cloud & data platform modernisation programme covering every regional data centre, the ERP estate and the "
    "customer data hub"
)
LONG_BENEFIT = (
    "Lower IT running cost through consolidation of hosting contracts, decommissioning of legacy servers and "
    "licence rationalisation"
)


@pytest.fixture(scope="module")
def long_names_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The same over a register whose first initiative and benefit have names of ~120 characters."""
    directory = tmp_path_factory.mktemp("long-names")
    register = dd.REGISTER_YAML.replace("name: Cloud & data platform", f"name: '{LONG_INITIATIVE}'").replace(
        "name: Lower IT running cost", f"name: '{LONG_BENEFIT}'"
    )
    with _serving(dd.build_store(directory, register), directory) as base:
        yield base


@contextmanager
def _serving(url: str, directory: Path, *extra: str, ready: int = 200) -> Iterator[str]:
    port = _free_port()
    log = (directory / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), url, *extra],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, directory / "server.log", ready)
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
        # listened to, not routed: routing would switch off the browser's cache
        page.on(
            "request",
            lambda r: r.url.startswith((base, "data:", "blob:")) or self.problems.append(f"external request: {r.url}"),
        )


def test_portfolio_and_benefit_pages_draw_their_charts(browser: Any, server: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    timings: dict[str, float] = {}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page, server)

    # cold: a new browser context (empty cache) and the server's first page view
    timings["portfolio_cold_s"] = _open(page, server + "/" + AS_OF, ["#portfolio-initiatives", "#portfolio-status"])
    assert page.locator("#portfolio-initiatives .cartesianlayer .trace.bars .point").count() == 4  # 2 initiatives x 2
    assert page.locator("#portfolio-status .cartesianlayer .trace.bars .point").count() == 8  # every status
    assert "Cloud & data platform" in page.locator("#portfolio-initiatives .xtick text").all_text_contents()
    assert page.locator("#card-planned").inner_text().endswith("£317,500")
    assert "£0" in page.locator("#card-claims-reported").inner_text()  # the fixture store has no claims
    assert "no claims yet" in page.locator("#card-claims-validated").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard-portfolio.png"), full_page=True)

    # warm: reload with the scripts cached
    started = time.perf_counter()
    page.reload()
    page.wait_for_selector("#portfolio-initiatives" + DRAWN, state="attached")
    timings["portfolio_reload_s"] = time.perf_counter() - started

    # client-side navigation through the benefit's link
    started = time.perf_counter()
    page.locator("#portfolio-attention").get_by_role("link", name="Lower IT running cost").click()
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
    problems = len(cold.problems)
    assert page.goto(server + "/nowhere").status == 404
    page.get_by_text("Page not found").wait_for()  # still the friendly page
    assert [p for p in cold.problems[problems:] if "status of 404" not in p] == []  # the browser logs the 404
    del cold.problems[problems:]
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


def _wait_until_up(
    base: str, process: subprocess.Popen[bytes], log: Path, ready: int = 200, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the dashboard exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/", timeout=2) as response:
                if response.status == ready:
                    return
        except urllib.error.HTTPError as refused:
            if refused.code == ready:
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the dashboard did not answer at {base} within {timeout:.0f}s:\n{log.read_text()}")


# Every page with a fixed address: (path, charts it must draw, what else must be on it)
PAGES = {
    "initiative": ("/initiative/cloud-platform", ["#spark-it-opex", "#spark-handle-time"], "#initiative-name"),
    "register": ("/register", [], "#register-grid .ag-row"),
    "data-quality": ("/data-quality", ["#quality-runs", "#quality-failures"], "#quality-quarantine"),
    "connectors": ("/connectors", ["#connectors-runs"], "#connectors-plugins"),
    "map": ("/map", [], "#benefits-map .sankey .sankey-node"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads_and_draws_without_console_errors(warm: Any, server: str, name: str) -> None:
    path, charts, marker = PAGES[name]
    page = warm.new_page()
    watch = Watch(page, server)
    _open(page, server + path + AS_OF, charts)
    page.wait_for_selector(marker, state="attached")
    if name == "register":
        assert page.locator("#register-grid .ag-center-cols-container .ag-row").count() == 3
        assert page.locator("#register-grid .ag-row a", has_text="Upsell revenue").count() == 1
        assert page.get_by_text("£260,000").count() >= 1  # planned to date in the register's currency
    if name == "map":
        assert page.locator("#benefits-map .sankey-node").count() == 2 + 3 + 3  # initiatives, benefits, outcomes
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)
    page.close()
    assert watch.problems == []


def test_charts_are_drawn_by_the_partial_plotly_bundle(browser: Any, server: str) -> None:
    """``dashboards/assets/plotly-partial.min.js`` (scatter, bar, sankey; see docs/dashboard.md) defines
    ``window.Plotly`` before any chart renders, so Dash never loads the full 4.8 MB plotly.min.js."""
    from plotly.offline import get_plotlyjs_version

    context = browser.new_context(viewport={"width": 1280, "height": 900})  # empty cache: every script is fetched
    page = context.new_page()
    watch = Watch(page, server)
    _open(page, server + "/" + AS_OF, ["#portfolio-initiatives", "#portfolio-status"])  # bar
    page.locator("#portfolio-attention").get_by_role("link", name="Lower IT running cost").click()  # same document
    page.wait_for_selector("#benefit-chart" + DRAWN, state="attached")  # scatter
    page.locator("#nav-benefits_map").click()
    page.wait_for_selector("#benefits-map .sankey .sankey-node", state="attached")  # sankey
    assert page.evaluate("window.Plotly.version") == get_plotlyjs_version()  # the plotly package's plotly.js
    assert sorted(page.evaluate("Object.keys(window.Plotly.PlotSchema.get().traces)")) == ["bar", "sankey", "scatter"]
    scripts = page.evaluate("performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)")
    assert "/assets/plotly-partial.min.js" in scripts
    assert [s for s in scripts if s.endswith("/plotly.min.js")] == []  # Dash's fallback, package_data/plotly.min.js
    context.close()
    assert watch.problems == []


def test_a_filter_changes_the_chart_and_its_link_reproduces_the_view(warm: Any, server: str) -> None:
    from playwright.sync_api import expect

    page = warm.new_page()
    watch = Watch(page, server)
    _open(page, server + "/" + AS_OF, ["#portfolio-initiatives"])
    bars = "#portfolio-initiatives .cartesianlayer .trace.bars .point"
    assert page.locator(bars).count() == 4
    page.locator("#filters .filter-dropdown").first.click()  # the programme filter
    page.get_by_role("option", name="Growth").click()
    page.wait_for_url("**/?programme=growth&as_of=2025-07-07")
    expect(page.locator(bars)).to_have_count(2)  # not wait_for_function: the page's policy forbids eval
    assert page.locator("#portfolio-initiatives .xtick text").all_text_contents() == ["Digital sales"]
    assert page.locator("#card-planned").inner_text().endswith("£260,000")
    page.screenshot(path=str(ARTIFACTS / "dashboard-portfolio-filtered.png"), full_page=True)
    shared = page.url
    page.close()

    page = warm.new_page()  # someone opening the shared link in a new tab
    opened = Watch(page, server)
    _open(page, shared, ["#portfolio-initiatives"])
    assert page.locator(bars).count() == 2
    assert page.locator("#card-planned").inner_text().endswith("£260,000")
    assert "Growth" in page.locator("#filters").inner_text()
    register = page.get_by_role("link", name="Every benefit in the register grid ›")
    register.click()
    page.wait_for_selector("#register-grid .ag-row", state="attached")
    assert page.url == server + "/register?programme=growth&as_of=2025-07-07"
    assert page.locator("#register-grid .ag-center-cols-container .ag-row").count() == 1
    page.close()
    assert watch.problems + opened.problems == []


def test_register_exports_csv_and_excel(warm: Any, server: str) -> None:
    page = warm.new_page()
    watch = Watch(page, server)
    _open(page, server + "/register" + AS_OF, [])
    page.wait_for_selector("#register-grid .ag-row", state="attached")
    with page.expect_download() as csv_download:
        page.locator("#register-csv").click()
    csv_text = Path(csv_download.value.path()).read_text(encoding="utf-8-sig")
    assert csv_download.value.suggested_filename == "benefits-2025-07-07.csv"
    assert csv_text.splitlines()[0].startswith("Benefit,Initiative") and "Upsell revenue" in csv_text
    assert ",50000.0,37500.0," in csv_text  # money as numbers
    with page.expect_download() as xlsx_download:
        page.locator("#register-xlsx").click()
    from openpyxl import load_workbook

    assert xlsx_download.value.suggested_filename == "benefits.xlsx"
    sheet = load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
    assert [c.value for c in sheet["A"]] == [
        "Benefit",
        "Lower IT running cost",
        "Faster ticket handling",
        "Upsell revenue",
    ]
    page.close()
    assert watch.problems == []


def test_text_from_sources_renders_as_text(warm: Any, hostile_server: str) -> None:
    page = warm.new_page()
    watch = Watch(page, hostile_server)
    for path, ready in (
        ("/", "#portfolio-initiatives" + DRAWN),
        ("/benefit/it-opex", "#benefit-chart" + DRAWN),
        ("/initiative/cloud-platform", "#spark-it-opex" + DRAWN),
        ("/register", "#register-grid .ag-row"),
        ("/map", "#benefits-map .sankey-node"),
    ):
        page.goto(hostile_server + path + AS_OF)
        page.wait_for_selector(ready, state="attached")
        assert page.get_by_text(XSS).count() >= 1, path
        assert page.evaluate("document.querySelectorAll('main script').length") == 0, path
    page.screenshot(path=str(ARTIFACTS / "dashboard-hostile-text.png"), full_page=True)
    page.close()
    assert watch.problems == []  # a dialog (alert) would be listed here


def test_a_users_file_asks_for_a_password_in_the_browser(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import Error as PlaywrightError

    from benefits.users import UserEntry, hash_password, save_users

    users = tmp_path / "users.yaml"
    save_users(users, {"ada": UserEntry("ada", "viewer", hash_password("correct horse"))})
    with _serving(dd.build_store(tmp_path), tmp_path, str(users), ready=401) as base:
        stranger = browser.new_context()
        with pytest.raises(
            PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"
        ):  # Chromium's refusal without a prompt
            stranger.new_page().goto(base + "/" + AS_OF)
        assert stranger.request.post(base + "/_dash-update-component", data="{}").status == 401
        stranger.close()
        context = browser.new_context(http_credentials={"username": "ada", "password": "correct horse"})
        page = context.new_page()
        watch = Watch(page, base)
        _open(page, base + "/" + AS_OF, ["#portfolio-initiatives"])  # the callbacks pass the check too
        assert page.locator("#card-planned").inner_text().endswith("£317,500")
        context.close()
    assert watch.problems == []


@pytest.fixture(scope="module")
def forecast_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """``serve()`` over the fixture store forecast by the real pipeline (so it has a track record),
    with that track record."""
    from benefits.dashboards import trust
    from benefits.store.db import make_engine, session_factory

    from .test_dashboard_trust import forecast_store

    directory = tmp_path_factory.mktemp("trust")
    url = forecast_store(directory)
    engine = make_engine(url)
    with session_factory(engine)() as session:
        record = trust.track_record(session)
    engine.dispose()
    with _serving(url, directory) as base:
        yield base, record


def test_trust_page_is_one_click_from_the_portfolio_and_draws_its_charts(
    warm: Any, forecast_server: tuple[str, Any]
) -> None:
    base, record = forecast_server
    page = warm.new_page()
    watch = Watch(page, base)
    _open(page, base + "/" + AS_OF, ["#portfolio-initiatives"])
    started = time.perf_counter()
    page.locator("#nav-trust").click()
    for chart in ("#trust-reliability", "#trust-coverage"):
        page.wait_for_selector(chart + DRAWN, state="attached")
    seconds = time.perf_counter() - started
    assert page.url == base + "/trust"
    checked = int((record.reliability["count"] > 0).sum())
    assert checked > 0
    assert page.locator("#trust-reliability .cartesianlayer .trace.scatter .point").count() == checked
    diagonal = page.locator("#trust-reliability .cartesianlayer .trace.scatter path.js-line")
    assert diagonal.count() == 1
    assert page.locator("#trust-coverage .cartesianlayer .trace.bars .point").count() >= 2  # raw and calibrated
    assert f"{record.points:,} backtested outcomes" in page.locator("#trust-headline").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard-trust.png"), full_page=True)
    (ARTIFACTS / "dashboard-trust-timing.json").write_text(json.dumps({"trust_via_nav_warm_s": round(seconds, 3)}))
    page.close()
    assert watch.problems == []


def test_long_names_leave_the_charts_and_the_register_their_room(browser: Any, long_names_server: str) -> None:
    """A name of ~120 characters is cut short on the chart (in full on hover) and wraps in the grid (in full as
    its tooltip): the initiatives chart keeps its plot area (it was squeezed to 64 px), and the grid's status and
    money columns stay on a 1400 px screen."""
    base = long_names_server
    assert min(len(LONG_INITIATIVE), len(LONG_BENEFIT)) >= 120
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    watch = Watch(page, base)
    _open(page, base + "/" + AS_OF, ["#portfolio-initiatives"])
    chart = page.locator("#portfolio-initiatives .js-plotly-plot").bounding_box()
    plot = page.locator("#portfolio-initiatives .draglayer rect.nsewdrag").bounding_box()
    assert chart and plot
    assert plot["width"] >= 0.7 * chart["width"] and plot["height"] >= 0.55 * chart["height"], (chart, plot)
    ticks = page.locator("#portfolio-initiatives .xtick text").all_text_contents()
    assert ticks == ["Cloud & data platformmodernisation…", "Digital sales"]  # two lines, as one text
    page.locator("#portfolio-initiatives .trace.bars .point path").first.hover(force=True)
    page.locator("#portfolio-initiatives .hoverlayer").get_by_text(LONG_INITIATIVE).wait_for()
    page.screenshot(path=str(ARTIFACTS / "dashboard-long-names-portfolio.png"), full_page=True)

    page.goto(base + "/map" + AS_OF)
    page.wait_for_selector("#benefits-map .sankey .sankey-node", state="attached")
    labels = page.locator("#benefits-map .sankey-node .node-label").all_text_contents()
    assert all(len(label) <= 2 * 36 for label in labels) and not {LONG_INITIATIVE, LONG_BENEFIT} & set(labels)
    page.locator("#benefits-map .sankey-node .node-rect").first.hover(force=True)
    page.locator("#benefits-map .hoverlayer").get_by_text(LONG_INITIATIVE).wait_for()

    page.goto(base + "/register" + AS_OF)
    page.wait_for_selector("#register-grid .ag-row", state="attached")

    def header(field: str) -> dict[str, float]:
        box = page.locator(f"#register-grid [role=columnheader][col-id={field}]").bounding_box()
        assert box, field
        return box

    assert 200 <= header("name")["width"] <= 300  # grows with its text, up to 300 px, then wraps
    assert header("initiative_name")["width"] <= 260
    for field in ("status", "p_on_time", "planned_value", "realised_value"):
        assert header(field)["x"] + header(field)["width"] <= 1400, field  # on screen without scrolling
    cell = page.locator("#register-grid .ag-cell[col-id=name]", has_text="Lower IT running cost").first
    box = cell.bounding_box()
    assert box and box["height"] >= 3 * 19  # the whole name, on at least three lines
    assert cell.inner_text().strip() == LONG_BENEFIT
    owner = page.locator("#register-grid .ag-cell[col-id=initiative_name]").first
    owner.hover()
    page.locator(".ag-tooltip").get_by_text(LONG_INITIATIVE).wait_for()
    page.screenshot(path=str(ARTIFACTS / "dashboard-long-names-register.png"), full_page=True)
    context.close()
    assert watch.problems == []
