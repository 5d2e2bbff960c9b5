"""The initiative page ("/initiative/<key>"): its benefits, each with a small chart of planned vs actual.

``?as_of=YYYY-MM-DD`` shows the initiative as of another date (default today).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from benefits.claims.money import display
from benefits.dashboards import components, figures, queries
from benefits.dashboards.formatting import category_label, money, percent

dash.register_page(
    __name__, path_template="/initiative/<key>", name="Initiative", title=components.keyed_title("Initiative")
)


def layout(key: str | None = None, as_of: Any = None, **_other: Any) -> html.Div:
    """The page for the URL's initiative ``key`` and ``as_of`` value."""
    loaded = components.load(as_of, lambda session, when: queries.initiative_detail(session, key or "", when))
    if isinstance(loaded, html.Div):
        return loaded
    detail, when = loaded
    if detail is None:
        return components.notice(f"No initiative called “{key}”", "The portfolio lists every initiative.")
    first = detail.benefits.iloc[0]
    planned, realised = detail.benefits["planned_value"].sum(), detail.benefits["realised_value"].sum()
    return html.Div(
        [
            html.Nav(
                [dcc.Link("Portfolio", href=f"/{components.query(when)}"), " › ", first["programme_name"]],
                className="breadcrumb",
            ),
            html.H1(first["initiative_name"], id="initiative-name"),
            html.P(
                f"{first['programme_name']} · {category_label(first['tactic'])} · owner {first['initiative_owner']}",
                className="subtitle",
            ),
            html.Div(
                [
                    components.card("Planned to date", money(planned, detail.currency), card_id="card-planned"),
                    components.card(
                        "Realised to date",
                        money(realised, detail.currency),
                        f"{percent(realised / planned)} of planned" if planned > 0 else "",
                        card_id="card-realised",
                    ),
                    *_cash_cards(queries.CashTotals.of(detail.benefits), detail.currency),
                    components.card("Benefits", str(len(detail.benefits))),
                ],
                className="cards",
            ),
            html.Div(
                [_benefit_card(row, detail, when) for row in detail.benefits.to_dict("records")],
                className="benefit-cards",
                id="initiative-benefits",
            ),
        ],
        className="page initiative",
    )


def _cash_cards(cash: queries.CashTotals, currency: str) -> list[html.Div]:
    """Cash banked to date and the annualised run-rate, each under its own label (`benefits status`'s figures)."""
    rate = "—" if cash.run_rate is None else f"{display(cash.run_rate, currency)} a year"
    rate_note = (
        "no benefit is a run-rate"
        if cash.run_rate is None
        else f"of {money(cash.planned_run_rate, currency)} a year planned · {cash.run_rate_benefits} benefits"
    )
    return [
        components.card(
            "Cash realised to date",
            display(cash.cash_to_date, currency),
            f"of {display(cash.planned_cash_to_date, currency)} planned",
            card_id="card-cash",
        ),
        components.card("Run-rate now (annualised)", rate, rate_note, card_id="card-run-rate"),
    ]


def _benefit_card(row: dict[str, Any], detail: queries.InitiativeDetail, when: Any) -> html.Div:
    actuals, planned = detail.series[row["benefit"]]
    target = (planned["period"].iloc[-1], float(row["target"]))
    return html.Div(
        [
            html.H3(dcc.Link(row["name"], href=components.benefit_href(row["benefit"], when))),
            html.Div(
                [
                    components.status_badge(row["status"]),
                    html.Span(f" {percent(row['p_on_time'])} likely on time · owner {row['owner']}"),
                ],
                className="status-line",
            ),
            components.graph(f"spark-{row['benefit']}", figures.sparkline(actuals, planned, row["unit"], target)),
        ],
        className="benefit-card",
    )
