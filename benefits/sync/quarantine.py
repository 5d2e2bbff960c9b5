"""Quarantine: list and show rejected rows, retry them once the configuration is fixed, resolve them by hand.

A retry re-validates held rows with the current rules (the register, validation.yaml and every
plugin's expectations, as a sync would) in one sync run of kind ``retry`` per connector, so that
``rows_read = rows_accepted + rows_quarantined`` holds for it as for any sync run. Rows that pass
are loaded as observations of their connector (through the same idempotent upsert, with the retry
run as their provenance) and their quarantine entries are marked resolved, never deleted; rows
that still fail stay held with the reasons of this retry.

A row fixed in the source is loaded by the next sync (``quarantine retry --from-source`` runs that
sync itself, and a plain ``quarantine retry`` runs it for the connectors whose source files changed:
:func:`source_files`); :func:`close_reloaded` then closes each held copy whose source line has loaded a
value for its period since it was held (``resolved_sync_run_id`` is the sync run that loaded it).
A row nobody wants is closed by hand with :func:`resolve`. Closing keeps the row, with who (or
which run), when and why; it never deletes it nor overwrites an earlier resolution. A row is *held*
while ``resolved_at`` is NULL.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from benefits.errors import BenefitsError
from benefits.plugins.connector import Connector
from benefits.plugins.csv_files import CsvConnector, source_file
from benefits.register import Register
from benefits.store import models, repository

_REFS_PER_QUERY = 500
"""Held entries whose source lines are looked up in one query."""
MTIME_SLACK = dt.timedelta(seconds=1)
"""How much later than a sync run's start a file must have been modified to count as changed since that
run read it: SQLite keeps the start to the second, and a file written in the second the run started
was most likely read by it."""


@dataclass(frozen=True)
class QuarantineFilter:
    """Which quarantine entries to list or retry; empty fields match everything."""

    ids: tuple[int, ...] = ()
    connector: str | None = None
    sync_run: int | None = None
    reason: str | None = None
    include_resolved: bool = False
    held_before: int | None = None
    """Only entries held by a sync run before this one."""


@dataclass(frozen=True)
class RetryReport:
    """The outcome of retrying one connector's held rows."""

    connector: str
    sync_run: int
    rows_read: int
    rows_accepted: int
    rows_quarantined: int


def entries(session: Session, where: QuarantineFilter) -> list[models.QuarantinedRow]:
    """The quarantine entries matching ``where``, oldest first (held ones only unless ``include_resolved``)."""
    found = list(session.scalars(_query(where)))
    if where.reason:
        needle = where.reason.lower()
        found = [e for e in found if any(needle in str(r).lower() for r in e.reasons)]
    return found


def entry(session: Session, entry_id: int) -> models.QuarantinedRow:
    """One quarantine entry, or a BenefitsError naming the id."""
    found = session.get(models.QuarantinedRow, entry_id)
    if found is None:
        raise BenefitsError(f"quarantine entry {entry_id} does not exist (`benefits quarantine list` shows the ids)")
    return found


def as_dict(row: models.QuarantinedRow) -> dict[str, Any]:
    """An entry as JSON-safe data: the verbatim record and every reason."""
    return {
        "id": row.id,
        "connector": row.source,
        "sync_run": row.sync_run_id,
        "row": row.row_number,
        "source_ref": row.source_ref,
        "reasons": list(row.reasons),
        "record": row.record,
        "status": "resolved" if row.resolved_at is not None else "held",
        "retried_in": row.retry_sync_run_id,
        "resolved_in": row.resolved_sync_run_id,
        "resolved_by": row.resolved_by,
        "note": row.resolution_note,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
    }


def resolve(session: Session, where: QuarantineFilter, by: str, note: str) -> list[int]:
    """Close the held entries matching ``where`` by hand: fixed at the source, or not wanted.

    Each keeps its record and reasons, with ``resolved_at``, ``resolved_by`` and ``note``; an id
    that is missing, does not match the filters or was already resolved fails the whole call,
    naming it. Returns the ids resolved.
    """
    if not note.strip():
        raise BenefitsError("--note: say why the rows are resolved (e.g. 'fixed in the source file, re-synced')")
    if not by.strip():
        raise BenefitsError("--by: say who resolves the rows")
    held = entries(session, replace(where, include_resolved=False))
    if where.ids:
        _check_ids(session, where.ids, {e.id for e in held})
    at = dt.datetime.now(dt.UTC)
    for found in held:
        found.resolved_at, found.resolved_by, found.resolution_note = at, by.strip(), note.strip()
    return [e.id for e in held]


def held_connectors(session: Session, where: QuarantineFilter) -> list[str]:
    """The connectors of the held entries matching ``where``, in order of their first entry."""
    return list(dict.fromkeys(e.source for e in entries(session, replace(where, include_resolved=False))))


def close_reloaded(session: Session, where: QuarantineFilter) -> dict[str, int]:
    """Close the held entries matching ``where`` whose source line (same connector and ``source_ref``) has
    loaded a value for the entry's period in a sync run after the one that held it: the source was fixed
    and re-read. Returns how many were closed per connector."""
    held = [e for e in entries(session, replace(where, include_resolved=False)) if e.source_ref]
    obs = models.Observation
    closed: dict[str, int] = {}
    at = dt.datetime.now(dt.UTC)
    for start in range(0, len(held), _REFS_PER_QUERY):
        chunk = held[start : start + _REFS_PER_QUERY]
        # looked up by (metric, period, source), the observations' unique index: no scan of the table
        loaded: dict[tuple[str, str | None, dt.date | None], int] = {
            (source, ref, period): run
            for source, ref, period, run in session.execute(
                select(obs.source, obs.source_ref, obs.period, obs.sync_run_id).where(
                    obs.metric.in_({str(e.record.get("metric", "")).strip() for e in chunk}),
                    obs.period.in_({p for p in (_period_of(e.record) for e in chunk) if p is not None}),
                    obs.source.in_({e.source for e in chunk}),
                )
            )
        }
        for found in chunk:
            run = loaded.get((found.source, found.source_ref, _period_of(found.record)))
            if run is not None and run > found.sync_run_id:
                found.resolved_sync_run_id, found.resolved_at = run, at
                found.resolution_note = f"loaded from its source line by sync run {run}"
                closed[found.source] = closed.get(found.source, 0) + 1
    return closed


@dataclass(frozen=True)
class SourceFiles:
    """The files one connector's held entries were read from, against the connector's latest read of them."""

    connector: str
    last_read: int
    """The connector's latest successful sync run: each file is compared with its start."""
    changed: tuple[str, ...]
    """Files modified since that run started (more than :data:`MTIME_SLACK` after)."""
    gone: tuple[str, ...]
    """Files that no longer exist (deleted or moved)."""
    folders: tuple[str, ...] = ()
    """Files replaced by a folder of the same name: the connector's glob skips folders, so none is re-read."""


def source_files(session: Session, where: QuarantineFilter, connectors: Iterable[Connector]) -> list[SourceFiles]:
    """For each of ``connectors`` that reads files (the csv connector and its subclasses, .xlsx included)
    and has held entries matching ``where``: which of the files those entries came from (their
    ``source_ref``) changed, are gone or are folders now, since the connector last read them. Their sync
    run's start is compared with each file's modification time; a relative path is taken from the current
    directory, as the connector takes it."""
    readers = {c.name for c in connectors if isinstance(c, CsvConnector)}
    paths: dict[str, set[str]] = {}
    for found in entries(session, replace(where, include_resolved=False)):
        if found.source in readers and found.source_ref:
            paths.setdefault(found.source, set()).add(source_file(found.source_ref))
    compared = (_compare(session, name, sorted(files)) for name, files in paths.items())
    return [files for files in compared if files is not None]


def _compare(session: Session, connector: str, paths: list[str]) -> SourceFiles | None:
    """Which of ``paths`` changed or are gone since ``connector``'s latest successful sync run started
    (None when it has none)."""
    run = session.scalars(
        select(models.SyncRun)
        .where(
            models.SyncRun.connector == connector, models.SyncRun.kind == "sync", models.SyncRun.status == "succeeded"
        )
        .order_by(models.SyncRun.id.desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=dt.UTC)  # SQLite: UTC
    folders = tuple(p for p in paths if os.path.isdir(p))
    modified = {path: _modified(path) for path in paths if path not in folders}
    changed = tuple(p for p, at in modified.items() if at is not None and at > started + MTIME_SLACK)
    gone = tuple(p for p, at in modified.items() if at is None)
    return SourceFiles(connector, run.id, changed, gone, folders)


def _modified(path: str) -> dt.datetime | None:
    """When the file at ``path`` was last modified, in UTC; None when it does not exist."""
    try:
        return dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.UTC)
    except OSError:
        return None


def _period_of(record: dict[str, Any]) -> dt.date | None:
    """The period a held record names, when it is a date (``2026-11-09``); None otherwise."""
    try:
        return dt.date.fromisoformat(str(record.get("period", "")).strip()[:10])
    except ValueError:
        return None


def retry(
    sessions: sessionmaker[Session], config_dir: Path, register: Register, as_of: dt.date, where: QuarantineFilter
) -> list[RetryReport]:
    """Re-validate the held entries matching ``where``, one retry sync run per connector."""
    with sessions() as session:
        held = entries(session, QuarantineFilter(where.ids, where.connector, where.sync_run, where.reason))
        if where.ids:
            _check_ids(session, where.ids, {e.id for e in held})
        by_connector: dict[str, list[int]] = {}
        for found in held:
            by_connector.setdefault(found.source, []).append(found.id)
    if not by_connector:
        return []
    from benefits.validation import load_rules

    rules = load_rules(config_dir, register)
    return [_retry_connector(sessions, name, ids, rules, as_of) for name, ids in by_connector.items()]


def _retry_connector(
    sessions: sessionmaker[Session], connector: str, ids: list[int], rules: Any, as_of: dt.date
) -> RetryReport:
    """Validate the held rows (outside any transaction: GX takes a while), then load and mark them in one.

    Copies of one row (same record, ``source_ref`` included: the same file synced more than once
    before re-sent rows were recognised) are validated once, as the newest copy, and share its
    verdict, so that they are not each other's "duplicate in this batch".
    """
    from benefits.sync.writer import content_key, insert_entries, now
    from benefits.validation import batch_frame, validate_batch

    with sessions() as session:
        records = {i: session.get_one(models.QuarantinedRow, i).record for i in ids}
    copies: dict[str, list[int]] = {}
    for entry_id, record in records.items():
        copies.setdefault(content_key(record), []).append(entry_id)
    groups = [sorted(group, reverse=True) for group in copies.values()]  # the newest copy first
    batch = [records[group[0]] for group in groups]
    outcome = validate_batch(batch_frame(batch), as_of=as_of, rules=rules)
    with sessions.begin() as session:
        held = [session.get_one(models.QuarantinedRow, group[0]) for group in groups]
        for found in (session.get_one(models.QuarantinedRow, i) for i in ids):
            if found.resolved_at is not None:
                raise BenefitsError(
                    f"quarantine entry {found.id} was {_resolution(found)} meanwhile: run the retry again"
                )
        latest = session.get_one(models.SyncRun, max(e.sync_run_id for e in held))
        run = models.SyncRun(
            connector=connector, connector_type=latest.connector_type, policy=latest.policy, kind="retry"
        )
        session.add(run)
        session.flush()
        accepted, still = _verdict(session, connector, held, outcome, reject_batch=latest.policy == "reject_batch")
        rows = [
            {**{k: v for k, v in r.items() if k != "row"}, "source_ref": held[r["row"] - 1].source_ref}
            for r in accepted
        ]
        counts = repository.load_observations(session, connector, run.id, rows)
        repository.record_metrics(session, {r["metric"]: r["unit"] for r in accepted})
        loaded = {r["row"] for r in accepted}
        warnings = [w for w in outcome.warnings if w.row in loaded]
        insert_entries(session, models.ValidationWarning, run.id, connector, warnings)
        finished = now()
        for number, group in enumerate(groups, start=1):
            for found in (session.get_one(models.QuarantinedRow, i) for i in group):
                found.retry_sync_run_id = run.id
                if number in still:
                    found.reasons = still[number]
                else:
                    found.resolved_sync_run_id, found.resolved_at = run.id, finished
        rows_held = sum(len(groups[number - 1]) for number in still)
        run.rows_read, run.rows_accepted, run.rows_quarantined = len(ids), len(ids) - rows_held, rows_held
        run.rows_restated, run.rows_warned = counts.restated, len(warnings)
        run.validation, run.validation_success = outcome.statistics, not outcome.quarantined
        run.status, run.finished_at = "succeeded", finished
    return RetryReport(connector, run.id, len(ids), len(ids) - rows_held, rows_held)


def _verdict(
    session: Session, connector: str, held: list[models.QuarantinedRow], outcome: Any, reject_batch: bool
) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
    """The rows to load (with their batch ``row``) and the reasons of the rows that stay held.

    A row that passes still stays held when its connector has since loaded a value for its
    (metric, period) in the same or a later sync run (newer data wins), and, under the
    ``reject_batch`` policy of its sync run, when any other retried row still fails.
    """
    still = {q.row: list(q.reasons) for q in outcome.quarantined}
    passed = [
        {"row": r.row, "metric": r.metric, "period": r.period, "value": float(r.value), "unit": r.unit}
        for r in outcome.accepted.itertuples(index=False)
    ]
    stored = _loaded_by(session, connector, {(r["metric"], r["period"]) for r in passed})
    for row in passed:
        run = stored.get((row["metric"], row["period"]))
        if run is not None and run >= held[row["row"] - 1].sync_run_id:
            still[row["row"]] = [f"(metric, period): superseded by the value loaded in sync run {run}"]
    if reject_batch and still:
        reason = (
            f"batch rejected: {len(still)} of {len(held)} retried rows still fail "
            "(policy reject_batch in connectors.yaml)"
        )
        still |= {row["row"]: [reason] for row in passed if row["row"] not in still}
    return [row for row in passed if row["row"] not in still], still


def _loaded_by(session: Session, connector: str, keys: set[tuple[str, dt.date]]) -> dict[tuple[str, dt.date], int]:
    """The sync run that loaded the current observation of each (metric, period) from ``connector``."""
    if not keys:
        return {}
    query = select(models.Observation.metric, models.Observation.period, models.Observation.sync_run_id).where(
        models.Observation.source == connector, models.Observation.metric.in_(sorted({m for m, _ in keys}))
    )
    return {(m, p): run for m, p, run in session.execute(query) if (m, p) in keys}


def _query(where: QuarantineFilter) -> Select[models.QuarantinedRow]:
    query = select(models.QuarantinedRow).order_by(models.QuarantinedRow.id)
    if where.ids:
        query = query.where(models.QuarantinedRow.id.in_(where.ids))
    if where.connector:
        query = query.where(models.QuarantinedRow.source == where.connector)
    if where.sync_run is not None:
        query = query.where(models.QuarantinedRow.sync_run_id == where.sync_run)
    if where.held_before is not None:
        query = query.where(models.QuarantinedRow.sync_run_id < where.held_before)
    if not where.include_resolved:
        query = query.where(models.QuarantinedRow.resolved_at.is_(None))
    return query


def _check_ids(session: Session, wanted: Sequence[int], held: set[int]) -> None:
    """Fail, naming it, on an id that does not exist or was already resolved."""
    for entry_id in wanted:
        if entry_id not in held:
            found = entry(session, entry_id)
            if found.resolved_at is None:
                raise BenefitsError(f"quarantine entry {entry_id} does not match --connector/--run/--reason")
            raise BenefitsError(f"quarantine entry {entry_id} was already {_resolution(found)}")


def _resolution(found: models.QuarantinedRow) -> str:
    """How a resolved entry was closed: ``loaded by retry run 7``, ``loaded from its source line by sync run 9``
    or ``resolved by ana: <note>``."""
    if found.resolved_sync_run_id is not None and found.resolution_note:  # by close_reloaded
        return found.resolution_note
    if found.resolved_sync_run_id is not None:
        return f"loaded by retry run {found.resolved_sync_run_id}"
    return f"resolved by {found.resolved_by}: {found.resolution_note}"
