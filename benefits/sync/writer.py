"""Writing one sync run, chunk after chunk, inside the run's one transaction.

:class:`RunWriter` takes each validated chunk: accepted rows are stored (new values inserted,
restated ones upserted with their old revision kept: :func:`repository.load_observations`),
failing rows are quarantined verbatim with every reason, rows that only warned are loaded and
listed in ``validation_warnings``. A (metric, period) already accepted from an earlier chunk of
the same run is quarantined too, naming the row it repeats. A rejected row that an earlier sync
run of the same connector already holds in quarantine (same ``source_ref`` and content: the weekly
job re-sent the file) is counted as quarantined but not held twice
(:attr:`SyncReport.rows_already_held`). Under ``reject_batch`` nothing is
written until the run's verdict is known: the chunks are held in memory, then either all loaded
or all quarantined.

What a finished run stores (the shape the data-quality page reads):

- ``sync_runs``: ``rows_read = rows_accepted + rows_quarantined`` (checked before commit), ``log``
  (what the connector logged, masked; the runner sets it),
  ``rows_restated``, ``rows_warned``, ``policy``, ``validation_success`` (no row failed a
  critical expectation) and ``validation``: one entry per expectation, keyed
  ``<expectation_type>(<columns>)``, ``{"expectation", "column", "severity": "critical" |
  "warning", "success", "unexpected_count"}``, summed over the run's chunks;
- ``observations``: each accepted value with its ``source_ref`` (lineage) and sync run;
- ``quarantine``: one row per rejected row not already held (``record`` verbatim, ``reasons``, ``source_ref``);
- ``validation_warnings``: one row per accepted row that warned (same columns).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from benefits.errors import BenefitsError
from benefits.plugins.connector import UNREADABLE
from benefits.store import models, repository
from benefits.sync.config import Policy
from benefits.validation import QuarantineEntry, RowWarning, ValidationOutcome
from benefits.validation.frame import is_missing
from benefits.validation.results import Rows

_UNIQUE_KEY = "expect_compound_columns_to_be_unique(metric, period)"
#: Values per IN (...) list when looking up held rows by source_ref.
_IN_LIST = 500
#: Reasons named in a sync run's summary.
_TOP_REASONS = 3
_ROW_VALUE = re.compile(r"^([^:']+: )'[^']*'")  # "<field>: '<the row's value>' ..."
_LINE = re.compile(r"^(.*?: lines? )\d+(?:-\d+)?: ")  # "<file>: line 12: ..." of a line a connector could not read


@dataclass(frozen=True)
class SyncReport:
    """The outcome of one connector's sync run."""

    connector: str
    status: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    rows_restated: int = 0
    """Accepted rows that changed a stored value (the old one kept as a revision)."""
    error: str | None = None
    rows_warned: int = 0
    claims_new: int = 0
    claims_updated: int = 0
    claims_unchanged: int = 0
    rows_already_held: int = 0
    """Quarantined rows an earlier sync run of the connector already held (not held twice)."""
    sync_run: int | None = None
    unreadable: tuple[str, ...] = ()
    """The reasons of the run's ``unreadable`` records (files or lines the connector could not read)."""
    top_reasons: tuple[tuple[str, int], ...] = ()
    """The commonest reasons rows were quarantined, values left out (``value: … is not a number``), with counts."""
    rows_new: int = 0
    """Accepted rows for a (metric, period) the store did not hold from this connector."""
    rows_unchanged: int = 0
    """Accepted rows that re-sent a stored value unchanged (a bookmark that works keeps this low)."""
    log: tuple[str, ...] = ()
    """What the connector logged during the run (masked; stored as ``sync_runs.log``)."""
    rows_released: int = 0
    """Rows held by earlier runs whose source line this run loaded (fixed at the source): closed, kept."""


class RunWriter:
    """Writes the validated chunks of one sync run into an open transaction; :meth:`finish` seals the run."""

    def __init__(self, session: Session, source: str, run_id: int, policy: Policy) -> None:
        self._session, self._source, self._run_id, self._policy = session, source, run_id, policy
        self._seen = _SeenKeys()
        self._held: list[tuple[pd.DataFrame, ValidationOutcome]] = []
        self._statistics: dict[str, dict[str, Any]] = {}
        self._latest: dt.date | None = None
        self.read = self.accepted = self.quarantined = self.restated = self.warned = self.failing = 0
        self.new = self.unchanged = 0
        self.already_held = 0
        self._unreadable: list[str] = []
        self._reasons: Counter[str] = Counter()

    def add(self, chunk: pd.DataFrame, outcome: ValidationOutcome) -> None:
        """Take one validated chunk (its batch frame and outcome)."""
        outcome = self._seen.quarantine_repeats(chunk, outcome)
        self._merge(outcome.statistics)
        self.read += outcome.rows_read
        self.failing += len(outcome.quarantined)
        if self._policy is Policy.reject_batch:
            self._held.append((chunk, outcome))
        else:
            self._write(chunk, outcome)

    def finish(self) -> SyncReport:
        """Write what was held, check rows read = accepted + quarantined, and record the run."""
        if self._policy is Policy.reject_batch:
            self._release_held()
        if self.read != self.accepted + self.quarantined:
            raise BenefitsError(f"{self.read} rows read but {self.accepted} accepted + {self.quarantined} quarantined")
        if self._latest is not None:
            repository.advance_bookmark(self._session, self._source, self._latest)
        run = self._session.get_one(models.SyncRun, self._run_id)
        run.rows_read, run.rows_accepted, run.rows_quarantined = self.read, self.accepted, self.quarantined
        run.rows_restated, run.rows_warned, run.validation = self.restated, self.warned, self._statistics
        run.validation_success, run.status, run.finished_at = self.failing == 0, "succeeded", now()
        return SyncReport(
            self._source,
            "succeeded",
            self.read,
            self.accepted,
            self.quarantined,
            self.restated,
            rows_warned=self.warned,
            rows_already_held=self.already_held,
            sync_run=self._run_id,
            unreadable=tuple(self._unreadable),
            top_reasons=tuple(self._reasons.most_common(_TOP_REASONS)),
            rows_new=self.new,
            rows_unchanged=self.unchanged,
        )

    def _write(self, chunk: pd.DataFrame, outcome: ValidationOutcome) -> None:
        accepted = outcome.accepted
        refs = _refs(chunk, accepted["row"].tolist())
        columns = (accepted[name].tolist() for name in ("metric", "period", "value", "unit"))
        rows = [
            {"metric": m, "period": p, "value": v, "unit": u, "source_ref": r}
            for m, p, v, u, r in zip(*columns, refs, strict=True)
        ]
        counts = repository.load_observations(self._session, self._source, self._run_id, rows)
        units = accepted[["metric", "unit"]].drop_duplicates()
        metric_units = zip(units["metric"].tolist(), units["unit"].tolist(), strict=True)
        repository.record_metrics(self._session, dict(metric_units))
        self._unreadable += [str(q.record[UNREADABLE]) for q in outcome.quarantined if q.record.get(UNREADABLE)]
        self._reasons.update(reason_kind(q.reasons[0]) for q in outcome.quarantined if q.reasons)
        new = not_yet_held(self._session, self._source, self._run_id, outcome.quarantined)
        self.already_held += len(outcome.quarantined) - len(new)
        insert_entries(self._session, models.QuarantinedRow, self._run_id, self._source, new)
        insert_entries(self._session, models.ValidationWarning, self._run_id, self._source, outcome.warnings)
        if not accepted.empty:
            latest = accepted["period"].max()
            self._latest = latest if self._latest is None else max(self._latest, latest)
        self._session.flush()
        self.accepted += len(accepted)
        self.quarantined += len(outcome.quarantined)
        self.restated += counts.restated
        self.new += counts.new
        self.unchanged += counts.unchanged
        self.warned += len(outcome.warnings)

    def _release_held(self) -> None:
        """reject_batch: load every held chunk when no row failed, else quarantine every row."""
        held, self._held = self._held, []
        if self.failing == 0:
            for chunk, outcome in held:
                self._write(chunk, outcome)
            return
        reason = (
            f"batch rejected: {self.failing} of {self.read} rows failed validation "
            "(policy reject_batch in connectors.yaml)"
        )
        for chunk, outcome in held:
            rows = Rows(chunk, chunk)
            passed = [QuarantineEntry(r, rows.record(r), [reason]) for r in outcome.accepted["row"].tolist()]
            everything = sorted([*outcome.quarantined, *passed], key=lambda q: q.row)
            self._write(
                chunk, replace(outcome, accepted=outcome.accepted.iloc[0:0], quarantined=everything, warnings=[])
            )

    def _merge(self, statistics: dict[str, dict[str, Any]]) -> None:
        for key, entry in statistics.items():
            total = self._statistics.setdefault(key, {**entry, "success": True, "unexpected_count": 0})
            total["success"] = total["success"] and entry["success"]
            total["unexpected_count"] += entry["unexpected_count"]


class _SeenKeys:
    """The (metric, period) of every row accepted so far in a run, as sorted int64 codes per chunk.

    12 bytes a row: a million rows take ~12 MB, so a run can be checked for repeats across chunks.
    """

    def __init__(self) -> None:
        self._metric_ids: dict[str, int] = {}
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted codes, rows in that order)

    def quarantine_repeats(self, chunk: pd.DataFrame, outcome: ValidationOutcome) -> ValidationOutcome:
        """``outcome`` with accepted rows whose (metric, period) an earlier chunk accepted moved to quarantine."""
        accepted = outcome.accepted
        codes = self._codes(accepted)
        earlier = np.full(len(codes), -1, dtype="int64")
        for seen, rows in self._chunks:
            if len(seen):
                at = np.minimum(np.searchsorted(seen, codes), len(seen) - 1)
                hit = (seen[at] == codes) & (earlier < 0)
                earlier[hit] = rows[at[hit]]
        repeated = earlier >= 0
        keep = accepted.loc[~repeated]
        order = np.argsort(codes[~repeated], kind="stable")
        self._chunks.append((codes[~repeated][order], keep["row"].to_numpy()[order]))
        if not repeated.any():
            return outcome
        source = Rows(chunk, chunk)
        moved = [
            QuarantineEntry(
                row, source.record(row), [f"(metric, period): duplicate of row {first}, accepted earlier in this sync"]
            )
            for row, first in zip(accepted.loc[repeated, "row"].tolist(), earlier[repeated].tolist(), strict=True)
        ]
        statistics = dict(outcome.statistics)
        if _UNIQUE_KEY in statistics:
            entry = statistics[_UNIQUE_KEY]
            statistics[_UNIQUE_KEY] = {
                **entry,
                "success": False,
                "unexpected_count": entry["unexpected_count"] + len(moved),
            }
        quarantined = sorted([*outcome.quarantined, *moved], key=lambda q: q.row)
        moved_rows = {q.row for q in moved}
        warnings = [w for w in outcome.warnings if w.row not in moved_rows]
        return replace(
            outcome,
            accepted=keep.reset_index(drop=True),
            quarantined=quarantined,
            statistics=statistics,
            warnings=warnings,
            success=False,
        )

    def _codes(self, accepted: pd.DataFrame) -> np.ndarray:
        codes, names = pd.factorize(accepted["metric"].to_numpy(dtype=object))
        ids = np.array([self._metric_ids.setdefault(n, len(self._metric_ids)) for n in names], dtype="int64")[codes]
        days = np.array([p.toordinal() for p in accepted["period"].tolist()], dtype="int64")
        return (ids << 32) + days


def insert_entries(
    session: Session,
    model: type[models.QuarantinedRow] | type[models.ValidationWarning],
    run_id: int,
    source: str,
    entries: Sequence[QuarantineEntry | RowWarning],
) -> None:
    """Store rejected rows (``quarantine``) or rows that warned (``validation_warnings``) of sync run ``run_id``."""
    if entries:
        session.execute(
            insert(cast(Table, model.__table__)),
            [
                {
                    "sync_run_id": run_id,
                    "source": source,
                    "row_number": e.row,
                    "source_ref": _ref(e.record),
                    "record": e.record,
                    "reasons": e.reasons,
                }
                for e in entries
            ],
        )


def reason_kind(reason: str) -> str:
    """A reason without the row's own value (``value: … is not a number``) or line number (``a.csv: line …: …``):
    rows failing alike count together."""
    line = _LINE.match(reason)
    prefix, rest = (f"{line.group(1)}…: ", reason[line.end() :]) if line else ("", reason)
    return prefix + _ROW_VALUE.sub(r"\1…", rest)


def not_yet_held(
    session: Session, source: str, run_id: int, entries: Sequence[QuarantineEntry]
) -> list[QuarantineEntry]:
    """``entries`` less those an earlier run of ``source`` still holds (same ``source_ref`` and record).

    Each held row stands for one entry: a file that sends the same line twice, held twice, is
    matched twice.
    """
    if not entries:
        return []
    refs = {_ref(e.record) for e in entries}
    held = Counter(content_key(record) for record in _held_records(session, source, run_id, refs))
    if not held:
        return list(entries)
    new = []
    for found in entries:
        key = content_key(found.record)
        if held[key] > 0:
            held[key] -= 1
        else:
            new.append(found)
    return new


def content_key(record: dict[str, Any]) -> str:
    """A held record's identity: its JSON with sorted keys (``source_ref`` is part of the record)."""
    return json.dumps(record, sort_keys=True, default=str)


def _held_records(session: Session, source: str, run_id: int, refs: set[str | None]) -> Iterable[dict[str, Any]]:
    """The records of ``source`` still held from runs other than ``run_id`` whose source_ref is in ``refs``."""
    q = models.QuarantinedRow
    held = select(q.record).where(q.source == source, q.sync_run_id != run_id, q.resolved_at.is_(None))
    named = sorted(r for r in refs if r is not None)
    for start in range(0, len(named), _IN_LIST):
        yield from session.scalars(held.where(q.source_ref.in_(named[start : start + _IN_LIST])))
    if None in refs:
        yield from session.scalars(held.where(q.source_ref.is_(None)))


def _refs(chunk: pd.DataFrame, rows: list[int]) -> list[str | None]:
    """The ``source_ref`` of each of ``rows`` in the batch ``chunk`` (as stored: text, at most 500 characters)."""
    if "source_ref" not in chunk.columns or not rows:
        return [None] * len(rows)
    refs = dict(zip(chunk["row"].tolist(), chunk["source_ref"].tolist(), strict=True))
    found = [refs.get(row) for row in rows]
    return [r if type(r) is str and 0 < len(r) <= 500 and not r.isspace() else _ref({"source_ref": r}) for r in found]


def _ref(record: dict[str, Any]) -> str | None:
    ref = record.get("source_ref")
    return None if is_missing(ref) else str(ref)[:500]


def now() -> dt.datetime:
    """The current time in UTC (when a run finished)."""
    return dt.datetime.now(dt.UTC)
