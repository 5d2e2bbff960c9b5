"""The sync stage: pull each connector's batch, validate it, store accepted rows and quarantine the rest.

A batch streams through in chunks (:data:`CHUNK_ROWS` records): the connector reads in a worker
thread, and this thread validates each chunk with Great Expectations and writes it
(:class:`benefits.sync_writer.RunWriter`) into the run's one transaction. A connector that
delivers claims (:meth:`Connector.claims`) has them checked and recorded in that same transaction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from benefits.errors import BenefitsError, ConfigError
from benefits.plugins.connector import Connector, SyncContext, delivers_claims
from benefits.plugins.manager import connector_class
from benefits.plugins.secrets import expand_settings, guard, settings_error
from benefits.register import Register, read_yaml
from benefits.store import models, repository
from benefits.sync_writer import Policy, RunWriter, SyncReport, now
from benefits.validation.frame import batch_frame

if TYPE_CHECKING:  # pragma: no cover - typing only
    from benefits.claims.importer import RecordCounts
    from benefits.validation import ValidationRules

CONNECTORS_FILE = "connectors.yaml"
Progress = Callable[[str, int], None]
"""Called with a connector's name and how many records it has delivered so far."""
T = TypeVar("T")
#: Records validated and written at a time; all chunks of a sync run share one transaction. Each
#: GX run costs ~0.5 s whatever its size, so chunks are large; four at most are in memory at once.
CHUNK_ROWS = 100_000
log = logging.getLogger(__name__)


class ConnectorConfig(BaseModel):
    """One connector instance in connectors.yaml."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    type: str
    settings: dict[str, Any] = {}
    timeout: Annotated[float, Field(gt=0)] | None = None
    policy: Policy = Policy.accept_valid_rows
    """What a batch with failing rows does: load the valid rows, or quarantine the whole batch."""


class ConnectorsFile(BaseModel):
    """The whole connectors.yaml."""

    model_config = ConfigDict(extra="forbid")
    connectors: list[ConnectorConfig] = []


def load_connectors(config_dir: Path, context: SyncContext) -> list[Connector]:
    """Build every connector instance of connectors.yaml, checking each one's settings first."""
    path = config_dir / CONNECTORS_FILE
    try:
        parsed = ConnectorsFile.model_validate(read_yaml(path) or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in first["loc"]).replace(".[", "[")
        raise ConfigError(f"{path}: {where}: {first['msg'][:1].lower()}{first['msg'][1:]}") from None
    names = [c.name for c in parsed.connectors]
    connectors = []
    for n, item in enumerate(parsed.connectors):
        if names.index(item.name) != n:
            raise ConfigError(f"{path}: connectors[{n}].name: duplicate connector name {item.name!r}")
        try:
            cls = connector_class(item.type)
        except ConfigError as exc:
            raise ConfigError(f"{path}: connectors[{n}].type: {exc}") from None
        try:  # ${NAME} is filled from the environment before validation; the values are masked everywhere
            expanded, secrets = expand_settings(item.settings)
            settings = cls.Settings.model_validate(expanded)
        except ConfigError as exc:
            raise ConfigError(f"{path}: connectors[{n}].{exc}") from None
        except ValidationError as exc:
            raise ConfigError(f"{path}: connectors[{n}].{settings_error(exc, item.settings, secrets)}") from None
        connector = guard(cls(item.name, settings, context), secrets)
        if item.timeout is not None:
            connector.timeout = item.timeout
        connector.policy = item.policy.value
        connectors.append(connector)
    return connectors


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
    :func:`record_connector_claims`).
    """
    from benefits.validation import Validator, default_expectations

    with sessions.begin() as session:
        run = models.SyncRun(connector=connector.name, connector_type=connector.type, policy=connector.policy)
        session.add(run)
        connector.context = replace(connector.context, bookmark=repository.bookmark(session, connector.name))
    try:
        validator = Validator(default_expectations(as_of=as_of, rules=rules), rules)
        with sessions.begin() as session:
            writer = RunWriter(session, connector.name, run.id, Policy(connector.policy))
            history = partial(_stored_history, session, connector.name, rules.jump.min_changes if rules else 0)
            read = 0
            for chunk in read_chunks(connector, chunk_rows):
                writer.add(chunk, validator.validate(chunk, history))
                read += len(chunk)
                if progress is not None and len(chunk) == chunk_rows:
                    progress(connector.name, read)
            claims = record_connector_claims(session, connector, run.id)
            return replace(writer.finish(), claims_new=claims.new, claims_updated=claims.updated,
                           claims_unchanged=claims.unchanged)
    except Exception as exc:  # a connector or its batch failing must not stop the others
        log.warning("connector %s failed: %s", connector.name, exc)
        return _fail(sessions, run.id, connector.name, exc)


def record_connector_claims(session: Session, connector: Connector, run_id: int) -> RecordCounts:
    """Read the connector's claims (within its timeout), check them all, then record them with the run.

    Claims are recorded with source ``connector``, created by the connector instance's name and
    linked to sync run ``run_id``. Any bad claim (an unknown or non-claimable benefit, a period
    not after the baseline, a value that is not a positive Decimal, a change to a decided claim)
    raises a BenefitsError naming the connector, the claim and the field: the caller's
    transaction then writes nothing of the run, and the run fails with that reason.
    """
    from benefits.claims import ClaimSource
    from benefits.claims.importer import RecordCounts, read_claim_records, record_claims

    if not delivers_claims(type(connector)):
        return RecordCounts(0, 0, 0)

    def pull() -> Iterator[Any]:
        yield from connector.claims()

    expired = f"claims() timed out after {connector.timeout:g} s (set `timeout:` for this connector in {CONNECTORS_FILE})"
    records = list(handover(pull(), name=f"claims-{connector.name}", timeout=connector.timeout, expired=expired))
    try:
        claims = read_claim_records(records, connector.name)
        return record_claims(session, claims, ClaimSource.connector, connector.name, sync_run_id=run_id)
    except BenefitsError as exc:
        raise BenefitsError(connector.mask(str(exc))) from None


#: How far back the jump check looks at stored values before a chunk's first period.
HISTORY_DAYS = 366


def _stored_history(session: Session, source: str, min_changes: int, frame: pd.DataFrame) -> pd.DataFrame | None:
    """The stored values of ``source`` in the year before the typed chunk's first period, for the
    metrics whose series in the chunk is too short for the jump check to judge on its own."""
    known = frame.dropna(subset=["metric", "period"])
    sizes = known.groupby("metric").size()
    short = set(sizes[sizes <= min_changes].index)
    if not short:
        return None
    first = pd.Timestamp(known.loc[known["metric"].isin(short), "period"].min()).date()
    return repository.stored_values(session, source, short, first - dt.timedelta(days=HISTORY_DAYS), first)


def read_chunks(connector: Connector, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Check the source, then yield its records as batch frames of up to ``chunk_rows`` rows.

    The connector runs in a worker thread (see :func:`handover`), which reads the next chunk only
    when it is asked for: reading ahead would compete for the GIL with the writer, whose database
    driver gives it up and takes it back for every row, and slowed the ingest benchmark ~2x. The
    first chunk is yielded even when empty. Raises :class:`BenefitsError` once the framework has
    waited ``connector.timeout`` seconds in all for ``check()`` and ``records()`` (time spent
    validating and writing does not count).
    """

    def chunks() -> Iterator[pd.DataFrame]:
        connector.check()
        records = iter(connector.records())
        first = 1
        while True:
            chunk = batch_frame(itertools.islice(records, chunk_rows), first_row=first)
            if first == 1 or not chunk.empty:
                yield chunk
            if len(chunk) < chunk_rows:
                return
            first += len(chunk)

    expired = f"timed out after {connector.timeout:g} s (set `timeout:` for this connector in {CONNECTORS_FILE})"
    return handover(chunks(), name=f"connector-{connector.name}", timeout=connector.timeout, expired=expired)


_DONE = object()


def handover(items: Iterator[T], *, name: str, timeout: float, expired: str) -> Iterator[T]:
    """Produce ``items`` in a worker thread, each one when the consumer asks for it; yield them here.

    An exception in the worker is raised here; ``BenefitsError(expired)`` is raised once this
    consumer has waited ``timeout`` seconds in all. When the consumer stops early, the
    worker stops before its next item and closes ``items``.
    """
    handed: queue.Queue[Any] = queue.Queue(maxsize=1)
    wanted = threading.Semaphore(0)
    stop = threading.Event()

    def put(item: Any) -> None:
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def produce() -> None:
        try:
            while _asked(wanted, stop):
                item = next(items, _DONE)
                put(item)
                if item is _DONE:
                    break
        except BaseException as exc:  # handed over to the consuming thread
            put(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    threading.Thread(target=produce, name=name, daemon=True).start()
    return _consume(handed, wanted, stop, timeout, expired)


def _asked(wanted: threading.Semaphore, stop: threading.Event) -> bool:
    """Wait until the consumer asks for an item (True) or has stopped (False)."""
    while not wanted.acquire(timeout=0.1):
        if stop.is_set():
            return False
    return not stop.is_set()


def _consume(
    handed: queue.Queue[Any], wanted: threading.Semaphore, stop: threading.Event, timeout: float, expired: str
) -> Iterator[Any]:
    waited = 0.0
    try:
        while True:
            wanted.release()
            started = time.monotonic()
            try:
                item = handed.get(timeout=max(timeout - waited, 0.0))
            except queue.Empty:
                raise BenefitsError(expired) from None
            waited += time.monotonic() - started
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()


def _fail(sessions: sessionmaker[Session], run_id: int, name: str, exc: Exception) -> SyncReport:
    reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, BenefitsError) else str(exc)
    with sessions.begin() as session:
        stored = session.get_one(models.SyncRun, run_id)
        stored.status, stored.error, stored.finished_at = "failed", reason, now()
    return SyncReport(name, "failed", 0, 0, 0, error=reason)

