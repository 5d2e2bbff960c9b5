"""The forecast-trust page ("/trust"): how far the portfolio's forecasts can be trusted, from the
track record the latest forecast run learned by backtesting the portfolio's own history — how
often the 80% range held what came in (by how far ahead it looked, before and after calibration),
whether the chances of being on plan were right (reliability), and how comparable benefits fared.
"""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import html

from benefits.dashboards import components, data, queries, trust, trust_figures
from benefits.dashboards.formatting import category_label, percent

dash.register_page(__name__, path="/trust", name="Forecast trust", title="Forecast trust · benefits", order=5)


def layout(**_other: Any) -> html.Div:
    """The page for the latest forecast run that learned a track record."""
    try:
        with data.session() as session:
            record = trust.track_record(session)
    except queries.StoreUnavailable as exc:
        return components.notice("The store is not ready", str(exc))
    if record is None:
        return _empty()
    return html.Div(
        [
            html.H1("Forecast trust"),
            html.P(trust.headline(record), className="subtitle", id="trust-headline"),
            *_older_run(record),
            _cards(record),
            html.P(trust.explanation(record), id="trust-explanation", className="explanation"),
            html.Div(
                [
                    components.graph("trust-reliability", trust_figures.reliability_chart(record.reliability)),
                    components.graph("trust-coverage", trust_figures.coverage_chart(record.coverage, trust.GOAL)),
                ],
                className="charts",
            ),
            html.H2("How comparable benefits fared"),
            _classes(record.classes),
        ],
        className="page trust",
    )


def _empty() -> html.Div:
    return html.Div(
        [
            html.H1("Forecast trust"),
            html.P(trust.headline(None), className="subtitle", id="trust-headline"),
            html.P(
                components.with_code(
                    "Every forecast run checks forecasts made from past dates against what came in since, and "
                    "shows here how often its ranges held and whether its chances were right. Run `benefits run` "
                    "(or `benefits forecast`) to build the first track record."
                ),
                id="trust-empty",
                className="message",
            ),
        ],
        className="page trust",
    )


def _older_run(record: trust.TrackRecord) -> list[html.P]:
    if record.latest:
        return []
    return [
        html.P(
            f"The latest forecast run has no track record; these figures are from the forecast of "
            f"{record.as_of.isoformat()}.",
            className="message",
            id="trust-older",
        )
    ]


def _cards(record: trust.TrackRecord) -> html.Div:
    held, raw = record.calibrated_coverage, record.raw_coverage
    count, on_plan = record.confident
    brier = f"{record.brier:.3f}" if record.brier is not None else "—"
    return html.Div(
        [
            components.card(
                "80% range held",
                percent(held),
                f"of {record.points:,} backtested outcomes · goal 80%",
                card_id="card-trust-held",
            ),
            components.card("Before calibration", percent(raw), "the model's own 80% range", card_id="card-trust-raw"),
            components.card(
                f"Given {percent(trust.CONFIDENT)} or more",
                percent(on_plan),
                f"were on plan · {count:,} checks" if count else "no forecast that confident yet",
                card_id="card-trust-confident",
            ),
            components.card(
                "Accuracy score (Brier)", brier, "0 is perfect; 0.25 is a coin toss", card_id="card-trust-brier"
            ),
        ],
        className="cards",
    )


def _classes(classes: pd.DataFrame) -> html.P | html.Table:
    if classes.empty:
        return html.P(
            "No benefit has reached its target date yet, so there is no track record of comparable benefits: "
            "a forecast with little history leans on a neutral landing rate (its page says how much).",
            className="message",
            id="trust-classes",
        )
    rows = [
        [
            category_label(str(c.category)),
            "cumulative total" if c.measure == "cumulative" else "level",
            f"{int(c.decided):,}",
            f"{int(c.landed):,}",
            percent(c.rate),
        ]
        for c in classes.sort_values(["category", "measure"]).itertuples()
    ]
    return components.table(
        ["Category", "Measured as", "Target date passed", "Landed", "Landing rate used"],
        rows,
        table_id="trust-classes",
        numeric=(2, 3, 4),
    )
