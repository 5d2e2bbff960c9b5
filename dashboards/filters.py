"""The one callback behind every page's filter bar: a filter change rewrites the page's URL.

The page router then lays the page out again from its URL, so a view and its link are the same
thing: copy the address bar and the recipient sees the same filters. Other query values
(``as_of``) are kept.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import dash
from dash import ALL, Input, Output, State

from benefits.dashboards.snapshot import FILTERS


def filters_to_url(values: list[Any], search: str | None) -> Any:
    """The URL query with the filter bar's values (an emptied filter leaves the query)."""
    names = [item["id"]["name"] for item in dash.ctx.inputs_list[0]]
    updated = search_with(search or "", dict(zip(names, values, strict=True)))
    return dash.no_update if updated is None else updated


def search_with(search: str, values: dict[str, Any]) -> str | None:
    """``search`` with ``values`` set (empty ones removed); None when that changes nothing."""
    current = dict(parse_qsl(search.lstrip("?")))
    for name, value in values.items():
        if name not in FILTERS:
            continue
        if value:
            current[name] = str(value)
        else:
            current.pop(name, None)
    ordered = {k: current[k] for k in [*FILTERS, *sorted(set(current) - set(FILTERS))] if k in current}
    updated = f"?{urlencode(ordered)}" if ordered else ""
    return None if updated == search else updated


def register(app: dash.Dash) -> None:
    """Attach :func:`filters_to_url` to ``app``. Done for every app
    :func:`benefits.dashboards.app.create_app` makes: a module-level ``dash.callback`` would reach
    only the first app made in a process."""
    app.callback(
        Output("_pages_location", "search"),
        Input({"type": "filter", "name": ALL}, "value"),
        State("_pages_location", "search"),
        prevent_initial_call=True,
    )(filters_to_url)
