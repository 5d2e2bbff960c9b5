"""The portfolio page ("/"): planned vs realised value by category and initiative, cash banked to date
apart from the annualised run-rate, counts by status, the benefits at risk or off track, what
changed since the previous forecast run, finance claims (reported next to validated value), and
a fan chart of the portfolio's cash by each fiscal year's end (P10/P50/P90 of `benefits value`'s
roll-up, drawn by a callback after the page so the roll-up never delays it).

URL values: ``as_of=YYYY-MM-DD`` (default today) and the filters ``programme``, ``tactic``,
``category``, ``owner``, ``status``; a link with them reproduces the view.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
import pandas as pd
from dash import Input, Output, dcc, html

from benefits.claims.money import display
from benefits.dashboards import business_case, components, data, figures, queries
from benefits.dashboards.formatting import category_label, change_label, money, percent, status_label, why_changed
from benefits.dashboards.posts import IsoDate
from benefits.status import REBASELINED

dash.register_page(__name__, path="/", name="Portfolio", title="Portfolio · benefits", order=0)

CHANGES_SHOWN = 25  # status changes listed on the page, worst first
ATTENTION_SHOWN = 25  # at-risk and off-track benefits listed on the page, off track and least likely first
INITIATIVES_SHOWN = 20  # initiatives listed in the table, furthest behind plan first when there are more


def layout(as_of: Any = None, **values: Any) -> html.Div:
    """The page for the URL's ``as_of`` and filter values."""
    loaded = components.filtered_summary(as_of, values)
    if isinstance(loaded, html.Div):
        return loaded
    summary, when = loaded
    filters = summary.filters
    if not summary.total:
        return components.notice(
            "No benefits yet", "The store holds no register: run `benefits init --demo`, then `benefits run`."
        )
    return html.Div(
        [
            html.H1("Portfolio"),
            html.P(_subtitle(summary), className="subtitle"),
            components.filter_bar(summary.options, filters, summary.labels),
            components.empty_notice(len(summary.benefits), filters),
            _cards(summary),
            _cash_cards(summary),
            _claims_cards(summary),
            _category_cards(summary),
            html.Div(
                [
                    components.graph(
                        "portfolio-initiatives", figures.initiative_bars(summary.initiatives, summary.currency)
                    ),
                    components.graph("portfolio-status", figures.status_bars(summary.status_counts)),
                ],
                className="charts",
            ),
            *_fan_chart(when),
            html.H2("At risk or off track"),
            _attention_table(summary, when),
            html.H2("Changed since the previous forecast run"),
            _changes_table(summary, when),
            html.H2("Initiatives"),
            *_initiatives_table(summary, when),
            html.P(
                dcc.Link(
                    "Every benefit in the register grid ›", href=f"/register{components.page_query(when, filters)}"
                )
            ),
        ],
        className="page portfolio",
    )


def _subtitle(summary: queries.PortfolioSummary) -> str:
    shown = (
        f"{len(summary.benefits)} of {summary.total} benefits"
        if summary.filters.active
        else f"{summary.total} benefits"
    )
    return f"Planned and realised value as of {summary.as_of.isoformat()} · {shown} · money in {summary.currency}."


def _cards(summary: queries.PortfolioSummary) -> html.Div:
    planned, realised = summary.planned_value, summary.realised_value
    share = f"{percent(realised / planned)} of planned" if planned > 0 else ""
    attention = summary.status_counts.get("at_risk", 0) + summary.status_counts.get("off_track", 0)
    return html.Div(
        [
            components.card("Planned to date", money(planned, summary.currency), card_id="card-planned"),
            components.card("Realised to date", money(realised, summary.currency), share, card_id="card-realised"),
            components.card(
                "Benefits",
                str(len(summary.benefits)),
                f"in {len(summary.initiatives)} initiatives",
                card_id="card-benefits",
            ),
            components.card("At risk or off track", str(attention), card_id="card-attention"),
        ],
        className="cards",
    )


def _cash_cards(summary: queries.PortfolioSummary) -> html.Div:
    """Cash banked to date apart from the annual run-rate, each beside its plan (`benefits status`'s figures)."""
    cash, currency = summary.cash, summary.currency
    share = (
        f"{percent(float(cash.cash_to_date / cash.planned_cash_to_date))} of the "
        f"{display(cash.planned_cash_to_date, currency)} planned"
        if cash.planned_cash_to_date > 0
        else f"{display(cash.planned_cash_to_date, currency)} planned"
    )
    if cash.run_rate is None:
        rate, rate_note = "—", "no benefit is a run-rate"
    else:
        rate = f"{display(cash.run_rate, currency)} a year"
        rate_note = f"of {money(cash.planned_run_rate, currency)} a year planned · {cash.run_rate_benefits} benefits"
    return html.Div(
        [
            components.card("Cash realised to date", display(cash.cash_to_date, currency), share, card_id="card-cash"),
            components.card("Run-rate now (annualised)", rate, rate_note, card_id="card-run-rate"),
            html.P(
                "Cash is money banked so far (a run-rate accrued day by day); the run-rate is what a year at "
                "today's level of the run-rate benefits is worth. Planned and realised to date above count a run-rate "
                "benefit at its annual rate.",
                className="card-note",
            ),
        ],
        className="cards cash",
        id="portfolio-cash",
    )


def _fan_chart(when: Any) -> list[Any]:
    """The portfolio's cash by each fiscal year's end, P10 to P90: drawn by :func:`fan_chart` once the
    page is shown, so the roll-up never delays the page itself."""
    return [
        html.H2("Cash banked by fiscal year end: P10, P50, P90"),
        dcc.Store(id="portfolio-fan-as-of", data=when.isoformat() if when else None),
        components.graph("portfolio-fan", figures.plain_figure([])),
        html.P("", className="message", id="portfolio-fan-caption"),
    ]


@dash.callback(
    Output("portfolio-fan", "figure"),
    Output("portfolio-fan-caption", "children"),
    Input("portfolio-fan-as-of", "data"),
)
def fan_chart(as_of: IsoDate | None) -> tuple[Any, str]:
    """The fan chart and its caption (how dependence between benefits is treated) at ``as_of``."""
    when = dt.date.fromisoformat(as_of) if as_of else None
    with data.session() as session:
        report = queries.value_report(session, when)
    return business_case.fan_chart(report), business_case.dependence_caption(report)


def _claims_cards(summary: queries.PortfolioSummary) -> html.Div:
    """Reported and validated claimed value side by side; only approved claims count as validated."""
    reported, validated = summary.reported_value, summary.validated_value
    share = f"{percent(float(validated / reported))} of reported" if reported > 0 else "no claims yet"
    return html.Div(
        [
            components.card(
                "Reported value (claims)",
                display(reported, summary.currency),
                "each benefit's latest claim",
                card_id="card-claims-reported",
            ),
            components.card(
                "Validated value (approved)",
                display(validated, summary.currency),
                share,
                card_id="card-claims-validated",
            ),
        ],
        className="cards claims",
        id="portfolio-claims",
    )


def _category_cards(summary: queries.PortfolioSummary) -> html.Div:
    cards = [
        components.card(
            category_label(c.category),
            money(c.realised_value, summary.currency),
            f"realised of {money(c.planned_value, summary.currency)} planned · {int(c.benefits)} benefits",
            card_id=f"card-category-{c.category}",
        )
        for c in summary.categories.itertuples()
    ]
    return html.Div(cards, className="cards categories", id="portfolio-categories")


def _attention_table(summary: queries.PortfolioSummary, when: Any) -> html.Div | html.Table | html.P:
    """The benefits at risk or off track: off track first, then the least likely to land on time."""
    benefits: pd.DataFrame = summary.benefits
    flagged = benefits[benefits["status"].isin(["off_track", "at_risk"])]
    if flagged.empty:
        return html.P("No benefit is at risk or off track.", className="message", id="portfolio-attention")
    order = _sorted(_off=flagged["status"] != "off_track", _p=flagged["p_on_time"].astype(float).fillna(-1.0))
    columns = ["name", "benefit", "initiative_name", "status", "p_on_time", "owner", "message"]
    shown = flagged.loc[order[:ATTENTION_SHOWN], columns]
    rows = [
        [
            dcc.Link(r.name, href=components.benefit_href(r.benefit, when)),
            r.benefit,
            r.initiative_name,
            components.status_badge(r.status),
            percent(r.p_on_time),
            r.owner,
            r.message,
        ]
        for r in shown.itertuples()
    ]
    table = components.table(
        ["Benefit", "Key", "Initiative", "Status", "Likely on time", "Owner", "Why"],
        rows,
        table_id="portfolio-attention",
        numeric=(4,),
    )
    if len(flagged) <= ATTENTION_SHOWN:
        return table
    more = html.P(
        [
            f"The {ATTENTION_SHOWN} least likely of {len(flagged)}; ",
            dcc.Link("the register", href=f"/register{components.page_query(when, summary.filters)}"),
            " lists every benefit.",
        ],
        className="message",
    )
    return html.Div([more, table])


def _changes_table(summary: queries.PortfolioSummary, when: Any) -> html.Div | html.Table | html.P:
    changes: pd.DataFrame = summary.changes
    if changes.empty:
        return html.P(
            "No benefit was re-baselined or changed status since the previous forecast run.",
            className="message",
            id="portfolio-changes",
        )
    worse = {
        "achieved": 0,
        "on_track": 1,
        "insufficient_data": 2,
        "no_data": 2,
        "data_stale": 3,
        "failed": 3,
        "at_risk": 3,
        "off_track": 4,
    }
    order = _sorted(  # re-baselined first: a moved baseline or target is never hidden among the rest
        _rebaselined=changes["change"] == REBASELINED, _rank=changes["status"].map(worse).fillna(2), ascending=False
    )
    shown = changes.loc[order[:CHANGES_SHOWN]]
    rows = [
        [
            dcc.Link(r.name, href=components.benefit_href(r.benefit, when)),
            r.initiative_name,
            change_label(r.change),
            status_label(r.previous_status) if r.previous_status else "",
            components.status_badge(r.status),
            percent(r.p_on_time),
            r.owner,
            why_changed(r),
        ]
        for r in shown.itertuples()
    ]
    table = components.table(
        ["Benefit", "Initiative", "Change", "Was", "Now", "Likely on time", "Owner", "Why"],
        rows,
        table_id="portfolio-changes",
        numeric=(5,),
    )
    if len(changes) <= CHANGES_SHOWN:
        return table
    more = html.P(
        [
            f"The {CHANGES_SHOWN} most serious of {len(changes)} changes; ",
            dcc.Link("the register", href=f"/register{components.page_query(when, summary.filters)}"),
            " lists every benefit with its previous status.",
        ],
        className="message",
    )
    return html.Div([more, table])


def _sorted(ascending: bool = True, **keys: pd.Series) -> pd.Index:
    """The index of rows in the order of the ``keys`` columns (a stable sort), sorted apart from the rows
    themselves: a benefit's row is wide, and sorting it whole copied every column."""
    return pd.DataFrame(keys).sort_values(list(keys), ascending=ascending, kind="stable").index


def _initiatives_table(summary: queries.PortfolioSummary, when: Any) -> list[Any]:
    """Every initiative's values; with more than ``INITIATIVES_SHOWN``, those furthest behind plan.

    The chart above the table shows every initiative; listing a hundred rows as well would slow the
    page's first render for little (each row is a link to the initiative's page).
    """
    initiatives = summary.initiatives
    capped = len(initiatives) > INITIATIVES_SHOWN
    if capped:
        behind = initiatives["planned_value"].astype(float) - initiatives["realised_value"].astype(float)
        initiatives = initiatives.assign(_behind=behind).sort_values("_behind", ascending=False, kind="stable")
        initiatives = initiatives.head(INITIATIVES_SHOWN)
    rows = [
        [
            dcc.Link(i.name, href=components.initiative_href(i.initiative, when)),
            str(int(i.benefits)),
            money(i.planned_value, summary.currency),
            money(i.realised_value, summary.currency),
            display(i.cash_to_date, summary.currency),
            "—" if i.run_rate is None else f"{display(i.run_rate, summary.currency)}/yr",
            display(i.reported_value, summary.currency),
            display(i.validated_value, summary.currency),
        ]
        for i in initiatives.itertuples()
    ]
    table = components.table(
        [
            "Initiative",
            "Benefits",
            "Planned to date",
            "Realised to date",
            "Cash realised to date",
            "Run-rate (annualised)",
            "Reported (claims)",
            "Validated (approved)",
        ],
        rows,
        table_id="portfolio-initiatives-table",
        numeric=(1, 2, 3, 4, 5, 6, 7),
    )
    if not capped:
        return [table]
    more = html.P(
        f"The {INITIATIVES_SHOWN} of {len(summary.initiatives)} initiatives furthest behind plan "
        "(planned minus realised value to date); the chart above shows every one.",
        className="message",
        id="portfolio-initiatives-more",
    )
    return [more, table]
