"""The data-quality page ("/data-quality"): sync runs, rows failing each validation check, the
quarantine and stale metrics.

``?as_of=YYYY-MM-DD`` judges staleness at another date (default today).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dash
import pandas as pd
from dash import html

from benefits.dashboards import components, data, quality, quality_figures, queries
from benefits.dashboards.formatting import percent, timestamp
from benefits.staleness import days

dash.register_page(__name__, path="/data-quality", name="Data quality", title="Data quality · benefits", order=2)

METRICS_SHOWN = 50  # rows of the stale-metrics table when few are stale


def layout(as_of: Any = None, **_other: Any) -> html.Div:
    """The page for the URL's ``as_of`` value."""
    when, problem = components.parse_as_of(as_of)
    if problem:
        return components.notice("That date is not valid", problem)
    day = when or dt.date.today()
    try:
        with data.session() as session, queries.reading():
            runs = quality.sync_runs(session)
            failed = quality.failures_by_expectation(session)
            held, held_total = quality.quarantine(session)
            stale = quality.staleness(session, day)
    except queries.StoreUnavailable as exc:
        return components.notice("The store is not ready", str(exc))
    read = int(runs["rows_read"].sum()) if not runs.empty else 0
    quarantined = int(runs["rows_quarantined"].sum()) if not runs.empty else 0
    return html.Div(
        [
            html.H1("Data quality"),
            html.P(
                f"The latest {len(runs)} sync runs, what validation rejected and which metrics are behind, "
                f"as of {day.isoformat()}.",
                className="subtitle",
            ),
            html.Div(
                [
                    components.card("Sync runs", str(len(runs)), _failed_runs(runs), card_id="card-runs"),
                    components.card(
                        "Rows quarantined",
                        f"{quarantined:,}",
                        f"{percent(quarantined / read)} of {read:,} read" if read else "",
                        card_id="card-quarantined",
                    ),
                    components.card(
                        "Held in quarantine", f"{held_total:,}", "rows awaiting a fix and replay", card_id="card-held"
                    ),
                    components.card(
                        "Stale metrics",
                        str(int(stale.metrics["stale"].sum()) if not stale.metrics.empty else 0),
                        f"of {len(stale.metrics)} used",
                        card_id="card-stale",
                    ),
                ],
                className="cards",
            ),
            html.Div(
                [
                    components.graph("quality-runs", quality_figures.sync_rows(runs)),
                    components.graph("quality-failures", quality_figures.failures(failed)),
                ],
                className="charts",
            ),
            html.H2("Sync runs"),
            _runs_table(runs),
            html.H2("Quarantine"),
            _quarantine_table(held, held_total),
            html.H2("Stale metrics"),
            html.P(f"Stale means: {stale.rules}.", className="message"),
            _stale_table(stale.metrics),
        ],
        className="page quality",
    )


def _failed_runs(runs: pd.DataFrame) -> str:
    failed = int((runs["status"] == "failed").sum()) if not runs.empty else 0
    return f"{failed} failed" if failed else "none failed"


def _runs_table(runs: pd.DataFrame) -> html.Table:
    rows = [
        [
            f"#{r.id}",
            r.connector,
            r.connector_type,
            timestamp(r.started_at),
            r.status,
            f"{r.rows_read:,}",
            f"{r.rows_accepted:,}",
            f"{r.rows_quarantined:,}",
            f"{r.rows_restated:,}",
            r.error or "",
        ]
        for r in runs.itertuples()
    ]
    return components.table(
        ["Run", "Connector", "Type", "Started", "Status", "Read", "Accepted", "Quarantined", "Restated", "Error"],
        rows,
        table_id="quality-runs-table",
        numeric=(5, 6, 7, 8),
    )


def _quarantine_table(held: pd.DataFrame, total: int) -> html.Div | html.P:
    if held.empty:
        return html.P("Nothing is held in quarantine.", className="message", id="quality-quarantine")
    rows = [[f"#{r.sync_run}", r.source, str(r.row), r.metric, r.period, r.value, r.reasons] for r in held.itertuples()]
    note = f"The newest {len(held)} of {total:,} rows." if total > len(held) else f"All {total:,} rows."
    return html.Div(
        [
            html.P(note, className="message"),
            components.table(
                ["Run", "Source", "Row", "Metric", "Period", "Value", "Reasons"], rows, table_id="quality-quarantine"
            ),
        ]
    )


def _stale_table(metrics: pd.DataFrame) -> html.Div:
    """Stale metrics first; current ones up to ``METRICS_SHOWN`` rows in all, the rest counted."""
    shown = metrics.head(max(METRICS_SHOWN, int(metrics["stale"].sum()) if not metrics.empty else 0))
    rows = [
        [
            r.metric,
            r.unit,
            r.last_period or "never",
            "" if pd.isna(r.days_behind) else f"{int(r.days_behind)}",
            days(r.cadence_days),
            "stale" if r.stale else "ok",
            r.reason,
        ]
        for r in shown.itertuples()
    ]
    table = components.table(
        ["Metric", "Unit", "Latest period", "Days behind", "Cadence", "State", "Why"],
        rows,
        table_id="quality-stale",
        numeric=(3, 4),
    )
    rest = len(metrics) - len(shown)
    return html.Div([table, html.P(f"{rest} more metrics are current.", className="message")] if rest else [table])
