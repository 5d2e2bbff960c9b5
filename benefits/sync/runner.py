"""The sync stage: pull each connector's batch, validate it, store accepted rows and quarantine the rest.

A batch streams through in chunks (:data:`CHUNK_ROWS` records): the connector reads in a child
process (:mod:`benefits.sync.reading`, which owns the time-out), and this process validates each
chunk with Great Expectations and writes it (:class:`benefits.sync.writer.RunWriter`) into the
run's one transaction, which also closes the rows earlier runs held whose source line (same
connector and ``source_ref``) it loaded: fixed at the source and re-sent
(:func:`benefits.sync.quarantine.close_reloaded`). A connector that delivers claims
(:meth:`Connector.claims`) has them checked and recorded in that same transaction
(:mod:`benefits.sync.claims`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from benefits.errors import BenefitsError, ConfigError
from benefits.plugins.connector import Connector, ConnectorError, SyncContext
from benefits.register import Register
from benefits.store import failures, models, repository
from benefits.sync.claims import record_connector_claims
from benefits.sync.config import CONNECTORS_FILE, Policy, load_connectors
from benefits.sync.lock import connector_lock, mark_abandoned
from benefits.sync.quarantine import QuarantineFilter, close_reloaded
from benefits.sync.reading import RunLog, read_chunks
from benefits.sync.writer import RunWriter, SyncReport, now

if TYPE_CHECKING:  # pragma: no cover - typing only
    from benefits.validation import ValidationRules

Progress = Callable[[str, int], None]
"""Called with a connector's name and how many records it has delivered so far."""
#: Records validated and written at a time; all chunks of a sync run share one transaction. Each
#: GX run costs ~0.5 s whatever its size, so chunks are large.
CHUNK_ROWS = 100_000
#: How far back the jump check looks at stored values before a chunk's first period.
HISTORY_DAYS = 366
log = logging.getLogger(__name__)


def sync_all(
    sessions: sessionmaker[Session],
    config_dir: Path,
    register: Register,
    as_of: dt.date,
    only: list[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> list[SyncReport]:
    """Sync every connector (or those named in ``only``); one failing connector does not stop the others.

    The validation rules (register, ``validation.yaml``, plugins' ``register_expectations``) are
    built once, before any connector runs, so that a bad ``validation.yaml`` stops the sync.
    """
    from benefits.validation import load_rules

    connectors = load_connectors(config_dir, SyncContext(register=register, as_of=as_of))
    if only:
        unknown = sorted(set(only) - {c.name for c in connectors})
        if unknown:
            raise ConfigError(f"{config_dir / CONNECTORS_FILE}: no connector named {', '.join(unknown)}")
        connectors = [c for c in connectors if c.name in only]
    rules = load_rules(config_dir, register)
    return [sync_connector(sessions, connector, as_of, rules, chunk_rows, progress) for connector in connectors]


def sync_connector(
    sessions: sessionmaker[Session],
    connector: Connector,
    as_of: dt.date,
    rules: ValidationRules | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> SyncReport:
    """Run one connector, streaming: read, validate and write ``chunk_rows`` records at a time.

    ``progress(connector name, records so far)`` is called after each full chunk (so a batch
    that fits one chunk reports nothing until its run ends).

    Every chunk of the run goes into ONE database transaction (flushed per chunk, committed at the
    end), so a failing or killed sync writes no partial batch: the run's row only says
    ``running`` (or ``failed``, with the error). The run records rows read = rows accepted + rows
    quarantined; a run that would break that is failed instead. The connector's claims, if it
    delivers any, are recorded in the same transaction; one bad claim fails the run (see
    :func:`record_connector_claims`). What the connector logs while it reads is kept with the run,
    masked (``sync_runs.log``, :class:`RunLog`), whether it succeeds or fails. A database error
    (locked, lost, full) fails the connector with one line (:func:`failure_reason`), also when it
    happens while registering the run.
    """
    from benefits.validation import Validator, default_expectations

    try:
        with sessions.begin() as session:
            run = models.SyncRun(connector=connector.name, connector_type=connector.type, policy=connector.policy)
            session.add(run)
            connector.context = replace(connector.context, bookmark=repository.bookmark(session, connector.name))
    except SQLAlchemyError as exc:
        log.info("connector %s not started: %s", connector.name, failure_reason(exc))
        return SyncReport(connector.name, "failed", 0, 0, 0, error=failure_reason(exc))
    logged = RunLog(connector)
    try:
        validator = Validator(default_expectations(as_of=as_of, rules=rules), rules)
        with sessions.begin() as session, connector_lock(session, connector.name):
            mark_abandoned(session, connector.name, run.id)
            writer = RunWriter(session, connector.name, run.id, Policy(connector.policy))
            history = partial(_stored_history, session, connector.name, rules.jump.min_changes if rules else 0)
            read = 0
            reading = read_chunks(connector, chunk_rows, logged)
            with closing(reading) as chunks:  # ends the connector's process whatever happens
                for chunk in chunks:
                    writer.add(chunk, validator.validate(chunk, history))
                    read += len(chunk)
                    if progress is not None and len(chunk) == chunk_rows:
                        progress(connector.name, read)
            claims = record_connector_claims(session, connector, run.id, logged)
            report = writer.finish()
            session.get_one(models.SyncRun, run.id).log = logged.lines or None
            # rows this run held cannot have loaded since: only earlier runs' are looked up
            released = close_reloaded(session, QuarantineFilter(connector=connector.name, held_before=run.id))
            return replace(
                report,
                rows_released=released.get(connector.name, 0),
                claims_new=claims.new,
                claims_updated=claims.updated,
                claims_unchanged=claims.unchanged,
                log=tuple(logged.lines),
            )
    except Exception as exc:  # noqa: BLE001  (a connector or its batch failing must not stop the others)
        log.info("connector %s failed: %s", connector.name, failure_reason(exc))  # the caller shows the error
        return _fail(sessions, run.id, connector.name, exc, logged.lines)


def _stored_history(session: Session, source: str, min_changes: int, frame: pd.DataFrame) -> pd.DataFrame | None:
    """The stored values of ``source`` from a year before the typed chunk's first period up to its
    last, for the metrics whose series in the chunk is too short for the jump check to judge on
    its own. Values stored between the chunk's periods count too: a batch that restates an old
    week next to the latest one compares each row with the stored period before it, not with the
    batch's previous row."""
    known = frame.dropna(subset=["metric", "period"])
    sizes = known.groupby("metric").size()
    short = set(sizes[sizes <= min_changes].index)
    if not short:
        return None
    periods = known.loc[known["metric"].isin(short), "period"]
    first, last = pd.Timestamp(periods.min()).date(), pd.Timestamp(periods.max()).date()
    return repository.stored_values(session, source, short, _shifted(first, -HISTORY_DAYS), _shifted(last, 1))


def _shifted(day: dt.date, days: int) -> dt.date:
    """``day`` moved by ``days``, stopping at the ends of the calendar (a period of 9999-12-31 or 0001-01-01 is
    judged by validation, not an OverflowError that fails the sync)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


def failure_reason(exc: Exception) -> str:
    """Why a connector failed, in one line: a database error without its SQL or parameters."""
    if isinstance(exc, BenefitsError | ConnectorError):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        return failures.explain(exc, "the sync")
    return f"{type(exc).__name__}: {exc}"


def _fail(
    sessions: sessionmaker[Session], run_id: int, name: str, exc: Exception, logged: list[str] | None = None
) -> SyncReport:
    """Record the run as failed, with what the connector logged, when the database lets us (it may be the thing
    that failed)."""
    reason = failure_reason(exc)
    try:
        with sessions.begin() as session:
            stored = session.get_one(models.SyncRun, run_id)
            stored.status, stored.error, stored.finished_at = "failed", reason, now()
            stored.log = logged or None
    except SQLAlchemyError as again:
        log.info("sync run %s of %s could not be marked failed: %s", run_id, name, failure_reason(again))
    return SyncReport(name, "failed", 0, 0, 0, error=reason, sync_run=run_id, log=tuple(logged or ()))
