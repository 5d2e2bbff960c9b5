"""Dashboard speed on a large synthetic portfolio: 1,000 benefits with 3 years of weekly data.

    .venv/bin/python bench/dashboard.py [--benefits 1000] [--weeks 156] [--repeat 7] [--browser-repeat 5] [--no-browser]

Builds the store straight into SQLite (register through ``repository.save_register``, then bulk
inserts of observations and two forecast runs), then measures:

- each page's server-side time: the Dash router callback (``/_dash-update-component``) called
  through the Flask test client, median of ``--repeat`` calls, with the data version's frames kept in
  memory, cold (memory cleared: the first view after a weekly run, whose position snapshot is kept)
  and after a data change (no position snapshot either: the view computes and keeps it); plus one
  filter change and the
  portfolio's fan chart, a callback of its own (cold, it builds `benefits value`'s report and roll-up);
- ``benefits status``'s rows (``benefits.status.status_rows``) and the snapshot the pages use
  (``benefits.dashboards.snapshot.snapshot``, the same positions as a DataFrame), cold: both read
  the position snapshot the weekly job keeps; and the positions computed from the store
  (``benefits.live_positions.compute``), as the first reader after a change of the data does;
- in headless Chromium (Playwright): the portfolio page until its cards and filters show, and until
  its charts are drawn, cold (new browser context) and warm (reload with scripts cached), median of
  ``--browser-repeat`` loads; against the baseline of the same run, the same app loading the full
  plotly.js instead of the partial bundle in ``dashboards/assets``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benefits.dashboards import cache
from benefits.dashboards.app import create_app
from benefits.dashboards.snapshot import snapshot
from benefits.live_positions import compute
from benefits.register import Register
from benefits.report_pdf import HEADLESS_ARGS
from benefits.staleness import metric_summaries
from benefits.status import kept_positions, status_rows
from benefits.store import migrate, models, repository
from benefits.store.db import make_engine, session_factory

AS_OF = dt.date(2026, 11, 23)
CATEGORIES = ("revenue", "cost_reduction", "operational_efficiency", "people_capability")
TACTICS = (
    "digital_strategy",
    "data_driven_insight",
    "customer_experience",
    "employee_experience",
    "optimised_processes",
    "integrated_systems",
    "scalable_architecture",
    "innovation",
)
STATUSES = ("achieved", "on_track", "at_risk", "off_track", "insufficient_data")


def large_register(benefits: int, weeks: int) -> Register:
    """``benefits`` benefits in 10 per initiative, 10 initiatives per programme, baselines ``weeks`` ago."""
    baseline = AS_OF - dt.timedelta(weeks=weeks)
    programmes = [
        {"key": f"p{n}", "name": f"Programme {n}", "outcome": f"Outcome {n % 4}"}
        for n in range(max(1, benefits // 100))
    ]
    initiatives: list[dict[str, Any]] = []
    for n in range(benefits):
        if n % 10 == 0:
            initiatives.append(
                {
                    "key": f"i{n // 10}",
                    "name": f"Initiative {n // 10}",
                    "programme": programmes[(n // 100) % len(programmes)]["key"],
                    "tactic": TACTICS[(n // 10) % len(TACTICS)],
                    "owner": f"Owner {n // 50}",
                    "benefits": [],
                }
            )
        cumulative = n % 2 == 0
        initiatives[-1]["benefits"].append(
            {
                "key": f"b{n}",
                "name": f"Benefit {n}",
                "category": CATEGORIES[n % 4],
                "metric": f"m.metric_{n}",
                "unit": "GBP" if cumulative else "minutes",
                "direction": "increase" if cumulative else "decrease",
                "measure": "cumulative" if cumulative else "level",
                "baseline": {"value": 0 if cumulative else 100, "date": baseline.isoformat()},
                "target": {
                    "value": 500_000 if cumulative else 60,
                    "date": (AS_OF + dt.timedelta(weeks=52)).isoformat(),
                },
                "profile": "s_curve" if n % 3 == 0 else "linear",
                "owner": f"Owner {n % 37}",
                "value_per_unit": 1 if cumulative else 2_000,
            }
        )
    return Register.model_validate(
        {"name": "Large synthetic portfolio", "currency": "GBP", "programmes": programmes, "initiatives": initiatives}
    )


def build_large_store(path: Path, benefits: int = 1000, weeks: int = 156) -> str:
    """A migrated SQLite store at ``path`` with the large register, its observations, two forecast runs and
    the position snapshot of ``AS_OF`` (as the weekly job keeps it)."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    register = large_register(benefits, weeks)
    with session_factory(engine)() as session:
        repository.save_register(session, register)
        sync = models.SyncRun(
            connector="bench", connector_type="csv", status="succeeded", finished_at=dt.datetime.now(dt.UTC)
        )
        session.add(sync)
        session.flush()
        session.execute(insert(models.Observation), list(_observations(register, weeks, sync.id)))
        for age, shift in ((1, 1), (0, 0)):
            _forecast_run(session, register, AS_OF - dt.timedelta(weeks=age), shift)
        session.commit()
    engine.dispose()
    keep_positions(url)
    return url


def keep_positions(url: str) -> None:
    """Keep the position snapshot of ``AS_OF``, as the weekly job does (nothing to do when it is current)."""
    engine = make_engine(url)
    with engine.connect() as connection:
        kept_positions(connection, AS_OF)
    engine.dispose()


def _observations(register: Register, weeks: int, sync_id: int) -> Any:
    for n, (_, benefit) in enumerate(register.benefits()):
        for week in range(1, weeks + 1):
            period = benefit.baseline.date + dt.timedelta(weeks=week)
            if benefit.measure.value == "cumulative":
                value = 2_000 + 500 * math.sin(week / 5 + n)
            else:
                value = 100 - 30 * week / weeks + 2 * math.sin(week + n)
            yield {
                "metric": benefit.metric,
                "period": period,
                "value": value,
                "unit": benefit.unit,
                "source": "bench",
                "sync_run_id": sync_id,
            }


def _forecast_run(session: Any, register: Register, as_of: dt.date, shift: int) -> None:
    run = models.ForecastRun(as_of=as_of, finished_at=dt.datetime.now(dt.UTC), benefits_count=0)
    session.add(run)
    session.flush()
    rows = []
    for n, (_, benefit) in enumerate(register.benefits()):
        path = [
            {
                "period": (as_of + dt.timedelta(weeks=k)).isoformat(),
                "yhat": 10.0 * k,
                "lower": 9.0 * k,
                "upper": 11.0 * k,
            }
            for k in range(1, 53)
        ]
        moved = shift if n % 20 == 0 else 0  # one benefit in twenty changes status week to week
        rows.append(
            {
                "forecast_run_id": run.id,
                "benefit_key": benefit.key,
                "status": STATUSES[(n + moved) % 5],
                "message": "synthetic",
                "points": 156,
                "p_on_time": (n % 100) / 100,
                "path": path,
                "forecast_at_target_date": 500.0,
                "fingerprint": "",
            }
        )
    session.execute(insert(models.Forecast), rows)
    run.benefits_count = len(rows)


def median_ms(call: Callable[[], Any], repeat: int, setup: Callable[[], Any] = lambda: None) -> float:
    """Median wall time of ``call`` in milliseconds (after one warm-up call), ``setup`` (not timed) before each."""
    setup()
    call()
    times = []
    for _ in range(repeat):
        setup()
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def router_body(pathname: str, search: str = "") -> dict[str, Any]:
    """The request Dash's page router sends for a URL."""
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }


PAGES = {
    "portfolio": ("/", ""),
    "portfolio, filtered (programme + category)": ("/", "?programme=p3&category=revenue"),
    "initiative": ("/initiative/i42", ""),
    "benefit": ("/benefit/b421", ""),
    "register": ("/register", ""),
    "data quality": ("/data-quality", ""),
    "connectors": ("/connectors", ""),
    "benefits map": ("/map", ""),
}


FAN_CHART = "portfolio fan chart (its own callback)"


def fan_chart_body(as_of: str) -> dict[str, Any]:
    """The request the portfolio page sends for its fan chart once the page is shown."""
    return {
        "output": "..portfolio-fan.figure...portfolio-fan-caption.children..",
        "outputs": [
            {"id": "portfolio-fan", "property": "figure"},
            {"id": "portfolio-fan-caption", "property": "children"},
        ],
        "inputs": [{"id": "portfolio-fan-as-of", "property": "data", "value": as_of}],
        "changedPropIds": ["portfolio-fan-as-of.data"],
        "state": [],
    }


def forget_positions(url: str) -> None:
    """Drop the kept position snapshots and the dashboard's memory, as a change of the data makes them stale."""
    cache.clear()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(delete(models.PositionSnapshotRow))
        connection.execute(delete(models.PositionSnapshot))
    engine.dispose()


def server_side(url: str, repeat: int) -> dict[str, tuple[float, float, float]]:
    """Per page, median ms of the router callback through the Flask test client: with the data
    version's frames kept in memory (every view but the first after a sync/forecast), cold (memory
    cleared before each call: the first view after a weekly run, which kept the position snapshot)
    and after a data change (no position snapshot either: the view computes and keeps it)."""
    client = create_app(url).server.test_client()
    results = {}
    bodies = {
        name: router_body(path, f"{search}{'&' if search else '?'}as_of={AS_OF.isoformat()}")
        for name, (path, search) in PAGES.items()
    }
    bodies[FAN_CHART] = fan_chart_body(AS_OF.isoformat())
    for name, body in bodies.items():
        keep_positions(url)  # after a weekly run: the previous page's data changes may have left no snapshot

        def call(body: dict[str, Any] = body, name: str = name) -> None:
            response = client.post("/_dash-update-component", json=body)
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")

        results[name] = (
            median_ms(call, repeat),
            median_ms(call, max(3, repeat // 2), setup=cache.clear),
            median_ms(call, 3, setup=lambda: forget_positions(url)),
        )
    return results


PARTIAL_PLOTLY = "plotly-partial.min.js"  # dashboards/assets: scatter, bar and sankey only (docs/dashboard.md)
BASELINE = "full plotly.js (baseline)"
VARIANTS = {"partial plotly.js bundle": "", BASELINE: PARTIAL_PLOTLY}  # name: the assets Dash ignores
CHROMIUM_ARGS = [arg for arg in HEADLESS_ARGS if arg != "--headless"]  # playwright adds its own headless mode


def browser(url: str, repeat: int) -> dict[str, dict[str, tuple[float, float]]]:
    """Median seconds until the portfolio page is usable (cards and filters shown) and until its charts
    are drawn, in headless Chromium, cold (new browser context, nothing cached) and warm (reload with
    the scripts cached): for the app as served (partial plotly.js bundle from ``dashboards/assets``) and
    for the baseline of the same run, the same app with that asset ignored, so that Dash loads the
    full plotly.min.js of the plotly package. The two alternate, ``repeat`` times each."""
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    addresses = {}
    servers = []
    for name, ignore in VARIANTS.items():
        app = create_app(url)
        app.config.assets_ignore = re.escape(ignore) if ignore else ""  # read at the first request
        server = make_server("127.0.0.1", 0, app.server, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        addresses[name] = f"http://127.0.0.1:{server.server_port}/?as_of={AS_OF.isoformat()}"
    times: dict[str, dict[str, list[tuple[float, float]]]] = {name: {"cold": [], "warm": []} for name in addresses}
    try:
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for address in addresses.values():  # the servers' first requests and snapshots, not measured
                _drawn(chromium.new_page(), address, reload=False)
            for _ in range(repeat):
                for name, address in addresses.items():
                    context = chromium.new_context()
                    page = context.new_page()
                    times[name]["cold"].append(_drawn(page, address, reload=False))
                    times[name]["warm"].append(_drawn(page, address, reload=True))
                    _check_plotly(page, full=bool(VARIANTS[name]))
                    context.close()
            chromium.close()
    finally:
        for server in servers:
            server.shutdown()
    return {
        name: {
            run: (statistics.median(u for u, _ in pairs), statistics.median(d for _, d in pairs))
            for run, pairs in runs.items()
        }
        for name, runs in times.items()
    }


def _drawn(page: Any, address: str, reload: bool) -> tuple[float, float]:
    start = time.perf_counter()
    if reload:
        page.reload()
    else:
        page.goto(address)
    page.wait_for_selector("#card-planned", timeout=60_000)
    page.wait_for_selector("#filters .filter-dropdown", timeout=60_000)
    usable = time.perf_counter() - start
    page.wait_for_selector("#portfolio-initiatives .cartesianlayer .trace", state="attached", timeout=60_000)
    page.wait_for_selector("#portfolio-status .cartesianlayer .trace", state="attached", timeout=60_000)
    return usable, time.perf_counter() - start


def _check_plotly(page: Any, full: bool) -> None:
    """Stop when a variant did not load the plotly.js it stands for."""
    scripts = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    if any("package_data/plotly.min.js" in s for s in scripts) != full:
        raise SystemExit(f"expected the {'full' if full else 'partial'} plotly.js, the page loaded: {scripts}")


def main() -> None:
    """Build the store, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benefits", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=156)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--browser-repeat", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        url = build_large_store(Path(folder) / "large.db", args.benefits, args.weeks)
        print(f"store: {args.benefits} benefits x {args.weeks} weeks built in {time.perf_counter() - start:.1f} s")
        sessions = session_factory(make_engine(url))
        with sessions() as session:
            old = median_ms(lambda: status_rows(session, AS_OF), max(3, args.repeat // 2))
            health = median_ms(lambda: metric_summaries(session, AS_OF), max(3, args.repeat // 2))
            new = median_ms(lambda: snapshot(session, AS_OF), args.repeat, setup=cache.clear)
            live = median_ms(lambda: compute(session, AS_OF), max(3, args.repeat // 2))
        print(f"benefits status rows (status_rows, from the kept snapshot): {old:8.1f} ms")
        print(f"snapshot, cold (the same rows as a frame):                  {new:8.1f} ms")
        print(f"positions computed from the store (live_positions.compute): {live:8.1f} ms")
        print(f"  of which every metric's health (staleness.metric_summaries): {health:8.1f} ms")
        print("server-side router callback, median ms: in memory | cold (after a weekly run) | after a data change")
        for name, (warm, cold, changed) in server_side(url, args.repeat).items():
            print(
                f"  {name:44s} {warm:8.1f} ms | {cold:8.1f} ms | {changed:8.1f} ms"
                f"  ({cold / live:.2f}x | {changed / live:.2f}x computing the positions)"
            )
        if not args.no_browser:
            print(f"portfolio in Chromium, median of {args.browser_repeat}: cards and filters shown | charts drawn")
            results = browser(url, args.browser_repeat)
            baseline = results[BASELINE]
            for name, runs in results.items():
                for run, (usable, drawn) in runs.items():
                    print(
                        f"  {name:26s} {run:4s}: {usable:.2f} s | {drawn:.2f} s"
                        f"  ({drawn / baseline[run][1]:.2f}x the baseline's charts drawn)"
                    )


if __name__ == "__main__":
    main()
