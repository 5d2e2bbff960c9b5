"""Small layout pieces shared by the pages: cards, status badges, tables, notices, URL values.

Text always goes in as component children (escaped by React), never as raw HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from dash import dcc, html
from sqlalchemy.orm import Session

from benefits.dashboards import data, queries
from benefits.dashboards.formatting import STATUS_COLOURS, category_label, status_label
from benefits.dashboards.snapshot import FILTERS, Filters


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
    return benefit_hrefs([key], as_of)[0]


def benefit_hrefs(keys: Iterable[str], as_of: dt.date | None = None) -> list[str]:
    """:func:`benefit_href` of each key, the query string made once (the register links every benefit)."""
    suffix = query(as_of)
    return [f"/benefit/{quote(key, safe='')}{suffix}" for key in keys]


def _id(component_id: str | None) -> dict[str, Any]:
    """``id=`` for a component when there is one (Dash refuses ``id=None``)."""
    return {"id": component_id} if component_id else {}


def card(label: str, value: str, note: str = "", card_id: str | None = None) -> html.Div:
    """A headline figure with its label and an optional note underneath."""
    children: list[Any] = [html.Div(label, className="card-label"), html.Div(value, className="card-value")]
    if note:
        children.append(html.Div(note, className="card-note"))
    return html.Div(children, className="card", **_id(card_id))


def status_badge(status: str) -> html.Span:
    """A status as a coloured label."""
    colour = STATUS_COLOURS.get(status, "#d0d7de")
    dark_text = status in {"at_risk", "no_data"}
    return html.Span(
        status_label(status),
        className="badge",
        style={"backgroundColor": colour, "color": "#1f2328" if dark_text else "#ffffff"},
    )


def table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], table_id: str | None = None, numeric: Sequence[int] = ()
) -> html.Table:
    """A plain table; ``numeric`` column indexes are right-aligned."""

    def cell(tag: type[html.Th] | type[html.Td], n: int, value: Any) -> Any:
        return tag(value, className="num") if n in numeric else tag(value)

    return html.Table(
        [
            html.Thead(html.Tr([cell(html.Th, n, h) for n, h in enumerate(headers)])),
            html.Tbody([html.Tr([cell(html.Td, n, v) for n, v in enumerate(row)]) for row in rows]),
        ],
        className="table",
        **_id(table_id),
    )


def facts(rows: Sequence[tuple[str, Any]], table_id: str | None = None) -> html.Table:
    """A two-column table of labelled values."""
    return html.Table(
        html.Tbody([html.Tr([html.Th(label), html.Td(value)]) for label, value in rows]),
        className="table facts",
        **_id(table_id),
    )


def notice(title: str, *lines: Any) -> html.Div:
    """A friendly message in place of a page (unknown benefit, store not ready, bad URL value);
    commands in a line's backticks are shown as code (:func:`with_code`)."""
    return html.Div(
        [
            html.H1(title),
            *[html.P(with_code(line) if isinstance(line, str) else line) for line in lines],
            html.P(dcc.Link("Back to the portfolio", href="/")),
        ],
        className="notice",
    )


def with_code(text: str) -> list[Any]:
    """A sentence whose backticked parts (commands: ``run `benefits run```) are code elements, not
    literal backticks."""
    return [html.Code(part) if n % 2 else part for n, part in enumerate(text.split("`")) if part]


def graph(graph_id: str, figure: Any) -> dcc.Graph:
    """A chart with a stable id for links and tests, without plotly's logo."""
    return dcc.Graph(id=graph_id, figure=figure, config={"displaylogo": False}, className="chart")


T = TypeVar("T")

FILTER_LABELS = {
    "programme": "Programme",
    "tactic": "Tactic",
    "category": "Category",
    "owner": "Owner",
    "status": "Status",
}


def filter_bar(
    options: dict[str, list[str]], filters: Filters, labels: dict[str, dict[str, str]] | None = None
) -> html.Div:
    """A dropdown per filter (programme, tactic, category, owner, status); a change rewrites the URL.

    ``labels`` maps a filter's values to what people read (e.g. programme keys to names).
    """
    labels = labels or {}
    readable = {"category": category_label, "status": status_label, "tactic": category_label}
    dropdowns = []
    for name in FILTERS:
        named = labels.get(name, {})
        show = readable.get(name, lambda v: v)
        choices = [{"label": named.get(v) or show(v), "value": v} for v in options.get(name, [])]
        dropdowns.append(
            html.Label(
                [
                    html.Span(FILTER_LABELS[name], className="filter-label"),
                    dcc.Dropdown(
                        id={"type": "filter", "name": name},
                        options=choices,
                        value=getattr(filters, name) or None,
                        placeholder="All",
                        clearable=True,
                        className="filter-dropdown",
                    ),
                ],
                className="filter",
            )
        )
    return html.Div(dropdowns, className="filters", id="filters")


def page_query(as_of: dt.date | None, filters: Filters | None = None) -> str:
    """The query string that keeps ``as_of`` and the filters on links between pages."""
    return (filters or Filters()).query(as_of=as_of.isoformat() if as_of else None)


def initiative_href(key: str, as_of: dt.date | None = None) -> str:
    """The URL of an initiative's page."""
    return f"/initiative/{quote(key, safe='')}{query(as_of)}"


def empty_notice(shown: int, filters: Filters) -> html.P | None:
    """A note when the filters leave nothing to show, else None."""
    if not shown and filters.active:
        return html.P("No benefit matches these filters.", className="message", id="no-match")
    return None


def load(as_of: Any, read: Callable[[Session, dt.date | None], T]) -> tuple[T, dt.date | None] | html.Div:
    """``read(session, date)`` for a page's ``as_of`` URL value, with that date (None for today), or
    the notice to show instead (bad date, store not ready)."""
    when, problem = parse_as_of(as_of)
    if problem:
        return notice("That date is not valid", problem)
    try:
        with data.session() as session:
            return read(session, when), when
    except queries.StoreUnavailable as exc:
        return notice("The store is not ready", str(exc))


def filtered_summary(as_of: Any, values: dict[str, Any]) -> tuple[queries.PortfolioSummary, dt.date | None] | html.Div:
    """The portfolio summary for a page's URL values (``as_of`` and the filters), as ``load``."""
    return load(as_of, lambda session, when: queries.portfolio_summary(session, when, Filters.from_query(values)))


def keyed_title(kind: str) -> Callable[..., str]:
    """A page-title function for a page about one ``kind`` (``/benefit/<key>``): the key, else the kind."""

    def title(key: str | None = None, **_other: Any) -> str:
        return f"{key} · benefits" if key else f"{kind} · benefits"

    return title
