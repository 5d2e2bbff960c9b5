"""The page shown for any URL that matches no other page (Dash Pages finds it by its module name)."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from benefits.dashboards import components

dash.register_page(__name__, path="/404", name="Not found", title="Not found · benefits")


def layout(**_values: Any) -> html.Div:
    """A friendly message and a way back."""
    return components.notice("Page not found", "There is no page at this address.")
