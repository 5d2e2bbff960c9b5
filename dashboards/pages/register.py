"""The benefits register ("/register"): every benefit in a sortable, filterable grid, exported to CSV
or Excel, both built on the server from the rows the grid shows.

URL values: ``as_of`` and the filters ``programme``, ``tactic``, ``category``, ``owner``, ``status``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from typing import Annotated, Any

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html

from benefits.dashboards import components
from benefits.dashboards.formatting import CURRENCY_SYMBOLS, category_label, status_label
from benefits.dashboards.posts import IsoDate, holding
from benefits.spreadsheet import FORMULA_START

dash.register_page(__name__, path="/register", name="Register", title="Register · benefits", order=1)

# (field, header, kind): kind "money" in the register's currency, "share" as %, "number", else text. After the
# benefit and its initiative come where it stands and its value, so that they are on screen without scrolling.
GRID_COLUMNS = [
    ("name", "Benefit", "link"),
    ("initiative_name", "Initiative", "text"),
    ("status", "Status", "text"),
    ("p_on_time", "Likely on time", "share"),
    ("planned_value", "Planned to date", "money"),
    ("realised_value", "Realised to date", "money"),
    ("cash_to_date", "Cash realised to date", "money"),
    ("planned_cash_to_date", "Cash planned to date", "money"),
    ("run_rate", "Run-rate per year", "money"),
    ("percent_realised", "Realised % of target", "percent"),
    ("target_date", "Target date", "text"),
    ("expected_landing", "Expected landing", "text"),
    ("previous_status", "Previous status", "text"),
    ("programme_name", "Programme", "text"),
    ("category", "Category", "text"),
    ("tactic", "Tactic", "text"),
    ("owner", "Owner", "text"),
    ("value_type", "Value type", "text"),
    ("unit", "Unit", "text"),
    ("last_period", "Latest observation", "text"),
    ("metric", "Metric", "text"),
]
VALUE_TYPE_LABELS = {"run_rate": "Run-rate (per year)", "amount": "Amount (banked)"}
# The widest (px) a text column grows to fit its text: the benefit's and initiative's names wrap onto more lines,
# other text is cut with "…"; each cell's full text is its tooltip. One long name then does not push the status
# and money columns off the screen.
WRAPPED_WIDTHS = {"name": 300, "initiative_name": 260}
TEXT_MAX_WIDTH = 200


def layout(as_of: Any = None, **values: Any) -> html.Div:
    """The grid for the URL's ``as_of`` and filter values."""
    loaded = components.filtered_summary(as_of, values)
    if isinstance(loaded, html.Div):
        return loaded
    summary, when = loaded
    rows = grid_rows(summary.benefits, when)
    return html.Div(
        [
            html.H1("Benefits register"),
            html.P(
                f"{len(rows)} of {summary.total} benefits as of {summary.as_of.isoformat()} · money in "
                f"{summary.currency}. Sort and filter in the column headers; exports hold the rows shown.",
                className="subtitle",
            ),
            components.filter_bar(summary.options, summary.filters, summary.labels),
            html.Div(
                [
                    html.Button("Export CSV", id="register-csv", className="button"),
                    html.Button("Export Excel", id="register-xlsx", className="button"),
                    dcc.Download(id="register-download"),
                    dcc.Store(
                        id="register-export", data={"currency": summary.currency, "as_of": summary.as_of.isoformat()}
                    ),
                ],
                className="actions",
            ),
            dag.AgGrid(
                id="register-grid",
                rowData=rows,
                columnDefs=column_defs(summary.currency),
                defaultColDef={"sortable": True, "filter": True, "resizable": True, "floatingFilter": True},
                dashGridOptions={
                    "pagination": True,
                    "paginationPageSize": 50,
                    "animateRows": False,
                    "suppressColumnVirtualisation": True,
                    "tooltipShowDelay": 300,
                },
                columnSize="autoSize",
                style={"height": "640px"},
                className="ag-theme-alpine",
            ),
        ],
        className="page register",
    )


def grid_rows(frame: pd.DataFrame, when: Any) -> list[dict[str, Any]]:
    """The grid's rows: readable category, tactic and status, and each benefit's page link; None for a
    missing value. Built from the columns as plain lists: a thousand rows in a few milliseconds, where
    pandas' per-row ``to_dict`` took tens."""
    readable: dict[str, Callable[[Any], Any]] = {
        "category": category_label,
        "tactic": category_label,
        "status": status_label,
        "previous_status": lambda s: status_label(s) if s else None,
        "value_type": VALUE_TYPE_LABELS.get,
        # Decimal to the penny; the grid takes numbers
        **dict.fromkeys(
            ("cash_to_date", "planned_cash_to_date", "run_rate"), lambda v: None if v is None else float(v)
        ),
    }
    names = [field for field, _, _ in GRID_COLUMNS]
    columns = []
    for name in names:
        values = frame[name].tolist()
        if frame[name].isna().any():
            values = [None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in values]
        show = readable.get(name)
        columns.append([show(v) for v in values] if show else values)
    names.append("href")
    columns.append(components.benefit_hrefs(frame["benefit"], when))
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def column_defs(currency: str) -> list[dict[str, Any]]:
    """Column definitions with values shown in their units (currency, %), and text columns no wider than
    ``WRAPPED_WIDTHS`` or ``TEXT_MAX_WIDTH`` (their full text on hover)."""
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), "")
    suffix = "" if symbol else f" {currency}"
    formats = {
        "money": f"params.value == null ? '' : '{symbol}' + d3.format(',.0f')(params.value) + '{suffix}'",
        "share": "params.value == null ? '' : d3.format('.0%')(params.value)",
        "percent": "params.value == null ? '' : d3.format('.1f')(params.value) + '%'",
    }
    columns = []
    for field, header, kind in GRID_COLUMNS:
        column: dict[str, Any] = {"field": field, "headerName": header}
        if kind in formats:
            column |= {
                "type": "numericColumn",
                "filter": "agNumberColumnFilter",
                "valueFormatter": {"function": formats[kind]},
            }
        elif field in WRAPPED_WIDTHS:
            column |= {"maxWidth": WRAPPED_WIDTHS[field], "wrapText": True, "autoHeight": True, "tooltipField": field}
        else:
            column |= {"maxWidth": TEXT_MAX_WIDTH, "tooltipField": field}
        if kind == "link":
            column |= {"cellRenderer": "PageLink", "cellRendererParams": {"hrefField": "href"}, "pinned": "left"}
        columns.append(column)
    return columns


@dash.callback(
    Output("register-download", "data", allow_duplicate=True),
    Input("register-csv", "n_clicks"),
    State("register-grid", "virtualRowData"),
    State("register-grid", "rowData"),
    State("register-export", "data"),
    prevent_initial_call=True,
)
def export_csv(
    _clicks: int | None,
    shown: list[dict[str, Any]] | None,
    everything: list[dict[str, Any]],
    export: Annotated[dict[str, str], holding(currency=str, as_of=IsoDate)],
) -> Any:
    """A CSV file of the rows the grid shows (as filtered and sorted there), with the grid's headers."""
    text = csv_text(shown if shown is not None else everything, export["currency"])
    return dcc.send_bytes(("\ufeff" + text).encode("utf-8"), f"benefits-{export['as_of']}.csv")  # BOM: Excel reads £


@dash.callback(
    Output("register-download", "data"),
    Input("register-xlsx", "n_clicks"),
    State("register-grid", "virtualRowData"),
    State("register-grid", "rowData"),
    prevent_initial_call=True,
)
def export_excel(_clicks: int | None, shown: list[dict[str, Any]] | None, everything: list[dict[str, Any]]) -> Any:
    """An Excel workbook of the rows the grid shows, with the grid's headers."""
    return dcc.send_bytes(excel_bytes(shown if shown is not None else everything), "benefits.xlsx")


def csv_text(rows: list[dict[str, Any]], currency: str) -> str:
    """The rows as CSV: the grid's columns, money and shares as plain numbers with their unit in the
    header, and text a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``)
    prefixed with ``'`` so that it stays text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_csv_header(header, kind, currency) for _, header, kind in GRID_COLUMNS])
    for row in rows:
        writer.writerow([_csv_cell(row.get(field), kind) for field, _, kind in GRID_COLUMNS])
    return buffer.getvalue()


def _csv_header(header: str, kind: str, currency: str) -> str:
    return {"money": f"{header} ({currency})", "share": f"{header} (%)"}.get(kind, header)


def _csv_cell(value: Any, kind: str) -> Any:
    if value is None:
        return ""
    if kind == "money":
        return round(float(value), 2)
    if kind == "share":
        return round(100 * float(value), 1)
    if kind == "percent":
        return round(float(value), 1)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def excel_bytes(rows: list[dict[str, Any]]) -> bytes:
    """The rows as an .xlsx workbook (one sheet, the grid's columns and headers).

    Text is stored as text, never as a formula, even when it starts with ``=``.
    """
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Benefits"
    sheet.append([header for _, header, _ in GRID_COLUMNS])
    for row in rows:
        sheet.append([row.get(field) for field, _, _ in GRID_COLUMNS])
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
