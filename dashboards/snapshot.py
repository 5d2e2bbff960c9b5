"""Every benefit's position at a date, as one DataFrame: the URL filters and the portfolio-wide
pages (portfolio, register, map) and the steering pack all read it.

Its rows are ``benefits.status.positions``, the same function `benefits status` prints, read
from the same position snapshot in the store (``benefits.status.kept_positions``), so the
dashboard and the CLI cannot disagree: each row is a benefit's status row (``StatusRow``'s fields)
with the names, dates and counts the pages also show. The frame is also kept in memory per data
version (``benefits.dashboards.cache``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from sqlalchemy.orm import Session

from benefits.dashboards.cache import cached
from benefits.staleness import MetricSummary
from benefits.status import Position, StatusRow, kept_metric_health, kept_rows, positions

FILTERS = ("programme", "tactic", "category", "owner", "status")

#: A status row's fields, then what the pages also show of a benefit (``benefits.status.Position``).
COLUMNS = [*StatusRow.__dataclass_fields__, *(name for name in Position.__dataclass_fields__ if name != "row")]


@dataclass(frozen=True)
class Filters:
    """The URL's filter values; an empty value means "all"."""

    programme: str = ""
    tactic: str = ""
    category: str = ""
    owner: str = ""
    status: str = ""

    @classmethod
    def from_query(cls, values: dict[str, Any]) -> Filters:
        """The filters among a page's URL query values (anything else is ignored)."""
        return cls(**{f: str(values.get(f) or "") for f in FILTERS})

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of a snapshot that pass every filter."""
        mask = pd.Series(True, index=frame.index)
        for name in FILTERS:
            value = getattr(self, name)
            if value:
                mask &= frame[name] == value
        return frame[mask]

    def query(self, **extra: str | None) -> str:
        """``?programme=...&as_of=...`` with the set filters and ``extra`` values (empty when none)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)} | extra
        kept = {k: v for k, v in values.items() if v}
        return f"?{urlencode(kept)}" if kept else ""

    @property
    def active(self) -> bool:
        """True when any filter is set."""
        return any(getattr(self, f) for f in FILTERS)


def cached_snapshot(
    session: Session, as_of: dt.date, *, initiative: str | None = None, benefit: str | None = None
) -> pd.DataFrame:
    """:func:`snapshot`, read again only when the data changed (``benefits.dashboards.cache``); read-only."""
    if initiative is None and benefit is None:
        return cached(session, "snapshot", as_of, lambda: snapshot(session, as_of))
    return cached(
        session,
        "snapshot-of",
        (as_of, initiative, benefit),
        lambda: snapshot(session, as_of, initiative=initiative, benefit=benefit),
    )


def metric_health(session: Session, as_of: dt.date) -> list[MetricSummary]:
    """``benefits.staleness.metric_summaries`` at ``as_of`` (every metric), as the position snapshot
    keeps it with the positions (``benefits.status.kept_metric_health``); kept in memory per data version."""

    def read() -> list[MetricSummary]:
        with session.get_bind().engine.connect() as connection:
            return kept_metric_health(connection, as_of)

    return cached(session, "metric_health", as_of, read)


def snapshot(
    session: Session, as_of: dt.date, *, initiative: str | None = None, benefit: str | None = None
) -> pd.DataFrame:
    """One row per benefit (register order) with planned, realised and forecast figures at ``as_of``
    (:data:`COLUMNS`; None where a figure is missing); only the benefits of ``initiative``, or
    only ``benefit``, when given.

    Every benefit's rows are the position snapshot `benefits status` reads, computed and kept first
    when the data changed since (through a connection of its own, which commits the snapshot)."""
    if initiative is None and benefit is None:
        with session.get_bind().engine.connect() as connection:
            rows = kept_rows(connection, as_of)
    else:
        rows = [p.as_dict() for p in positions(session, as_of, initiative=initiative, benefit=benefit)]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    gaps = [c for c in COLUMNS if frame[c].isna().any()]
    frame[gaps] = frame[gaps].astype(object).where(frame[gaps].notna(), None)  # None, not NaN, like status rows
    return frame
