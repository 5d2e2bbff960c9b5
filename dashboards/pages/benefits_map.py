"""The benefits map ("/map"): initiative → benefit → strategic outcome as a Sankey, sized by the value
each benefit promises at its target.

URL values: the filters ``programme``, ``tactic``, ``category``, ``owner``, ``status`` and ``as_of``.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from benefits.dashboards import components, figures

dash.register_page(__name__, path="/map", name="Benefits map", title="Benefits map · benefits", order=4)

MAP_LIMIT = 60  # a Sankey stays readable up to about this many benefits


def layout(as_of: Any = None, **values: Any) -> html.Div:
    """The map for the URL's filters (the largest ``MAP_LIMIT`` benefits by value at target)."""
    loaded = components.filtered_summary(as_of, values)
    if isinstance(loaded, html.Div):
        return loaded
    summary, filters = loaded[0], loaded[0].filters
    shown = summary.benefits
    note = f"All {len(shown)} benefits shown."
    if len(shown) > MAP_LIMIT:
        shown = shown.loc[shown["value_at_target"].abs().sort_values(ascending=False).index[:MAP_LIMIT]]
        shown = shown.sort_index()
        note = (
            f"The {MAP_LIMIT} largest of {len(summary.benefits)} benefits by value at target; "
            "filter by programme or category to see the rest."
        )
    return html.Div(
        [
            html.H1("Benefits map"),
            html.P(
                f"Which initiative's benefits feed which strategic outcome. {note}", className="subtitle", id="map-note"
            ),
            components.filter_bar(summary.options, filters, summary.labels),
            components.empty_notice(len(shown), filters),
            components.graph("benefits-map", figures.benefits_map(shown, summary.currency)),
        ],
        className="page map",
    )
