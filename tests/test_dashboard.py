"""The dashboard without a browser: figures, queries, page layouts and the app's routes."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import dash
import pandas as pd
import plotly.graph_objects as go
import pytest
import waitress
from dash import dcc
from plotly.io.json import to_json_plotly
from sqlalchemy import select

from benefits.claims import ClaimSource, Decision
from benefits.claims.importer import ClaimInput, record_claims
from benefits.claims.ledger import claims_report
from benefits.claims.money import display
from benefits.claims.signoff import decide
from benefits.dashboards import cache, data, figures, filters, formatting, queries, server
from benefits.dashboards.app import create_app, serve
from benefits.dashboards.snapshot import Filters, cached_snapshot
from benefits.errors import ConfigError
from benefits.plugins import PLUGIN_API_VERSION
from benefits.register import load_register
from benefits.status import STATUSES, status_rows
from benefits.store import migrate, models
from benefits.store.db import make_engine, session_factory

from . import dashboard_data as dd

AS_OF = dd.AS_OF.isoformat()
XSS = "<script>alert(1)</script>"


@pytest.fixture(scope="session")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return dd.build_store(tmp_path_factory.mktemp("dashboard"))


@pytest.fixture(scope="session")
def app(store_url: str) -> dash.Dash:
    return create_app(store_url)


@pytest.fixture
def store(app: dash.Dash, store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the pages at the fixture store (another test may have pointed them elsewhere)."""
    monkeypatch.setattr(data, "_factory", session_factory(make_engine(store_url)))


@pytest.fixture
def session(store: None) -> Iterator[Any]:
    with data.session() as opened:
        yield opened


def page(name: str) -> Any:
    """A page module, as Dash imported it when the app was created."""
    return importlib.import_module(f"benefits.dashboards.pages.{name}")


def walk(component: Any) -> Iterator[Any]:
    """Every component and text in a layout tree."""
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if child is not None:
            yield from walk(child)


def texts(layout: Any) -> list[str]:
    return [c for c in walk(layout) if isinstance(c, str)]


def by_id(layout: Any, component_id: str) -> Any:
    return next(c for c in walk(layout) if getattr(c, "id", None) == component_id)


def drawn(figure: dict[str, Any]) -> go.Figure:
    """A page's chart, a plain figure dict, through plotly's validation: it must be valid and already in
    the form validation gives it, so that the browser gets what a ``go.Figure`` of it would send."""
    checked = go.Figure(figure)
    assert json.loads(to_json_plotly(checked)) == json.loads(to_json_plotly(figure))
    return checked


def chart(layout: Any, component_id: str) -> go.Figure:
    """The figure of the chart ``component_id`` in ``layout``, checked as :func:`drawn`."""
    return drawn(by_id(layout, component_id).figure)


# --- formatting and figures -------------------------------------------------------------------


def test_the_app_over_a_missing_sqlite_file_fails_in_one_line_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(ConfigError, match=f"no SQLite database at {re.escape(str(missing))}: create it with"):
        create_app(f"sqlite:///{missing}")
    assert not missing.exists()


def test_status_labels_and_colours_cover_every_status_in_order() -> None:
    assert tuple(formatting.STATUS_LABELS) == STATUSES
    assert tuple(formatting.STATUS_COLOURS) == STATUSES


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (317_500, "GBP", "£317,500"),
        (-1_200.4, "GBP", "-£1,200"),
        (25.0, "minutes", "25.0 minutes"),
        (0.5, "FTE", "0.50 FTE"),
        (24.5, "%", "24.5%"),
        (12_345.6, "CHF", "12,346 CHF"),
        (None, "GBP", "—"),
    ],
)
def test_quantities_read_in_their_unit(value: float | None, unit: str, text: str) -> None:
    assert formatting.quantity(value, unit) == text


def test_initiative_bars_show_cash_planned_and_realised_per_initiative_and_the_run_rate_apart() -> None:
    frame = pd.DataFrame(
        {
            "name": ["Cloud & data platform", "Digital sales"],
            "planned_cash_to_date": [Decimal("57500.40"), Decimal("260000")],
            "cash_to_date": [Decimal("45000.50"), Decimal("200000")],
            "run_rate": [Decimal("91250.5"), None],
        }
    )
    figure = drawn(figures.initiative_bars(frame, "GBP"))
    planned, realised = figure.data
    assert (planned.type, planned.name, list(planned.y)) == ("bar", "Cash planned to date", [57_500.4, 260_000.0])
    assert (realised.type, realised.name, list(realised.y)) == ("bar", "Cash realised to date", [45_000.5, 200_000.0])
    assert list(planned.x) == ["Cloud &amp; data platform", "Digital sales"]  # plotly reads HTML in labels
    assert figure.layout.barmode == "group"
    assert figure.layout.title.text == "Cash planned vs realised to date by initiative (GBP)"
    assert "Cash planned to date: £%{y:,.0f}" in planned.hovertemplate
    # the annual run-rate is named apart in the hover, never drawn as a bar
    assert realised.hovertemplate.endswith("Cash realised to date: £%{y:,.0f}%{text}<extra></extra>")
    assert list(realised.text) == ["<br>Run-rate now: £91,251 a year (not in the bars)", ""]
    assert realised.textposition == "none"


def test_a_long_initiative_name_is_two_short_lines_on_the_axis_and_whole_in_the_hover() -> None:
    long = "Cloud & data platform modernisation programme covering every regional data centre and the ERP estate"
    frame = pd.DataFrame(
        {
            "name": [long, "Digital sales"],
            "planned_cash_to_date": [1, 2],
            "cash_to_date": [1, 2],
            "run_rate": [None, Decimal(3)],
        }
    )
    figure = drawn(figures.initiative_bars(frame, "GBP"))
    axis = figure.layout.xaxis
    assert list(axis.ticktext) == ["Cloud &amp; data platform<br>modernisation…", "Digital sales"]
    assert list(axis.tickvals) == list(figure.data[0].x) == [formatting.plot_text(long), "Digital sales"]
    assert figure.data[0].hovertemplate.startswith("%{customdata}<br>")
    assert list(figure.data[0].customdata) == [formatting.plot_text(long), "Digital sales"]


def test_short_label_wraps_onto_at_most_its_lines_and_cuts_the_rest() -> None:
    name = "Lower IT running cost through consolidation of hosting contracts, decommissioning"
    assert formatting.short_label("Digital sales") == "Digital sales"
    assert formatting.short_label(name) == "Lower IT running cost<br>through consolidation…"
    assert (
        formatting.short_label(name, width=36) == "Lower IT running cost through<br>consolidation of hosting contracts…"
    )
    assert formatting.short_label("<b>x</b> & y", lines=1) == "&lt;b&gt;x&lt;/b&gt; &amp; y"  # plotly reads HTML


def test_initiative_bars_say_so_when_there_is_nothing_to_show() -> None:
    figure = drawn(
        figures.initiative_bars(
            pd.DataFrame(columns=["name", "planned_cash_to_date", "cash_to_date", "run_rate"]), "GBP"
        )
    )
    assert [a.text for a in figure.layout.annotations] == ["No benefits in the register yet"]


def test_status_bars_keep_the_status_order_and_colours() -> None:
    counts = {s: n for n, s in enumerate(STATUSES)}
    (bars,) = drawn(figures.status_bars(counts)).data
    assert list(bars.x) == [
        "Achieved",
        "On track",
        "At risk",
        "Off track",
        "Insufficient data",
        "No data",
        "Data stale",
        "Forecast failed",
    ]
    assert list(bars.y) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert list(bars.marker.color) == [formatting.STATUS_COLOURS[s] for s in STATUSES]


def _chart_inputs(forecast: bool = True, actuals: bool = True) -> dict[str, Any]:
    weeks = [dt.date(2025, 1, 6) + dt.timedelta(weeks=n) for n in range(4)]
    return dict(
        unit="minutes",
        baseline=(weeks[0], 30.0),
        target=(dt.date(2025, 3, 3), 20.0),
        planned=pd.DataFrame({"period": weeks, "q": [30.0, 29.0, 28.0, 27.0]}),
        actuals=pd.DataFrame({"period": weeks[1:] if actuals else [], "q": [29.5, 28.5, 27.0] if actuals else []}),
        forecast=pd.DataFrame(
            {
                "period": [dt.date(2025, 2, 3), dt.date(2025, 3, 3)],
                "yhat": [26.0, 22.0],
                "lower": [25.0, 19.0],
                "upper": [27.0, 25.0],
            }
        )
        if forecast
        else queries.forecast_frame([]),
        as_of=dt.date(2025, 1, 27),
        p_on_time=0.62,
    )


def test_benefit_chart_draws_baseline_plan_actuals_forecast_band_and_target() -> None:
    figure = drawn(figures.benefit_chart(**_chart_inputs()))
    traces = {t.name: t for t in figure.data}
    assert list(traces) == [
        "Baseline",
        "Planned",
        "80% interval (lower)",
        "Forecast 80% interval",
        "Forecast (median)",
        "Actual",
        "Target",
    ]
    assert list(traces["Baseline"].y) == [30.0, 30.0]
    assert list(traces["Actual"].y) == [29.5, 28.5, 27.0]
    assert list(traces["Forecast (median)"].y) == [26.0, 22.0]
    assert traces["Forecast 80% interval"].fill == "tonexty"  # fills down to the lower bound before it
    assert list(traces["80% interval (lower)"].y) == [25.0, 19.0]
    assert list(traces["Forecast 80% interval"].y) == [27.0, 25.0]
    assert (list(traces["Target"].x), list(traces["Target"].y)) == ([dt.date(2025, 3, 3)], [20.0])
    assert "Target: 20.0 minutes by 2025-03-03<br>62% likely on time" in traces["Target"].hovertemplate
    assert all("minutes" in t.hovertemplate for t in figure.data)
    assert figure.layout.yaxis.title.text == "minutes"


def test_benefit_chart_without_forecast_or_observations() -> None:
    figure = drawn(figures.benefit_chart(**_chart_inputs(forecast=False, actuals=False)))
    assert [t.name for t in figure.data] == ["Baseline", "Planned", "Actual", "Target"]
    assert [a.text for a in figure.layout.annotations if "observations" in a.text] == [
        "No observations since the baseline date yet"
    ]


# --- queries ------------------------------------------------------------------------------------


def test_probability_history_of_one_run_has_dates_on_its_axis() -> None:
    one = pd.DataFrame({"as_of": [dt.date(2025, 7, 7)], "p_on_time": [0.27], "status": ["at_risk"]})
    axis = drawn(figures.probability_history(one)).layout.xaxis
    assert axis.type == "date" and axis.tickformat == "%d %b %Y"
    assert axis.range == ("2025-06-23", "2025-07-21")  # four weeks around the run, not a fraction of a day
    many = pd.DataFrame(
        {
            "as_of": [dt.date(2025, 1, 6), dt.date(2025, 7, 7)],
            "p_on_time": [0.5, 0.27],
            "status": ["at_risk", "at_risk"],
        }
    )
    assert drawn(figures.probability_history(many)).layout.xaxis.range == ("2024-12-30", "2025-07-14")
    assert drawn(figures.probability_history(one.iloc[:0])).layout.xaxis.range is None


def test_portfolio_summary_adds_up_planned_and_realised_value(session: Any) -> None:
    summary = queries.portfolio_summary(session, dd.AS_OF)
    assert summary.as_of == dd.AS_OF and summary.currency == "GBP"
    assert summary.initiatives.to_dict("records") == [
        {
            "initiative": "cloud-platform",
            "name": "Cloud & data platform",
            "benefits": 2,
            "planned_value": 57_500.0,
            "realised_value": 45_000.0,
            "reported_value": 0,
            "validated_value": 0,
            "cash_to_date": Decimal("11176.96"),  # banked to date: the run-rates accrued day by day
            "planned_cash_to_date": Decimal("14886.99"),
            "run_rate": Decimal("45000.00"),
        },
        {
            "initiative": "digital-sales",
            "name": "Digital sales",
            "benefits": 1,
            "planned_value": 260_000.0,
            "realised_value": 200_000.0,
            "reported_value": 0,
            "validated_value": 0,
            "cash_to_date": Decimal("200000.00"),
            "planned_cash_to_date": Decimal("260000.00"),
            "run_rate": None,  # no run-rate benefit
        },
    ]
    assert summary.categories.set_index("category")["realised_value"].to_dict() == {
        "cost_reduction": 37_500.0,
        "operational_efficiency": 7_500.0,
        "revenue": 200_000.0,
    }
    assert summary.status_counts == {
        "achieved": 0,
        "on_track": 1,
        "at_risk": 1,
        "off_track": 1,
        "insufficient_data": 0,
        "no_data": 0,
        "data_stale": 0,
        "failed": 0,
    }
    assert (summary.planned_value, summary.realised_value) == (317_500.0, 245_000.0)
    for row in summary.benefits.itertuples():
        expected = dd.EXPECTED[row.benefit]
        assert row.planned_value == pytest.approx(expected["planned_value"])
        assert row.realised_value == pytest.approx(expected["realised_value"])
        assert (row.status, row.p_on_time) == (expected["status"], expected["p_on_time"])
    # it-opex went from on track to at risk since the previous run; the others kept their status
    assert summary.changes[["benefit", "previous_status", "status", "owner"]].values.tolist() == [
        ["it-opex", "on_track", "at_risk", "Finance operations"]
    ]
    assert summary.options["programme"] == ["growth", "operations"]
    assert summary.labels["programme"] == {"operations": "Operations transformation", "growth": "Growth"}


def test_filters_narrow_the_summary_and_keep_the_options(session: Any) -> None:
    summary = queries.portfolio_summary(session, dd.AS_OF, Filters(programme="operations", status="at_risk"))
    assert summary.benefits["benefit"].tolist() == ["it-opex"]
    assert (summary.planned_value, summary.realised_value, summary.total) == (50_000.0, 37_500.0, 3)
    assert summary.options["status"] == ["at_risk", "off_track", "on_track"]  # from the whole portfolio
    nothing = queries.portfolio_summary(session, dd.AS_OF, Filters(category="people_capability"))
    assert nothing.benefits.empty and nothing.initiatives.empty and nothing.planned_value == 0.0


def test_portfolio_shows_reported_and_validated_claims_side_by_side(
    database_url: str, tmp_path: Any, app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = session_factory(make_engine(dd.build_store(tmp_path, url=database_url)))
    march, june = dt.date(2025, 3, 31), dt.date(2025, 6, 30)
    with sessions.begin() as opened:
        record_claims(
            opened,
            [
                ClaimInput("it-opex", march, Decimal("30000.10")),
                ClaimInput("it-opex", june, Decimal("45000.25")),  # includes March's value
                ClaimInput("upsell-revenue", june, Decimal("150000")),
            ],
            ClaimSource.csv,
            "ana",
        )
        ids = {(c.benefit_key, c.period): c.id for c in opened.scalars(select(models.Claim))}
        decide(opened, ids["it-opex", march], Decision.approved, "fay", "finance", "March ledger")
        decide(opened, ids["upsell-revenue", june], Decision.rejected, "fay", "finance", "extract was a forecast")
    with sessions() as opened:
        summary = queries.portfolio_summary(opened, dd.AS_OF)
        report = claims_report(opened)
        growth = queries.portfolio_summary(opened, dd.AS_OF, Filters(programme="growth"))
    claimed = summary.initiatives.set_index("initiative")[["reported_value", "validated_value"]].to_dict("index")
    assert claimed == {
        "cloud-platform": {"reported_value": Decimal("45000.25"), "validated_value": Decimal("30000.10")},
        "digital-sales": {"reported_value": Decimal("150000"), "validated_value": Decimal(0)},
    }
    assert (summary.reported_value, summary.validated_value) == (report.reported, report.validated)
    assert (summary.reported_value, summary.validated_value) == (Decimal("195000.25"), Decimal("30000.10"))
    assert all(isinstance(v, Decimal) for v in (*claimed["cloud-platform"].values(), summary.reported_value))
    assert (growth.reported_value, growth.validated_value) == (Decimal("150000"), Decimal(0))

    monkeypatch.setattr(data, "_factory", sessions)
    layout = page("portfolio").layout(as_of=AS_OF)
    assert "£195,000" in texts(by_id(layout, "card-claims-reported"))
    assert "£30,000" in texts(by_id(layout, "card-claims-validated"))
    assert "15% of reported" in texts(by_id(layout, "card-claims-validated"))
    table = texts(by_id(layout, "portfolio-initiatives-table"))
    assert {"Reported (claims)", "Validated (approved)", "£45,000", "£30,000", "£150,000", "£0"} <= set(table)


def _sync_late_revenue(opened: Any) -> None:
    """A later sync delivering 50,000 of upsell revenue at AS_OF (realised to date becomes 250,000)."""
    run = models.SyncRun(connector="late", connector_type="csv", status="succeeded")
    opened.add(run)
    opened.flush()
    opened.add(
        models.Observation(
            metric="crm.upsell_revenue", period=dd.AS_OF, value=50_000.0, unit="GBP", source="late", sync_run_id=run.id
        )
    )
    opened.commit()


def test_cached_snapshot_is_read_again_after_new_data(tmp_path: Any) -> None:
    url = dd.build_store(tmp_path)
    engine = make_engine(url)
    with session_factory(engine)() as opened:
        first = cached_snapshot(opened, dd.AS_OF)
        assert cached_snapshot(opened, dd.AS_OF) is first
        _sync_late_revenue(opened)
        again = cached_snapshot(opened, dd.AS_OF)
        assert again is not first
        assert again.set_index("benefit").loc["upsell-revenue", "realised_to_date"] == 250_000.0
    engine.dispose()


def test_warmer_reads_new_data_before_the_next_view(tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    """`benefits serve` keeps the snapshot warm: after a sync the next view finds it already read."""
    url = dd.build_store(tmp_path)
    engine = make_engine(url)
    factory = session_factory(engine)
    calls: list[int] = []

    def warm() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("store briefly away")
        with factory() as opened:
            cached_snapshot(opened, dd.AS_OF)

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 20
        while len(calls) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(calls) >= count, "the warmer stopped ticking"

    cache.clear()
    stop = cache.keep_warm(warm, every=0.05)
    try:
        wait_for(3)  # past the failing first tick and one good one
        with factory() as opened:
            _sync_late_revenue(opened)
        wait_for(len(calls) + 2)  # a whole tick that started after the commit
        with factory() as opened:
            kept = cache.cached(opened, "snapshot", dd.AS_OF, lambda: pytest.fail("the new data was not read ahead"))
        assert kept.set_index("benefit").loc["upsell-revenue", "realised_to_date"] == 250_000.0
        assert "store briefly away" in caplog.text  # a failing tick is logged, the next ones run
    finally:
        stop.set()
        engine.dispose()


@pytest.mark.parametrize("key", list(dd.EXPECTED))
def test_benefit_detail_has_actuals_plan_and_forecast_in_the_tracked_quantity(session: Any, key: str) -> None:
    detail = queries.benefit_detail(session, key, dd.AS_OF)
    assert detail is not None
    expected = dd.EXPECTED[key]
    # observations before the baseline date and after as_of are left out
    assert (detail.actuals["period"].iloc[0], detail.actuals["period"].iloc[-1]) == (dt.date(2025, 1, 13), dd.LAST_WEEK)
    assert len(detail.actuals) == dd.WEEKS
    assert detail.actuals["q"].iloc[-1] == pytest.approx(expected["q"])
    planned = detail.planned
    assert (planned["period"].iloc[0], planned["q"].iloc[0]) == (detail.baseline_date, detail.baseline_value)
    assert (planned["period"].iloc[-1], planned["q"].iloc[-1]) == (detail.target_date, detail.target_value)
    assert len(planned) == 53  # weekly over the 52 weeks from baseline to target
    assert planned.set_index("period")["q"][dd.AS_OF] == pytest.approx(
        detail.baseline_value + (detail.target_value - detail.baseline_value) / 2
    )
    assert list(detail.forecast.columns) == ["period", "yhat", "lower", "upper"]
    assert (detail.forecast["period"].iloc[0], detail.forecast["period"].iloc[-1]) == (dd.AS_OF, detail.target_date)
    assert (detail.forecast["lower"] <= detail.forecast["yhat"]).all()
    assert (detail.forecast["yhat"] <= detail.forecast["upper"]).all()
    assert detail.forecast_as_of == dd.AS_OF
    assert detail.row.p_on_time == expected["p_on_time"]
    assert detail.row.previous_status is not None


def test_unknown_benefit_has_no_detail(session: Any) -> None:
    assert queries.benefit_detail(session, "does-not-exist", dd.AS_OF) is None


def test_a_store_without_tables_is_reported_not_raised(
    tmp_path: Any, app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(data, "_factory", session_factory(make_engine(f"sqlite:///{tmp_path / 'empty.db'}")))
    with data.session() as opened, pytest.raises(queries.StoreUnavailable, match="benefits db upgrade"):
        queries.portfolio_summary(opened)
    layouts = [
        page(name).layout(key="it-opex")
        for name in ("portfolio", "benefit", "initiative", "register", "data_quality", "connectors", "benefits_map")
    ]
    for layout in layouts:
        assert "The store is not ready" in texts(layout)


def test_a_store_without_a_register_says_how_to_get_one(
    tmp_path: Any, app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate.upgrade(engine)
    monkeypatch.setattr(data, "_factory", session_factory(engine))
    with data.session() as opened:
        summary = queries.portfolio_summary(opened)
    assert (summary.total, summary.initiatives.empty, summary.planned_value) == (0, True, 0.0)
    assert set(summary.status_counts.values()) == {0}
    empty = page("portfolio").layout()
    assert "No benefits yet" in texts(empty)
    assert [c.children for c in walk(empty) if isinstance(c, dash.html.Code)] == [
        "benefits init --demo",
        "benefits run",
    ]
    assert not [t for t in texts(empty) if "`" in t]


# --- pages --------------------------------------------------------------------------------------


def test_portfolio_page_has_cards_charts_changes_and_links(store: None) -> None:
    layout = page("portfolio").layout(as_of=AS_OF)
    for chart_id in ("portfolio-initiatives", "portfolio-status"):
        assert isinstance(by_id(layout, chart_id), dcc.Graph) and chart(layout, chart_id).data
    assert texts(by_id(layout, "card-planned"))[-1] == "£317,500"
    assert texts(by_id(layout, "card-realised"))[-2:] == ["£245,000", "77% of planned"]
    assert texts(by_id(layout, "card-category-revenue")) == [
        "Revenue",
        "£200,000",
        "realised of £260,000 planned · 1 benefits",
    ]
    changes = by_id(layout, "portfolio-changes")
    assert [c.href for c in walk(changes) if isinstance(c, dcc.Link)] == ["/benefit/it-opex?as_of=2025-07-07"]
    assert {"On track", "At risk", "Finance operations"} <= set(texts(changes))
    links = {c.children: c.href for c in walk(by_id(layout, "portfolio-initiatives-table")) if isinstance(c, dcc.Link)}
    assert links == {
        "Cloud & data platform": "/initiative/cloud-platform?as_of=2025-07-07",
        "Digital sales": "/initiative/digital-sales?as_of=2025-07-07",
    }
    dropdowns = {c.id["name"]: c for c in walk(by_id(layout, "filters")) if isinstance(c, dcc.Dropdown)}
    assert list(dropdowns) == ["programme", "tactic", "category", "owner", "status"]
    assert {o["label"] for o in dropdowns["programme"].options} == {"Growth", "Operations transformation"}


def test_portfolio_chart_by_initiative_is_status_s_cash_with_the_run_rate_apart(store: None) -> None:
    with data.session() as opened:
        rows = status_rows(opened, dd.AS_OF)
    planned, realised = chart(page("portfolio").layout(as_of=AS_OF), "portfolio-initiatives").data
    assert list(planned.x) == ["Cloud &amp; data platform", "Digital sales"]
    keys = ["cloud-platform", "digital-sales"]
    for key, planned_cash, cash, rate in zip(keys, planned.y, realised.y, realised.text, strict=True):
        own = [r for r in rows if r.initiative == key]
        assert planned_cash == float(sum((r.planned_cash_to_date for r in own), Decimal(0)))
        assert cash == float(sum((r.cash_to_date for r in own), Decimal(0)))
        rates = [r.run_rate for r in own if r.value_type == "run_rate"]
        assert rate == (
            f"<br>Run-rate now: {display(sum(rates, Decimal(0)), 'GBP')} a year (not in the bars)" if rates else ""
        )
    opex = next(r for r in rows if r.benefit == "it-opex")  # a run-rate: its annual rate is not its cash
    assert opex.value_type == "run_rate" and float(opex.cash_to_date) != opex.realised_value
    assert realised.y[0] != sum(r.realised_value for r in rows if r.initiative == "cloud-platform")


def test_portfolio_page_lists_the_benefits_at_risk_or_off_track(store: None) -> None:
    attention = by_id(page("portfolio").layout(as_of=AS_OF), "portfolio-attention")
    rows = [texts(row) for row in walk(attention) if type(row).__name__ == "Tr"][1:]
    assert [row[:6] for row in rows] == [
        ["Upsell revenue", "upsell-revenue", "Digital sales", "Off track", "8%", "Sales"],
        ["Lower IT running cost", "it-opex", "Cloud & data platform", "At risk", "27%", "Finance operations"],
    ]
    assert [c.href for c in walk(attention) if isinstance(c, dcc.Link)] == [
        "/benefit/upsell-revenue?as_of=2025-07-07",
        "/benefit/it-opex?as_of=2025-07-07",
    ]
    calm = by_id(page("portfolio").layout(as_of=AS_OF, category="operational_efficiency"), "portfolio-attention")
    assert texts(calm) == ["No benefit is at risk or off track."]


def test_a_long_initiatives_table_lists_those_furthest_behind_plan(
    store: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    portfolio = page("portfolio")
    monkeypatch.setattr(portfolio, "INITIATIVES_SHOWN", 1)
    layout = portfolio.layout(as_of=AS_OF)
    # Digital sales: £260,000 planned, £200,000 realised (60,000 behind); Cloud & data platform 12,500 behind.
    links = [c.children for c in walk(by_id(layout, "portfolio-initiatives-table")) if isinstance(c, dcc.Link)]
    assert links == ["Digital sales"]
    assert texts(by_id(layout, "portfolio-initiatives-more"))[0].startswith(
        "The 1 of 2 initiatives furthest behind plan"
    )
    assert len(chart(layout, "portfolio-initiatives").data[0].x) == 2  # the chart keeps every initiative


def test_portfolio_page_follows_the_url_filters(store: None) -> None:
    layout = page("portfolio").layout(as_of=AS_OF, programme="growth")
    assert texts(by_id(layout, "card-planned"))[-1] == "£260,000"
    assert list(chart(layout, "portfolio-initiatives").data[0].x) == ["Digital sales"]
    dropdown = next(
        c for c in walk(by_id(layout, "filters")) if getattr(c, "id", {}) == {"type": "filter", "name": "programme"}
    )
    assert dropdown.value == "growth"
    empty = page("portfolio").layout(as_of=AS_OF, programme="growth", category="cost_reduction")
    assert "No benefit matches these filters." in texts(empty)


@pytest.mark.parametrize(
    ("search", "values", "expected"),
    [
        ("?as_of=2025-07-07", {"programme": "growth"}, "?programme=growth&as_of=2025-07-07"),
        ("?programme=growth&as_of=2025-07-07", {"programme": None}, "?as_of=2025-07-07"),
        ("?programme=growth", {"programme": None, "status": None}, ""),
        ("?status=at_risk", {"programme": "ops", "status": "at_risk"}, "?programme=ops&status=at_risk"),
        ("?programme=ops", {"programme": "ops"}, None),  # nothing changed
    ],
)
def test_a_filter_change_rewrites_the_url(search: str, values: dict[str, Any], expected: str | None) -> None:
    assert filters.search_with(search, values) == expected


def test_initiative_page_has_a_small_chart_per_benefit(store: None) -> None:
    layout = page("initiative").layout(key="cloud-platform", as_of=AS_OF)
    assert texts(by_id(layout, "initiative-name")) == ["Cloud & data platform"]
    sparks = [c for c in walk(layout) if isinstance(c, dcc.Graph)]
    assert [g.id for g in sparks] == ["spark-it-opex", "spark-handle-time"]
    assert all([t["name"] for t in g.figure["data"]] == ["Planned", "Actual", "Target"] for g in sparks)
    assert len(sparks[0].figure["data"][1]["x"]) == dd.WEEKS
    assert texts(by_id(layout, "card-planned"))[-1] == "£57,500"
    assert "No initiative called “nope”" in texts(page("initiative").layout(key="nope"))


def test_benefit_page_shows_probability_history_quality_notes_and_revisions(store: None) -> None:
    layout = page("benefit").layout(key="it-opex", as_of=AS_OF)
    history = chart(layout, "benefit-history").data[0]
    assert [str(x) for x in history.x] == ["2025-06-30", "2025-07-07"] and list(history.y) == [0.5, 0.27]
    notes = texts(by_id(layout, "benefit-quality"))
    assert "Latest observation of ledger.it_opex: 2025-06-30 (7 days before 2025-07-07)." in notes
    assert "25 observations since the baseline date." in notes
    assert not any(n.startswith("No observation of") for n in notes)  # it has observations
    assert texts(by_id(layout, "benefit-revisions"))[-4:] == ["2025-01-27", "fixture", "£499,000", "2"]
    lineage = texts(by_id(layout, "benefit-lineage"))  # headers, then the newest reading up to as_of first
    assert lineage[5:10] == ["2025-06-30", lineage[6], "fixture", "— (not recorded)", lineage[9]]
    assert lineage[6].startswith("£") and lineage[9].endswith(", 2025-07-07 06:00 UTC")
    assert "1 earlier values were restated by a source (below)." in notes


def test_benefit_detail_says_why_its_metric_is_stale(session: Any) -> None:
    stale = queries.benefit_detail(session, "upsell-revenue", dt.date(2025, 9, 1))
    assert stale is not None and stale.row.status == "data_stale"
    assert stale.stale_message == (
        "no new data for crm.upsell_revenue since 2025-06-30 (its usual cadence is 7 days): forecast withheld"
    )
    current = queries.benefit_detail(session, "upsell-revenue", dd.AS_OF)
    assert current is not None and current.stale_message == ""


def test_register_grid_lists_every_benefit_in_its_units(store: None) -> None:
    layout = page("register").layout(as_of=AS_OF)
    grid = by_id(layout, "register-grid")
    assert [r["name"] for r in grid.rowData] == ["Lower IT running cost", "Faster ticket handling", "Upsell revenue"]
    first = grid.rowData[0]
    assert (first["status"], first["category"], first["href"]) == (
        "At risk",
        "Cost reduction",
        "/benefit/it-opex?as_of=2025-07-07",
    )
    columns = {c["field"]: c for c in grid.columnDefs}
    assert "'£' + d3.format(',.0f')" in columns["planned_value"]["valueFormatter"]["function"]
    assert "d3.format('.0%')" in columns["p_on_time"]["valueFormatter"]["function"]
    assert all(c.get("cellRenderer") in (None, "PageLink") for c in grid.columnDefs)  # no HTML renderer
    filtered = by_id(page("register").layout(as_of=AS_OF, category="revenue"), "register-grid")
    assert [r["name"] for r in filtered.rowData] == ["Upsell revenue"]


def test_register_grid_rows_are_readable_plain_values_with_none_for_gaps(app: dash.Dash) -> None:
    fields = [field for field, _, _ in page("register").GRID_COLUMNS]
    frame = pd.DataFrame([{field: f"{field} 1" for field in fields} | {"benefit": "a/b"}] * 2)
    frame["status"], frame["previous_status"] = ["at_risk", "off_track"], pd.Series([None, "on_track"], dtype=object)
    frame["category"], frame["tactic"] = "cost_reduction", "data_driven_insight"
    frame["value_type"] = ["run_rate", "something_else"]
    frame["p_on_time"] = [0.25, float("nan")]  # a gap pandas holds as NaN
    frame["cash_to_date"], frame["planned_cash_to_date"] = [Decimal("10.25"), Decimal(0)], Decimal(1)
    frame["run_rate"] = pd.Series([None, Decimal(3)])
    first, second = page("register").grid_rows(frame, dt.date(2025, 7, 7))
    assert list(first) == [*fields, "href"]
    assert (first["status"], first["previous_status"], second["previous_status"]) == ("At risk", None, "On track")
    assert (first["category"], first["tactic"]) == ("Cost reduction", "Data driven insight")
    assert (first["value_type"], second["value_type"]) == ("Run-rate (per year)", None)
    assert (first["p_on_time"], second["p_on_time"]) == (0.25, None)
    assert (first["cash_to_date"], first["run_rate"], second["run_rate"]) == (10.25, None, 3.0)
    assert type(second["cash_to_date"]) is float and first["metric"] == "metric 1"
    assert first["href"] == "/benefit/a%2Fb?as_of=2025-07-07"


def test_excel_export_keeps_text_as_text(store: None) -> None:
    import io

    from openpyxl import load_workbook

    rows = by_id(page("register").layout(as_of=AS_OF), "register-grid").rowData
    rows[0]["name"] = '=HYPERLINK("http://evil", "x")'
    sheet = load_workbook(io.BytesIO(page("register").excel_bytes(rows))).active
    assert [c.value for c in sheet[1]][:5] == ["Benefit", "Initiative", "Status", "Likely on time", "Planned to date"]
    assert sheet.max_row == 4
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith("=HYPERLINK")
    assert sheet["E2"].value == 50_000.0  # planned to date, a number


def test_csv_export_writes_numbers_as_numbers_and_formulas_as_text(store: None) -> None:
    import csv
    import io

    register = page("register")
    rows = by_id(register.layout(as_of=AS_OF), "register-grid").rowData
    rows[0]["owner"] = '=HYPERLINK("http://evil", "x")'
    rows[1]["name"] = "@SUM(1+1)"
    rows[2]["initiative_name"] = "-2+3"
    download = register.export_csv(1, rows, rows, {"currency": "GBP", "as_of": AS_OF})
    assert download["filename"] == f"benefits-{AS_OF}.csv"
    lines = list(csv.DictReader(io.StringIO(register.csv_text(rows, "GBP"))))
    assert lines[0]["Owner"] == '\'=HYPERLINK("http://evil", "x")'
    assert lines[1]["Benefit"] == "'@SUM(1+1)" and lines[2]["Initiative"] == "'-2+3"
    assert (lines[0]["Planned to date (GBP)"], lines[0]["Realised to date (GBP)"]) == ("50000.0", "37500.0")
    assert lines[0]["Likely on time (%)"] == "27.0" and lines[0]["Status"] == "At risk"
    assert lines[2]["Benefit"] == "Upsell revenue"


def test_data_quality_speaks_plain_words_and_rounded_days(store: None) -> None:
    from benefits.dashboards.quality import check_name
    from benefits.staleness import days

    assert check_name("expect_column_values_to_be_between(jump_score)") == "Sudden jump from the previous period"
    assert check_name("expect_column_pair_values_a_to_be_greater_than_b(max_value, value)") == "Value above its maximum"
    assert check_name("expect_column_values_to_be_unique(invoice)#2") == "invoice: expected to be unique #2"
    assert [days(10.9268), days(3.5), days(7.0), days(1.0)] == ["11 days", "3.5 days", "7 days", "1 day"]
    layout = page("data_quality").layout(as_of=AS_OF)
    words = " ".join(texts(layout) + list(by_id(layout, "quality-failures").figure.data[0].y))
    assert (
        "expect_" not in words
        and "Rows failing each validation check" in by_id(layout, "quality-failures").figure.layout.title.text
    )
    assert not re.search(r"\d\.\d{2,} days", words)


def test_data_quality_page_shows_runs_failures_quarantine_and_staleness(store: None) -> None:
    layout = page("data_quality").layout(as_of=AS_OF)
    runs = by_id(layout, "quality-runs").figure.data
    assert [(t.name, list(t.y)) for t in runs] == [("Accepted", [77, 1]), ("Quarantined", [0, 2]), ("Restated", [0, 1])]
    failures = by_id(layout, "quality-failures").figure.data[0]
    assert list(failures.x) == [0, 1, 1]
    assert list(failures.y) == ["metric: expected to match regex", "Value missing", "Value not a finite number"]
    held = texts(by_id(layout, "quality-quarantine"))
    assert {"value: missing", "value: -5 is outside [0, None]", "crm.upsell_revenue"} <= set(held)
    assert texts(by_id(layout, "card-held"))[1] == "2"
    stale = texts(by_id(layout, "quality-stale"))
    assert {"ledger.it_opex", "crm.upsell_revenue", "ticketing.avg_handle_minutes"} <= set(stale)
    assert texts(by_id(layout, "card-stale"))[1] == "0"
    later = page("data_quality").layout(as_of="2025-09-01")  # nine weeks after the last observation
    assert texts(by_id(later, "card-stale"))[1] == "3"


def test_connectors_page_lists_plugins_and_last_syncs(store: None) -> None:
    layout = page("connectors").layout()
    plugins = texts(by_id(layout, "connectors-plugins"))
    assert "csv" in plugins and "CSV files (built in)" in plugins and "connectors" in plugins
    assert PLUGIN_API_VERSION in plugins  # the plugin API version each plugin is written for
    words = " ".join(texts(layout))
    assert "`" not in words and "benefits.plugins" not in words and "register_connectors" not in words
    assert page("connectors").plugin_label("acme_plugins.jira_sync") == "Jira sync"
    assert page("connectors").adds("register_connectors, register_expectations") == "connectors, validation checks"
    last = texts(by_id(layout, "connectors-last"))
    assert ["fixture", "csv", "succeeded"] == last[len(last) - 9 : len(last) - 6]
    assert by_id(layout, "connectors-runs").figure.data


def test_benefits_map_links_initiatives_to_benefits_to_outcomes(store: None) -> None:
    layout = page("benefits_map").layout(as_of=AS_OF)
    sankey = chart(layout, "benefits-map").data[0]
    labels = list(sankey.node.label)
    assert labels[:2] == ["Cloud &amp; data platform", "Digital sales"]
    assert "Outcome: Revenue" in labels
    links = {(labels[a], labels[b]) for a, b in zip(sankey.link.source, sankey.link.target, strict=True)}
    assert ("Digital sales", "Upsell revenue") in links and ("Upsell revenue", "Outcome: Revenue") in links
    assert len(sankey.link.source) == 6  # two links per benefit


def test_benefit_page_heads_the_chart_with_status_and_probability(store: None) -> None:
    layout = page("benefit").layout(key="it-opex", as_of=AS_OF)
    assert chart(layout, "benefit-chart").data
    assert texts(by_id(layout, "benefit-name")) == ["Lower IT running cost"]
    words = texts(layout)
    for expected in (
        "At risk",
        "was On track in the previous forecast",
        "27% likely by 2026-01-05",
        "Not expected to land within the forecast horizon",
        "£9,315 of £12,945 planned",  # cash realised to date
        "£37,500 a year (planned £50,000 a year)",  # the run-rate, under its own label
    ):
        assert expected in words
    assert any("Cloud & data platform" in w and "owner Finance operations" in w for w in words)
    landing = page("benefit").layout(key="handle-time", as_of=AS_OF)
    assert texts(by_id(landing, "benefit-landing")) == ["Expected landing 2025-12-29"]


def test_a_stale_benefit_says_so_and_shows_its_last_forecast(store: None) -> None:
    layout = page("benefit").layout(key="handle-time", as_of="2025-09-01")
    words = texts(layout)
    assert texts(by_id(layout, "benefit-likely")) == ["Data stale: no current probability of landing"]
    landing = texts(by_id(layout, "benefit-landing"))
    assert landing == [
        f"The last forecast ({AS_OF}) gave a 58% chance of landing by 2026-01-05, expected landing 2025-12-29"
    ]
    assert "No probability of landing yet" not in words
    assert "Not expected to land within the forecast horizon" not in words
    facts = texts(by_id(layout, "benefit-facts"))
    assert facts[facts.index("Forecast at the target date") + 1].endswith(f"(forecast of {AS_OF})")


def test_a_dis_benefit_over_its_limit_is_an_adverse_effect_not_an_improvement(
    tmp_path: Any, app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = dd.REGISTER_YAML.replace("        name: Upsell revenue\n", "        name: Extra support cost\n").replace(
        "target: {value: 520000, date: 2026-01-05}\n        owner: Sales\n",
        "target: {value: 150000, date: 2026-01-05}\n        owner: Sales\n        dis_benefit: true\n",
    )
    monkeypatch.setattr(data, "_factory", session_factory(make_engine(dd.build_store(tmp_path, register))))
    layout = page("benefit").layout(key="upsell-revenue", as_of=AS_OF)
    words = texts(by_id(layout, "benefit-facts"))
    facts = dict(zip(words[::2], words[1::2], strict=False))
    assert facts["Tolerated limit"] == "£150,000 by 2026-01-05"
    assert facts["Adverse effect to date"] == "£200,000 (133% of the tolerated limit, over the limit)"
    assert facts["Cost to date"] == "£200,000 of £75,000 allowed for"
    assert not [w for w in texts(by_id(layout, "benefit-facts")) if "mprovement" in w or "realised" in w]
    assert texts(by_id(layout, "benefit-likely")) == ["8% likely to stay within its limit by 2026-01-05"]
    assert texts(by_id(layout, "benefit-landing")) == [""]


def test_unknown_benefit_gets_a_friendly_message(store: None) -> None:
    layout = page("benefit").layout(key="does-not-exist")
    assert "No benefit called “does-not-exist”" in texts(layout)
    assert not any(isinstance(c, dcc.Graph) for c in walk(layout))


@pytest.mark.parametrize("name", ["portfolio", "benefit", "initiative", "register", "data_quality", "benefits_map"])
def test_a_bad_as_of_gets_a_friendly_message(store: None, name: str) -> None:
    layout = page(name).layout(key="it-opex", as_of="last tuesday")
    assert "That date is not valid" in texts(layout)


def test_not_found_page(app: dash.Dash) -> None:  # pages are imported and registered by an app
    assert "Page not found" in texts(page("not_found_404").layout())


def test_an_address_no_page_claims_answers_404(app: dash.Dash, store: None) -> None:
    client = app.server.test_client()
    for path in ("/nowhere", "/benefit", "/benefit/it-opex/extra", "/404", "/registers"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "/assets/benefits.css" in response.get_data(as_text=True), path  # still the page shell
    for path in ("/", "/register/", "/benefit/it-opex", "/trust", "/finance"):
        assert client.get(path).status_code == 200, path


def test_register_text_stays_text(tmp_path: Any, app: dash.Dash, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = dd.REGISTER_YAML.replace("name: Lower IT running cost", f"name: '{XSS}'").replace(
        "name: Cloud & data platform", f"name: '{XSS}'"
    )
    url = dd.build_store(tmp_path, hostile)
    monkeypatch.setattr(data, "_factory", session_factory(make_engine(url)))
    for layout in (
        page("portfolio").layout(as_of=AS_OF),
        page("benefit").layout(key="it-opex", as_of=AS_OF),
        page("initiative").layout(key="cloud-platform", as_of=AS_OF),
    ):
        components = list(walk(layout))
        assert XSS in [c for c in components if isinstance(c, str)]
        assert not [c for c in components if type(c).__name__ in {"Markdown", "Iframe", "Script"}]
    bars = chart(page("portfolio").layout(as_of=AS_OF), "portfolio-initiatives")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in bars.data[0].x
    sankey = chart(page("benefits_map").layout(as_of=AS_OF), "benefits-map").data[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in sankey.node.label and XSS not in sankey.node.label
    grid = by_id(page("register").layout(as_of=AS_OF), "register-grid")
    assert grid.rowData[0]["name"] == XSS  # rendered by React as text (see the browser test)


@pytest.mark.skipif(not (dd.CONFIG / "portfolio.yaml").exists(), reason="no demo register in config/")
def test_every_page_of_the_demo_register_renders(
    tmp_path: Any, app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_of = dt.date(2026, 6, 1)
    monkeypatch.setattr(data, "_factory", session_factory(make_engine(dd.build_demo_store(tmp_path, as_of))))
    portfolio = page("portfolio").layout(as_of=as_of.isoformat())
    links = [r["href"] for r in by_id(page("register").layout(as_of=as_of.isoformat()), "register-grid").rowData]
    benefits = [b for _, b in load_register(dd.CONFIG).benefits()]
    assert links == [f"/benefit/{b.key}?as_of={as_of.isoformat()}" for b in benefits]
    assert chart(portfolio, "portfolio-initiatives").data[0].x
    initiatives = [i.key for i in load_register(dd.CONFIG).initiatives]
    for key in initiatives:
        assert by_id(page("initiative").layout(key=key, as_of=as_of.isoformat()), "initiative-benefits").children
    assert chart(page("benefits_map").layout(as_of=as_of.isoformat()), "benefits-map").data
    sample = {(b.category, b.measure, b.starts_after is None): b.key for b in benefits}  # one of each kind
    for key in sample.values():
        assert chart(page("benefit").layout(key=key, as_of=as_of.isoformat()), "benefit-chart").data, key


# --- the app ------------------------------------------------------------------------------------


def test_app_serves_both_pages_from_its_own_assets(app: dash.Dash, store: None) -> None:
    client = app.server.test_client()
    for path in (
        "/",
        "/benefit/it-opex",
        "/benefit/does-not-exist",
        "/nowhere",
        "/register",
        "/data-quality",
        "/connectors",
        "/map",
        "/initiative/cloud-platform",
    ):
        response = client.get(path)
        assert response.status_code == (404 if path == "/nowhere" else 200), path
        sources = re.findall(r'(?:src|href)="([^"]+)"', response.get_data(as_text=True))
        assert sources and all(s.startswith("/") for s in sources), sources
        assert "/assets/benefits.css" in " ".join(sources)


def test_router_renders_the_benefit_page_for_its_url(app: dash.Dash, store: None) -> None:
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/benefit/upsell-revenue"},
            {"id": "_pages_location", "property": "search", "value": f"?as_of={AS_OF}"},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    response = app.server.test_client().post("/_dash-update-component", json=body)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert '"benefit-chart"' in text and "8% likely by 2026-01-05" in text
    assert response.get_json()["response"]["_pages_store"]["data"]["title"] == "upsell-revenue · benefits"


def test_serve_runs_the_app_on_the_given_address(monkeypatch: pytest.MonkeyPatch, store_url: str) -> None:
    calls: list[Any] = []
    listening = SimpleNamespace(run=lambda: calls.append("run"))
    monkeypatch.setattr(waitress, "create_server", lambda app, **kwargs: calls.append(kwargs) or listening)
    monkeypatch.setattr(data, "_factory", data._factory)  # serve() reconfigures the store; restore it after
    serve("127.0.0.1", 8050, store_url, echo=calls.append)
    assert calls == [
        {
            "host": "127.0.0.1",
            "port": 8050,
            "threads": server.threads(),
            "ident": "benefits",
            "clear_untrusted_proxy_headers": True,  # nothing reads them: waitress drops them
        },
        "dashboard on http://127.0.0.1:8050/ (open: no sign-in, anyone on this machine acts as admin; Ctrl+C to stop)",
        "run",  # the line is said once the address is taken, before serving
    ]
    assert 4 <= server.threads() <= 32
