"""The benefit page ("/benefit/<key>"): status, the probability of landing with one sentence on
how far it can be trusted (and, when it leans on comparable benefits, how much), the tracked value
over time (baseline, planned profile, actuals, forecast with its 80% band, target; when it was
re-baselined, the original baseline and target beside the current ones, ``benefits.store.baselines``), how the
probability of landing moved run by run, the PMO's commentary, actions and risks
(``benefits.dashboards.commentary``), data-quality notes, where the latest readings came from
(source, place in the source, sync run: ``repository.lineage``) and restated values.

``?as_of=YYYY-MM-DD`` shows the benefit as of another date (default today).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
from dash import dcc, html

from benefits.claims.money import display
from benefits.dashboards import commentary, components, figures, queries
from benefits.dashboards.formatting import money, percent, quantity, rebaseline_text, status_label
from benefits.status import REBASELINED, StatusRow

dash.register_page(__name__, path_template="/benefit/<key>", name="Benefit", title=components.keyed_title("Benefit"))

LEANS_ON_REFERENCE = 0.05  # a probability leaning at least this much on comparable benefits says so (as its sentence)


def layout(key: str | None = None, as_of: Any = None, **_other: Any) -> html.Div:
    """The page for the URL's benefit ``key`` and ``as_of`` value."""
    if not key:
        return components.notice("Which benefit?", "Pick a benefit from the portfolio.")
    loaded = components.load(as_of, lambda session, when: queries.benefit_detail(session, key, when))
    if isinstance(loaded, html.Div):
        return loaded
    detail, when = loaded
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
                [
                    dcc.Link("Portfolio", href=f"/{components.query(when)}"),
                    " › ",
                    dcc.Link(detail.initiative_name, href=components.initiative_href(row.initiative, when)),
                ],
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
            components.graph("benefit-history", figures.probability_history(detail.history)),
            commentary.section(row.benefit, when),
            html.H2("Data quality"),
            _quality_notes(detail),
            html.H2("Where the numbers come from"),
            _lineage(detail),
            html.H2("Restated values"),
            _revisions(detail),
        ],
        className="page benefit",
    )


def _headline(detail: queries.BenefitDetail) -> html.Div:
    row = detail.row
    status = [components.status_badge(row.status)]
    if row.previous_status and row.previous_status != row.status:
        status.append(
            html.Span(f"was {status_label(row.previous_status)} in the previous forecast", className="previous")
        )
    if row.change == REBASELINED:  # never read as a plain status change
        status.append(
            html.Span("re-baselined since the previous forecast", className="previous", id="benefit-rebaselined")
        )
    if row.status == "data_stale":
        likely, landing = _stale_forecast(detail)
    else:
        goal = "to stay within its limit " if row.dis_benefit else ""
        likely = (
            f"{percent(row.p_on_time)} likely {goal}by {row.target_date}"
            if row.p_on_time is not None
            else "No probability of landing yet"
        )
        landing = "" if row.dis_benefit else _landing(row.expected_landing, detail)  # a limit does not land
    return html.Div(
        [
            html.Div(status, className="status-line"),
            html.Div(likely, className="likely", id="benefit-likely"),
            *_trust(detail),
            html.Div(landing, className="landing", id="benefit-landing"),
            html.P(row.message, className="message", id="benefit-message"),
        ],
        className="headline",
    )


def _landing(expected: str | None, detail: queries.BenefitDetail) -> str:
    if expected:
        return f"Expected landing {expected}"
    return "Not expected to land within the forecast horizon" if not detail.forecast.empty else ""


def _stale_forecast(detail: queries.BenefitDetail) -> tuple[str, str]:
    """The headline of a benefit whose data stopped coming: no current probability, and what the
    latest forecast run said, with its date, if there is one."""
    likely = "Data stale: no current probability of landing"
    if detail.forecast_as_of is None or detail.forecast_p_on_time is None:
        return likely, ""
    said = (
        f"The last forecast ({detail.forecast_as_of.isoformat()}) gave a"
        f" {percent(detail.forecast_p_on_time)} chance of landing by {detail.row.target_date}"
    )
    if detail.forecast_landing:
        return likely, f"{said}, expected landing {detail.forecast_landing.isoformat()}"
    return likely, f"{said}; it did not expect landing within its horizon"


def _trust(detail: queries.BenefitDetail) -> list[Any]:
    """How far the probability can be trusted, and whether it leans on comparable benefits."""
    if detail.row.p_on_time is None or not detail.trust:
        return []
    shown: list[Any] = []
    weight = detail.reference_weight or 0.0
    if weight >= LEANS_ON_REFERENCE:
        alone = f"; the model alone gives {percent(detail.p_model)}" if detail.p_model is not None else ""
        shown.append(
            html.P(
                f"This probability leans {percent(weight)} on how comparable benefits fared{alone}.",
                className="trust-lean",
                id="benefit-reference",
            )
        )
    shown.append(
        html.P(
            [detail.trust, " ", dcc.Link("How far this portfolio's forecasts held ›", href="/trust")],
            className="trust-note",
            id="benefit-trust",
        )
    )
    return shown


def _facts(detail: queries.BenefitDetail) -> html.Table:
    row, unit, currency = detail.row, detail.row.unit, detail.currency
    realised = quantity(row.realised_to_date, unit)
    if row.percent_realised is not None and row.dis_benefit:
        over = ", over the limit" if row.percent_realised > 100 else ""
        realised += f" ({row.percent_realised:.0f}% of the tolerated limit{over})"
    elif row.percent_realised is not None:
        realised += f" ({row.percent_realised:.0f}% of the target improvement)"
    at_target, forecast_note = row.forecast_at_target_date, ""
    if row.status == "data_stale" and detail.forecast_at_target is not None:
        at_target = detail.forecast_at_target  # the last forecast's, with its date
    if detail.forecast_as_of and at_target is not None:
        forecast_note = f" (forecast of {detail.forecast_as_of.isoformat()})"
    rows = [
        ("Baseline", f"{quantity(row.baseline, unit)} on {detail.baseline_date.isoformat()}"),
        ("Tolerated limit" if row.dis_benefit else "Target", f"{quantity(row.target, unit)} by {row.target_date}"),
        *_to_date(row, realised, currency),
        ("Forecast at the target date", quantity(at_target, unit) + forecast_note),
    ]
    if detail.start_date != detail.baseline_date:
        rows.insert(2, ("Ramp starts", f"{detail.start_date.isoformat()} (after a milestone)"))
    rows[2:2] = _rebaselining(row)
    return components.facts(rows, table_id="benefit-facts")


def _rebaselining(row: StatusRow) -> list[tuple[str, str]]:
    """A re-baselined benefit's approved baseline and target beside the current ones, and its latest re-baselining."""
    if not row.rebaselines:
        return []
    times = "once" if row.rebaselines == 1 else f"{row.rebaselines} times"
    target = "Original tolerated limit" if row.dis_benefit else "Original target"
    return [
        ("Original baseline", f"{quantity(row.original_baseline, row.unit)} on {row.original_baseline_date}"),
        (target, f"{quantity(row.original_target, row.unit)} by {row.original_target_date}"),
        (f"Re-baselined {times}", f"latest: {rebaseline_text(row)} (`benefits register history {row.benefit}`)"),
    ]


def _to_date(row: StatusRow, realised: str, currency: str) -> list[tuple[str, str]]:
    """Planned and realised to date; a dis-benefit's are an adverse effect and a cost, never an improvement."""
    if row.dis_benefit:
        return [
            ("Adverse effect allowed for to date", quantity(row.planned_to_date, row.unit)),
            ("Adverse effect to date", realised),
            (
                "Cost to date",
                f"{display(-row.cash_to_date, currency)} of {display(-row.planned_cash_to_date, currency)} allowed for",
            ),
            *(
                [("Cost run-rate now (annualised)", f"{display(-row.run_rate, currency)} a year")]
                if row.value_type == "run_rate" and row.run_rate is not None
                else []
            ),
        ]
    return [
        ("Planned improvement to date", quantity(row.planned_to_date, row.unit)),
        ("Realised improvement to date", realised),
        *_cash_and_rate(row, currency),
    ]


def _cash_and_rate(row: StatusRow, currency: str) -> list[tuple[str, str]]:
    """Cash banked to date and, for a run-rate benefit, its annual rate: never one under the other's label."""
    cash = (
        "Cash realised to date",
        f"{display(row.cash_to_date, currency)} of {display(row.planned_cash_to_date, currency)} planned",
    )
    if row.value_type != "run_rate":
        return [cash]
    rate = f"{display(row.run_rate, currency)} a year (planned {money(row.planned_value, currency)} a year)"
    return [cash, ("Run-rate now (annualised)", rate)]


def _quality_notes(detail: queries.BenefitDetail) -> html.Ul:
    """What to know about the data behind the figures: how recent, how much, how forecast."""
    row = detail.row
    notes = []
    if detail.last_period:
        behind = (detail.as_of - dt.date.fromisoformat(detail.last_period)).days
        notes.append(
            f"Latest observation of {row.metric}: {detail.last_period} ({behind} days before "
            f"{detail.as_of.isoformat()})."
        )
    if detail.stale_message:
        notes.append(detail.stale_message)
    elif not detail.last_period:
        notes.append(f"No observation of {row.metric} since the baseline date yet.")
    notes.append(f"{len(detail.actuals)} observations since the baseline date.")
    if row.status == "insufficient_data":
        notes.append("Too few observations to forecast with confidence.")
    if not detail.revisions.empty:
        notes.append(f"{len(detail.revisions)} earlier values were restated by a source (below).")
    notes.append(f"Forecast message: {row.message}")
    return html.Ul([html.Li(n) for n in notes], id="benefit-quality", className="notes")


def _lineage(detail: queries.BenefitDetail) -> html.P | html.Table:
    """The latest readings with their source, their place in it and the sync run that loaded them."""
    if not detail.lineage:
        return html.P("No reading of this metric has been loaded yet.", className="message", id="benefit-lineage")
    unit = detail.row.unit
    rows = [
        [
            str(r.period),
            quantity(r.value, unit),
            r.source,
            r.source_ref or "— (not recorded)",
            f"{r.sync_run_id}" + (f", {r.loaded_at:%Y-%m-%d %H:%M} UTC" if r.loaded_at else ""),
        ]
        for r in detail.lineage
    ]
    return components.table(
        ["Period", "Value", "Source", "Where in the source", "Sync run"], rows, table_id="benefit-lineage", numeric=(1,)
    )


def _revisions(detail: queries.BenefitDetail) -> html.P | html.Table:
    if detail.revisions.empty:
        return html.P("No value of this metric has been restated.", className="message", id="benefit-revisions")
    unit = detail.row.unit
    rows = [
        [str(r.period), r.source, quantity(r.value, unit), str(r.replaced_by_sync_run)]
        for r in detail.revisions.head(50).itertuples()
    ]
    return components.table(
        ["Period", "Source", "Earlier value", "Replaced by sync run"],
        rows,
        table_id="benefit-revisions",
        numeric=(2, 3),
    )
