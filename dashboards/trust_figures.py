"""Figures of the forecast-trust page, pure functions of plain data (``benefits.dashboards.trust``)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from benefits.dashboards.figures import (
    FORECAST_COLOUR,
    PLANNED_COLOUR,
    REALISED_COLOUR,
    TARGET_COLOUR,
    _note,
    new_figure,
)
from benefits.dashboards.formatting import plot_text

RAW_COLOUR = PLANNED_COLOUR
CALIBRATED_COLOUR = REALISED_COLOUR


def reliability_chart(reliability: pd.DataFrame) -> go.Figure:
    """Predicted chance of being on plan (mean per bin) against the share that was, with the
    diagonal of perfect agreement and each bin's count on its dot; empty bins are left out.

    ``reliability`` has columns ``lower``, ``upper``, ``count``, ``mean_p``, ``observed``.
    """
    shown = reliability[(reliability["count"] > 0) & reliability["mean_p"].notna()]
    counts = [int(c) for c in shown["count"]]
    figure = new_figure(
        [
            go.Scatter(
                name="Perfect agreement",
                x=[0, 1],
                y=[0, 1],
                mode="lines",
                line=dict(color=PLANNED_COLOUR, width=1.5, dash="dash"),
                hoverinfo="skip",
            ),
            go.Scatter(
                name="Backtested chances (labelled with how many)",
                x=shown["mean_p"].to_list(),
                y=shown["observed"].to_list(),
                mode="markers+text",
                marker=dict(
                    size=[_dot_size(c, max(counts, default=1)) for c in counts],
                    color=FORECAST_COLOUR,
                    line=dict(width=1, color="white"),
                ),
                text=[f"{c:,}" for c in counts],
                textposition="top center",
                customdata=[
                    [f"{lo:.0%}–{hi:.0%}", c] for lo, hi, c in zip(shown["lower"], shown["upper"], counts, strict=True)
                ],
                hovertemplate=(
                    "Forecasts giving %{customdata[0]}: %{customdata[1]:,d}<br>"
                    "average chance given: %{x:.0%}<br>on plan: %{y:.0%}<extra></extra>"
                ),
            ),
        ]
    )
    figure.update_layout(
        title_text="Were the chances right?",
        margin_t=80,
        xaxis=dict(range=[-0.03, 1.03], tickformat=".0%", title=dict(text="chance of being on plan the forecast gave")),
        yaxis=dict(range=[-0.05, 1.1], tickformat=".0%", title=dict(text="share that was on plan")),
    )
    if shown.empty:
        _note(figure, "No forecast chance has been checked against its outcome yet")
    return figure


def coverage_chart(coverage: pd.DataFrame, goal: float = 0.8) -> go.Figure:
    """The share of backtested outcomes inside the 80% interval by how far ahead it looked, before
    and after calibration, as horizontal bars (shortest horizon on top) against the ``goal`` line;
    each horizon's label carries its outcome count.

    ``coverage`` has columns ``band``, ``points``, ``raw``, ``calibrated`` (shortest horizon first).
    """
    labels = [
        f"{plot_text(str(band))}<br>{_outcomes(int(n))}"
        for band, n in zip(coverage["band"], coverage["points"], strict=True)
    ]
    bars = [("Before calibration", "raw", RAW_COLOUR), ("After calibration", "calibrated", CALIBRATED_COLOUR)]
    figure = new_figure(
        [
            go.Bar(
                name=name,
                y=labels,
                x=[None if pd.isna(v) else float(v) for v in coverage[column]],
                orientation="h",
                marker_color=colour,
                hovertemplate=f"%{{y}}<br>{name}: %{{x:.0%}} held<extra></extra>",
            )
            for name, column, colour in bars
        ]
    )
    figure.add_vline(
        x=goal,
        line=dict(color=TARGET_COLOUR, width=2, dash="dot"),
        annotation_text=f"goal {goal:.0%}",
        annotation_position="bottom right",
    )
    figure.update_layout(
        title_text="How often the 80% range held<br><sup>by how far ahead the forecast looked</sup>",
        margin_t=100,
        barmode="group",
        xaxis=dict(range=[0, 1.05], tickformat=".0%", title=dict(text="share inside the range")),
        yaxis=dict(autorange="reversed"),
    )
    if coverage.empty or not int(coverage["points"].sum()):
        _note(figure, "No forecast range has been checked against what came in yet")
    return figure


def _dot_size(count: int, largest: int) -> float:
    """Dots from 10 to 34 pixels across, by the square root of their share of the largest bin."""
    return 10 + 24 * (count / largest) ** 0.5 if largest else 10


def _outcomes(n: int) -> str:
    return "none yet" if n == 0 else f"{n:,} outcome" + ("" if n == 1 else "s")
