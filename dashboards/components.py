"""Small layout pieces shared by the pages: cards, status badges, tables, notices, URL values.

Text always goes in as component children (escaped by React), never as raw HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

from dash import dcc, html

from dashboards.formatting import STATUS_COLOURS, status_label


def parse_as_of(value: Any) -> tuple[dt.date | None, str | None]:
    """The ``as_of`` URL value as a date (None means today), or an error message to show."""
    if value is None or value == "":
        return None, None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value), None
        except ValueError:
            pass
    return None, f"as_of must be a date like 2025-07-07, not {value!r}"


def query(as_of: dt.date | None) -> str:
    """The query string that keeps the page's ``as_of`` on links (empty for today)."""
    return f"?{urlencode({'as_of': as_of.isoformat()})}" if as_of else ""


def benefit_href(key: str, as_of: dt.date | None = None) -> str:
    """The URL of a benefit's page."""
    return f"/benefit/{quote(key, safe='')}{query(as_of)}"


def card(label: str, value: str, note: str = "", card_id: str | None = None) -> html.Div:
    """A headline figure with its label and an optional note underneath."""
    children: list[Any] = [html.Div(label, className="card-label"), html.Div(value, className="card-value")]
    if note:
        children.append(html.Div(note, className="card-note"))
    return html.Div(children, className="card", **({"id": card_id} if card_id else {}))


def status_badge(status: str) -> html.Span:
    """A status as a coloured label."""
    colour = STATUS_COLOURS.get(status, "#d0d7de")
    dark_text = status in {"at_risk", "no_data"}
    return html.Span(
        status_label(status),
        className="badge",
        style={"backgroundColor": colour, "color": "#1f2328" if dark_text else "#ffffff"},
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], table_id: str | None = None,
          numeric: Sequence[int] = ()) -> html.Table:
    """A plain table; ``numeric`` column indexes are right-aligned."""
    def cell(tag: type[html.Th] | type[html.Td], n: int, value: Any) -> Any:
        return tag(value, className="num") if n in numeric else tag(value)

    return html.Table(
        [
            html.Thead(html.Tr([cell(html.Th, n, h) for n, h in enumerate(headers)])),
            html.Tbody([html.Tr([cell(html.Td, n, v) for n, v in enumerate(row)]) for row in rows]),
        ],
        className="table",
        **({"id": table_id} if table_id else {}),
    )


def facts(rows: Sequence[tuple[str, Any]], table_id: str | None = None) -> html.Table:
    """A two-column table of labelled values."""
    return html.Table(
        html.Tbody([html.Tr([html.Th(label), html.Td(value)]) for label, value in rows]),
        className="table facts",
        **({"id": table_id} if table_id else {}),
    )


def notice(title: str, *lines: Any) -> html.Div:
    """A friendly message in place of a page (unknown benefit, store not ready, bad URL value)."""
    return html.Div(
        [html.H1(title), *[html.P(line) for line in lines], html.P(dcc.Link("Back to the portfolio", href="/"))],
        className="notice",
    )


def graph(graph_id: str, figure: Any) -> dcc.Graph:
    """A chart with a stable id for links and tests, without plotly's logo."""
    return dcc.Graph(id=graph_id, figure=figure, config={"displaylogo": False}, className="chart")


def category_label(category: str) -> str:
    """``cost_reduction`` -> ``Cost reduction``."""
    return category.replace("_", " ").capitalize()
