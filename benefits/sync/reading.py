"""Reading a connector within its time-out: ``check()``, ``records()`` and ``claims()`` run in a child process.

A thread cannot be stopped, so a connector that hangs in a worker thread would keep running (and
holding its connection or file) after the sync gave up on it. Each connector's reading therefore
runs in a child process forked from the sync (``multiprocessing``, ``fork`` start method: the
connector object, its settings, secrets and plugin classes are inherited, nothing of it is pickled).
A plain ``multiprocessing.Process`` rather than ``concurrent.futures.ProcessPoolExecutor``: a pool
cannot end a busy worker (before Python 3.14), and the connector's generator must stay in one
process across chunks. The child sends what it reads through a pipe: it builds the next chunk
while the sync validates and writes the current one, then waits until the sync takes it, so at
most one chunk is ahead and memory stays flat.

When the time is up, or the sync stops reading early (an error while validating or writing), the
child is sent SIGTERM, which raises inside the connector's code so that its generator is closed and
its ``finally``/``with`` blocks run; a child still alive a second later is killed. Either way the
child is joined before the sync goes on: nothing of the connector is left running. On Linux the
child is also killed when the sync process itself dies. Fork is POSIX only (Linux, macOS).

What a connector changes on itself while reading stays in the child; the framework keeps state
(bookmarks, revisions) in the store, from the records it receives. What it logs does not: the
child sends each message of the ``benefits.connectors`` loggers (:attr:`Connector.log`, INFO and
above) and of the framework's helpers (``benefits.plugins``, WARNING and above: the HTTP helper's
retries) through the pipe too, and the sync keeps them, masked, with the run (:class:`RunLog`).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any, TypeVar

import pandas as pd

from benefits.errors import BenefitsError
from benefits.plugins.connector import Connector, ConnectorError
from benefits.processes import die_with_parent
from benefits.sync.config import CONNECTORS_FILE
from benefits.validation.frame import batch_frame

T = TypeVar("T")
#: Seconds a child has to close its generator after SIGTERM before it is killed.
GRACE_SECONDS = 1.0
#: Log lines kept with a sync run, and characters kept of each; what is over is counted.
LOG_LINES, LOG_CHARS = 100, 500
#: The loggers whose messages a connector's child process sends to the sync, with the lowest level sent.
CAPTURED = {"benefits.connectors": logging.INFO, "benefits.plugins": logging.WARNING}
_ITEM, _ERROR, _DONE, _LOG = "item", "error", "done", "log"
Logs = Callable[[str], None]
"""Called in the sync with each line a connector's child process logged (``warning: <message>``)."""


class RunLog:
    """What a connector logged during its sync run: each line masked with the connector's secrets,
    at most :data:`LOG_LINES` lines of :data:`LOG_CHARS` characters."""

    def __init__(self, connector: Connector) -> None:
        self._connector = connector
        self._lines: list[str] = []
        self._over = 0

    def __call__(self, line: str) -> None:
        """Keep one line (a :data:`Logs` callback)."""
        if len(self._lines) < LOG_LINES:
            self._lines.append(self._connector.mask(line)[:LOG_CHARS])
        else:
            self._over += 1

    @property
    def lines(self) -> list[str]:
        """The lines kept, and one more saying how many were not."""
        return self._lines + ([f"... and {self._over} more lines (not kept)"] if self._over else [])


def read_chunks(connector: Connector, chunk_rows: int, logs: Logs | None = None) -> Generator[pd.DataFrame, None, None]:
    """Check the source, then yield its records as batch frames of up to ``chunk_rows`` rows.

    The first chunk is yielded even when empty; ``logs`` receives what the connector logs meanwhile.
    Raises :class:`BenefitsError` once the framework has waited ``connector.timeout`` seconds in
    all for ``check()`` and ``records()`` (time spent validating and writing does not count); the
    connector's process is gone by then.
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

    return in_child_process(
        chunks,
        name=f"connector-{connector.name}",
        timeout=connector.timeout,
        expired=_expired("timed out", connector),
        logs=logs,
    )


def read_claims(connector: Connector, logs: Logs | None = None) -> list[Any]:
    """Every claim ``connector.claims()`` yields, read within a time-out of its own (``connector.timeout``)."""
    return list(
        in_child_process(
            connector.claims,
            name=f"claims-{connector.name}",
            timeout=connector.timeout,
            expired=_expired("claims() timed out", connector),
            logs=logs,
        )
    )


def in_child_process(
    produce: Callable[[], Iterable[T]], *, name: str, timeout: float, expired: str, logs: Logs | None = None
) -> Generator[T, None, None]:
    """Iterate ``produce()`` in a forked child process and yield its items here.

    The child starts at the first item asked for. An exception in the child is raised here (as
    itself when it can be pickled, else as a :class:`BenefitsError` ``"<type>: <message>"``);
    ``BenefitsError(expired)`` is raised once this consumer has waited ``timeout`` seconds in all.
    However the iteration ends (exhausted, timed out, failed, or closed by the consumer), the child
    has ended when it does. With ``logs``, the child sends what the :data:`CAPTURED` loggers log,
    each line to ``logs`` here.
    """
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(
        target=_produce, args=(produce, sending, os.getpid(), logs is not None), name=name, daemon=True
    )
    child.start()
    sending.close()
    waited = 0.0
    try:
        while True:
            started = time.monotonic()
            if not receiving.poll(max(timeout - waited, 0.0)):
                raise BenefitsError(expired)
            try:
                kind, payload = receiving.recv()
            except EOFError:
                child.join(GRACE_SECONDS)
                ended = f"the connector's process ended unexpectedly (exit code {child.exitcode})"
                raise BenefitsError(ended) from None
            waited += time.monotonic() - started
            if kind == _DONE:
                child.join(GRACE_SECONDS)  # it is exiting on its own
                return
            if kind == _ERROR:
                raise payload
            if kind == _LOG:
                if logs is not None:
                    logs(payload)
                continue
            yield payload
    finally:
        receiving.close()
        _end(child)


def _end(child: BaseProcess) -> None:
    """Ask the child to close its generator (SIGTERM), kill it if it has not ended after the grace period, reap it."""
    child.join(0.0)
    if child.exitcode is None:
        child.terminate()
        child.join(GRACE_SECONDS)
    if child.exitcode is None:
        child.kill()
        child.join()
    child.close()


class _Stopped(BaseException):
    """Raised inside the child's connector code by SIGTERM: the sync no longer wants its items."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


def _produce(produce: Callable[[], Iterable[Any]], connection: Connection, parent: int, capture: bool) -> None:
    """The child: send each item of ``produce()``, then done (or the error); close the generator however it ends.

    With ``capture``, what the :data:`CAPTURED` loggers log is sent too."""
    die_with_parent(parent)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the sync's to handle; it then stops this child
    sending = _Sender(connection)
    if capture:
        _capture_logs(sending)
    try:
        last = _send_items(produce, sending)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the generator is closed: a stop needs no clean-up now
        sending.send(last)
    except (_Stopped, BrokenPipeError):  # the sync stopped reading
        pass


class _Sender:
    """The child's end of the pipe; one message at a time, whichever thread sends (a connector may log from its own)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()

    def send(self, message: tuple[str, Any]) -> None:
        with self._lock:
            self._connection.send(message)


class _LogSender(logging.Handler):
    """Sends each log record through the pipe as one line, ``<level>: <message>``."""

    def __init__(self, sending: _Sender, level: int) -> None:
        super().__init__(level)
        self._sending = sending

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sending.send((_LOG, f"{record.levelname.lower()}: {record.getMessage()}"))
        except (OSError, ValueError):  # the pipe is gone: the sync stopped reading
            pass


def _capture_logs(sending: _Sender) -> None:
    """In the child: send what the :data:`CAPTURED` loggers log at their level and above."""
    for name, level in CAPTURED.items():
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > level:
            logger.setLevel(level)
        logger.addHandler(_LogSender(sending, level))


def _send_items(produce: Callable[[], Iterable[Any]], sending: _Sender) -> tuple[str, Any]:
    """Send every item of ``produce()``; the last message to send: done, or the error. Closes the generator."""
    items: Iterable[Any] = ()
    try:
        items = produce()
        for item in items:
            sending.send((_ITEM, item))
    except Exception as exc:  # noqa: BLE001  (whatever the connector raises is the sync's to record)
        return _ERROR, _portable(exc)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
    return _DONE, None


def _portable(exc: Exception) -> Exception:
    """``exc`` if it survives pickling, else a BenefitsError saying what it was (never its traceback)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001  (pickling and unpickling an exception can raise anything)
        text = str(exc) if isinstance(exc, BenefitsError | ConnectorError) else f"{type(exc).__name__}: {exc}"
        return BenefitsError(text)
    return exc


def _expired(what: str, connector: Connector) -> str:
    return f"{what} after {connector.timeout:g} s (set `timeout:` for this connector in {CONNECTORS_FILE})"
