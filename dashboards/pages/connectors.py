"""The connectors page ("/connectors"): installed plugins and the last sync of each connector."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import html

from benefits.dashboards import components, data, quality, quality_figures, queries
from benefits.dashboards.formatting import timestamp

dash.register_page(__name__, path="/connectors", name="Connectors", title="Connectors · benefits", order=3)

BUILT_IN = {
    "benefits.plugins.demo": "Demo data",
    "benefits.plugins.csv_files": "CSV files",
    "benefits.plugins.sql_query": "SQL query",
    "benefits.plugins.http_json": "HTTP JSON API",
}
ADDS = {"register_connectors": "connectors", "register_expectations": "validation checks"}  # by hook


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
            html.P(
                "The plugins that bring data in (built in, or installed as Python packages), and the last sync "
                "of each connector set up in connectors.yaml.",
                className="subtitle",
            ),
            html.H2("Plugins"),
            components.table(
                ["Plugin", "Version", "Plugin API", "Connector types", "Adds"],
                [
                    [plugin_label(p.name), p.version, p.plugin_api or "—", p.connectors or "—", adds(p.hooks)]
                    for p in installed.itertuples()
                ],
                table_id="connectors-plugins",
            ),
            html.H2("Last sync of each connector"),
            _last_table(last),
            components.graph("connectors-runs", quality_figures.sync_rows(last)),
        ],
        className="page connectors",
    )


def _last_table(last: pd.DataFrame) -> html.Table | html.P:
    if last.empty:
        return html.P(
            ["No connector has synced yet: run ", html.Code("benefits sync"), "."],
            className="message",
            id="connectors-last",
        )
    rows = [
        [
            r.connector,
            r.connector_type,
            r.status,
            timestamp(r.finished_at or r.started_at),
            f"{r.rows_read:,}",
            f"{r.rows_accepted:,}",
            f"{r.rows_quarantined:,}",
            str(r.runs),
            r.error or "",
        ]
        for r in last.itertuples()
    ]
    return components.table(
        ["Connector", "Type", "Status", "Finished", "Read", "Accepted", "Quarantined", "Runs", "Error"],
        rows,
        table_id="connectors-last",
        numeric=(4, 5, 6, 7),
    )


def plugin_label(name: str) -> str:
    """A plugin's name for people: ``CSV files (built in)`` for a built-in module, the last part of
    another module's name in words, an installed package's name as it is."""
    if name in BUILT_IN:
        return f"{BUILT_IN[name]} (built in)"
    return name.rsplit(".", 1)[-1].replace("_", " ").capitalize() if "." in name else name


def adds(hooks: str) -> str:
    """What a plugin's hooks (comma-separated names) add, in words: ``connectors, validation checks``."""
    return ", ".join(ADDS.get(h, h.replace("_", " ")) for h in hooks.split(", ") if h) or "—"
