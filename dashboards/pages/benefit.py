"""The benefit page ("/benefit/<key>"): status, probability of landing and the tracked value over time.

``?as_of=YYYY-MM-DD`` shows the benefit as of another date (default today).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from dashboards import components, data, figures, queries
from dashboards.formatting import money, percent, quantity, status_label


def title(key: str | None = None, **_other: Any) -> str:
    """The browser tab's title for a benefit."""
    return f"{key} · benefits" if key else "Benefit · benefits"


dash.register_page(__name__, path_template="/benefit/<key>", name="Benefit", title=title)


def layout(key: str | None = None, as_of: Any = None, **_other: Any) -> html.Div:
    """The page for the URL's benefit ``key`` and ``as_of`` value."""
    when, problem = components.parse_as_of(as_of)
    if problem:
        return components.notice("That date is not valid", problem)
    if not key:
        return components.notice("Which benefit?", "Pick a benefit from the portfolio.")
    try:
        with data.session() as session:
            detail = queries.benefit_detail(session, key, when)
    except queries.StoreUnavailable as exc:
        return components.notice("The store is not ready", str(exc))
    if detail is None:
        return components.notice(
            f"No benefit called “{key}”", "It is not in the register; the portfolio lists every benefit."
        )
    row = detail.row
    chart = figures.benefit_chart(
        unit=row.unit,
        baseline=(detail.baseline_date, detail.baseline_value),
        target=(detail.target_date, detail.target_value),
        planned=detail.planned,
        actuals=detail.actuals,
        forecast=detail.forecast,
        as_of=detail.as_of,
        p_on_time=row.p_on_time,
    )
    return html.Div(
        [
            html.Nav(
                [dcc.Link("Portfolio", href=f"/{components.query(when)}"), " › ", detail.initiative_name],
                className="breadcrumb",
            ),
            html.H1(row.name, id="benefit-name"),
            html.P(
                f"{detail.initiative_name} · {components.category_label(row.category)} · owner {row.owner}"
                f" · metric {row.metric}",
                className="subtitle",
            ),
            _headline(detail),
            components.graph("benefit-chart", chart),
            _facts(detail),
        ],
        className="page benefit",
    )


def _headline(detail: queries.BenefitDetail) -> html.Div:
    row = detail.row
    status = [components.status_badge(row.status)]
    if row.previous_status and row.previous_status != row.status:
        status.append(html.Span(f"was {status_label(row.previous_status)} in the previous forecast",
                                className="previous"))
    if row.p_on_time is not None:
        likely = f"{percent(row.p_on_time)} likely by {row.target_date}"
    else:
        likely = "No probability of landing yet"
    if row.expected_landing:
        landing = f"Expected landing {row.expected_landing}"
    elif not detail.forecast.empty:
        landing = "Not expected to land within the forecast horizon"
    else:
        landing = ""
    return html.Div(
        [
            html.Div(status, className="status-line"),
            html.Div(likely, className="likely", id="benefit-likely"),
            html.Div(landing, className="landing", id="benefit-landing"),
            html.P(row.message, className="message", id="benefit-message"),
        ],
        className="headline",
    )


def _facts(detail: queries.BenefitDetail) -> html.Table:
    row, unit, currency = detail.row, detail.row.unit, detail.currency
    realised = quantity(row.realised_to_date, unit)
    if row.percent_realised is not None:
        realised += f" ({row.percent_realised:.0f}% of the target improvement)"
    forecast_note = ""
    if detail.forecast_as_of and row.forecast_at_target_date is not None:
        forecast_note = f" (forecast of {detail.forecast_as_of.isoformat()})"
    rows = [
        ("Baseline", f"{quantity(row.baseline, unit)} on {detail.baseline_date.isoformat()}"),
        ("Target", f"{quantity(row.target, unit)} by {row.target_date}"),
        ("Planned improvement to date", quantity(row.planned_to_date, unit)),
        ("Realised improvement to date", realised),
        ("Value to date",
         f"{money(row.realised_value, currency)} realised of {money(row.planned_value, currency)} planned"),
        ("Forecast at the target date", quantity(row.forecast_at_target_date, unit) + forecast_note),
    ]
    if detail.start_date != detail.baseline_date:
        rows.insert(2, ("Ramp starts", f"{detail.start_date.isoformat()} (after a milestone)"))
    return components.facts(rows, table_id="benefit-facts")
