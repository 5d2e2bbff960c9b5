"""The initiative page ("/initiative/<key>"): its benefits, each with a small chart of planned vs actual.

``?as_of=YYYY-MM-DD`` shows the initiative as of another date (default today).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

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
