"""Cash versus run-rate and the business case on the dashboard and in the steering pack: the same
figures as `benefits status` and `benefits value`, each under its own label, and the fan chart of
the portfolio's cash by fiscal year end."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dash
import pytest
from click.testing import CliRunner
from pptx import Presentation

from benefits.claims.money import display
from benefits.cli import main
from benefits.dashboards import business_case, cache, data, queries
from benefits.dashboards.app import create_app
from benefits.store.db import make_engine, session_factory
from benefits.value import DEFAULT_CORRELATION, DEFAULT_SAMPLES
from benefits.value.build import build

from . import dashboard_data as dd
from .test_dashboard import by_id, page, texts

AS_OF = dd.AS_OF.isoformat()


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return dd.build_store(tmp_path_factory.mktemp("value"))


@pytest.fixture(scope="module")
def app(store_url: str) -> dash.Dash:
    return create_app(store_url)


@pytest.fixture
def store(app: dash.Dash, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the pages at this module's store (another test may have pointed them elsewhere)."""
    monkeypatch.setattr(data, "_factory", session_factory(make_engine(store_url)))


@pytest.fixture
def session(store: None) -> Iterator[Any]:
    with data.session() as opened:
        yield opened


def _status_json(store_url: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(
        main, ["--database", store_url, "status", "--as-of", AS_OF, "--format", "json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return list(json.loads(result.output))


def test_portfolio_cash_and_run_rate_are_status_figures_added_up_under_their_own_labels(
    session: Any, store_url: str
) -> None:
    rows = _status_json(store_url)
    summary = queries.portfolio_summary(session, dd.AS_OF)
    cash = summary.cash
    assert cash.cash_to_date == sum(Decimal(r["cash_to_date"]) for r in rows) == Decimal("211176.96")
    assert cash.planned_cash_to_date == sum(Decimal(r["planned_cash_to_date"]) for r in rows)
    assert cash.run_rate == sum(Decimal(r["run_rate"]) for r in rows if r["value_type"] == "run_rate")
    assert (cash.run_rate, cash.planned_run_rate, cash.run_rate_benefits) == (Decimal("45000.00"), 57500.0, 2)
    assert all(isinstance(v, Decimal) for v in (cash.cash_to_date, cash.planned_cash_to_date, cash.run_rate))

    layout = page("portfolio").layout(as_of=AS_OF)
    assert texts(by_id(layout, "card-cash")) == ["Cash realised to date", "£211,177", "77% of the £274,887 planned"]
    assert texts(by_id(layout, "card-run-rate")) == [
        "Run-rate now (annualised)",
        "£45,000 a year",
        "of £57,500 a year planned · 2 benefits",
    ]
    table = texts(by_id(layout, "portfolio-initiatives-table"))
    assert {"Cash realised to date", "Run-rate (annualised)", "£11,177", "£45,000/yr", "£200,000", "—"} <= set(table)


def test_the_cash_follows_the_filters(session: Any) -> None:
    growth = page("portfolio").layout(as_of=AS_OF, programme="growth")
    assert texts(by_id(growth, "card-cash"))[1] == "£200,000"
    assert texts(by_id(growth, "card-run-rate"))[1:] == ["—", "no benefit is a run-rate"]


def test_the_fan_chart_callback_draws_the_roll_up_with_the_plan_and_names_the_dependence(
    session: Any, store_url: str
) -> None:
    report = build(session, dd.AS_OF, None, DEFAULT_CORRELATION, DEFAULT_SAMPLES)  # what `benefits value` shows
    figure, caption = page("portfolio").fan_chart(AS_OF)
    p90, p10, p50, planned = figure.data
    assert [t.name for t in figure.data] == ["P90", "P10 (band to P90)", "P50 forecast", "Planned"]
    assert list(p50.x) == [y.fiscal_year.label for y in report.rollup.years] == [f"FY{y}" for y in range(2025, 2035)]
    assert list(p10.y) == [float(y.p10) for y in report.rollup.years]
    assert list(p50.y) == [float(y.p50) for y in report.rollup.years]
    assert list(p90.y) == [float(y.p90) for y in report.rollup.years]
    assert p10.fill == "tonexty"  # the band between P10 and P90
    assert p10.y[0] == p50.y[0] == p90.y[0] == 98648.9  # FY2025 has ended: its money is certain
    assert all(low <= mid <= high for low, mid, high in zip(p10.y, p50.y, p90.y, strict=True))
    running = Decimal(0)
    for year, value in zip(report.portfolio.years, planned.y, strict=True):
        running += year.planned
        assert value == float(running)
    assert "correlation 0.5" in caption and "one metric share one draw" in caption
    layout = page("portfolio").layout(as_of=AS_OF)
    assert by_id(layout, "portfolio-fan-as-of").data == AS_OF


def test_the_roll_up_is_built_once_per_data_version_and_kept_in_the_store(
    session: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fan chart reads `benefits value`'s kept report: computed once per data version, then read from
    the store even by a fresh process (memory cleared), and the very report `benefits value` shows."""
    import benefits.value.kept as value_kept

    cache.clear()
    with session.get_bind().engine.begin() as connection:  # none kept yet at this date
        connection.exec_driver_sql("DELETE FROM value_reports")
    computed: list[Any] = []
    real = value_kept.compute
    monkeypatch.setattr(value_kept, "compute", lambda *a: computed.append(a) or real(*a))
    first = queries.value_report(session, dd.AS_OF)
    assert queries.value_report(session, dd.AS_OF) is first  # kept in memory
    cache.clear()
    again = queries.value_report(session, dd.AS_OF)  # a new process: read from the store
    page("portfolio").fan_chart(AS_OF)
    assert len(computed) == 1
    assert again == first == build(session, dd.AS_OF, None, DEFAULT_CORRELATION, DEFAULT_SAMPLES)


def test_benefit_page_shows_cash_apart_from_the_run_rate(store: None, store_url: str) -> None:
    rows = {r["benefit"]: r for r in _status_json(store_url)}
    facts = texts(by_id(page("benefit").layout(key="it-opex", as_of=AS_OF), "benefit-facts"))
    labelled = dict(zip(facts[::2], facts[1::2], strict=False))
    assert (rows["it-opex"]["cash_to_date"], rows["it-opex"]["run_rate"]) == ("9314.85", "37500.00")
    assert labelled["Cash realised to date"] == "£9,315 of £12,945 planned"
    assert labelled["Run-rate now (annualised)"] == "£37,500 a year (planned £50,000 a year)"
    assert "Value to date" not in labelled
    amount = texts(by_id(page("benefit").layout(key="upsell-revenue", as_of=AS_OF), "benefit-facts"))
    assert "Cash realised to date" in amount and "Run-rate now (annualised)" not in amount


def test_initiative_page_and_register_grid_show_cash_and_run_rate(store: None) -> None:
    layout = page("initiative").layout(key="cloud-platform", as_of=AS_OF)
    assert texts(by_id(layout, "card-cash")) == ["Cash realised to date", "£11,177", "of £14,887 planned"]
    assert texts(by_id(layout, "card-run-rate"))[1] == "£45,000 a year"
    grid = page("register")
    summary_layout = grid.layout(as_of=AS_OF)
    headers = [c["headerName"] for c in by_id(summary_layout, "register-grid").columnDefs]
    assert {"Value type", "Cash realised to date", "Cash planned to date", "Run-rate per year"} <= set(headers)
    rows = {r["name"]: r for r in by_id(summary_layout, "register-grid").rowData}
    opex = rows["Lower IT running cost"]
    assert (opex["value_type"], opex["cash_to_date"], opex["run_rate"]) == ("Run-rate (per year)", 9314.85, 37500.0)
    assert (rows["Upsell revenue"]["value_type"], rows["Upsell revenue"]["run_rate"]) == ("Amount (banked)", None)
    lines = grid.csv_text(list(rows.values()), "GBP").splitlines()
    assert "Cash realised to date (GBP)" in lines[0] and "Run-rate per year (GBP)" in lines[0]


def test_finance_page_shows_each_business_case(store: None) -> None:
    layout = page("finance").layout()
    cells = texts(by_id(layout, "finance-business-case"))
    assert cells[: len(business_case.CASE_HEADERS)] == business_case.CASE_HEADERS
    assert {"Cloud & data platform", "Digital sales", "Portfolio", "£250,000"} <= set(cells)
    one = texts(by_id(page("finance").layout(initiative="cloud-platform"), "finance-business-case"))
    assert "Cloud & data platform" in one and not {"Digital sales", "Portfolio"} & set(one)


def test_business_case_rows_are_the_value_report_rounded_once(session: Any) -> None:
    report = build(session, dd.AS_OF, None, DEFAULT_CORRELATION, DEFAULT_SAMPLES)
    portfolio = business_case.case_rows(report)[-1]
    assert portfolio == [
        "Portfolio",
        "£250,000",
        "£1,275,856",
        "£948,505",
        "£1,103,234",
        "£814,687",
        "5.41",
        "4.26",
        "2025-06-23",
        "2025-08-02",
    ]


def test_the_packs_carry_the_business_case_and_the_fan_chart(store_url: str, tmp_path: Path) -> None:
    arguments = ["--database", store_url, "report", "--as-of", AS_OF, "--out"]
    assert CliRunner().invoke(main, [*arguments, str(tmp_path / "pack.html")]).exit_code == 0
    html = (tmp_path / "pack.html").read_text(encoding="utf-8")
    section = html[html.index("<h2>The business case</h2>") :]
    assert "Cash realised to date" in section and "£211,177" in section and "£45,000 a year" in section
    assert re.search(r'<table id="business-case">.*Portfolio.*£1,275,856.*5\.41', section)
    assert 'id="chart-fan"' in section and "correlation 0.5" in section

    assert CliRunner().invoke(main, [*arguments, str(tmp_path / "pack.pptx")]).exit_code == 0
    slides = {s.shapes.title.text: s for s in Presentation(str(tmp_path / "pack.pptx")).slides}
    cells = [
        c.text for shape in slides["Business case"].shapes if shape.has_table for r in shape.table.rows for c in r.cells
    ]
    assert cells[len(business_case.CASE_HEADERS)] == "Portfolio" and "£1,103,234" in cells
    fan = slides["Portfolio cash by fiscal year end: P10, P50, P90 (GBP)"]
    chart = next(shape.chart for shape in fan.shapes if shape.has_chart)
    assert [s.name for s in chart.plots[0].series] == ["P10", "P50", "P90", "Planned"]
    assert list(chart.plots[0].categories)[:2] == ["FY2025", "FY2026"]


def test_a_run_rate_dis_benefit_shows_its_cost_banked_and_its_cost_rate(
    tmp_path: Path, app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = dd.REGISTER_YAML.replace(
        "        cash_releasing: true\n", "        cash_releasing: true\n        dis_benefit: true\n", 1
    )
    url = dd.build_store(tmp_path, register)
    monkeypatch.setattr(data, "_factory", session_factory(make_engine(url)))
    row = {r["benefit"]: r for r in _status_json(url)}["it-opex"]
    assert (row["dis_benefit"], row["value_type"]) == (True, "run_rate")
    facts = texts(by_id(page("benefit").layout(key="it-opex", as_of=AS_OF), "benefit-facts"))
    labelled = dict(zip(facts[::2], facts[1::2], strict=False))
    cost, allowed = -Decimal(row["cash_to_date"]), -Decimal(row["planned_cash_to_date"])
    assert labelled["Cost to date"] == f"{display(cost, 'GBP')} of {display(allowed, 'GBP')} allowed for"
    assert cost > 0
    assert labelled["Cost run-rate now (annualised)"] == f"{display(-Decimal(row['run_rate']), 'GBP')} a year"
