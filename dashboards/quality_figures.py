"""Figures of the data-quality and connectors pages, pure functions of plain data."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from benefits.dashboards.figures import PLANNED_COLOUR, REALISED_COLOUR, TARGET_COLOUR, _note, new_figure
from benefits.dashboards.formatting import plot_text

QUARANTINED_COLOUR = TARGET_COLOUR
WARNING_COLOUR = "#d4a72c"


def sync_rows(runs: pd.DataFrame) -> go.Figure:
    """Rows accepted, quarantined and restated per sync run (oldest left), stacked.

    ``runs`` has columns ``id``, ``connector``, ``rows_accepted``, ``rows_quarantined``, ``rows_restated``.
    """
    ordered = runs.sort_values("id")
    labels = [f"#{i} {plot_text(c)}" for i, c in zip(ordered["id"], ordered["connector"], strict=True)]
    bars = [
        ("Accepted", "rows_accepted", REALISED_COLOUR),
        ("Quarantined", "rows_quarantined", QUARANTINED_COLOUR),
        ("Restated", "rows_restated", PLANNED_COLOUR),
    ]
    figure = new_figure(
        [
            go.Bar(
                name=name,
                x=labels,
                y=ordered[column].to_list(),
                marker_color=colour,
                hovertemplate=f"%{{x}}<br>{name}: %{{y:,d}} rows<extra></extra>",
            )
            for name, column, colour in bars
        ]
    )
    figure.update_layout(
        title_text="Rows per sync run",
        barmode="stack",
        yaxis=dict(title=dict(text="rows"), tickformat=",d", rangemode="tozero"),
        xaxis=dict(type="category"),
    )
    if runs.empty:
        _note(figure, "No sync run yet: run `benefits sync`")
    return figure


def failures(by_expectation: pd.DataFrame) -> go.Figure:
    """Failed rows per validation check (horizontal bars), critical in red and warnings in amber.

    ``by_expectation`` has columns ``expectation``, ``severity``, ``failed_rows``, ``runs_failed``.
    """
    ordered = by_expectation.sort_values("failed_rows")
    figure = new_figure(
        go.Bar(
            x=ordered["failed_rows"].to_list(),
            y=[plot_text(e) for e in ordered["expectation"]],
            orientation="h",
            marker_color=[WARNING_COLOUR if s == "warning" else QUARANTINED_COLOUR for s in ordered["severity"]],
            customdata=list(zip(ordered["severity"], ordered["runs_failed"], strict=True)),
            hovertemplate="%{y}<br>%{x:,d} failed rows (%{customdata[0]}) in %{customdata[1]} runs<extra></extra>",
            showlegend=False,
        )
    )
    figure.update_layout(
        title_text="Rows failing each validation check",
        margin_l=320,
        margin_t=60,
        height=max(320, 60 + 28 * len(ordered)),
        xaxis=dict(title=dict(text="failed rows"), tickformat=",d", rangemode="tozero"),
    )
    if by_expectation.empty:
        _note(figure, "No validation statistics stored yet")
    return figure
