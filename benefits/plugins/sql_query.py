"""The built-in ``sql`` connector: observations from a SQL query on any database SQLAlchemy can reach.

One connector instance runs one query (with bound parameters, never string-formatted) and
yields one record per row, streaming (a server-side cursor where the database has one). The
URL and the password are secret settings (``${NAME}`` is filled from the environment by the
framework); the password (in the URL's user-info, in its query string or in ``password``) and every
filled-in value are masked in every error message. Values are passed on as the database gives them,
except that dates become ISO text and decimals become text (so no precision is lost): validation is
the framework's job.
"""

from __future__ import annotations

import builtins
import datetime as dt
import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from sqlalchemy import Connection, CursorResult, create_engine, literal_column, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, StatementError
from sqlalchemy.pool import NullPool

from benefits.plugins.connector import RECORD_FIELDS, ColumnMapping, Connector, ConnectorError, MetricInfo
from benefits.plugins.hookspecs import hookimpl
from benefits.plugins.numbers import NumberFormat
from benefits.plugins.secrets import mask
from benefits.urls import shown_url, url_secrets

__all__ = ["ColumnMapping", "SqlConnector", "SqlSettings"]

log = logging.getLogger(__name__)


class SqlSettings(BaseModel):
    """Settings of the sql connector."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        min_length=1,
        description="A SQLAlchemy database URL (shown with its password, also one in its query, as `***`).",
    )
    password: SecretStr | None = Field(
        None,
        description="The database password (replaces any in `url`), e.g. `${LEDGER_PASSWORD}`; needs no URL-quoting.",
    )
    query: str = Field(min_length=1, description="The SQL query; `:name` marks a bound parameter.")
    params: dict[str, Any] = Field({}, description="A value for each `:name` of the query.")
    mapping: ColumnMapping = ColumnMapping()
    metric: str | None = Field(
        None, min_length=1, description="The metric of every row, when the query has no metric column."
    )
    unit: str | None = Field(
        None, min_length=1, description="The unit of every row, when the query has no unit column."
    )
    batch_size: int = Field(1000, ge=1, description="Rows fetched from the database at a time.")
    number_format: NumberFormat | None = Field(
        None,
        description="How a value held as text is written, e.g. {decimal: ',', thousands: '.'}; "
        "numeric columns are never reformatted.",
    )

    @field_validator("params")
    @classmethod
    def _params_match_the_query(cls, params: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        query = info.data.get("query")
        if query is None:  # the query itself is invalid; that error is reported
            return params
        used = bind_names(query)
        missing = [name for name in used if name not in params]
        if missing:
            raise ValueError(f"the query uses :{missing[0]} but params gives no value for {missing[0]!r}")
        unused = [name for name in params if name not in used]
        if unused:
            has = ", ".join(f":{n}" for n in used) or "none"
            raise ValueError(f"{unused[0]!r} is not a parameter of the query (its parameters: {has})")
        return params


def bind_names(query: str) -> list[str]:
    """The ``:name`` bound parameters of a query, in order (``\\:`` escapes a literal colon)."""
    return list(text(query).compile().params)


@dataclass(frozen=True)
class _Layout:
    """Where each field is in a result row: a column position, or a constant."""

    columns: dict[str, int]
    constants: dict[str, str]

    def record(self, row: Sequence[Any]) -> dict[str, Any]:
        record: dict[str, Any] = dict(self.constants)
        for field, position in self.columns.items():
            record[field] = _plain(row[position])
        return record


@dataclass(frozen=True)
class _Target:
    """The resolved database: the URL to connect to, how to show it, and the values to mask."""

    url: URL
    shown: str
    secrets: frozenset[str]


class SqlConnector(Connector):
    """Runs one SQL query and yields one record per row, streaming."""

    type: ClassVar[str] = "sql"
    Settings: ClassVar[builtins.type[BaseModel]] = SqlSettings  # a subclass may declare settings of its own
    settings: SqlSettings

    def check(self) -> None:
        """Connect, run ``SELECT 1``, then start the query to check that the mapped columns exist."""
        with self._connect() as (connection, target):
            connection.execute(select(literal_column("1"))).scalar_one()
            result = self._execute(connection)
            try:
                self._layout(list(result.keys()), target)
            finally:
                _close_quietly(result)

    def discover(self) -> list[MetricInfo]:
        """Each distinct (metric, unit) the query returns, in order of first appearance."""
        seen: dict[tuple[str, str], None] = {}
        for record in self.records():
            metric, unit = record["metric"], record["unit"]
            if not _blank(metric) and not _blank(unit):
                seen.setdefault((str(metric), str(unit)), None)
        return [MetricInfo(metric, unit) for metric, unit in seen]

    def records(self) -> Iterator[dict[str, Any]]:
        """One record per row of the query, fetched ``batch_size`` rows at a time."""
        with self._connect() as (connection, target):
            result = self._execute(connection)
            try:
                layout = self._layout(list(result.keys()), target)
                fmt = self.settings.number_format
                count = 0
                for row in result:
                    count += 1
                    record = layout.record(row)
                    if fmt is not None and isinstance(record.get("value"), str):
                        record["value"] = fmt.plain(record["value"])
                    yield record
            finally:  # also when the caller stops early: close the server-side cursor first
                _close_quietly(result)
            log.debug("sql connector %s: %d rows from %s", self.name, count, target.shown)

    # ---- internals ------------------------------------------------------------------------

    def _execute(self, connection: Connection) -> CursorResult[Any]:
        streaming = connection.execution_options(stream_results=True)
        result = streaming.execute(text(self.settings.query), self.settings.params)
        return result.yield_per(self.settings.batch_size)  # the yield_per option is ignored for text()

    @contextmanager
    def _connect(self) -> Iterator[tuple[Connection, _Target]]:
        """A connection to the database; any failure inside becomes a ConnectorError with secrets masked."""
        target = self._target()
        failure = None
        try:
            engine = create_engine(target.url, poolclass=NullPool)
            connection = engine.connect()
        except Exception as exc:  # noqa: BLE001 - every driver has its own exceptions
            failure = f"cannot connect to {target.shown}: {_reason(exc)}"
        if failure:
            raise ConnectorError(mask(failure, target.secrets)) from None
        try:
            yield connection, target
        except ConnectorError as exc:
            failure = mask(str(exc), target.secrets)
        except Exception as exc:  # noqa: BLE001 - whatever the driver raises while the query runs
            failure = mask(f"query failed on {target.shown}: {_reason(exc)}", target.secrets)
        finally:
            _close_quietly(connection)
            engine.dispose()
        if failure:
            raise ConnectorError(failure) from None  # the driver's exception stays out of tracebacks

    def _target(self) -> _Target:
        """The URL to connect to (with ``password`` set in it), how to show it, and the values to mask."""
        try:
            url = make_url(self.settings.url)
        except (ArgumentError, ValueError):
            raise ConnectorError(
                "settings.url is not a database URL (expected dialect+driver://user:password@host:port/database)"
            ) from None
        if self.settings.password is not None:
            url = url.set(password=self.settings.password.get_secret_value())
        secrets = set(self.secrets) | url_secrets(url)  # the password, also one in the query string
        shown = mask(unquote(shown_url(url)), secrets)
        if (
            url.get_backend_name() == "sqlite"
            and url.database not in (None, "", ":memory:")
            and not url.query.get("uri")
        ):
            if not os.path.isfile(url.database):
                relative = "" if os.path.isabs(url.database) else f" (relative to {os.getcwd()})"
                raise ConnectorError(mask(f"{shown}: no SQLite database file at {url.database}{relative}", secrets))
        return _Target(url, shown, frozenset(secrets))

    def _layout(self, names: list[str], target: _Target) -> _Layout:
        columns: dict[str, int] = {}
        constants: dict[str, str] = {}
        folded = [n.lower() for n in names]
        for field in RECORD_FIELDS:
            column = getattr(self.settings.mapping, field)
            constant = getattr(self.settings, field, None)
            if column in names:
                columns[field] = names.index(column)
            elif folded.count(column.lower()) == 1:  # e.g. METRIC from a database that upper-cases names
                columns[field] = folded.index(column.lower())
            elif constant is not None:
                constants[field] = constant
            else:
                found = ", ".join(names) or "nothing"
                also = f", or a constant `{field}` for every row" if field in ("metric", "unit") else ""
                raise ConnectorError(
                    f"{target.shown}: the query returns no column {column!r} (it returns: {found}); "
                    f"set `mapping.{field}` to the column that holds the {field}{also}"
                )
        return _Layout(columns, constants)


def _close_quietly(resource: Connection | CursorResult[Any]) -> None:
    """Close a result or connection without letting a failure to close hide the error in flight."""
    try:
        resource.close()
    except Exception:  # noqa: BLE001 - the connection may already be gone
        log.debug("closing %s failed", type(resource).__name__, exc_info=False)


def _plain(value: Any) -> Any:
    """A database value as passed on: decimals as text, dates (a midnight timestamp as a date) in ISO form."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time() and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _reason(exc: BaseException) -> str:
    """The driver's own one-line reason (without SQLAlchemy's SQL echo and background link)."""
    source: BaseException = exc
    if isinstance(exc, (DBAPIError, StatementError)) and exc.orig is not None:
        source = exc.orig
    lines = [line.strip() for line in str(source).splitlines() if line.strip()]
    reason = " ".join(lines[0].split()) if lines else type(source).__name__
    if isinstance(exc, ImportError):
        reason += " (install the database driver this URL names)"
    return reason


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The sql connector."""
    return [SqlConnector]
