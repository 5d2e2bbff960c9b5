"""Plotly figures as pure functions of plain data: no store access, no Dash.

Every text that comes from the register goes through ``plot_text``, because plotly reads a
little HTML in labels and hover text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from benefits.claims.money import display
from benefits.dashboards.formatting import (
    CURRENCY_SYMBOLS,
    STATUS_COLOURS,
    category_label,
    decimals_for,
    hover_value,
    percent,
    plot_text,
    quantity,
    short_label,
    status_label,
)

PLANNED_COLOUR = "#8c959f"
REALISED_COLOUR = "#0969da"
FORECAST_COLOUR = "#8250df"
TARGET_COLOUR = "#cf222e"
BASELINE_COLOUR = "#57606a"
HISTORY_MIN_DAYS = 28  # the run-by-run chart spans at least four weeks

_LAYOUT = dict(
    template="plotly_white",
    margin=dict(l=60, r=20, t=90, b=50),
    title=dict(y=0.97, yanchor="top", x=0.02, xanchor="left"),
    font=dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, traceorder="normal"),
    hoverlabel=dict(namelength=-1),
)


_BASE_LAYOUT = dict(_LAYOUT, template=pio.templates["plotly_white"].to_plotly_json())


def new_figure(data: Any) -> go.Figure:
    """A figure with the dashboard's layout, built without re-validating the template each time
    (validation of ``template="plotly_white"`` cost ~50 ms per figure; see docs/benchmarks.md)."""
    return go.Figure(data, layout=_BASE_LAYOUT, _validate=False)


def plain_figure(data: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    """A figure as the plain dict plotly.js draws (``{"data": [...], "layout": {...}}``): the dashboard's
    layout with ``layout`` merged into it, nested dicts key by key (as ``update_layout`` merges them).

    The pages' charts are built this way, not as ``go.Figure``: plotly's validation of every property
    cost 10–60 ms per chart on each page view. Each trace and layout value must therefore already be
    in the form plotly would validate it to (``type`` named, ``marker=dict(color=...)`` rather than
    ``marker_color``, no None values); tests check that ``go.Figure`` of each chart serialises the same.
    """
    return {"data": data, "layout": _merged(_BASE_LAYOUT, layout)}


def _merged(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` (not changed) with ``update`` merged in: nested dicts merged key by key."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _plain_note(text: str) -> dict[str, Any]:
    """A grey note across a figure with nothing to show, as a layout annotation (:func:`_note`'s)."""
    return dict(
        text=text, xref="paper", yref="paper", x=0.5, y=0.85, showarrow=False, font=dict(size=14, color="#57606a")
    )


def initiative_bars(initiatives: pd.DataFrame, currency: str) -> dict[str, Any]:
    """Cash planned and realised to date per initiative, grouped bars in ``currency`` (a plain figure dict).

    Both bars are money banked by the date (a run-rate benefit's rate accrued day by day): `benefits
    status`'s ``planned_cash_to_date`` and ``cash_to_date`` added up, never a run-rate's annual rate,
    which the hover of an initiative with run-rate benefits names apart. ``initiatives`` has columns
    ``name``, ``planned_cash_to_date``, ``cash_to_date`` and ``run_rate`` (None without run-rate benefits).
    """
    names = [plot_text(n) for n in initiatives["name"]]  # the categories; the hover names them in full
    money = hover_value(currency, 0)
    rates = [
        "" if rate is None or pd.isna(rate) else f"<br>Run-rate now: {display(rate, currency)} a year (not in the bars)"
        for rate in initiatives["run_rate"]
    ]
    figure = plain_figure(
        [
            dict(
                type="bar",
                name="Cash planned to date",
                x=names,
                y=[float(v) for v in initiatives["planned_cash_to_date"]],
                marker=dict(color=PLANNED_COLOUR),
                customdata=names,
                hovertemplate=f"%{{customdata}}<br>Cash planned to date: {money}<extra></extra>",
            ),
            dict(
                type="bar",
                name="Cash realised to date",
                x=names,
                y=[float(v) for v in initiatives["cash_to_date"]],
                marker=dict(color=REALISED_COLOUR),
                customdata=names,
                text=rates,
                textposition="none",  # the run-rate is for the hover only
                hovertemplate=f"%{{customdata}}<br>Cash realised to date: {money}%{{text}}<extra></extra>",
            ),
        ],
        title=dict(text=f"Cash planned vs realised to date by initiative ({plot_text(currency)})"),
        barmode="group",
        # the ticks name each initiative in at most two short lines, so that a long name leaves the bars their room
        xaxis=dict(tickmode="array", tickvals=names, ticktext=[short_label(n) for n in initiatives["name"]]),
        yaxis=dict(
            title=dict(text=plot_text(currency)),
            tickprefix=CURRENCY_SYMBOLS.get(currency.upper(), ""),
            tickformat=",.0f",
            rangemode="tozero",
        ),
    )
    if initiatives.empty:
        figure["layout"]["annotations"] = [_plain_note("No benefits in the register yet")]
    return figure


def status_bars(counts: Mapping[str, int]) -> dict[str, Any]:
    """How many benefits have each status, in the fixed status order and colours (a plain figure dict)."""
    statuses = list(counts)
    axis: dict[str, Any] = dict(title=dict(text="benefits"), rangemode="tozero", tickformat=",d")
    if max(counts.values(), default=0) <= 10:
        axis["dtick"] = 1
    return plain_figure(
        [
            dict(
                type="bar",
                x=[status_label(s) for s in statuses],
                y=[counts[s] for s in statuses],
                marker=dict(color=[STATUS_COLOURS.get(s, PLANNED_COLOUR) for s in statuses]),
                text=[str(counts[s]) for s in statuses],
                textposition="outside",
                cliponaxis=False,
                hovertemplate="%{x}: %{y} benefits<extra></extra>",
                showlegend=False,
            )
        ],
        title=dict(text="Benefits by status"),
        margin=dict(t=60),
        yaxis=axis,
    )


def benefit_chart(
    *,
    unit: str,
    baseline: tuple[dt.date, float],
    target: tuple[dt.date, float],
    planned: pd.DataFrame,
    actuals: pd.DataFrame,
    forecast: pd.DataFrame,
    as_of: dt.date | None = None,
    p_on_time: float | None = None,
) -> dict[str, Any]:
    """The tracked quantity over time: baseline, planned profile, actuals, forecast with its 80%
    band, and the target at its date (a plain figure dict).

    ``planned`` and ``actuals`` have columns ``period``, ``q``; ``forecast`` has ``period``,
    ``yhat``, ``lower``, ``upper`` (it may be empty).
    """
    values = [baseline[1], target[1], *planned["q"], *actuals["q"], *forecast["lower"], *forecast["upper"]]
    places = decimals_for(v for v in values if pd.notna(v))
    y = hover_value(unit, places)
    periods = [baseline[0], target[0], *planned["period"], *actuals["period"], *forecast["period"]]
    first, last = min(periods), max(periods)
    traces: list[dict[str, Any]] = [
        dict(
            type="scatter",
            name="Baseline",
            x=[first, last],
            y=[baseline[1], baseline[1]],
            mode="lines",
            line=dict(color=BASELINE_COLOUR, width=1, dash="dot"),
            hovertemplate=f"Baseline: {y}<extra></extra>",
        ),
        dict(
            type="scatter",
            name="Planned",
            x=planned["period"].to_list(),
            y=planned["q"].to_list(),
            mode="lines",
            line=dict(color=PLANNED_COLOUR, width=2, dash="dash"),
            hovertemplate=f"%{{x|%d %b %Y}}<br>Planned: {y}<extra></extra>",
        ),
    ]
    if not forecast.empty:
        band = forecast.dropna(subset=["lower", "upper"])
        traces += [
            dict(
                type="scatter",
                name="80% interval (lower)",
                x=band["period"].to_list(),
                y=band["lower"].to_list(),
                mode="lines",
                line=dict(width=0, color=FORECAST_COLOUR),
                showlegend=False,
                hovertemplate=f"%{{x|%d %b %Y}}<br>Lower (10%): {y}<extra></extra>",
            ),
            dict(
                type="scatter",
                name="Forecast 80% interval",
                x=band["period"].to_list(),
                y=band["upper"].to_list(),
                mode="lines",
                line=dict(width=0, color=FORECAST_COLOUR),
                fill="tonexty",
                fillcolor="rgba(130, 80, 223, 0.18)",
                hovertemplate=f"%{{x|%d %b %Y}}<br>Upper (90%): {y}<extra></extra>",
            ),
            dict(
                type="scatter",
                name="Forecast (median)",
                x=forecast["period"].to_list(),
                y=forecast["yhat"].to_list(),
                mode="lines",
                line=dict(color=FORECAST_COLOUR, width=2, dash="dash"),
                hovertemplate=f"%{{x|%d %b %Y}}<br>Forecast: {y}<extra></extra>",
            ),
        ]
    traces += [
        dict(
            type="scatter",
            name="Actual",
            x=actuals["period"].to_list(),
            y=actuals["q"].to_list(),
            mode="lines+markers",
            line=dict(color=REALISED_COLOUR, width=2),
            marker=dict(size=5),
            hovertemplate=f"%{{x|%d %b %Y}}<br>Actual: {y}<extra></extra>",
        ),
        dict(
            type="scatter",
            name="Target",
            x=[target[0]],
            y=[target[1]],
            mode="markers",
            marker=dict(symbol="star", size=16, color=TARGET_COLOUR, line=dict(width=1, color="white")),
            hovertemplate=_target_hover(unit, target, p_on_time),
        ),
    ]
    yaxis: dict[str, Any] = dict(title=dict(text=plot_text(unit)))
    if places == 0:
        yaxis["tickformat"] = ",.0f"
    yaxis["tickprefix"] = CURRENCY_SYMBOLS.get(unit.strip().upper(), "")
    figure = plain_figure(
        traces,
        title=dict(text=f"Tracked value ({plot_text(unit)})"),
        yaxis=yaxis,
        xaxis=dict(type="date"),
        hovermode="closest",
    )
    notes = []
    if as_of is not None and first <= as_of <= last:
        figure["layout"]["shapes"] = [
            dict(
                type="line", xref="x", yref="paper", x0=as_of, x1=as_of, y0=0, y1=1, line=dict(color="#afb8c1", width=1)
            )
        ]
        notes.append(
            dict(
                x=as_of,
                y=1,
                xref="x",
                yref="paper",
                text="today" if as_of == dt.date.today() else f"as of {as_of.isoformat()}",
                showarrow=False,
                xanchor="left",
                yanchor="top",
                xshift=4,
                font=dict(size=11, color="#57606a"),
            )
        )
    if actuals.empty:
        notes.append(_plain_note("No observations since the baseline date yet"))
    if notes:
        figure["layout"]["annotations"] = notes
    return figure


def _target_hover(unit: str, target: tuple[dt.date, float], p_on_time: float | None) -> str:
    text = f"Target: {plot_text(quantity(target[1], unit))} by {target[0].isoformat()}"
    if p_on_time is not None:
        text += f"<br>{percent(p_on_time)} likely on time"
    return text + "<extra></extra>"


def _note(figure: go.Figure, text: str) -> None:
    figure.add_annotation(
        text=text, xref="paper", yref="paper", x=0.5, y=0.85, showarrow=False, font=dict(size=14, color="#57606a")
    )


def sparkline(actuals: pd.DataFrame, planned: pd.DataFrame, unit: str, target: tuple[dt.date, float]) -> dict:
    """A small chart of one benefit: planned profile, actuals and the target, no axis titles.

    A plain figure dict (no ``go.Figure`` validation or template): an initiative page draws one per
    benefit, and this keeps each under a few milliseconds.
    """
    places = decimals_for([*actuals["q"], *planned["q"], target[1]])
    y = hover_value(unit, places)
    axis = dict(gridcolor="#eaeef2", zeroline=False, automargin=True)
    return {
        "data": [
            dict(
                type="scatter",
                name="Planned",
                x=[d.isoformat() for d in planned["period"]],
                y=planned["q"].to_list(),
                mode="lines",
                line=dict(color=PLANNED_COLOUR, width=1.5, dash="dash"),
                hovertemplate=f"%{{x|%d %b %Y}}<br>Planned: {y}<extra></extra>",
            ),
            dict(
                type="scatter",
                name="Actual",
                x=[d.isoformat() for d in actuals["period"]],
                y=actuals["q"].to_list(),
                mode="lines",
                line=dict(color=REALISED_COLOUR, width=2),
                hovertemplate=f"%{{x|%d %b %Y}}<br>Actual: {y}<extra></extra>",
            ),
            dict(
                type="scatter",
                name="Target",
                x=[target[0].isoformat()],
                y=[target[1]],
                mode="markers",
                marker=dict(symbol="star", size=10, color=TARGET_COLOUR),
                hovertemplate=f"Target: {plot_text(quantity(target[1], unit))} by {target[0].isoformat()}"
                "<extra></extra>",
            ),
        ],
        "layout": dict(
            height=180,
            margin=dict(l=50, r=10, t=10, b=25),
            showlegend=False,
            font=_LAYOUT["font"],
            paper_bgcolor="white",
            plot_bgcolor="white",
            hoverlabel=dict(namelength=-1),
            xaxis=dict(axis, type="date"),
            yaxis=dict(axis, tickprefix=CURRENCY_SYMBOLS.get(unit.strip().upper(), ""), tickformat="~s"),
        ),
    }


def probability_history(history: pd.DataFrame) -> dict[str, Any]:
    """The probability of landing on time in each forecast run, coloured by that run's status (a plain
    figure dict).

    ``history`` has columns ``as_of``, ``p_on_time``, ``status``.
    """
    xaxis: dict[str, Any] = dict(type="date", tickformat="%d %b %Y")
    dates = _run_dates(history["as_of"])
    if dates is not None:
        xaxis["range"] = dates
    figure = plain_figure(
        [
            dict(
                type="scatter",
                x=history["as_of"].to_list(),
                y=history["p_on_time"].to_list(),
                mode="lines+markers",
                line=dict(color=FORECAST_COLOUR, width=2),
                marker=dict(
                    size=9,
                    color=[STATUS_COLOURS.get(s, PLANNED_COLOUR) for s in history["status"]],
                    line=dict(width=1, color="white"),
                ),
                customdata=[status_label(s) for s in history["status"]],
                hovertemplate="Forecast of %{x|%d %b %Y}<br>%{y:.0%} likely on time<br>%{customdata}<extra></extra>",
                showlegend=False,
            )
        ],
        title=dict(text="Probability of landing, run by run"),
        margin=dict(t=60),
        height=300,
        yaxis=dict(range=[0, 1.05], tickformat=".0%", title=dict(text="likely on time")),
        xaxis=xaxis,
    )
    if history.empty:
        figure["layout"]["annotations"] = [_plain_note("No forecast run has included this benefit yet")]
    return figure


def _run_dates(dates: pd.Series) -> list[str] | None:
    """An x range of at least ``HISTORY_MIN_DAYS`` around the runs' dates, so that one run (or a few
    close together) reads as a date rather than a fraction of a day; None (autorange) without runs."""
    if dates.empty:
        return None
    first, last = pd.Timestamp(min(dates)), pd.Timestamp(max(dates))
    pad = max(pd.Timedelta(days=7), (pd.Timedelta(days=HISTORY_MIN_DAYS) - (last - first)) / 2)
    return [(first - pad).date().isoformat(), (last + pad).date().isoformat()]


def benefits_map(benefits: pd.DataFrame, currency: str) -> dict[str, Any]:
    """A Sankey of initiative → benefit → strategic outcome (the benefit's category), sized by the
    value promised at target (in ``currency``), so each outcome shows which benefits feed it (a plain
    figure dict).

    ``benefits`` has columns ``benefit``, ``name``, ``initiative``, ``initiative_name``, ``category``,
    ``value_at_target``.
    """
    initiatives = list(dict.fromkeys(benefits["initiative"]))
    outcomes = list(dict.fromkeys(benefits["category"]))
    names = dict(zip(benefits["initiative"], benefits["initiative_name"], strict=True))
    full = (  # in the hover; the nodes' labels are cut short, so that long names do not run into each other
        [names[i] for i in initiatives] + list(benefits["name"]) + [f"Outcome: {category_label(c)}" for c in outcomes]
    )
    labels = [short_label(text, width=36, lines=2) for text in full]
    first_benefit, first_outcome = len(initiatives), len(initiatives) + len(benefits)
    size = [max(abs(v or 0.0), 1.0) for v in benefits["value_at_target"]]
    source, target, value = [], [], []
    for n, (initiative, category) in enumerate(zip(benefits["initiative"], benefits["category"], strict=True)):
        source += [initiatives.index(initiative), first_benefit + n]
        target += [first_benefit + n, first_outcome + outcomes.index(category)]
        value += [size[n], size[n]]
    colours = (
        [PLANNED_COLOUR] * len(initiatives) + [REALISED_COLOUR] * len(benefits) + [FORECAST_COLOUR] * len(outcomes)
    )
    money = hover_value(currency, 0, axis="value")
    figure = plain_figure(
        [
            dict(
                type="sankey",
                arrangement="snap",
                node=dict(
                    label=labels,
                    customdata=[plot_text(text) for text in full],
                    color=colours,
                    pad=8,
                    thickness=14,
                    hovertemplate=f"%{{customdata}}<br>{money} at target<extra></extra>",
                ),
                link=dict(
                    source=source,
                    target=target,
                    value=value,
                    color="rgba(140, 149, 159, 0.35)",
                    hovertemplate=(
                        f"%{{source.customdata}} → %{{target.customdata}}<br>{money} at target<extra></extra>"
                    ),
                ),
            )
        ],
        title=dict(text="Benefits map: initiative → benefit → strategic outcome"),
        margin=dict(t=60),
        height=max(420, 22 * len(benefits)),
    )
    if benefits.empty:
        figure["layout"]["annotations"] = [_plain_note("No benefits to map")]
    return figure
