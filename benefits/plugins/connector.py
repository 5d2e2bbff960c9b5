"""The connector contract: declared settings, a reachability check, discovery and a record generator."""

from __future__ import annotations

import builtins
import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from benefits.register import Register

RECORD_FIELDS = ("metric", "period", "value", "unit")
"""The keys of every record a connector yields."""

UNREADABLE = "unreadable"
"""The key of a record that stands for a row or file the connector could not read: its value is
the reason (naming the file, line or field). The framework quarantines such a record with that
reason alone, so the rest of the batch still loads."""

CLAIM_FIELDS = ("benefit", "period", "claimed_value", "class", "note", "source_ref")
"""The keys a claim record of :meth:`Connector.claims` may have; the first three are required."""

MAX_TIMEOUT = 86_400.0
"""The longest wait for a source or a server, in seconds: a day (a longer one cannot be waited for: it
overflowed the wait, or the socket refused it)."""

Timeout = Annotated[float, Field(gt=0, le=MAX_TIMEOUT, allow_inf_nan=False)]
"""Seconds to wait for a source or a server (a connector's ``timeout:``, an HTTP connector's, notify.yaml's):
a finite number (not .nan or .inf) above 0, at most :data:`MAX_TIMEOUT`."""


class ColumnMapping(BaseModel):
    """The source column (or field) that holds each record field."""

    model_config = ConfigDict(extra="forbid")
    metric: str = "metric"
    period: str = "period"
    value: str = "value"
    unit: str = "unit"


class NoSettings(BaseModel):
    """Settings of a connector that takes none."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class MetricInfo:
    """A metric a connector can deliver."""

    metric: str
    unit: str


@dataclass(frozen=True)
class SyncContext:
    """What the framework tells a connector at sync time."""

    register: Register
    as_of: dt.date
    bookmark: dt.date | None = None
    """The latest period the framework has accepted from this connector instance (None on the
    first sync). A connector may fetch only later periods; re-sent periods are deduplicated and a
    changed value is stored as a new revision."""


class ConnectorError(Exception):
    """Raised by a connector that cannot reach or read its source; the message is shown to the user."""


class Connector:
    """Base class of every connector.

    Subclasses declare ``type`` (the name used in connectors.yaml) and ``Settings`` (a pydantic
    model, checked before anything runs) and implement ``records``. A record is a dict with the
    keys ``metric``, ``period`` (ISO date), ``value`` and ``unit``; values are passed on as the
    source gave them, validation is the framework's job.
    """

    type: ClassVar[str]
    Settings: ClassVar[builtins.type[BaseModel]] = NoSettings  # builtins: `type` here is the attribute above
    timeout: float = 600.0
    """Seconds the framework waits for ``check()`` and ``records()``; ``timeout:`` in connectors.yaml overrides it."""
    policy: str = "accept_valid_rows"
    """What the framework does with a batch that has failing rows (``accept_valid_rows`` or
    ``reject_batch``); set by ``policy:`` in connectors.yaml, never by the connector."""
    incremental: bool = False
    """True when ``records()`` fetches only what changed since ``context.bookmark`` (the conformance kit
    then checks that a run from a bookmark yields nothing older); False when it re-sends everything."""
    secrets: frozenset[str] = frozenset()
    """The values of the ``SecretStr`` settings (or, when ``Settings`` declares none, every value the
    framework filled in from ``${NAME}``); the framework masks them in whatever ``check``,
    ``discover``, ``records`` and ``claims`` raise, and :attr:`log` masks them in what it logs."""

    def __init__(self, name: str, settings: BaseModel, context: SyncContext) -> None:
        self.name = name
        self.settings = settings
        self.context = context

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} type={self.type!r}>"  # never the settings: they may hold secrets

    def mask(self, message: str, *more: str | None) -> str:
        """``message`` with this connector's secrets (and any ``more`` values) replaced by ``***``."""
        from benefits.plugins.secrets import mask

        return mask(message, [*self.secrets, *more])

    @property
    def log(self) -> logging.LoggerAdapter[logging.Logger]:
        """A logger, ``benefits.connectors.<name>``, that masks this connector's secrets in every message."""
        from benefits.plugins.secrets import MaskingLogger

        return MaskingLogger(logging.getLogger(f"benefits.connectors.{self.name}"), self)

    def check(self) -> None:
        """Raise ConnectorError when the source cannot be reached; the default checks nothing."""

    def discover(self) -> list[MetricInfo]:
        """The metrics this connector offers."""
        return []

    def records(self) -> Iterator[dict[str, Any]]:
        """Yield one record per observation."""
        raise NotImplementedError

    def claims(self) -> Iterator[dict[str, Any]]:
        """Yield one dict per claimed value the source holds (optional; the default yields none).

        Keys: ``benefit`` (a benefit key of the register, category cost_reduction or revenue),
        ``period`` (a date or ISO text: the claim is the value realised from the baseline up to
        it), ``claimed_value`` (a Decimal, an int or text, never a float), and optionally
        ``class`` (cash_releasing, non_cash_releasing or cost_avoidance), ``note`` and
        ``source_ref``. Called once per sync, after ``records()``; yield every current claim each
        time: the framework records each (benefit, period) once and keeps restated values as versions.
        """
        return iter(())


def delivers_claims(connector_cls: type[Connector]) -> bool:
    """True when the connector class implements :meth:`Connector.claims`."""
    return connector_cls.claims is not Connector.claims
