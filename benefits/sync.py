"""The sync stage: pull each connector's batch, validate it, store accepted rows and quarantine the rest."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session, sessionmaker

from benefits.errors import BenefitsError, ConfigError
from benefits.plugins.connector import RECORD_FIELDS, Connector, SyncContext
from benefits.plugins.manager import connector_class
from benefits.register import Register, read_yaml
from benefits.store import models, repository

CONNECTORS_FILE = "connectors.yaml"
log = logging.getLogger(__name__)


class ConnectorConfig(BaseModel):
    """One connector instance in connectors.yaml."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    type: str
    settings: dict[str, Any] = {}
    timeout: Annotated[float, Field(gt=0)] | None = None


class ConnectorsFile(BaseModel):
    """The whole connectors.yaml."""

    model_config = ConfigDict(extra="forbid")
    connectors: list[ConnectorConfig] = []


@dataclass(frozen=True)
class SyncReport:
    """The outcome of one connector's sync run."""

    connector: str
    status: str
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    rows_restated: int = 0
    error: str | None = None


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
        try:
            settings = cls.Settings.model_validate(item.settings)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{path}: connectors[{n}].settings.{where}: {first['msg'][:1].lower()}{first['msg'][1:]}") from None
        connector = cls(item.name, settings, context)
        if item.timeout is not None:
            connector.timeout = item.timeout
        connectors.append(connector)
    return connectors


def sync_all(
    sessions: sessionmaker[Session], config_dir: Path, register: Register, as_of: dt.date, only: list[str] | None = None
) -> list[SyncReport]:
    """Sync every connector (or those named in ``only``); one failing connector does not stop the others."""
    connectors = load_connectors(config_dir, SyncContext(register=register, as_of=as_of))
    if only:
        unknown = sorted(set(only) - {c.name for c in connectors})
        if unknown:
            raise ConfigError(f"{config_dir / CONNECTORS_FILE}: no connector named {', '.join(unknown)}")
        connectors = [c for c in connectors if c.name in only]
    return [sync_connector(sessions, connector, as_of) for connector in connectors]


def sync_connector(sessions: sessionmaker[Session], connector: Connector, as_of: dt.date) -> SyncReport:
    """Run one connector: read, validate, then write accepted and quarantined rows in one transaction."""
    with sessions.begin() as session:
        run = models.SyncRun(connector=connector.name, connector_type=connector.type)
        session.add(run)
        connector.context = replace(connector.context, bookmark=repository.bookmark(session, connector.name))
    try:
        batch = _read_with_timeout(connector, connector.timeout)
        from benefits.validation import validate_batch

        outcome = validate_batch(batch, as_of=as_of)
    except Exception as exc:  # a connector or its batch failing must not stop the others
        log.warning("connector %s failed: %s", connector.name, exc)
        return _fail(sessions, run.id, connector.name, exc)
    accepted = outcome.accepted
    with sessions.begin() as session:
        counts = repository.load_observations(session, connector.name, run.id, [
            {"metric": r.metric, "period": r.period, "value": float(r.value), "unit": r.unit}
            for r in accepted.itertuples(index=False)
        ])
        repository.record_metrics(session, dict(zip(accepted["metric"], accepted["unit"])))
        session.add_all(
            models.QuarantinedRow(sync_run_id=run.id, source=connector.name, row_number=q.row,
                                  record=q.record, reasons=q.reasons)
            for q in outcome.quarantined
        )
        if not accepted.empty:
            repository.advance_bookmark(session, connector.name, max(accepted["period"]))
        stored = session.get_one(models.SyncRun, run.id)
        stored.rows_read, stored.rows_accepted = outcome.rows_read, len(accepted)
        stored.rows_quarantined, stored.rows_restated = len(outcome.quarantined), counts.restated
        stored.validation, stored.status, stored.finished_at = outcome.statistics, "succeeded", _now()
    return SyncReport(connector.name, "succeeded", outcome.rows_read, len(accepted), len(outcome.quarantined),
                      counts.restated)


def _read_with_timeout(connector: Connector, timeout: float) -> pd.DataFrame:
    """Check the source and read its whole batch in a worker thread, giving up after ``timeout`` seconds."""
    result: dict[str, Any] = {}

    def read() -> None:
        try:
            connector.check()
            result["batch"] = _batch(connector)
        except BaseException as exc:  # handed back to the calling thread
            result["error"] = exc

    worker = threading.Thread(target=read, name=f"connector-{connector.name}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise BenefitsError(f"timed out after {timeout:g} s (set `timeout:` for this connector in {CONNECTORS_FILE})")
    if "error" in result:
        raise result["error"]
    return result["batch"]


def _batch(connector: Connector) -> pd.DataFrame:
    rows = []
    for number, record in enumerate(connector.records(), start=1):
        if not isinstance(record, dict):
            raise BenefitsError(f"record {number} is a {type(record).__name__}, not a dict")
        rows.append({"row": number, **{field: record.get(field) for field in RECORD_FIELDS}})
    return pd.DataFrame(rows, columns=["row", *RECORD_FIELDS], dtype=object)


def _fail(sessions: sessionmaker[Session], run_id: int, name: str, exc: Exception) -> SyncReport:
    reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, BenefitsError) else str(exc)
    with sessions.begin() as session:
        stored = session.get_one(models.SyncRun, run_id)
        stored.status, stored.error, stored.finished_at = "failed", reason, _now()
    return SyncReport(name, "failed", 0, 0, 0, error=reason)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
