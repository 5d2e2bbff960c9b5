"""Results kept per store, date and data version, so page views after the first reuse them.

The version is one cheap query (newest observation and sync run, latest finished forecast run,
latest register save): after a sync, a forecast run or ``benefits init`` the next view reads the
store again. Cached values are shared between requests: treat them as read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benefits.store import models

T = TypeVar("T")
SIZE = 16

_ENTRIES: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
_LOCK = threading.Lock()


def cached(session: Session, name: str, argument: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or its kept result for the same store, ``name``, ``argument`` and data version."""
    key = (str(session.get_bind().url), name, argument, *data_version(session))
    with _LOCK:
        if key in _ENTRIES:
            _ENTRIES.move_to_end(key)
            return _ENTRIES[key]  # type: ignore[no-any-return]
    value = compute()
    with _LOCK:
        _ENTRIES[key] = value
        while len(_ENTRIES) > SIZE:
            _ENTRIES.popitem(last=False)
    return value


def clear() -> None:
    """Forget every kept result (the next view reads the store in full)."""
    with _LOCK:
        _ENTRIES.clear()


def data_version(session: Session) -> tuple[Any, ...]:
    """What changes whenever a sync (new or restated rows), a forecast run or a register save does."""
    query = select(
        select(func.max(models.Observation.id)).scalar_subquery(),
        select(func.max(models.SyncRun.id)).scalar_subquery(),
        select(func.max(models.SyncRun.finished_at)).scalar_subquery(),
        select(func.max(models.ForecastRun.finished_at)).scalar_subquery(),
        select(func.max(models.Portfolio.updated_at)).scalar_subquery(),
    )
    return tuple(session.execute(query).one())
