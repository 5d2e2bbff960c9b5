"""The portfolio page ("/"): planned vs realised value per initiative, counts by status, every benefit.

``?as_of=YYYY-MM-DD`` shows the portfolio as of another date (default today), so links can be shared.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dashboards import components, data, figures, queries
from dashboards.formatting import money, percent

dash.register_page(__name__, path="/", name="Portfolio", title="Portfolio · benefits", order=0)


def layout(as_of: Any = None, **_other: Any) -> html.Div:
    """The page for the URL's ``as_of`` value."""
    when, problem = components.parse_as_of(as_of)
    if problem:
        return components.notice("That date is not valid", problem)
    try:
        with data.session() as session:
            summary = queries.portfolio_summary(session, when)
    except queries.StoreUnavailable as exc:
        return components.notice("The store is not ready", str(exc))
    if not summary.rows:
        return components.notice(
            "No benefits yet", "The store holds no register: run `benefits init --demo`, then `benefits run`."
        )
    return html.Div(
        [
            html.H1("Portfolio"),
            html.P(f"Planned and realised value as of {summary.as_of.isoformat()}.", className="subtitle"),
            _cards(summary),
            html.Div(
                [
                    components.graph("portfolio-initiatives",
                                     figures.initiative_bars(summary.initiatives, summary.currency)),
                    components.graph("portfolio-status", figures.status_bars(summary.status_counts)),
                ],
                className="charts",
            ),
            html.H2("Benefits"),
            _benefits_table(summary, when),
            html.H2("By category"),
            _category_table(summary),
        ],
        className="page portfolio",
    )


def _cards(summary: queries.PortfolioSummary) -> html.Div:
    planned, realised = summary.planned_value, summary.realised_value
    share = f"{percent(realised / planned)} of planned" if planned > 0 else ""
    attention = summary.status_counts.get("at_risk", 0) + summary.status_counts.get("off_track", 0)
    return html.Div(
        [
            components.card("Planned to date", money(planned, summary.currency), card_id="card-planned"),
            components.card("Realised to date", money(realised, summary.currency), share, card_id="card-realised"),
            components.card("Benefits", str(len(summary.rows)), f"in {len(summary.initiatives)} initiatives"),
            components.card("At risk or off track", str(attention)),
        ],
        className="cards",
    )


def _benefits_table(summary: queries.PortfolioSummary, when: Any) -> html.Table:
    rows = [
        [
            dcc.Link(r.name, href=components.benefit_href(r.benefit, when)),
            summary.initiative_names.get(r.initiative, r.initiative),
            components.category_label(r.category),
            components.status_badge(r.status),
            money(r.planned_value, summary.currency),
            money(r.realised_value, summary.currency),
            percent(r.p_on_time),
            r.target_date,
        ]
        for r in summary.rows
    ]
    headers = ["Benefit", "Initiative", "Category", "Status", "Planned to date", "Realised to date",
               "Likely on time", "Target date"]
    return components.table(headers, rows, table_id="portfolio-benefits", numeric=(4, 5, 6))


def _category_table(summary: queries.PortfolioSummary) -> html.Table:
    rows = [
        [components.category_label(c.category), str(int(c.benefits)), money(c.planned_value, summary.currency),
         money(c.realised_value, summary.currency)]
        for c in summary.categories.itertuples()
    ]
    return components.table(["Category", "Benefits", "Planned to date", "Realised to date"], rows,
                            table_id="portfolio-categories", numeric=(1, 2, 3))
