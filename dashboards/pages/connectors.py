"""The connectors page ("/connectors"): installed plugins and the last sync of each connector."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import html

from benefits.dashboards import components, data, quality, quality_figures, queries
from benefits.dashboards.formatting import timestamp

dash.register_page(__name__, path="/connectors", name="Connectors", title="Connectors · benefits", order=3)


def layout(**_values: Any) -> html.Div:
    """Plugins with their connector types and hooks; each connector instance's last sync run."""
    try:
        with data.session() as session, queries.reading():
            installed, last = quality.connectors(session)
    except queries.StoreUnavailable as exc:
        return components.notice("The store is not ready", str(exc))
    return html.Div(
        [
            html.H1("Connectors"),
            html.P("Plugins found through the `benefits` entry point, and the last sync of each configured "
                   "connector.", className="subtitle"),
            html.H2("Installed plugins"),
            components.table(["Plugin", "Version", "Connector types", "Hooks"],
                             [[p.name, p.version, p.connectors or "—", p.hooks] for p in installed.itertuples()],
                             table_id="connectors-plugins"),
            html.H2("Last sync of each connector"),
            _last_table(last),
            components.graph("connectors-runs", quality_figures.sync_rows(last)),
        ],
        className="page connectors",
    )


def _last_table(last: pd.DataFrame) -> html.Table | html.P:
    if last.empty:
        return html.P("No connector has synced yet: run `benefits sync`.", className="message",
                      id="connectors-last")
    rows = [[r.connector, r.connector_type, r.status, timestamp(r.finished_at or r.started_at),
             f"{r.rows_read:,}", f"{r.rows_accepted:,}", f"{r.rows_quarantined:,}", str(r.runs), r.error or ""]
            for r in last.itertuples()]
    return components.table(["Connector", "Type", "Status", "Finished", "Read", "Accepted", "Quarantined", "Runs",
                             "Error"], rows, table_id="connectors-last", numeric=(4, 5, 6, 7))
