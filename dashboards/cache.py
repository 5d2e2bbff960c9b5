"""Results kept per store, date and data version, so page views after the first reuse them.

The version is one cheap query (``benefits.store.snapshots.inputs``: newest observation,
restatement, sync run, quarantined row, finished forecast run, register save and action): after a
sync, a forecast run or ``benefits init`` the next view reads the store again, unless
:func:`keep_warm` (started by ``benefits serve``) has already done so in the background.
Cached values are shared between requests: treat them as read-only.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from benefits.store import snapshots

T = TypeVar("T")
SIZE = 16
WARM_EVERY_SECONDS = 10.0

log = logging.getLogger(__name__)

_ENTRIES: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
_LOCK = threading.Lock()


def cached(session: Session, name: str, argument: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or its kept result for the same store, ``name``, ``argument`` and data version."""
    key = (str(session.get_bind().engine.url), name, argument, *data_version(session))
    with _LOCK:
        if key in _ENTRIES:
            _ENTRIES.move_to_end(key)
            return _ENTRIES[key]
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
    """What changes whenever a sync (new or restated rows), a quarantine change, a forecast run, a
    register save or an action does: the store's inputs as its position snapshots record them
    (``benefits.store.snapshots.inputs``)."""
    return (snapshots.inputs(session.connection()),)


WARMER = "benefits-cache-warmer"


def keep_warm(warm: Callable[[], object], every: float = WARM_EVERY_SECONDS) -> threading.Event:
    """Call ``warm`` now and then every ``every`` seconds in a daemon thread, until the returned
    event is set.

    ``warm`` asks for the results the first page views need through :func:`cached`: while the
    data version is unchanged that costs one version query, and after a sync or a forecast run it
    reads the store once, so the next visitor finds the results kept. A failing call is logged
    and retried at the next tick.
    """
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                warm()
            except Exception:
                log.exception("keeping the dashboard's results warm failed; retrying in %g s", every)
            stop.wait(every)

    threading.Thread(target=loop, name=WARMER, daemon=True).start()
    return stop


def stop_warming(stop: threading.Event, wait: float = 10.0) -> None:
    """Stop the warmer of :func:`keep_warm` and wait up to ``wait`` seconds for a warm-up under way
    to end: a thread still inside a native library when the interpreter exits can abort the
    process ("terminate called without an active exception")."""
    stop.set()
    for thread in threading.enumerate():
        if thread.name == WARMER:
            thread.join(wait)
