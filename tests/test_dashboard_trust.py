"""Forecast trust on the dashboard: the track record a real forecast run learned, its figures, the
trust page, the benefit page's trust sentence and the steering pack's line.

The store is the dashboard fixture (``tests/dashboard_data.py``) forecast by the real pipeline
(``benefits.forecast.runner.forecast_all``), which backtests the benefits and stores its track
record in ``forecast_runs.calibration``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from html import escape
from pathlib import Path
from typing import Any

import dash
import pytest
from sqlalchemy import select, update

from benefits.dashboards import data, queries, trust, trust_figures
from benefits.dashboards.app import _nav_links, create_app
from benefits.forecast.runner import forecast_all
from benefits.report import steering_pack
from benefits.store import models
from benefits.store.db import make_engine, session_factory

from . import dashboard_data as dd
from .test_dashboard import by_id, page, texts, walk

SUMMARY = {  # a stored track record whose figures the tests know by heart
    "benefits": 40,
    "points": 1994,
    "events": 600,
    "brier": 0.18,
    "paths_fitted": 10,
    "paths_reused": 110,
    "coverage": [
        {"band": "up to 8 weeks", "points": 1000, "raw": 0.6, "calibrated": 0.8},
        {"band": "8 weeks to a quarter", "points": 994, "raw": 0.5, "calibrated": 0.82},
        {"band": "over a year", "points": 0, "raw": None, "calibrated": None},
    ],
    "reliability": [
        {"lower": 0.0, "upper": 0.2, "count": 300, "mean_p": 0.1, "observed": 0.12},
        {"lower": 0.2, "upper": 0.4, "count": 0, "mean_p": None, "observed": None},
        {"lower": 0.4, "upper": 0.6, "count": 180, "mean_p": 0.5, "observed": 0.45},
        {"lower": 0.6, "upper": 0.8, "count": 0, "mean_p": None, "observed": None},
        {"lower": 0.8, "upper": 1.0, "count": 120, "mean_p": 0.9, "observed": 0.88},
    ],
    "classes": [{"category": "cost_reduction", "measure": "level", "decided": 6, "landed": 4, "rate": 0.6}],
    "calibration": {"internal": True},
}


def forecast_store(directory: Path) -> str:
    """The dashboard fixture store with a forecast run of the real pipeline at ``dd.AS_OF``; its URL."""
    url = dd.build_store(directory)
    engine = make_engine(url)
    forecast_all(session_factory(engine), dd.AS_OF, workers=1)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def pipeline_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return forecast_store(tmp_path_factory.mktemp("trust"))


@pytest.fixture(scope="module")
def app(pipeline_url: str) -> dash.Dash:
    return create_app(pipeline_url)


def use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the pages at the store at ``url``."""
    monkeypatch.setattr(data, "_factory", session_factory(make_engine(url)))


@pytest.fixture
def session(app: dash.Dash, pipeline_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    use(pipeline_url, monkeypatch)
    with data.session() as opened:
        yield opened


def test_track_record_is_the_latest_runs_backtests(session: Any) -> None:
    run = session.scalars(select(models.ForecastRun).order_by(models.ForecastRun.id.desc())).first()
    record = trust.track_record(session)
    assert record is not None and record.latest and record.run_id == run.id and record.as_of == dd.AS_OF
    stored = run.calibration
    assert (record.benefits, record.points, record.events) == (stored["benefits"], stored["points"], stored["events"])
    assert record.benefits == 3 and record.points > 0 and record.events > 0  # every fixture benefit was backtested
    assert int(record.coverage["points"].sum()) == record.points
    assert int(record.reliability["count"].sum()) == record.events
    held = sum(b["points"] * b["calibrated"] for b in stored["coverage"] if b["points"]) / stored["points"]
    assert record.calibrated_coverage == pytest.approx(held)


def test_headline_says_how_often_the_range_held_and_the_confident_were_on_plan() -> None:
    record = trust.from_summary(7, dt.date(2026, 11, 30), SUMMARY)
    assert record.calibrated_coverage == pytest.approx((1000 * 0.8 + 994 * 0.82) / 1994)
    assert record.raw_coverage == pytest.approx((1000 * 0.6 + 994 * 0.5) / 1994)
    assert record.confident == (120, pytest.approx(0.88))
    assert trust.headline(record) == (
        "80% intervals held 81% of 1,994 backtested outcomes; benefits given 80% or "
        "more were on plan 88% of the time (120 checks)."
    )
    paragraph = trust.explanation(record)
    assert "forecast of 2026-11-30" in paragraph and "40 benefits" in paragraph
    assert "1,994 outcomes, 600 checks of being on plan" in paragraph
    assert "held 81% (the model's own interval held 55%)" in paragraph


def test_headline_is_honest_when_nothing_was_checked() -> None:
    assert trust.headline(None).startswith("No forecast run has checked its forecasts")
    young = trust.from_summary(1, dd.AS_OF, {"benefits": 0, "points": 0, "coverage": [], "reliability": []})
    assert young.calibrated_coverage is None and young.confident == (0, None)
    assert trust.headline(young).startswith("No past forecast could be checked against what happened yet")
    unsure = trust.from_summary(1, dd.AS_OF, {**SUMMARY, "reliability": SUMMARY["reliability"][:4]})
    assert trust.headline(unsure) == "80% intervals held 81% of 1,994 backtested outcomes."


def test_reliability_chart_draws_the_diagonal_and_every_checked_bin_with_its_count(session: Any) -> None:
    record = trust.track_record(session)
    diagonal, dots = trust_figures.reliability_chart(record.reliability).data
    assert (list(diagonal.x), list(diagonal.y)) == ([0, 1], [0, 1])
    checked = record.reliability[record.reliability["count"] > 0]
    assert list(dots.x) == pytest.approx(checked["mean_p"].to_list())
    assert list(dots.y) == pytest.approx(checked["observed"].to_list())
    assert sum(int(t.replace(",", "")) for t in dots.text) == record.events
    assert "on plan" in dots.hovertemplate and "%{x:.0%}" in dots.hovertemplate


def test_coverage_chart_puts_raw_and_calibrated_against_the_goal() -> None:
    record = trust.from_summary(7, dd.AS_OF, SUMMARY)
    raw, calibrated = trust_figures.coverage_chart(record.coverage, trust.GOAL).data
    assert (raw.name, calibrated.name) == ("Before calibration", "After calibration")
    assert list(raw.x) == [0.6, 0.5, None] and list(calibrated.x) == [0.8, 0.82, None]
    assert list(raw.y) == [
        "up to 8 weeks<br>1,000 outcomes",
        "8 weeks to a quarter<br>994 outcomes",
        "over a year<br>none yet",
    ]
    figure = trust_figures.coverage_chart(record.coverage, trust.GOAL)
    (goal,) = figure.layout.shapes
    assert (goal.x0, goal.x1) == (0.8, 0.8)
    assert [a.text for a in figure.layout.annotations] == ["goal 80%"]


def test_empty_figures_say_nothing_was_checked() -> None:
    record = trust.from_summary(1, dd.AS_OF, {"coverage": [], "reliability": []})
    (note,) = trust_figures.reliability_chart(record.reliability).layout.annotations
    assert note.text == "No forecast chance has been checked against its outcome yet"
    notes = [a.text for a in trust_figures.coverage_chart(record.coverage).layout.annotations]
    assert "No forecast range has been checked against what came in yet" in notes


def test_trust_page_shows_both_charts_the_figures_and_what_they_rest_on(session: Any) -> None:
    record = trust.track_record(session)
    layout = page("trust").layout()
    assert by_id(layout, "trust-headline").children == trust.headline(record)
    assert by_id(layout, "trust-explanation").children == trust.explanation(record)
    assert f"{record.points:,} backtested outcomes" in by_id(layout, "trust-headline").children
    reliability = by_id(layout, "trust-reliability").figure
    assert reliability.data[1].x == trust_figures.reliability_chart(record.reliability).data[1].x
    assert by_id(layout, "trust-coverage").figure.data[0].name == "Before calibration"
    assert "No benefit has reached its target date yet" in by_id(layout, "trust-classes").children  # targets are 2026
    assert not any("_" in t for t in texts(layout))  # no identifiers on the page


def test_trust_page_without_a_track_record_says_so(
    app: dash.Dash, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(dd.build_store(tmp_path), monkeypatch)  # forecast runs written before track records were kept
    layout = page("trust").layout()
    assert "benefits run" in [getattr(c, "children", c) for c in by_id(layout, "trust-empty").children]
    assert by_id(layout, "trust-headline").children == trust.headline(None)
    assert not [c for c in walk(layout) if isinstance(getattr(c, "id", None), str) and c.id.startswith("trust-reliab")]


def test_trust_page_names_an_older_run_and_lists_reference_classes(
    app: dash.Dash, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = dd.build_store(tmp_path)
    engine = make_engine(url)
    with session_factory(engine).begin() as opened:
        first = opened.scalars(select(models.ForecastRun).order_by(models.ForecastRun.id)).first()
        first.calibration = SUMMARY
    engine.dispose()
    use(url, monkeypatch)
    layout = page("trust").layout()
    assert f"forecast of {first.as_of.isoformat()}" in by_id(layout, "trust-older").children
    assert by_id(layout, "card-trust-held").children[1].children == "81%"
    classes = [t for t in texts(by_id(layout, "trust-classes"))]
    assert ["Cost reduction", "level", "6", "4", "60%"] == classes[-5:]


def test_trust_page_is_one_click_from_every_page(app: dash.Dash) -> None:
    link = next(link for link in _nav_links() if link.id == "nav-trust")
    assert (link.href, link.children) == ("/trust", "Forecast trust")


def test_benefit_page_shows_the_trust_the_forecast_run_stored(session: Any) -> None:
    run = session.scalars(select(models.ForecastRun).order_by(models.ForecastRun.id.desc())).first()
    assert len(run.forecasts) == 3
    for forecast in run.forecasts:
        detail = queries.benefit_detail(session, forecast.benefit_key, dd.AS_OF)
        assert (detail.trust, detail.reference_weight, detail.p_model) == (
            forecast.trust,
            forecast.reference_weight,
            forecast.p_model,
        )
        assert forecast.trust.startswith("Its range is set by how far, and which way,")
        layout = page("benefit").layout(key=forecast.benefit_key, as_of=dd.AS_OF.isoformat())
        assert forecast.trust in texts(by_id(layout, "benefit-trust"))
        leaning = [c for c in walk(layout) if getattr(c, "id", None) == "benefit-reference"]
        assert bool(leaning) == (forecast.reference_weight >= 0.05)  # 25 weeks of history, 27 to go: it leans


def test_benefit_page_shows_the_trust_sentence_and_says_when_it_leans_on_comparable_benefits(
    app: dash.Dash, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = dd.build_store(tmp_path)
    sentence = "Its range is set by how far, and which way, 40 past forecasts of 3 benefits in this portfolio missed"
    engine = make_engine(url)
    with session_factory(engine).begin() as opened:
        for key, weight, p_model in [("it-opex", 0.3, 0.2), ("handle-time", 0.01, 0.59)]:
            opened.execute(
                update(models.Forecast)
                .where(models.Forecast.benefit_key == key)
                .values(trust=f"{sentence}; {key}.", reference_weight=weight, p_model=p_model)
            )
    engine.dispose()
    use(url, monkeypatch)
    leaning = page("benefit").layout(key="it-opex", as_of=dd.AS_OF.isoformat())
    assert by_id(leaning, "benefit-reference").children == (
        "This probability leans 30% on how comparable benefits fared; the model alone gives 20%."
    )
    assert f"{sentence}; it-opex." in texts(by_id(leaning, "benefit-trust"))
    assert by_id(leaning, "benefit-trust").children[2].href == "/trust"
    own = page("benefit").layout(key="handle-time", as_of=dd.AS_OF.isoformat())
    assert f"{sentence}; handle-time." in texts(by_id(own, "benefit-trust"))
    assert not [c for c in walk(own) if getattr(c, "id", None) == "benefit-reference"]
    silent = page("benefit").layout(key="upsell-revenue", as_of=dd.AS_OF.isoformat())  # no sentence stored
    assert not [c for c in walk(silent) if getattr(c, "id", None) in ("benefit-trust", "benefit-reference")]


def test_steering_pack_has_the_forecast_trust_line(session: Any) -> None:
    html = steering_pack(session, dd.AS_OF)
    line = escape(trust.headline(trust.track_record(session)))
    assert f'<p class="note" id="forecast-trust">Forecast trust: {line}</p>' in html
    assert "backtested outcomes" in html
