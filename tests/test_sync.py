"""Sync: fault isolation between connectors, incremental state and no partial batches."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import psutil
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from benefits.errors import BenefitsError
from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector
from benefits.plugins.manager import plugin_manager
from benefits.register import Register, load_register
from benefits.store import db, migrate, models, repository
from benefits.sync.reading import in_child_process
from benefits.sync.runner import sync_all

AS_OF = dt.date(2026, 11, 23)
WEEKS = [(AS_OF - dt.timedelta(weeks=w)).isoformat() for w in range(6, 0, -1)]


class Steady(Connector):
    """Six weekly values; notes the bookmark it was given in ``Steady.bookmarks`` (it reads in a child process)."""

    type: ClassVar[str] = "test-steady"
    bookmarks: ClassVar[Path]
    values: ClassVar[dict[str, float]] = {}

    def records(self) -> Iterator[dict[str, Any]]:
        with Steady.bookmarks.open("a") as noted:
            noted.write(f"{self.context.bookmark}\n")
        for week in WEEKS:
            yield {
                "metric": "ledger.it_opex_weekly",
                "period": week,
                "value": Steady.values.get(week, 100.0),
                "unit": "GBP",
            }


class Raising(Connector):
    type: ClassVar[str] = "test-raising"

    def records(self) -> Iterator[dict[str, Any]]:
        yield {"metric": "m", "period": WEEKS[0], "value": 1, "unit": "GBP"}
        raise RuntimeError("source went away")


class Hanging(Connector):
    type: ClassVar[str] = "test-hanging"

    def records(self) -> Iterator[dict[str, Any]]:
        time.sleep(30)
        yield {}


class Stuck(Connector):
    """Hangs in records(); notes its process id in ``Stuck.notes``, then ``closed`` if its generator is closed."""

    type: ClassVar[str] = "test-stuck"
    notes: ClassVar[Path]
    deaf: ClassVar[bool] = False
    """Ignore SIGTERM, as a connector stuck in C code would: only a kill ends it."""

    def records(self) -> Iterator[dict[str, Any]]:
        if Stuck.deaf:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        Stuck.notes.write_text(f"{os.getpid()}\n")
        try:
            time.sleep(60)
            yield {}
        finally:
            with Stuck.notes.open("a") as notes:
                notes.write("closed\n")


class Scripted(Connector):
    """Yields ``Scripted.script`` (records, or a float: seconds to sleep there)."""

    type: ClassVar[str] = "test-scripted"
    script: ClassVar[list[Any]] = []

    def records(self) -> Iterator[dict[str, Any]]:
        for item in Scripted.script:
            if isinstance(item, float):
                time.sleep(item)
            else:
                yield item


class Malformed(Connector):
    type: ClassVar[str] = "test-malformed"

    def records(self) -> Iterator[Any]:
        yield ["not", "a", "dict"]


@pytest.fixture
def test_plugin(tmp_path: Path) -> Iterator[None]:
    plugin = SimpleNamespace(
        register_connectors=hookimpl(lambda: [Steady, Raising, Hanging, Malformed, Scripted, Stuck])
    )
    plugin_manager().register(plugin, name="test-connectors")
    Steady.bookmarks = tmp_path / "bookmarks.txt"
    Steady.values.clear()
    Scripted.script = []
    yield
    plugin_manager().unregister(name="test-connectors")


def _setup(
    tmp_path: Path, demo_config: Path, url: str, connectors: str
) -> tuple[Engine, sessionmaker[Session], Register]:
    (demo_config / "connectors.yaml").write_text(connectors)
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    register = load_register(demo_config)
    with sessions.begin() as session:
        repository.save_register(session, register)
    return engine, sessions, register


def test_a_failing_connector_fails_alone(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path,
        demo_config,
        database_url,
        """connectors:
  - {name: raising, type: test-raising}
  - {name: hanging, type: test-hanging, timeout: 0.5}
  - {name: malformed, type: test-malformed}
  - {name: steady, type: test-steady}
""",
    )
    reports = {r.connector: r for r in sync_all(sessions, demo_config, register, AS_OF)}
    assert reports["raising"].error == "RuntimeError: source went away"
    assert reports["hanging"].error.startswith("timed out after 0.5 s")
    assert reports["malformed"].error == "record 1 is a list, not a dict"
    assert reports["steady"].status == "succeeded" and reports["steady"].rows_accepted == 6
    with sessions() as session:
        runs = {r.connector: r for r in session.scalars(select(models.SyncRun))}
        sources = set(session.scalars(select(models.Observation.source)))
    assert {n: r.status for n, r in runs.items()} == {
        "raising": "failed",
        "hanging": "failed",
        "malformed": "failed",
        "steady": "succeeded",
    }
    assert runs["raising"].error == "RuntimeError: source went away"
    assert sources == {"steady"}, "a failed connector must not write a partial batch"
    engine.dispose()


@pytest.mark.parametrize("deaf", [False, True], ids=["closed-by-sigterm", "killed"])
def test_a_hanging_connector_times_out_and_nothing_of_it_keeps_running(
    tmp_path: Path, demo_config: Path, sqlite_url: str, test_plugin: None, deaf: bool
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, sqlite_url, "connectors:\n  - {name: stuck, type: test-stuck, timeout: 0.5}\n"
    )
    Stuck.notes, Stuck.deaf = tmp_path / "stuck.txt", deaf
    threads, children = set(threading.enumerate()), set(psutil.Process().children(recursive=True))
    [report] = sync_all(sessions, demo_config, register, AS_OF)
    reason = "timed out after 0.5 s (set `timeout:` for this connector in connectors.yaml)"
    assert (report.status, report.error) == ("failed", reason)
    with sessions() as session:
        run = session.scalars(select(models.SyncRun)).one()
    assert (run.status, run.error) == ("failed", reason)
    pid, *closed = Stuck.notes.read_text().splitlines()
    assert not psutil.pid_exists(int(pid)), "the connector's process was ended and reaped"
    assert set(psutil.Process().children(recursive=True)) <= children
    assert set(threading.enumerate()) <= threads
    assert closed == ([] if deaf else ["closed"]), "SIGTERM closes the connector's generator; a kill cannot"
    engine.dispose()


class TwoPartError(Exception):
    """An exception pickle cannot carry: its constructor takes two arguments, and it holds a lock
    (once dask's distributed is imported in the process, tblib rebuilds exceptions without their
    constructor, but no pickler can carry a lock)."""

    def __init__(self, part: int, whole: int) -> None:
        super().__init__(f"part {part} of {whole} is missing")
        self.lock = threading.Lock()


def _unpicklable_error() -> Iterator[int]:
    yield 1
    raise TwoPartError(2, 3)


def _exits() -> Iterator[int]:
    os._exit(3)
    yield 1


def test_a_child_error_that_cannot_be_pickled_arrives_as_one_line() -> None:
    with pytest.raises(BenefitsError, match=r"^TwoPartError: part 2 of 3 is missing$"):
        list(in_child_process(_unpicklable_error, name="test", timeout=30, expired="expired"))


def test_a_child_that_ends_its_own_process_fails_with_the_exit_code() -> None:
    with pytest.raises(BenefitsError, match=r"^the connector's process ended unexpectedly \(exit code 3\)$"):
        list(in_child_process(_exits, name="test", timeout=30, expired="expired"))


def test_a_consumer_that_stops_early_closes_the_childs_generator(tmp_path: Path) -> None:
    closed = tmp_path / "closed"

    def produce() -> Iterator[int]:
        try:
            yield 1
            yield 2
            time.sleep(60)
        finally:
            closed.write_text(str(os.getpid()))

    items = in_child_process(produce, name="test", timeout=30, expired="expired")
    assert next(items) == 1
    items.close()
    assert not psutil.pid_exists(int(closed.read_text()))


def test_a_locked_sqlite_file_fails_the_connector_in_one_line(
    tmp_path: Path, demo_config: Path, sqlite_url: str, test_plugin: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    engine, sessions, register = _setup(
        tmp_path, demo_config, sqlite_url, "connectors:\n  - {name: steady, type: test-steady}\n"
    )
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    engine.dispose()  # new connections wait 0.1 s for a lock
    blocker = sqlite3.connect(tmp_path / "benefits.db")
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the file
    try:
        [report] = sync_all(sessions, demo_config, register, AS_OF)
    finally:
        blocker.rollback()
        blocker.close()
    assert (report.status, report.error) == (
        "failed",
        "the SQLite file is locked by another writer (waited 0.1 s); run the sync again when that one has finished",
    )
    engine.dispose()


def test_a_database_error_is_one_line_without_sql_or_parameters(sqlite_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError, OperationalError

    from benefits.sync.runner import failure_reason

    engine = db.make_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY)"))
        connection.execute(text("INSERT INTO t VALUES (:k)"), {"k": 1})
    with pytest.raises(IntegrityError) as duplicate, engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (:k)"), [{"k": 2}, {"k": 1}])
    with pytest.raises(OperationalError) as missing, engine.begin() as connection:
        connection.execute(text("SELECT secret FROM nowhere WHERE k = :k"), {"k": 424242})
    engine.dispose()
    assert failure_reason(duplicate.value) == (
        "the database refused a write (UNIQUE constraint failed: t.k): another run may have stored the same rows "
        "meanwhile; run the sync again"
    )
    assert failure_reason(missing.value) == "database error: no such table: nowhere"
    assert "424242" not in failure_reason(missing.value) and "SELECT" not in failure_reason(missing.value)


def test_a_second_sync_of_the_same_connector_is_refused_in_one_line(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    from benefits.sync.lock import connector_lock

    engine, sessions, register = _setup(
        tmp_path,
        demo_config,
        database_url,
        """connectors:
  - {name: steady, type: test-steady}
  - {name: other, type: test-steady}
""",
    )
    with sessions.begin() as first, connector_lock(first, "steady"):  # a sync of steady is writing
        reports = {r.connector: r for r in sync_all(sessions, demo_config, register, AS_OF)}
    assert (reports["steady"].status, reports["steady"].error) == (
        "failed",
        "another sync of connector steady is running; run this one again when it has finished",
    )
    assert reports["other"].status == "succeeded"
    assert sync_all(sessions, demo_config, register, AS_OF, only=["steady"])[0].status == "succeeded"  # released
    engine.dispose()


def test_the_sqlite_connector_lock_is_held_across_processes_and_dies_with_its_holder(
    tmp_path: Path, demo_config: Path, sqlite_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, sqlite_url, "connectors:\n  - {name: steady, type: test-steady}\n"
    )
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import fcntl, os, sys, time\n"
                f"fd = os.open({str(tmp_path / 'benefits.db')!r} + '.sync-steady.lock', os.O_CREAT | os.O_RDWR)\n"
                "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)\n"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        refused = sync_all(sessions, demo_config, register, AS_OF)[0]
        assert refused.error == "another sync of connector steady is running; run this one again when it has finished"
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs in the holder
        holder.wait()
    assert sync_all(sessions, demo_config, register, AS_OF)[0].status == "succeeded"
    engine.dispose()


def test_a_run_left_running_by_a_killed_sync_is_marked_abandoned_by_the_next(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, database_url, "connectors:\n  - {name: steady, type: test-steady}\n"
    )
    with sessions.begin() as session:
        session.add_all(
            [
                models.SyncRun(connector="steady", connector_type="test-steady"),  # its process was killed
                models.SyncRun(connector="elsewhere", connector_type="test-steady"),
            ]
        )
    assert sync_all(sessions, demo_config, register, AS_OF)[0].status == "succeeded"
    with sessions() as session:
        runs = {(r.connector, r.status): r for r in session.scalars(select(models.SyncRun))}
    assert set(runs) == {("steady", "abandoned"), ("steady", "succeeded"), ("elsewhere", "running")}
    abandoned = runs[("steady", "abandoned")]
    assert abandoned.error.startswith("the process running this sync stopped before it finished")
    assert abandoned.finished_at is not None
    engine.dispose()


def test_framework_keeps_bookmark_and_revisions(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, database_url, "connectors:\n  - {name: steady, type: test-steady}\n"
    )
    first = sync_all(sessions, demo_config, register, AS_OF)[0]
    Steady.values[WEEKS[1]] = 250.0
    second = sync_all(sessions, demo_config, register, AS_OF)[0]
    assert Steady.bookmarks.read_text().splitlines() == ["None", WEEKS[-1]]
    assert (first.rows_accepted, first.rows_restated) == (6, 0)
    assert (second.rows_accepted, second.rows_restated) == (6, 1)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Observation)) == 6
        history = repository.revisions(session, "ledger.it_opex_weekly")
        current = repository.observations(session, "ledger.it_opex_weekly")
    assert [(h.period.isoformat(), h.value) for h in history] == [(WEEKS[1], 100.0)]
    assert current.loc[current["period"] == dt.date.fromisoformat(WEEKS[1]), "value"].item() == 250.0
    engine.dispose()


KILLED_SYNC = """
import sys, time, datetime as dt
from pathlib import Path
from types import SimpleNamespace
from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector
from benefits.plugins.manager import plugin_manager
from benefits.register import load_register
from benefits.store import db
from benefits.sync.runner import sync_all

class Slow(Connector):
    type = "test-slow"
    def records(self):
        for n in range(100000):
            if n == 5000:
                print("halfway", flush=True)
                time.sleep(60)
            # 500 valid rows, then rows of an unknown metric (quarantined): both kinds are flushed before the kill
            metric = "ledger.it_opex_weekly" if n < 500 else "m"
            period = (dt.date(2025, 6, 2) + dt.timedelta(days=n)).isoformat()
            yield {"metric": metric, "period": period, "value": n, "unit": "GBP"}

plugin_manager().register(SimpleNamespace(register_connectors=hookimpl(lambda: [Slow])), name="slow")
config = Path(sys.argv[1])
sync_all(db.session_factory(db.make_engine(sys.argv[2])), config, load_register(config), dt.date(2026, 11, 23),
         chunk_rows=1000)
"""


def test_killing_a_sync_midway_writes_nothing(tmp_path: Path, demo_config: Path, sqlite_url: str) -> None:
    engine, sessions, _ = _setup(tmp_path, demo_config, sqlite_url, "connectors:\n  - {name: slow, type: test-slow}\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_SYNC, str(demo_config), sqlite_url],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "BENEFITS_LOAD_PLUGINS": ""},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "halfway"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    with sessions() as session:
        run = session.scalars(select(models.SyncRun)).one()
        assert session.scalar(select(func.count()).select_from(models.Observation)) == 0
        assert session.scalar(select(func.count()).select_from(models.QuarantinedRow)) == 0
    assert (run.status, run.finished_at, run.rows_accepted) == ("running", None, 0)
    engine.dispose()


def _record(week: int, value: Any = 100.0, metric: str = "ledger.it_opex_weekly", **more: Any) -> dict[str, Any]:
    period = (dt.date(2026, 1, 5) + dt.timedelta(weeks=week)).isoformat()
    return {"metric": metric, "period": period, "value": value, "unit": "GBP", **more}


def _check_runs(sessions: sessionmaker[Session]) -> None:
    """Nothing lost: every finished run's rows read = accepted + quarantined, and the rows are there."""
    with sessions() as session:
        for run in session.scalars(select(models.SyncRun).where(models.SyncRun.status == "succeeded")):
            kept = session.scalar(
                select(func.count())
                .select_from(models.QuarantinedRow)
                .where(models.QuarantinedRow.sync_run_id == run.id)
            )
            assert run.rows_read == run.rows_accepted + run.rows_quarantined
            assert kept == run.rows_quarantined
            assert run.validation_success == (run.rows_quarantined == 0)


def test_streaming_catches_duplicates_across_chunks(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, database_url, "connectors:\n  - {name: scripted, type: test-scripted}\n"
    )
    # chunks of 4 rows: 1-4, 5-8, 9-12
    Scripted.script = [_record(w) for w in range(9)] + [_record(2, 999.0), _record(11), _record(11)]
    progress: list[tuple[str, int]] = []
    report = sync_all(
        sessions, demo_config, register, AS_OF, chunk_rows=4, progress=lambda name, read: progress.append((name, read))
    )[0]
    assert (report.rows_read, report.rows_accepted, report.rows_quarantined) == (12, 9, 3)
    assert progress == [("scripted", 4), ("scripted", 8), ("scripted", 12)]  # after each full chunk
    _check_runs(sessions)
    with sessions() as session:
        run = session.scalars(select(models.SyncRun)).one()
        reasons = {q.row_number: q.reasons for q in session.scalars(select(models.QuarantinedRow))}
        stored = repository.observations(session, "ledger.it_opex_weekly")
    assert reasons == {
        10: ["(metric, period): duplicate of row 3, accepted earlier in this sync"],
        11: ["(metric, period): duplicate of another row in this batch"],  # rows 11 and 12 share a chunk
        12: ["(metric, period): duplicate of another row in this batch"],
    }
    assert stored["value"].tolist() == [100.0] * 9
    unique = run.validation["expect_compound_columns_to_be_unique(metric, period)"]
    assert unique == {
        "expectation": "expect_compound_columns_to_be_unique",
        "column": ["metric", "period"],
        "severity": "critical",
        "success": False,
        "unexpected_count": 3,
    }
    engine.dispose()


def test_reject_batch_quarantines_the_whole_batch(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path,
        demo_config,
        database_url,
        "connectors:\n  - {name: scripted, type: test-scripted, policy: reject_batch}\n",
    )
    Scripted.script = [_record(w) for w in range(6)] + [_record(6, "n/a")]
    rejected = sync_all(sessions, demo_config, register, AS_OF, chunk_rows=4)[0]
    assert (rejected.status, rejected.rows_read, rejected.rows_accepted, rejected.rows_quarantined) == (
        "succeeded",
        7,
        0,
        7,
    )
    with sessions() as session:
        reasons = {q.row_number: q.reasons for q in session.scalars(select(models.QuarantinedRow))}
        assert session.scalar(select(func.count()).select_from(models.Observation)) == 0
        assert repository.bookmark(session, "scripted") is None, "a rejected batch never moves the bookmark"
    assert reasons[7] == ["value: 'n/a' is not a number"]
    assert reasons[1] == ["batch rejected: 1 of 7 rows failed validation (policy reject_batch in connectors.yaml)"]
    assert sorted(reasons) == list(range(1, 8))

    Scripted.script = [_record(w) for w in range(6)]
    clean = sync_all(sessions, demo_config, register, AS_OF, chunk_rows=4)[0]
    assert (clean.rows_read, clean.rows_accepted, clean.rows_quarantined) == (6, 6, 0)
    _check_runs(sessions)
    with sessions() as session:
        runs = session.scalars(select(models.SyncRun).order_by(models.SyncRun.id)).all()
    assert [(r.policy, r.validation_success) for r in runs] == [("reject_batch", False), ("reject_batch", True)]
    engine.dispose()


def test_quarantine_keeps_source_ref_and_every_key_verbatim(
    tmp_path: Path, demo_config: Path, sqlite_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, sqlite_url, "connectors:\n  - {name: scripted, type: test-scripted}\n"
    )
    Scripted.script = [
        _record(1, source_ref="ledger.csv:2"),
        _record(2, "12,5", source_ref="ledger.csv:3", note="typed by hand", cost_centre=4711),
    ]
    report = sync_all(sessions, demo_config, register, AS_OF)[0]
    assert (report.rows_accepted, report.rows_quarantined) == (1, 1)
    with sessions() as session:
        row = session.scalars(select(models.QuarantinedRow)).one()
    assert row.source_ref == "ledger.csv:3"
    assert row.record == {
        "metric": "ledger.it_opex_weekly",
        "period": "2026-01-19",
        "value": "12,5",
        "unit": "GBP",
        "source_ref": "ledger.csv:3",
        "note": "typed by hand",
        "cost_centre": 4711,
    }
    assert row.reasons == [
        "value: '12,5' is not a number (it has thousands or decimal marks: declare them with "
        "`number_format` in the connector's settings (csv, sql, http), e.g. {thousands: ','} or "
        "{decimal: ',', thousands: '.'})"
    ]
    engine.dispose()


def test_accepted_rows_keep_their_source_ref_and_revisions_keep_the_earlier_one(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, database_url, "connectors:\n  - {name: scripted, type: test-scripted}\n"
    )
    Scripted.script = [_record(1, source_ref="ledger.csv:2"), _record(2)]
    sync_all(sessions, demo_config, register, AS_OF)
    Scripted.script = [_record(1, "99", source_ref="ledger-restated.csv:7")]
    assert sync_all(sessions, demo_config, register, AS_OF)[0].rows_restated == 1
    with sessions() as session:
        stored = session.execute(
            select(models.Observation.period, models.Observation.source_ref, models.Observation.sync_run_id).order_by(
                models.Observation.period
            )
        ).all()
        [earlier] = repository.revisions(session, "ledger.it_opex_weekly")
    assert [(str(p), ref, run) for p, ref, run in stored] == [
        ("2026-01-12", "ledger-restated.csv:7", 2),
        ("2026-01-19", None, 1),
    ]
    assert (earlier.source_ref, earlier.sync_run_id) == ("ledger.csv:2", 1)
    engine.dispose()


def test_a_jump_warns_but_loads(tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, database_url, "connectors:\n  - {name: scripted, type: test-scripted}\n"
    )
    values = [100.0 + (w % 3) for w in range(20)]
    values[12] = 5000.0
    Scripted.script = [_record(w, v) for w, v in enumerate(values)]
    report = sync_all(sessions, demo_config, register, AS_OF)[0]
    assert (report.rows_accepted, report.rows_quarantined, report.rows_warned) == (20, 0, 2)
    with sessions() as session:
        warnings = session.scalars(select(models.ValidationWarning).order_by(models.ValidationWarning.row_number)).all()
        run = session.scalars(select(models.SyncRun)).one()
        assert session.scalar(select(func.count()).select_from(models.Observation)) == 20
    assert [(w.row_number, w.reasons) for w in warnings] == [
        (
            13,
            [
                "value: 5000 changes by 4898 since 2026-03-23 (102), "
                "far outside the usual change of ledger.it_opex_weekly"
            ],
        ),
        (
            14,
            [
                "value: 101 changes by -4899 since 2026-03-30 (5000), "
                "far outside the usual change of ledger.it_opex_weekly"
            ],
        ),
    ]
    assert (run.rows_warned, run.validation_success) == (2, True)
    assert run.validation["expect_column_values_to_be_between(jump_score)"]["severity"] == "warning"
    engine.dispose()


def test_timeout_counts_only_waiting_for_the_connector(
    tmp_path: Path, demo_config: Path, sqlite_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, sqlite_url, "connectors:\n  - {name: scripted, type: test-scripted, timeout: 1}\n"
    )
    Scripted.script = [_record(w) for w in range(8)] + [0.4] + [_record(w) for w in range(8, 12)]
    assert sync_all(sessions, demo_config, register, AS_OF, chunk_rows=4)[0].rows_accepted == 12
    Scripted.script = [_record(w) for w in range(8)] + [5.0] + [_record(w) for w in range(8, 12)]
    hung = sync_all(sessions, demo_config, register, AS_OF, chunk_rows=4)[0]
    assert hung.status == "failed" and hung.error.startswith("timed out after 1 s")
    _check_runs(sessions)
    with sessions() as session:
        runs = session.scalars(select(models.SyncRun).order_by(models.SyncRun.id)).all()
        assert session.scalar(select(func.count()).select_from(models.Observation)) == 12
    assert runs[1].rows_read == 0, "the chunks flushed before the timeout were rolled back"
    engine.dispose()


def test_a_jump_in_an_incremental_batch_is_judged_against_stored_values(
    tmp_path: Path, demo_config: Path, sqlite_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, sqlite_url, "connectors:\n  - {name: scripted, type: test-scripted}\n"
    )
    Scripted.script = [_record(w, 100.0 + (w % 3)) for w in range(20)]
    assert sync_all(sessions, demo_config, register, AS_OF)[0].rows_warned == 0
    Scripted.script = [_record(20, 5000.0)]  # only the new week, as a bookmarking connector sends it
    report = sync_all(sessions, demo_config, register, AS_OF)[0]
    assert (report.rows_accepted, report.rows_warned) == (1, 1)
    with sessions() as session:
        warning = session.scalars(select(models.ValidationWarning)).one()
    assert warning.reasons == [
        "value: 5000 changes by 4899 since 2026-05-18 (101), far outside the usual change of ledger.it_opex_weekly"
    ]
    engine.dispose()


def test_a_restated_old_week_is_judged_against_stored_values_and_the_unchanged_latest_week_does_not_warn(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, database_url, "connectors:\n  - {name: scripted, type: test-scripted}\n"
    )
    Scripted.script = [_record(w, 100.0 + (w % 3)) for w in range(20)]
    assert sync_all(sessions, demo_config, register, AS_OF)[0].rows_warned == 0
    # the source restates week 5 and re-sends the unchanged latest week 19, nothing in between
    Scripted.script = [_record(5, 5000.0), _record(19, 100.0 + 19 % 3)]
    report = sync_all(sessions, demo_config, register, AS_OF)[0]
    assert (report.rows_accepted, report.rows_restated, report.rows_warned) == (2, 1, 1)
    with sessions() as session:
        warning = session.scalars(select(models.ValidationWarning)).one()
    assert warning.record["period"] == "2026-02-09"  # week 5, against stored week 4: not week 19
    assert warning.reasons == [
        "value: 5000 changes by 4899 since 2026-02-02 (101), far outside the usual change of ledger.it_opex_weekly"
    ]
    engine.dispose()


def test_a_chunk_mixing_new_unchanged_and_restated_values_loads_each_way(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    engine, sessions, register = _setup(
        tmp_path, demo_config, database_url, "connectors:\n  - {name: scripted, type: test-scripted}\n"
    )
    Scripted.script = [_record(w) for w in (3, 1, 2)]
    sync_all(sessions, demo_config, register, AS_OF)
    # one chunk, out of period order: new weeks 5, 0 and 4, week 2 restated, week 1 unchanged, week 3 restated
    Scripted.script = [
        _record(5, 105.0),
        _record(2, 250.0),
        _record(0, 90.0),
        _record(1),
        _record(3, 300.0),
        _record(4, 104.0),
    ]
    report = sync_all(sessions, demo_config, register, AS_OF)[0]
    assert (report.rows_read, report.rows_accepted, report.rows_restated) == (6, 6, 2)
    assert (report.rows_new, report.rows_unchanged) == (3, 1)  # each accepted row counted once, by what it did
    _check_runs(sessions)
    with sessions() as session:
        first, second = session.scalars(select(models.SyncRun).order_by(models.SyncRun.id)).all()
        stored = {o.period: (o.value, o.sync_run_id) for o in session.scalars(select(models.Observation))}
        history = repository.revisions(session, "ledger.it_opex_weekly")
    week = {w: dt.date(2026, 1, 5) + dt.timedelta(weeks=w) for w in range(6)}
    assert stored == {
        week[0]: (90.0, second.id),
        week[1]: (100.0, first.id),
        week[2]: (250.0, second.id),
        week[3]: (300.0, second.id),
        week[4]: (104.0, second.id),
        week[5]: (105.0, second.id),
    }
    assert sorted((h.period, h.value, h.sync_run_id, h.replaced_by_sync_run_id) for h in history) == [
        (week[2], 100.0, first.id, second.id),
        (week[3], 100.0, first.id, second.id),
    ]
    engine.dispose()


def test_a_key_repeated_within_one_load_keeps_the_last_value(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    rows = [{"metric": "m", "period": dt.date(2026, 1, 5), "value": v, "unit": "GBP"} for v in (1.0, 2.0)]
    with sessions.begin() as session:
        run = models.SyncRun(connector="c", connector_type="demo")
        session.add(run)
        session.flush()
        later = {**rows[0], "period": dt.date(2026, 1, 12)}
        counts = repository.load_observations(session, "c", run.id, [*rows, later])
    assert counts == repository.LoadCounts(3, 0, 0)
    with sessions() as session:
        assert repository.observation_points(session, ["m"]) == {
            "m": [(dt.date(2026, 1, 5), 2.0), (dt.date(2026, 1, 12), 1.0)]
        }
    engine.dispose()


def test_lineage_names_the_source_line_and_sync_run_of_each_reading(
    tmp_path: Path, demo_config: Path, sqlite_url: str, test_plugin: None
) -> None:
    """Where a number came from (issue 09 item 4): each stored reading keeps its source, its line
    in the source and the sync run that loaded it, newest first, as the benefit page shows them."""
    engine, sessions, register = _setup(
        tmp_path, demo_config, sqlite_url, "connectors:\n  - {name: scripted, type: test-scripted}\n"
    )
    Scripted.script = [_record(1, source_ref="ledger.csv:2"), _record(2, source_ref="ledger.csv:3")]
    sync_all(sessions, demo_config, register, AS_OF)
    with sessions() as session:
        run = session.scalars(select(models.SyncRun)).one()
        found = repository.lineage(session, "ledger.it_opex_weekly", AS_OF)
    assert [(r.source, r.source_ref, r.sync_run_id) for r in found] == [
        ("scripted", "ledger.csv:3", run.id),
        ("scripted", "ledger.csv:2", run.id),
    ]
    assert found[0].period > found[1].period and found[0].loaded_at is not None
    engine.dispose()


def test_the_top_reasons_count_rows_failing_alike_together_whatever_their_value_or_line() -> None:
    from benefits.sync.writer import reason_kind

    assert reason_kind("value: 'abc' is not a number") == reason_kind("value: '12%' is not a number")
    held = [
        "exports/a.csv: line 12: value: '£9' has bytes that are not utf-8 text (0xa3); set `encoding`",
        "exports/a.csv: line 40: value: '£7' has bytes that are not utf-8 text (0xa3); set `encoding`",
    ]
    assert {reason_kind(r) for r in held} == {
        "exports/a.csv: line …: value: … has bytes that are not utf-8 text (0xa3); set `encoding`"
    }
    assert reason_kind("exports/a.csv: lines 3-5: a quote opened on line 3 is never closed") == (
        "exports/a.csv: lines …: a quote opened on line 3 is never closed"
    )
    assert (
        reason_kind("exports/b.csv: no header row (the file is empty)")
        == "exports/b.csv: no header row (the file is empty)"
    )


def test_a_csv_number_too_long_for_python_int_is_quarantined_and_the_other_rows_are_stored(
    tmp_path: Path, demo_config: Path, database_url: str
) -> None:
    """A value of 4,400 nines used to reach the store as NaN: SQLite refused the whole batch, PostgreSQL stored it."""
    huge = "9" * 4400
    data = tmp_path / "ledger.csv"
    data.write_text(
        "metric,period,value,unit\n"
        "ledger.it_opex_weekly,2026-01-05,95000,GBP\n"
        f"ledger.it_opex_weekly,2026-01-12,{huge},GBP\n"
        "ledger.it_opex_weekly,2026-01-19,94000,GBP\n"
    )
    engine, sessions, register = _setup(
        tmp_path,
        demo_config,
        database_url,
        f"connectors:\n  - {{name: files, type: csv, settings: {{path: {data}}}}}\n",
    )
    [report] = sync_all(sessions, demo_config, register, AS_OF)
    assert (report.status, report.rows_read, report.rows_accepted, report.rows_quarantined) == ("succeeded", 3, 2, 1)
    with sessions() as session:
        stored = session.execute(select(models.Observation.period, models.Observation.value)).all()
        [held] = session.scalars(select(models.QuarantinedRow)).all()
    assert sorted(stored) == [(dt.date(2026, 1, 5), 95000.0), (dt.date(2026, 1, 19), 94000.0)]
    assert held.reasons == [f"value: '{huge[:40]}…' is not a finite number"]  # its first 40 characters
    assert held.record["value"] == huge
    engine.dispose()


def test_a_connectors_int_past_pythons_digit_limit_is_quarantined_not_a_failed_sync(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    """A connector yielding a Python int of 5,000 digits (as a value, a metric or an extra key) failed the whole sync
    with 'ValueError: Exceeds the limit (4300 digits) for integer string conversion', storing none of the batch:
    str() of such an int raises. Now the row is quarantined as not a finite number, its reason repeating the first
    40 digits, its record kept with the digits as text; the other rows load. A 400-digit int's reason was the
    whole number."""
    engine, sessions, register = _setup(
        tmp_path, demo_config, database_url, "connectors:\n  - {name: scripted, type: test-scripted}\n"
    )
    huge, long = 10**5000, 10**400
    Scripted.script = [
        _record(0),
        {**_record(1), "value": huge, "batch": huge},
        {**_record(2), "value": -long},
        {**_record(3), "metric": huge},
        _record(4),
    ]
    [report] = sync_all(sessions, demo_config, register, AS_OF)
    assert (report.status, report.rows_read, report.rows_accepted, report.rows_quarantined) == ("succeeded", 5, 2, 3)
    with sessions() as session:
        held = session.scalars(select(models.QuarantinedRow).order_by(models.QuarantinedRow.id)).all()
    digits = f"1{'0' * 39}…"
    assert [h.reasons for h in held] == [
        [f"value: {digits} is not a finite number"],
        [f"value: -{digits[:-2]}… is not a finite number"],
        [
            f"metric: {digits} is not a metric of the register (no benefit measures it and portfolio.yaml's metrics:"
            " does not declare it)"
        ],
    ]
    assert held[0].record["value"] == held[0].record["batch"] == "1" + "0" * 5000
    _check_runs(sessions)
    engine.dispose()


def test_a_period_at_the_end_of_the_calendar_is_quarantined_not_a_failed_sync(
    tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None
) -> None:
    """A period of 9999-12-31 or 0001-01-01 (a typo, a source's 'no date' placeholder) in a batch whose metric has
    few rows failed the whole sync with 'OverflowError: date value out of range': the window of stored values the
    jump check reads around the batch's periods went past the calendar. Now each is quarantined for what it is
    (in the future, before the metric's earliest period) and the other rows load."""
    engine, sessions, register = _setup(
        tmp_path, demo_config, database_url, "connectors:\n  - {name: scripted, type: test-scripted}\n"
    )
    for period in ("9999-12-31", "0001-01-01"):
        Scripted.script = [_record(0), {**_record(1), "period": period}]
        [report] = sync_all(sessions, demo_config, register, AS_OF)
        assert (report.status, report.rows_read, report.rows_quarantined) == ("succeeded", 2, 1), report.error
    with sessions() as session:
        held = session.scalars(select(models.QuarantinedRow).order_by(models.QuarantinedRow.id)).all()
    assert [h.reasons[0].split(" is ")[0] for h in held] == ["period: 9999-12-31", "period: 0001-01-01"]
    _check_runs(sessions)
    engine.dispose()


def test_a_not_null_or_check_violation_is_not_explained_as_a_concurrent_duplicate(database_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from benefits.sync.runner import failure_reason

    engine = db.make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL CHECK (v > 0))"))
        connection.execute(text("INSERT INTO t VALUES (:k, :v)"), {"k": 1, "v": 1})
    errors = {}
    for kind, v in (("not null", None), ("check", -424242), ("unique", 424242)):
        with pytest.raises(IntegrityError) as refused, engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (:k, :v)"), {"k": 1 if kind == "unique" else 2, "v": v})
        errors[kind] = failure_reason(refused.value)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE t"))
    engine.dispose()
    for kind in ("not null", "check"):
        assert errors[kind].startswith("the database refused a value that breaks one of its rules (")
        assert errors[kind].endswith(
            "): nothing of the failed write was stored, and running the sync again would fail the same way "
            "(the value got past the checks made before writing): please report this line"
        )
        assert "another run" not in errors[kind]
    assert "another run may have stored the same rows meanwhile; run the sync again" in errors["unique"]
    for error in errors.values():
        assert "\n" not in error and "424242" not in error and "INSERT" not in error
