"""What the data-quality and connectors pages read: sync runs, failures by expectation, quarantine,
stale metrics, and the last sync of each connector. Plain DataFrames for the figures and pages.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benefits.dashboards.snapshot import metric_health
from benefits.staleness import DEFAULT_TOLERANCE
from benefits.store import models

RUN_COLUMNS = [
    "id",
    "connector",
    "connector_type",
    "started_at",
    "finished_at",
    "status",
    "rows_read",
    "rows_accepted",
    "rows_quarantined",
    "rows_restated",
    "error",
]


@dataclass(frozen=True)
class Staleness:
    """Metrics by how recent their latest observation is, and whether the project's rules were used."""

    metrics: pd.DataFrame  # metric, unit, last_period, days_behind, cadence_days, stale, reason
    rules: str  # how staleness is decided, shown on the page


def sync_runs(session: Session, limit: int = 50) -> pd.DataFrame:
    """The most recent sync runs, newest first (``RUN_COLUMNS``)."""
    s = models.SyncRun
    query = select(*(getattr(s, c) for c in RUN_COLUMNS)).order_by(s.id.desc()).limit(limit)
    return pd.DataFrame(session.execute(query).all(), columns=RUN_COLUMNS)


# Plain names of the built-in validation checks (benefits.validation.rules), by the key their
# statistics are stored under: ``<expectation type>(<columns>)``.
CHECK_NAMES = {
    "expect_column_values_to_not_be_null(metric)": "Metric missing",
    "expect_column_values_to_not_be_null(period)": "Period missing or not a date",
    "expect_column_values_to_not_be_null(value_text)": "Value missing",
    "expect_column_values_to_not_be_null(unit)": "Unit missing",
    "expect_column_values_to_match_regex(value_text)": "Value not a number",
    "expect_column_values_to_be_between(value)": "Value not a finite number",
    "expect_compound_columns_to_be_unique(metric, period)": "Same metric and period twice in a batch",
    "expect_column_values_to_be_between(period)": "Period in the future",
    "expect_column_values_to_be_in_set(metric)": "Metric not in the register",
    "expect_column_pair_values_to_be_equal(unit, declared_unit)": "Unit differs from the register's",
    "expect_column_pair_values_a_to_be_greater_than_b(value, min_value)": "Value below its minimum",
    "expect_column_pair_values_a_to_be_greater_than_b(max_value, value)": "Value above its maximum",
    "expect_column_pair_values_a_to_be_greater_than_b(period, earliest_period)": "Period long before the baseline",
    "expect_column_values_to_be_between(jump_score)": "Sudden jump from the previous period",
}
_KEY = re.compile(r"(?P<check>expect_(?P<words>\w+)\((?P<columns>[^)]*)\))(?:#(?P<n>\d+))?")


def check_name(key: str) -> str:
    """A validation check in plain words, from the key its statistics are stored under
    (``expect_column_values_to_be_between(jump_score)`` -> ``Sudden jump from the previous period``).

    A plugin's check without a plain name reads ``<columns>: expected to <...>``; a repeated check
    keeps its number (``#2``)."""
    found = _KEY.fullmatch(key)
    if found is None:
        return key
    name = CHECK_NAMES.get(found["check"])
    if name is None:
        words = re.sub(
            r"^(column_values_to_|column_pair_values_|compound_columns_to_|table_|column_)", "", found["words"]
        ).replace("_", " ")
        name = f"{found['columns'] or 'batch'}: expected to {words}"
    return f"{name} #{found['n']}" if found["n"] else name


def failures_by_expectation(session: Session, limit: int = 50) -> pd.DataFrame:
    """Failed rows per validation check over the latest ``limit`` runs' validation statistics.

    Columns ``expectation`` (the check's plain name, :func:`check_name`), ``severity``,
    ``failed_rows``, ``runs_failed``, ``runs_checked``; most failed rows first.
    """
    s = models.SyncRun
    runs = session.execute(select(s.validation).where(s.validation.is_not(None)).order_by(s.id.desc()).limit(limit))
    totals: dict[tuple[str, str], list[int]] = {}
    for (statistics,) in runs:
        for key, entry in (statistics or {}).items():
            if not isinstance(entry, dict) or "unexpected_count" not in entry:
                continue
            counts = totals.setdefault((check_name(str(key)), str(entry.get("severity", "critical"))), [0, 0, 0])
            failed = int(entry.get("unexpected_count") or 0)
            counts[0] += failed
            counts[1] += int(failed > 0 or entry.get("success") is False)
            counts[2] += 1
    frame = pd.DataFrame(
        [(k, sev, *c) for (k, sev), c in totals.items()],
        columns=["expectation", "severity", "failed_rows", "runs_failed", "runs_checked"],
    )
    return frame.sort_values(["failed_rows", "expectation"], ascending=[False, True]).reset_index(drop=True)


def quarantine(session: Session, limit: int = 200) -> tuple[pd.DataFrame, int]:
    """The newest rows still held in quarantine (``id``, ``sync_run``, ``source``, ``row``, ``metric``,
    ``period``, ``value``, ``reasons``) and how many are held in all; rows loaded by a retry or
    resolved by hand are not held."""
    q = models.QuarantinedRow
    held = q.resolved_at.is_(None)
    total = session.scalar(select(func.count()).select_from(q).where(held)) or 0
    rows = session.execute(
        select(q.id, q.sync_run_id, q.source, q.row_number, q.record, q.reasons)
        .where(held)
        .order_by(q.id.desc())
        .limit(limit)
    ).all()
    frame = pd.DataFrame(
        [
            (i, run, source, number, *_record_fields(record), "; ".join(str(r) for r in reasons or []))
            for i, run, source, number, record, reasons in rows
        ],
        columns=["id", "sync_run", "source", "row", "metric", "period", "value", "reasons"],
    )
    return frame, total


def _record_fields(record: Any) -> tuple[str, str, str]:
    record = record if isinstance(record, dict) else {}
    metric, period, value = ("" if record.get(k) is None else str(record.get(k)) for k in ("metric", "period", "value"))
    return metric, period, value


def staleness(session: Session, as_of: dt.date) -> Staleness:
    """The register's metrics by staleness at ``as_of``, judged by ``benefits.staleness`` (each
    metric's declared or usual cadence times its tolerance); stale ones first."""
    records = [
        (
            m.metric,
            m.unit,
            m.last_period.isoformat() if m.last_period else None,
            (as_of - m.last_period).days if m.last_period else None,
            m.cadence_days,
            m.stale,
            m.message() if m.stale else ("never observed" if m.last_period is None else ""),
        )
        for m in metric_health(session, as_of)
        if m.used
    ]
    frame = pd.DataFrame(
        records, columns=["metric", "unit", "last_period", "days_behind", "cadence_days", "stale", "reason"]
    )
    frame = frame.sort_values(["stale", "days_behind"], ascending=False, na_position="last").reset_index(drop=True)
    return Staleness(
        frame,
        f"the latest period is older than the metric's cadence (declared, else the usual gap "
        f"between its periods) times its tolerance (default {DEFAULT_TOLERANCE:g})",
    )


def connectors(session: Session) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Installed plugins (``name``, ``version``, ``plugin_api``, ``connectors``, ``hooks``) and each
    connector instance's last sync run (``RUN_COLUMNS`` plus ``runs``, its number of runs)."""
    from benefits.plugins.manager import plugins

    installed = pd.DataFrame(
        [(p.name, p.version, p.plugin_api, ", ".join(p.connectors), ", ".join(p.hooks)) for p in plugins()],
        columns=["name", "version", "plugin_api", "connectors", "hooks"],
    )
    s = models.SyncRun
    last = select(s.connector, func.max(s.id).label("id"), func.count().label("runs")).group_by(s.connector).subquery()
    query = (
        select(*(getattr(s, c) for c in RUN_COLUMNS), last.c.runs).join(last, last.c.id == s.id).order_by(s.connector)
    )
    return installed, pd.DataFrame(session.execute(query).all(), columns=[*RUN_COLUMNS, "runs"])
