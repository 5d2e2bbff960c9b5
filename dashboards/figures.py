"""Plotly figures as pure functions of plain data: no store access, no Dash.

Every text that comes from the register goes through ``plot_text``, because plotly reads a
little HTML in labels and hover text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

from dashboards.formatting import (
    CURRENCY_SYMBOLS,
    STATUS_COLOURS,
    decimals_for,
    hover_value,
    percent,
    plot_text,
    quantity,
    status_label,
)

PLANNED_COLOUR = "#8c959f"
REALISED_COLOUR = "#0969da"
FORECAST_COLOUR = "#8250df"
TARGET_COLOUR = "#cf222e"
BASELINE_COLOUR = "#57606a"

_LAYOUT = dict(
    template="plotly_white",
    margin=dict(l=60, r=20, t=90, b=50),
    title=dict(y=0.97, yanchor="top", x=0.02, xanchor="left"),
    font=dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, traceorder="normal"),
    hoverlabel=dict(namelength=-1),
)


def initiative_bars(initiatives: pd.DataFrame, currency: str) -> go.Figure:
    """Planned-to-date vs realised-to-date value per initiative, grouped bars in ``currency``.

    ``initiatives`` has columns ``name``, ``planned_value``, ``realised_value``.
    """
    names = [plot_text(n) for n in initiatives["name"]]
    money = hover_value(currency, 0)
    figure = go.Figure(
        [
            go.Bar(
                name="Planned to date",
                x=names,
                y=initiatives["planned_value"].to_list(),
                marker_color=PLANNED_COLOUR,
                hovertemplate=f"%{{x}}<br>Planned to date: {money}<extra></extra>",
            ),
            go.Bar(
                name="Realised to date",
                x=names,
                y=initiatives["realised_value"].to_list(),
                marker_color=REALISED_COLOUR,
                hovertemplate=f"%{{x}}<br>Realised to date: {money}<extra></extra>",
            ),
        ]
    )
    figure.update_layout(
        _LAYOUT,
        title_text=f"Planned vs realised value by initiative ({plot_text(currency)})",
        barmode="group",
        yaxis=dict(title=dict(text=plot_text(currency)), tickprefix=CURRENCY_SYMBOLS.get(currency.upper(), ""),
                   tickformat=",.0f", rangemode="tozero"),
    )
    if initiatives.empty:
        _note(figure, "No benefits in the register yet")
    return figure


def status_bars(counts: Mapping[str, int]) -> go.Figure:
    """How many benefits have each status, in the fixed status order and colours."""
    statuses = list(counts)
    figure = go.Figure(
        go.Bar(
            x=[status_label(s) for s in statuses],
            y=[counts[s] for s in statuses],
            marker_color=[STATUS_COLOURS.get(s, PLANNED_COLOUR) for s in statuses],
            text=[str(counts[s]) for s in statuses],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y} benefits<extra></extra>",
            showlegend=False,
        )
    )
    figure.update_layout(
        _LAYOUT,
        title_text="Benefits by status",
        margin_t=60,
        yaxis=dict(title=dict(text="benefits"), rangemode="tozero", tickformat=",d",
                   dtick=1 if max(counts.values(), default=0) <= 10 else None),
    )
    return figure


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
) -> go.Figure:
    """The tracked quantity over time: baseline, planned profile, actuals, forecast with its 80%
    band, and the target at its date.

    ``planned`` and ``actuals`` have columns ``period``, ``q``; ``forecast`` has ``period``,
    ``yhat``, ``lower``, ``upper`` (it may be empty).
    """
    values = [baseline[1], target[1], *planned["q"], *actuals["q"], *forecast["lower"], *forecast["upper"]]
    places = decimals_for(v for v in values if pd.notna(v))
    y = hover_value(unit, places)
    periods = [baseline[0], target[0], *planned["period"], *actuals["period"], *forecast["period"]]
    first, last = min(periods), max(periods)
    traces: list[go.Scatter] = [
        go.Scatter(
            name="Baseline",
            x=[first, last],
            y=[baseline[1], baseline[1]],
            mode="lines",
            line=dict(color=BASELINE_COLOUR, width=1, dash="dot"),
            hovertemplate=f"Baseline: {y}<extra></extra>",
        ),
        go.Scatter(
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
            go.Scatter(
                name="80% interval (lower)",
                x=band["period"].to_list(),
                y=band["lower"].to_list(),
                mode="lines",
                line=dict(width=0, color=FORECAST_COLOUR),
                showlegend=False,
                hovertemplate=f"%{{x|%d %b %Y}}<br>Lower (10%): {y}<extra></extra>",
            ),
            go.Scatter(
                name="Forecast 80% interval",
                x=band["period"].to_list(),
                y=band["upper"].to_list(),
                mode="lines",
                line=dict(width=0, color=FORECAST_COLOUR),
                fill="tonexty",
                fillcolor="rgba(130, 80, 223, 0.18)",
                hovertemplate=f"%{{x|%d %b %Y}}<br>Upper (90%): {y}<extra></extra>",
            ),
            go.Scatter(
                name="Forecast (median)",
                x=forecast["period"].to_list(),
                y=forecast["yhat"].to_list(),
                mode="lines",
                line=dict(color=FORECAST_COLOUR, width=2, dash="dash"),
                hovertemplate=f"%{{x|%d %b %Y}}<br>Forecast: {y}<extra></extra>",
            ),
        ]
    traces += [
        go.Scatter(
            name="Actual",
            x=actuals["period"].to_list(),
            y=actuals["q"].to_list(),
            mode="lines+markers",
            line=dict(color=REALISED_COLOUR, width=2),
            marker=dict(size=5),
            hovertemplate=f"%{{x|%d %b %Y}}<br>Actual: {y}<extra></extra>",
        ),
        go.Scatter(
            name="Target",
            x=[target[0]],
            y=[target[1]],
            mode="markers",
            marker=dict(symbol="star", size=16, color=TARGET_COLOUR, line=dict(width=1, color="white")),
            hovertemplate=_target_hover(unit, target, p_on_time),
        ),
    ]
    figure = go.Figure(traces)
    figure.update_layout(
        _LAYOUT,
        title_text=f"Tracked value ({plot_text(unit)})",
        yaxis=dict(title=dict(text=plot_text(unit)), tickformat=",.0f" if places == 0 else None,
                   tickprefix=CURRENCY_SYMBOLS.get(unit.strip().upper(), "")),
        xaxis=dict(type="date"),
        hovermode="closest",
    )
    if as_of is not None and first <= as_of <= last:
        figure.add_shape(type="line", xref="x", yref="paper", x0=as_of, x1=as_of, y0=0, y1=1,
                         line=dict(color="#afb8c1", width=1))
        figure.add_annotation(x=as_of, y=1, xref="x", yref="paper", text="today" if as_of == dt.date.today()
                              else f"as of {as_of.isoformat()}", showarrow=False, xanchor="left", yanchor="top",
                              xshift=4, font=dict(size=11, color="#57606a"))
    if actuals.empty:
        _note(figure, "No observations since the baseline date yet")
    return figure


def _target_hover(unit: str, target: tuple[dt.date, float], p_on_time: float | None) -> str:
    text = f"Target: {plot_text(quantity(target[1], unit))} by {target[0].isoformat()}"
    if p_on_time is not None:
        text += f"<br>{percent(p_on_time)} likely on time"
    return text + "<extra></extra>"


def _note(figure: go.Figure, text: str) -> None:
    figure.add_annotation(text=text, xref="paper", yref="paper", x=0.5, y=0.85, showarrow=False,
                          font=dict(size=14, color="#57606a"))
