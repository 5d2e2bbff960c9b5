"""The portfolio page's fan chart in a real headless Chromium: the callback draws the P10-P90 band,
the median and the plan with the partial plotly.js bundle, the caption names the dependence, and
cash sits apart from the run-rate. Same server and browser as ``test_dashboard_browser``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from . import dashboard_data as dd
from .test_dashboard_browser import ARTIFACTS, AS_OF, DRAWN, Watch, _serving, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("value-browser")
    with _serving(dd.build_store(directory), directory) as base:
        yield base


def test_portfolio_page_draws_the_fan_chart_with_its_caption(browser: Any, server: str) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch = Watch(page, server)
    page.goto(server + "/" + AS_OF)
    page.wait_for_selector("#portfolio-fan" + DRAWN, state="attached")
    traces = page.locator("#portfolio-fan .cartesianlayer .trace.scatter")
    assert traces.count() == 4  # P90, P10 (filled up to P90), P50, planned
    assert page.locator("#portfolio-fan .cartesianlayer .trace.scatter path.js-fill").count() == 1  # the band
    assert page.locator("#portfolio-fan .cartesianlayer .trace.scatter .point").count() == 40  # 4 lines x 10 years
    assert page.locator("#portfolio-fan .xtick text").all_text_contents()[:2] == ["FY2025", "FY2026"]
    assert "P10–P90" in page.locator("#portfolio-fan .gtitle").text_content()
    page.wait_for_function("document.querySelector('#portfolio-fan-caption').innerText.length > 0")
    assert "correlation 0.5" in page.locator("#portfolio-fan-caption").inner_text()
    assert page.locator("#card-cash").inner_text().splitlines()[:2] == ["Cash realised to date", "£211,177"]
    assert "£45,000 a year" in page.locator("#card-run-rate").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#portfolio-fan").screenshot(path=str(ARTIFACTS / "dashboard-fan-chart.png"))
    context.close()
    assert watch.problems == []
