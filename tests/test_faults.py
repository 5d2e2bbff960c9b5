"""Real faults under the weekly job: each ends in one line saying what happened and what to do, with no SQL or
parameters, no traceback, and nothing half-written.

A damaged SQLite file, a full disk (SQLite's ``max_page_count`` set low on every connection), a
SQLite file locked past the busy timeout by a second process, a PostgreSQL connection terminated
mid-sync (``pg_terminate_backend``), the PostgreSQL server restarted under a sync (CI only, or
``BENEFITS_TEST_RESTART_POSTGRES=1``: it cuts every session on the server), the PostgreSQL server's disk full
(a tablespace on a small tmpfs) and a unique violation from a concurrent transaction. Then a database that is
not what it should be: read-only (SQLite's ``mode=ro``, a read-only file system), a journal left by a killed
writer, a folder, another application's, upgraded by a newer benefits, half-created by a stopped init, deleted or
dropped while a sync writes, a statement cancelled by ``statement_timeout``, and mistyped URLs.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from benefits import pipeline
from benefits.cli import main
from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector
from benefits.plugins.manager import plugin_manager
from benefits.store import db, models
from benefits.sync.runner import sync_all
from benefits.workspace import Workspace

from .conftest import POSTGRES_URL, _unavailable, postgres_admin
from .test_sync import AS_OF, WEEKS, _setup

BENEFITS = str(Path(sys.executable).with_name("benefits"))
APPLICATION = "benefits-faults"
"""The PostgreSQL application_name of the sync under test: the backend to terminate, the one to watch."""
CONNECTORS = "connectors:\n  - {name: paced, type: test-paced}\n"
STORED = (models.Observation, models.ObservationRevision, models.QuarantinedRow, models.ValidationWarning)


class Paced(Connector):
    """The weekly values of WEEKS; after ``pause_after`` records, notes ``marker`` and sleeps ``pause`` seconds."""

    type: ClassVar[str] = "test-paced"
    marker: ClassVar[Path]
    pause_after: ClassVar[int] = 0
    pause: ClassVar[float] = 0.0

    def records(self) -> Iterator[dict[str, Any]]:
        for number, week in enumerate(WEEKS):
            if number == Paced.pause_after and Paced.pause:
                Paced.marker.write_text("paused\n")
                time.sleep(Paced.pause)
            yield {"metric": "ledger.it_opex_weekly", "period": week, "value": 100.0 + number, "unit": "GBP"}


@pytest.fixture
def paced(tmp_path: Path) -> Iterator[type[Paced]]:
    plugin_manager().register(SimpleNamespace(register_connectors=hookimpl(lambda: [Paced])), name="test-faults")
    Paced.marker, Paced.pause_after, Paced.pause = tmp_path / "paused", 0, 0.0
    yield Paced
    plugin_manager().unregister(name="test-faults")


@pytest.fixture
def own_postgres() -> Iterator[str]:
    """A PostgreSQL database of this test alone (its backends are terminated), dropped afterwards."""
    admin = postgres_admin()  # a new connection each time: a test may restart the server
    name = f"benefits_faults_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means the server is not usable
        _unavailable(f"PostgreSQL at {POSTGRES_URL} is not reachable: {str(exc).splitlines()[0]}")
    url = make_url(POSTGRES_URL).set(database=name).update_query_dict({"application_name": APPLICATION})
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions() as session:
        return {table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0 for table in STORED}


def _no_sql(line: str) -> None:
    for leak in ("SELECT", "INSERT", "UPDATE ", "[SQL", "[parameters", "Key (", "Traceback", "\n"):
        assert leak not in line, line


def _damage(path: Path) -> None:
    """Overwrite 32 KiB in the middle of the file with garbage (after folding the WAL into it)."""
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // 2)
        file.write(b"\xff" * 32 * 1024)


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_damaged_sqlite_file_ends_status_metrics_and_run_in_one_line(demo_config: Path, tmp_path: Path) -> None:
    path = tmp_path / "benefits.db"
    url = f"sqlite:///{path}"
    assert CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "init"]).exit_code == 0
    assert CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "sync"]).exit_code == 0
    _damage(path)
    for command in ("status", "metrics", "run"):
        done = subprocess.run(
            [BENEFITS, "--config", str(demo_config), "--database", url, command],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
        )
        assert done.returncode == 1, done.stderr
        damaged = "the database file is damaged (database disk image is malformed): run `benefits doctor`"
        *before, last = done.stderr.splitlines()
        assert last == f"error: database {url}: {damaged}, which says how to recover"
        # `run` may get as far as a connector, whose line says the same (where depends on the damaged pages)
        assert all(line == f"sync demo: failed: {damaged}, which says how to recover" for line in before)
        assert done.stdout == "" and "Traceback" not in done.stderr


def test_a_full_disk_fails_the_sync_in_one_line_and_stores_nothing_of_it(demo_config: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'benefits.db'}"
    assert CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "init"]).exit_code == 0
    ws = Workspace(config_dir=demo_config, database_url=url)
    before = _counts(ws.sessions)
    with ws.engine.connect() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
    ws.engine.dispose()
    # the file may grow by 3 pages: room for the run's row, not for the demo's observations
    event.listen(ws.engine, "connect", lambda dbapi, _: dbapi.execute(f"PRAGMA max_page_count = {pages + 3}"))
    said, failed = [], []
    [report] = pipeline.sync_stage(ws, AS_OF, None, echo=said.append, fail=failed.append)
    reason = (
        "the disk is full (database or disk is full): nothing of the failed write was stored; "
        "free some space and run the sync again"
    )
    assert failed == [f"sync demo: failed: {reason}"] and said == []
    assert _counts(ws.sessions) == before
    with ws.sessions() as session:
        run = session.scalars(select(models.SyncRun)).one()
    assert (run.status, run.error) == ("failed", reason)
    ws.engine.dispose()


HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN EXCLUSIVE")
print("held", flush=True)
time.sleep(60)
"""


def test_a_sqlite_file_locked_by_another_process_ends_in_one_line_after_the_busy_timeout(
    demo_config: Path, tmp_path: Path, paced: type[Paced], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "benefits.db"
    url = f"sqlite:///{path}"
    engine, sessions, _ = _setup(tmp_path, demo_config, url, CONNECTORS)
    engine.dispose()
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)  # new connections wait 0.2 s for a lock
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        said, failed = [], []
        pipeline.sync_stage(Workspace(demo_config, url), AS_OF, None, echo=said.append, fail=failed.append)
        loaded = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "init"])
    finally:
        holder.kill()
        holder.wait(timeout=10)
    assert failed == [
        "sync paced: failed: the SQLite file is locked by another writer (waited 0.2 s); "
        "run the sync again when that one has finished"
    ]
    assert (loaded.exit_code, loaded.stdout) == (1, "")
    assert loaded.stderr == (
        f"error: database {url}: the SQLite file is locked by another writer (waited 0.2 s); "
        "run it again when that one has finished\n"
    )
    assert CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "init"]).exit_code == 0
    engine.dispose()


@pytest.mark.postgres
def test_a_postgresql_connection_terminated_mid_sync_ends_in_one_line(
    demo_config: Path, tmp_path: Path, paced: type[Paced], own_postgres: str
) -> None:
    engine, sessions, register = _setup(tmp_path, demo_config, own_postgres, CONNECTORS)
    Paced.pause_after, Paced.pause = 4, 3.0  # two chunks of two are written, then the connector pauses
    admin = postgres_admin()

    def terminate() -> None:
        _wait_for(Paced.marker.exists, "the connector to pause")
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND application_name = :application AND pid <> pg_backend_pid()"
                ),
                {"name": engine.url.database, "application": APPLICATION},
            )

    killer = threading.Thread(target=terminate)
    killer.start()
    [report] = sync_all(sessions, demo_config, register, AS_OF, chunk_rows=2)
    killer.join()
    admin.dispose()
    assert report.status == "failed" and report.error is not None
    assert report.error.startswith("the connection to the database server was lost (")
    assert report.error.endswith(
        "): nothing of the failed write was stored; check that the server is up (`benefits doctor`) "
        "and run the sync again"
    )
    _no_sql(report.error)
    assert _counts(sessions) == dict.fromkeys(_counts(sessions), 0)  # the two chunks written went with the connection
    with sessions() as session:
        run = session.scalars(select(models.SyncRun)).one()
    assert (run.status, run.error) == ("failed", report.error)
    assert sync_all(sessions, demo_config, register, AS_OF)[0].status == "succeeded"  # the next run recovers
    engine.dispose()


@pytest.mark.postgres
def test_a_unique_violation_from_a_concurrent_transaction_ends_in_one_line(
    demo_config: Path, tmp_path: Path, paced: type[Paced], own_postgres: str
) -> None:
    engine, sessions, register = _setup(tmp_path, demo_config, own_postgres, CONNECTORS)
    with sessions.begin() as session:
        earlier = models.SyncRun(connector="paced", connector_type="test-paced", status="succeeded")
        session.add(earlier)
    other = create_engine(make_url(POSTGRES_URL).set(database=engine.url.database))
    with other.connect() as concurrent:
        concurrent.begin()  # another run stores the same (metric, period) and has not committed yet
        concurrent.execute(
            models.Observation.__table__.insert().values(
                metric="ledger.it_opex_weekly",
                period=WEEKS[0],
                value=1.0,
                unit="GBP",
                source="paced",
                sync_run_id=earlier.id,
            )
        )
        reports: list[Any] = []
        sync = threading.Thread(target=lambda: reports.extend(sync_all(sessions, demo_config, register, AS_OF)))
        sync.start()
        with other.connect() as watcher:
            _wait_for(
                lambda: bool(
                    watcher.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :application "
                            "AND wait_event_type = 'Lock'"
                        ),
                        {"application": APPLICATION},
                    ).scalar()
                ),
                "the sync to wait for the other transaction's row",
            )
        concurrent.commit()
        sync.join()
    other.dispose()
    [report] = reports
    assert (report.status, report.error) == (
        "failed",
        'the database refused a write (duplicate key value violates unique constraint "uq_observation_metric_period_'
        'source"): another run may have stored the same rows meanwhile; run the sync again',
    )
    _no_sql(report.error)
    with sessions() as session:
        run = session.get_one(models.SyncRun, report.sync_run)
        assert (run.status, run.error) == ("failed", report.error)
        assert session.scalar(select(func.count()).select_from(models.Observation)) == 1  # the other run's row only
    engine.dispose()


def test_a_database_server_that_cannot_be_reached_ends_in_one_line(demo_config: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens on port 1
    result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "status"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(f"error: database {url}: cannot connect to the database server (")
    assert result.stderr.endswith(
        "): check that it is running and that the URL's host, port, database and user are right "
        "(`benefits doctor` checks it)\n"
    )
    _no_sql(result.stderr.rstrip("\n"))


@pytest.mark.parametrize("parameter", ["password", "sslpassword", "token", "api_key", "client_secret"])
def test_a_password_in_the_database_urls_query_string_is_masked_in_its_error_and_in_doctor(
    demo_config: Path, parameter: str
) -> None:
    secret = "s3cret-Zq7"
    url = f"postgresql+psycopg://postgres@127.0.0.1:1/test?{parameter}={secret}"  # nothing listens on port 1
    shown = f"postgresql+psycopg://postgres@127.0.0.1:1/test?{parameter}=***"
    status = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "status"])
    doctor = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "doctor"])
    if parameter in {"password", "sslpassword"}:  # libpq's settings: the URL is tried, and shown masked
        assert status.exit_code == 1
        assert status.stderr.startswith(f"error: database {shown}: ") and status.stderr.count("\n") == 1
        assert doctor.exit_code == 1 and doctor.stdout.startswith(f"fail  database  {shown}: ")
    else:  # not a setting libpq has: refused before connecting, by its name alone (as a `sql` connector masks it)
        refused = f"error: the database URL (--database or BENEFITS_DATABASE_URL) has a query parameter '{parameter}'"
        for result in (status, doctor):
            assert result.exit_code == 2 and result.stderr.startswith(refused) and result.stderr.count("\n") == 1
    for output in (status.output, doctor.output):
        assert secret not in output and "Zq7" not in output, output


PG_HOLDER = """
import hashlib, sys, time
import psycopg
key = int.from_bytes(hashlib.sha256(b"benefits.sync:paced").digest()[:8], "big", signed=True)
connection = psycopg.connect(sys.argv[1])
connection.execute("SELECT pg_advisory_xact_lock(%s)", (key,))  # in an open transaction, as a sync holds it
print("held", flush=True)
time.sleep(60)
"""


@pytest.mark.postgres
def test_the_postgresql_connector_lock_held_by_another_process_refuses_the_sync_until_that_process_dies(
    demo_config: Path, tmp_path: Path, paced: type[Paced], own_postgres: str
) -> None:
    engine, sessions, register = _setup(tmp_path, demo_config, own_postgres, CONNECTORS)
    plain = make_url(own_postgres).set(drivername="postgresql").render_as_string(hide_password=False)
    holder = subprocess.Popen([sys.executable, "-c", PG_HOLDER, plain], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        [refused] = sync_all(sessions, demo_config, register, AS_OF)
    finally:
        holder.kill()  # SIGKILL: the server ends its session, and the lock with it
        holder.wait(timeout=10)
    assert (refused.status, refused.error) == (
        "failed",
        "another sync of connector paced is running; run this one again when it has finished",
    )
    _wait_for(lambda: sync_all(sessions, demo_config, register, AS_OF)[0].status == "succeeded", "the lock to go")
    assert _counts(sessions)["observations"] == len(WEEKS)
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("not a url:secret", "the database URL (--database or BENEFITS_DATABASE_URL) is not a URL: write sqlite:///"),
        ("foo://user:secret@host/db", "the database URL names a database kind (foo) not known: write sqlite:///"),
        ("mysql://user:secret@host/db", "the database driver of mysql URLs is not installed (No module named "),
        (  # exit 1 and "database error: bad value for connect_timeout: 'abc'" before, once psycopg connected
            "postgresql://user:secret@127.0.0.1:5432/test?connect_timeout=abc",
            "the database URL (--database or BENEFITS_DATABASE_URL): its connect_timeout is not a number of seconds "
            "(got 'abc'): write a whole number, e.g. connect_timeout=10",
        ),
        (  # a known setting with a value libpq refuses: exit 1 and "cannot connect to the database server" before
            "postgresql://user:secret@127.0.0.1:5432/test?sslmode=bogus",
            "the database URL (--database or BENEFITS_DATABASE_URL): its sslmode must be one of disable, allow, "
            "prefer, require, verify-ca, verify-full (got 'bogus')",
        ),
        (
            "postgresql://user:secret@127.0.0.1:5432/test?keepalives=abc",
            "the database URL (--database or BENEFITS_DATABASE_URL): its keepalives is not a whole number (got 'abc')",
        ),
        (  # SQLAlchemy's own refusal was 'database error: ArgumentError'
            "postgresql://user:secret@127.0.0.1/test?port=abc",
            "the database URL (--database or BENEFITS_DATABASE_URL): its port is not a port number from 1 to 65535 "
            "(got 'abc')",
        ),
        (
            "postgresql://user:secret@127.0.0.1:70000/test",
            "the database URL (--database or BENEFITS_DATABASE_URL): its port is not a port number from 1 to 65535 "
            "(got '70000')",
        ),
        (  # a misspelt name: its value may be a password, never repeated
            "postgresql+psycopg://user@127.0.0.1:5432/test?passwrd=secret",
            "the database URL (--database or BENEFITS_DATABASE_URL) has a query parameter 'passwrd' that is not a "
            "PostgreSQL connection setting: remove it or correct its name (https://www.postgresql.org/",
        ),
    ],
)
def test_a_database_url_that_cannot_be_used_ends_in_one_line(demo_config: Path, url: str, said: str) -> None:
    result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "status"])
    assert (result.exit_code, result.stdout) == (2, "")  # bad configuration (README)
    assert result.stderr.startswith(f"error: {said}") and result.stderr.count("\n") == 1
    assert "secret" not in result.stderr


def assert_refused_in_one_line(
    config: Path, monkeypatch: pytest.MonkeyPatch, url: str, variable: str, value: str | None, said: str
) -> None:
    """With the database at ``url`` (and the environment ``variable`` set to ``value`` unless it is
    None), `status`, `doctor` and `db upgrade` end in one line on stderr saying ``said``, exit 2,
    before connecting."""
    monkeypatch.setenv("BENEFITS_DATABASE_URL", url)
    if value is not None:
        monkeypatch.setenv(variable, value)
    for command in (["status"], ["doctor"], ["db", "upgrade"]):
        result = CliRunner().invoke(main, ["--config", str(config), *command])
        assert (result.exit_code, result.stdout) == (2, ""), (command, result.output)
        assert said in result.stderr and result.stderr.count("\n") == 1


def test_a_connect_timeout_that_is_not_a_number_is_bad_configuration_from_the_variables_too(
    demo_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BENEFITS_DATABASE_URL with ?connect_timeout=abc, or PGCONNECT_TIMEOUT=abc (which psycopg reads when the URL
    has none), ended in exit 1 once psycopg tried to connect; a URL whose settings are right is left as it was."""
    good = "postgresql+psycopg://user@127.0.0.1:5432/test?application_name=b&connect_timeout=1.5&sslmode=disable"
    assert db.database_url(good) == good
    cases = {
        (f"{good.split('?')[0]}?connect_timeout=abc", None): "its connect_timeout is not a number of seconds",
        (good.split("?")[0], "abc"): "the environment variable PGCONNECT_TIMEOUT is not a number of seconds",
    }
    for (url, variable), said in cases.items():
        assert_refused_in_one_line(demo_config, monkeypatch, url, "PGCONNECT_TIMEOUT", variable, said)
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "10")
    assert db.database_url(good.split("?")[0]) == good.split("?")[0]


def test_a_known_postgresql_setting_with_a_bad_value_is_bad_configuration_before_connecting(
    demo_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """?sslmode=bogus, ?keepalives=abc (or PGSSLMODE=bogus, which libpq reads when the URL has no sslmode) ended in
    'cannot connect to the database server (connection is bad: invalid sslmode value ...)', exit 1, as if the server
    were down; now one line naming the setting, exit 2. Values libpq accepts are left to it, as written."""
    good = (
        "postgresql+psycopg://user@127.0.0.1:5432/test?gssencmode=disable&keepalives=%2B1&keepalives_idle=+30"
        "&port=5432%2C5433&ssl_min_protocol_version=tlsv1.2&sslmode=verify-full&target_session_attrs=prefer-standby"
    )
    assert db.database_url(good) == good
    cases = {
        ("?gssencmode=Require", None): "its gssencmode must be one of disable, prefer, require (got 'Require')",
        ("?tcp_user_timeout=1.5", None): "its tcp_user_timeout is not a whole number (got '1.5')",
        ("?keepalives_count=99999999999", None): "its keepalives_count is not a whole number (got '99999999999')",
        ("?ssl_max_protocol_version=TLSv1.4", None): "its ssl_max_protocol_version must be one of TLSv1, TLSv1.1, ",
        ("", "bogus"): "the environment variable PGSSLMODE (the database's sslmode) must be one of disable, allow, ",
    }
    for (query, variable), said in cases.items():
        url = f"postgresql://user@127.0.0.1:5432/test{query}"
        assert_refused_in_one_line(demo_config, monkeypatch, url, "PGSSLMODE", variable, said)
    assert db.database_url("postgresql+psycopg://user@127.0.0.1:5432/test?sslmode=disable").endswith("=disable")


def test_a_sqlite_path_whose_folder_does_not_exist_is_refused_and_no_folder_is_made(
    demo_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for command in (["init"], ["status"], ["sync"]):
        result = CliRunner().invoke(
            main, ["--config", str(demo_config), "--database", "sqlite:///typo/dir/x.db", *command]
        )
        assert (result.exit_code, result.stdout) == (2, "")  # bad configuration (README)
        assert result.stderr == (
            "error: the SQLite database typo/dir/x.db: its folder typo/dir does not exist; check the path in "
            "--database or BENEFITS_DATABASE_URL, or create the folder first\n"
        )
    assert list(work.iterdir()) == []  # neither typo/ nor a file
    result = CliRunner().invoke(main, ["--config", str(work / "config"), "init", "--demo"])  # the README's start
    assert result.exit_code == 0, result.output
    assert (work / "benefits.db").is_file()  # default sqlite:///benefits.db: a file made in an existing folder
    (work / "data").mkdir()
    result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", "sqlite:///data/b.db", "init"])
    assert result.exit_code == 0 and (work / "data" / "b.db").is_file()


def test_a_sqlite_file_that_does_not_exist_is_refused_by_every_command_but_init_and_run(
    demo_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    typo = ["--config", str(demo_config), "--database", "sqlite:///./typo.db"]
    refused = (
        "error: no SQLite database at ./typo.db: create it with `benefits init` (or `benefits run`), "
        "or check the path in --database or BENEFITS_DATABASE_URL\n"
    )
    for command in (["status"], ["metrics"], ["claims", "list"], ["serve"], ["sync"], ["forecast"], ["value"]):
        result = CliRunner().invoke(main, [*typo, *command])
        assert (result.exit_code, result.stdout, result.stderr) == (2, "", refused), command
    doctor = CliRunner().invoke(main, [*typo, "doctor"])
    assert doctor.exit_code == 1
    assert doctor.output.splitlines() == ["fail  database  no SQLite file at ./typo.db; to recover: `benefits init`"]
    assert list(work.iterdir()) == []  # no file made by any of them

    # the README's start: `init --demo`, then `run`; and a first `run` without `init` creates the store too
    assert CliRunner().invoke(main, ["--config", "config", "init", "--demo"]).exit_code == 0
    assert (work / "benefits.db").is_file()
    ran: list[str] = []
    monkeypatch.setattr(pipeline, "weekly_run", lambda ws, *args, **kwargs: ran.append(ws.database_url) or True)
    result = CliRunner().invoke(main, [*typo, "run"])
    assert (result.exit_code, result.stdout) == (0, "database sqlite:///./typo.db created\n"), result.output
    assert ran == ["sqlite:///./typo.db"] and (work / "typo.db").is_file()
    status = CliRunner().invoke(main, [*typo, "status"])
    assert status.exit_code == 0, status.output


# -- the PostgreSQL server restarted under a sync --------------------------------------------------------------------

RESTART = "BENEFITS_TEST_RESTART_POSTGRES"
"""Set to 1 to run the test that restarts the PostgreSQL server (CI runs it always)."""
METRICS, DAYS = 20, 2_500
"""The restart test's file: 50,000 rows, enough for the sync to be writing when the server goes."""


def _restart_postgres() -> None:
    """Restart the real server (fast shutdown: every session is cut), as an operator or a crash would."""
    clusters = sorted(Path("/etc/postgresql").glob("*/main")) if Path("/etc/postgresql").is_dir() else []
    if not clusters or not Path("/usr/bin/pg_ctlcluster").exists():
        _unavailable("no PostgreSQL cluster to restart here (pg_ctlcluster, /etc/postgresql/VERSION/main)")
    version = clusters[-1].parent.name
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True, timeout=120)
    _wait_for(lambda: subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0, "PG")


def _big_portfolio(config: Path, data: Path) -> set[tuple[str, str, float]]:
    """A register of METRICS daily metrics, a csv connector reading ``data``, and the file's rows."""
    benefits = [
        {
            "key": f"b{n}",
            "name": f"Benefit {n}",
            "category": "cost_reduction",
            "metric": f"m.restart_{n}",
            "unit": "GBP",
            "direction": "increase",
            "measure": "cumulative",
            "baseline": {"value": 0, "date": "2013-01-01"},
            "target": {"value": 1_000_000, "date": "2027-12-27"},
            "owner": "Ops",
        }
        for n in range(METRICS)
    ]
    initiative: dict[str, Any] = {"key": "i", "name": "I", "programme": "p", "tactic": "innovation", "owner": "Ops"}
    register = {"name": "Restart", "programmes": [{"key": "p", "name": "P"}], "initiatives": [initiative]}
    initiative["benefits"] = benefits
    config.mkdir()
    (config / "portfolio.yaml").write_text(yaml.safe_dump(register))
    (config / "connectors.yaml").write_text(
        yaml.safe_dump({"connectors": [{"name": "files", "type": "csv", "settings": {"path": str(data)}}]})
    )
    rows = {
        (f"m.restart_{n}", (dt.date(2013, 1, 1) + dt.timedelta(days=day)).isoformat(), 1000.0 + n + day / 100)
        for day in range(DAYS)
        for n in range(METRICS)
    }
    with data.open("w") as handle:
        handle.write("metric,period,value,unit\n")
        handle.writelines(f"{metric},{period},{value},GBP\n" for metric, period, value in sorted(rows))
    return rows


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get(RESTART)),
    reason=f"restarts the PostgreSQL server, cutting every other test's sessions: CI only, or set {RESTART}=1",
)
def test_a_postgresql_server_restarted_mid_sync_ends_in_one_line_and_the_next_sync_recovers(
    tmp_path: Path, own_postgres: str
) -> None:
    config = tmp_path / "config"
    rows = _big_portfolio(config, tmp_path / "data.csv")
    base = [BENEFITS, "--config", str(config), "--database", own_postgres]
    environment = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    subprocess.run([*base, "init"], check=True, capture_output=True, env=environment, timeout=300)
    database = make_url(own_postgres).database
    watcher = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)

    def writing() -> bool:  # the sync's transaction has written observations, uncommitted
        with watcher.connect() as connection:
            return bool(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = :name AND application_name = :app "
                        "AND backend_xid IS NOT NULL AND query ILIKE '%observations%'"
                    ),
                    {"name": database, "app": APPLICATION},
                ).scalar()
            )

    sync = subprocess.Popen(
        [*base, "sync", "--as-of", "2026-11-23"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        _wait_for(lambda: writing() or sync.poll() is not None, "the sync to write")
        assert sync.poll() is None, "the sync ended before the server was restarted: make the file bigger"
        _restart_postgres()
        out, err = sync.communicate(timeout=300)
    finally:
        if sync.poll() is None:
            sync.kill()
    watcher.dispose()
    assert sync.returncode != 0, out
    assert err.count("\n") == 1, err  # one line on stderr: no psycopg warning, no traceback
    assert err.startswith("sync files: failed: the connection to the database server was lost ("), err
    assert err.endswith(
        "): nothing of the failed write was stored; check that the server is up (`benefits doctor`) "
        "and run the sync again\n"
    )
    _no_sql(err.rstrip("\n"))
    engine = create_engine(own_postgres)
    with engine.connect() as connection:
        assert (
            connection.execute(select(func.count()).select_from(models.Observation)).scalar() == 0
        )  # none half-written
    again = subprocess.run([*base, "sync", "--as-of", "2026-11-23"], capture_output=True, text=True, env=environment)
    assert again.returncode == 0, again.stderr
    with engine.connect() as connection:
        stored = connection.execute(
            select(models.Observation.metric, models.Observation.period, models.Observation.value)
        )
        found = [(metric, period.isoformat(), value) for metric, period, value in stored]
        statuses = connection.execute(select(models.SyncRun.status)).scalars().all()
    engine.dispose()
    assert len(found) == len(rows) and set(found) == rows  # nothing lost, nothing twice
    assert "running" not in statuses and statuses[-1] == "succeeded"


# -- PostgreSQL out of disk space ------------------------------------------------------------------------------------


@pytest.fixture
def small_tablespace_database() -> Iterator[str]:
    """A PostgreSQL database of this test alone whose tables live on a 4 MiB filesystem (a tablespace on a tmpfs
    mounted for it), so that a sync fills its disk while the server's own stays free; all removed afterwards."""
    import pwd
    import tempfile

    try:
        owner = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no `postgres` system user: the server is not on this machine, so its disk cannot be filled")
    folder = Path(tempfile.mkdtemp(prefix="benefits-full-disk-"))
    options = f"size=4m,uid={owner.pw_uid},gid={owner.pw_gid},mode=0700"
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"this machine does not let the tests mount a small filesystem: {mounted.stderr.decode().strip()}")
    admin = postgres_admin()
    name = f"benefits_full_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE TABLESPACE \"{name}\" LOCATION '{folder}'"))
            connection.execute(text(f'CREATE DATABASE "{name}" TABLESPACE "{name}"'))
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'DROP TABLESPACE IF EXISTS "{name}"'))
        admin.dispose()
        subprocess.run(["umount", str(folder)], check=False)
        folder.rmdir()


@pytest.mark.slow
@pytest.mark.postgres
def test_a_full_disk_on_postgresql_fails_the_sync_in_one_line_and_stores_nothing_of_it(
    tmp_path: Path, small_tablespace_database: str
) -> None:
    config = tmp_path / "config"
    _big_portfolio(config, tmp_path / "data.csv")  # 50,000 readings: more than 4 MiB with their indexes
    base = [BENEFITS, "--config", str(config), "--database", small_tablespace_database]
    environment = {**os.environ, "GX_ANALYTICS_ENABLED": "false"}
    subprocess.run([*base, "init"], check=True, capture_output=True, env=environment, timeout=300)
    done = subprocess.run(
        [*base, "sync", "--as-of", "2026-11-23"], capture_output=True, text=True, env=environment, timeout=600
    )
    assert done.returncode != 0, done.stdout
    assert done.stderr.count("\n") == 1, done.stderr  # one line: no traceback
    assert done.stderr.startswith("sync files: failed: the disk is full ("), done.stderr
    assert done.stderr.endswith("): nothing of the failed write was stored; free some space and run the sync again\n")
    _no_sql(done.stderr.rstrip("\n"))
    engine = create_engine(small_tablespace_database, poolclass=NullPool)
    with engine.connect() as connection:
        assert (
            connection.execute(select(func.count()).select_from(models.Observation)).scalar() == 0
        )  # none half-written
        run = connection.execute(select(models.SyncRun.status, models.SyncRun.error)).one()
    engine.dispose()
    assert run.status == "failed" and run.error == done.stderr.removeprefix("sync files: failed: ").rstrip("\n")


# -- the database is not what it should be: read-only, a folder, another application's, newer, gone, cancelled -----


def _cli(config: Path, url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "--database", url, *args], env=env)


def _shown(url: str) -> str:
    """The database as the commands' lines name it (password hidden, the URL as SQLAlchemy writes it)."""
    return make_url(db.database_url(url)).render_as_string(hide_password=True)


def _one_line(result: Result, code: int) -> str:
    """The only line ``result`` wrote on stderr, after checking its exit code, that stdout is empty and that the
    line carries no SQL, parameters or traceback."""
    assert (result.exit_code, result.stdout) == (code, ""), result.output
    assert result.stderr.count("\n") == 1, result.stderr
    line = result.stderr.rstrip("\n")
    _no_sql(line)
    return line


def _sqlite_store(config: Path, path: Path) -> str:
    """A demo store, initialised and synced, in the SQLite file ``path``; its URL."""
    url = f"sqlite:///{path}"
    assert _cli(config, url, "init").exit_code == 0
    assert _cli(config, url, "sync").exit_code == 0
    return url


def _counted(url: str) -> dict[str, int]:
    """:func:`_counts` of the store at ``url``, its connections closed afterwards."""
    engine = db.make_engine(url)
    try:
        return _counts(db.session_factory(engine))
    finally:
        engine.dispose()


def _sync_runs(url: str) -> list[tuple[int, str]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        runs = [(row.id, row.status) for row in connection.execute(select(models.SyncRun.id, models.SyncRun.status))]
    engine.dispose()
    return runs


READ_ONLY = (
    "the SQLite file cannot be written (attempt to write a readonly database): nothing of the failed write was "
    "stored; make the file and its folder writable (not read-only, nor `mode=ro` in the URL), then run {} again"
)


def test_a_read_only_sqlite_file_refuses_each_write_in_one_line_and_still_reads(
    demo_config: Path, tmp_path: Path
) -> None:
    path = tmp_path / "benefits.db"
    url = _sqlite_store(demo_config, path)
    before, runs = _counted(url), _sync_runs(url)
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"  # root ignores chmod 444: SQLite's own read-only open
    assert _one_line(_cli(demo_config, read_only, "sync"), 1) == "sync demo: failed: " + READ_ONLY.format("the sync")
    for command in ("init", "run"):
        line = _one_line(_cli(demo_config, read_only, command), 1)
        assert line == f"error: database {_shown(read_only)}: " + READ_ONLY.format("it"), command
    for command in ("status", "metrics", "quarantine"):  # reading needs no write: they still work
        result = _cli(demo_config, read_only, command, *(["list"] if command == "quarantine" else []))
        assert result.exit_code == 0 and result.stdout and "Traceback" not in result.stderr, result.output
    assert _counted(url) == before and _sync_runs(url) == runs


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A folder on a tmpfs of its own, unmounted afterwards; skipped, saying why, where tests cannot mount one."""
    folder = tmp_path / "mounted"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"this machine does not let the tests mount a small filesystem: {mounted.stderr.decode().strip()}")
    yield folder
    # lazily: a connection the test's command left open must not keep the tmpfs mounted for good
    subprocess.run(["umount", "--lazy", str(folder)], check=False)


def test_a_sqlite_file_on_a_read_only_file_system_ends_in_one_line(
    demo_config: Path, tmp_path: Path, small_filesystem: Path
) -> None:
    url = _sqlite_store(demo_config, tmp_path / "benefits.db")
    (small_filesystem / "benefits.db").write_bytes((tmp_path / "benefits.db").read_bytes())
    subprocess.run(["mount", "-o", "remount,ro", str(small_filesystem)], check=True)  # root cannot write it either
    mounted = f"sqlite:///{small_filesystem / 'benefits.db'}"
    cannot_open = (
        "cannot open the database file (unable to open database file): check that it is a file, and that it and its "
        "folder can be read and written (not on a read-only file system: SQLite writes its -wal and -shm files "
        "beside it)"
    )
    for command in ("status", "sync", "init"):
        assert _one_line(_cli(demo_config, mounted, command), 1) == f"error: database {mounted}: {cannot_open}"
    assert _cli(demo_config, url, "status").exit_code == 0  # the same store, where it can be written


def test_a_sqlite_file_on_a_disk_with_no_room_at_all_ends_in_one_line_that_says_so(
    demo_config: Path, tmp_path: Path, small_filesystem: Path
) -> None:
    """With not a byte free, SQLite cannot make its -shm file, and every command, even `status`, failed with
    'database error: disk I/O error' (SQLITE_IOERR_SHMSIZE): no word of the disk or of what to do."""
    _sqlite_store(demo_config, tmp_path / "benefits.db")
    source, copy = sqlite3.connect(tmp_path / "benefits.db"), sqlite3.connect(small_filesystem / "benefits.db")
    source.backup(copy)  # whole, with what its -wal file holds
    source.close(), copy.close()
    filler = os.open(small_filesystem / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(filler, bytes(4096)):  # until the disk is full
            pass
    except OSError:
        pass
    finally:
        os.close(filler)
    mounted = f"sqlite:///{small_filesystem / 'benefits.db'}"
    for command in ("status", "sync"):
        line = _one_line(_cli(demo_config, mounted, command), 1)
        assert line.startswith(f"error: database {mounted}: the disk could not be read or written (disk I/O error, "), (
            line
        )
        assert "check that the disk of the SQLite file has room" in line
    (small_filesystem / "filler").unlink()
    assert _cli(demo_config, mounted, "status").exit_code == 0  # once there is room


WRITER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("PRAGMA journal_mode=DELETE")
connection.execute("PRAGMA cache_size=1")  # the changed pages spill into the file: its -journal is needed to undo them
connection.execute("BEGIN")
connection.execute("UPDATE observations SET value = value + 1")
connection.execute("DELETE FROM quarantine")
print("written", flush=True)
time.sleep(60)
"""


def test_a_journal_left_by_a_killed_writer_is_rolled_back_and_a_read_only_open_says_how(
    demo_config: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store.db"
    _sqlite_store(demo_config, store)
    with sqlite3.connect(store) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    path = tmp_path / "benefits.db"  # a copy that no connection of this process has open: the writer changes its mode
    shutil.copyfile(store, path)
    url = f"sqlite:///{path}"
    before = _counted(url)
    with sqlite3.connect(path) as connection:
        values = connection.execute("SELECT sum(value) FROM observations").fetchone()
    connection.close()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout is not None and writer.stdout.readline().strip() == "written"
    writer.kill()  # SIGKILL mid-transaction: its half-done pages are in the file, the way back in benefits.db-journal
    writer.wait(timeout=10)
    assert Path(f"{path}-journal").stat().st_size > 0
    read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    assert _one_line(_cli(demo_config, read_only, "status"), 1) == (
        f"error: database {_shown(read_only)}: the SQLite file has a journal (-journal or -wal beside it) left by a "
        "writer that stopped, and it cannot be read until that is rolled back, which needs write access (attempt to "
        "write a readonly database): open it once where it can be written, without `mode=ro` (any command rolls it "
        "back: `benefits doctor`), then run it again"
    )
    result = _cli(demo_config, url, "doctor")  # opened where it can be written: SQLite rolls the journal back
    assert result.exit_code == 0 and "fail" not in result.stdout, result.output
    assert _counted(url) == before  # nothing of the killed writer's is left
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT sum(value) FROM observations").fetchone() == values


def test_a_database_path_that_is_a_folder_is_refused_in_one_line(demo_config: Path, tmp_path: Path) -> None:
    folder = tmp_path / "benefits.db"
    folder.mkdir()
    url = f"sqlite:///{folder}"
    for command in ("init", "status", "sync", "run", "db"):
        line = _one_line(_cli(demo_config, url, *([command, "upgrade"] if command == "db" else [command])), 2)
        assert line == (
            f"error: the SQLite database {folder} is a folder, not a file: check the path in --database or "
            f"BENEFITS_DATABASE_URL (a file in that folder, e.g. sqlite:///{folder / 'benefits.db'})"
        ), command
    assert list(folder.iterdir()) == []


def _foreign_sqlite_file(path: Path) -> bytes:
    """A SQLite file of another application (a contacts table and one named like benefits' own); its bytes."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("CREATE TABLE observations (x INTEGER)")
        connection.execute("INSERT INTO contacts VALUES (1, 'Ada')")
    connection.close()
    return path.read_bytes()


def test_a_sqlite_file_of_another_application_is_refused_in_one_line_and_left_unchanged(
    demo_config: Path, tmp_path: Path
) -> None:
    path = tmp_path / "contacts.db"
    original = _foreign_sqlite_file(path)
    url = f"sqlite:///{path}"
    for command in (["init"], ["status"], ["sync"], ["run"], ["db", "upgrade"], ["quarantine", "list"]):
        assert _one_line(_cli(demo_config, url, *command), 2) == (
            f"error: database {url} is a SQLite file of another application (tables contacts; no benefits schema): "
            "point --database or BENEFITS_DATABASE_URL at a benefits database, or at a new file for `benefits init`; "
            "benefits does not change this one"
        ), command
    assert _cli(demo_config, url, "doctor").exit_code == 1
    assert path.read_bytes() == original  # not even switched to WAL
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("contacts")) == ["contacts.db"]


@pytest.mark.postgres
def test_a_postgresql_database_with_another_applications_tables_of_benefits_names_is_refused(
    demo_config: Path, own_postgres: str
) -> None:
    engine = create_engine(own_postgres, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE contacts (id integer)"))
        connection.execute(text("CREATE TABLE observations (x integer)"))  # another application's, benefits' name
    for command in ("init", "status", "run"):
        assert _one_line(_cli(demo_config, own_postgres, command), 2) == (
            f"error: database {_shown(own_postgres)} holds tables of another application (contacts) and some named "
            "like benefits' own, without a benefits schema revision: point --database or BENEFITS_DATABASE_URL at a "
            "benefits database, or at a new database of its own for `benefits init`; benefits does not change this "
            "one"
        ), command
    with engine.begin() as connection:
        assert set(
            connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
        ) == {
            "contacts",
            "observations",
        }
        connection.execute(text("DROP TABLE observations"))
    # a database shared with another application whose tables have other names is fine on PostgreSQL
    assert _cli(demo_config, own_postgres, "init").exit_code == 0
    assert _cli(demo_config, own_postgres, "status").exit_code == 0
    engine.dispose()


def test_a_store_upgraded_by_a_newer_benefits_is_refused_by_every_command_and_left_at_its_revision(
    demo_config: Path, database_url: str
) -> None:
    assert _cli(demo_config, database_url, "init").exit_code == 0
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    for command in (["status"], ["sync"], ["forecast"], ["init"], ["db", "upgrade"], ["run"], ["metrics"]):
        assert _one_line(_cli(demo_config, database_url, *command), 1) == (
            f"error: database {_shown(database_url)} is at revision 9999_future, which this version of benefits does "
            "not know (its latest is 0021), so a newer version of benefits upgraded it: install that version "
            "(`pip install --upgrade benefits`); this one does not change it"
        ), command
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999_future"
    engine.dispose()


def test_an_init_stopped_by_a_full_disk_creates_no_table_and_the_next_init_works(
    demo_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "benefits.db"
    url = f"sqlite:///{path}"
    pragmas = db.sqlite_pragmas

    def small_disk(dbapi_connection: Any, record: Any) -> None:
        pragmas(dbapi_connection, record)
        dbapi_connection.execute("PRAGMA max_page_count = 40")  # 160 KiB: a third of the schema's pages

    monkeypatch.setattr(db, "sqlite_pragmas", small_disk)
    assert _one_line(_cli(demo_config, url, "init"), 1) == (
        f"error: database {url}: the disk is full (database or disk is full): nothing of the failed write was stored; "
        "free some space and run it again"
    )
    with sqlite3.connect(path) as connection:  # the migrations ran in one transaction: none of their tables is left
        assert connection.execute("SELECT name FROM sqlite_master").fetchall() == []
    connection.close()
    monkeypatch.setattr(db, "sqlite_pragmas", pragmas)
    assert _cli(demo_config, url, "init").exit_code == 0
    assert _cli(demo_config, url, "sync").exit_code == 0


def test_a_store_left_half_created_by_an_older_init_is_refused_with_what_to_do(
    demo_config: Path, tmp_path: Path
) -> None:
    path = tmp_path / "benefits.db"
    with sqlite3.connect(
        path
    ) as connection:  # what an init stopped halfway left before migrations were one transaction
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("CREATE TABLE programmes (id INTEGER)")
        connection.execute("CREATE TABLE sync_runs (id INTEGER)")
    connection.close()
    url = f"sqlite:///{path}"
    for command in ("init", "status", "run"):
        assert _one_line(_cli(demo_config, url, command), 1) == (
            f"error: database {url} holds some of benefits' tables but no schema revision (a `benefits init` stopped "
            "before it finished): it holds no data yet: move the file aside and run `benefits init` again"
        ), command


def test_the_sqlite_file_deleted_while_a_sync_writes_fails_the_sync_in_one_line(
    demo_config: Path, tmp_path: Path, paced: type[Paced]
) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    url = f"sqlite:///{folder / 'benefits.db'}"
    engine, _, _ = _setup(tmp_path, demo_config, url, CONNECTORS)
    engine.dispose()
    Paced.pause_after, Paced.pause = 4, 1.0
    remover = threading.Thread(
        target=lambda: (_wait_for(Paced.marker.exists, "the connector to pause"), shutil.rmtree(folder))
    )
    remover.start()
    result = _cli(demo_config, url, "sync")
    remover.join()
    # SQLite (WAL) would go on writing into the deleted file, and the sync would say it stored what is lost
    assert _one_line(result, 1) == (
        "sync paced: failed: the SQLite file was deleted or moved while this command had it open: nothing more was "
        "stored; check the path (and restore the file from a backup if it was deleted), then run the sync again"
    )
    assert _one_line(_cli(demo_config, url, "sync"), 2).endswith(
        "its folder " + str(folder) + " does not exist; "
        "check the path in --database or BENEFITS_DATABASE_URL, or create the folder first"
    )


@pytest.mark.postgres
def test_a_statement_cancelled_by_the_statement_timeout_ends_in_one_line(demo_config: Path, own_postgres: str) -> None:
    assert _cli(demo_config, own_postgres, "init").exit_code == 0
    timed = make_url(own_postgres).update_query_dict({"options": "-c statement_timeout=300"})
    url = timed.render_as_string(hide_password=False)
    holder = create_engine(own_postgres, poolclass=NullPool)
    with holder.connect() as connection:
        connection.begin()  # another session holds every table the commands read and write
        connection.execute(text("LOCK TABLE observations, sync_runs, position_snapshots, forecast_runs"))
        cancelled = (
            "the server cancelled a statement (canceling statement due to statement timeout): nothing of the failed "
            "write was stored; if it was the statement_timeout of the URL (`options=-c statement_timeout=...`) or of "
            "the database user, raise it, then run {} again"
        )
        assert _one_line(_cli(demo_config, url, "status"), 1) == f"error: database {_shown(url)}: " + cancelled.format(
            "it"
        )
        assert _one_line(_cli(demo_config, url, "sync"), 1) == "sync demo: failed: " + cancelled.format("the sync")
        connection.rollback()
    holder.dispose()
    assert _cli(demo_config, url, "sync").exit_code == 0  # with nothing in the way, the same URL works
    assert [status for _, status in _sync_runs(own_postgres)] == ["succeeded"]  # the cancelled run stored nothing


@pytest.mark.postgres
def test_the_postgresql_database_dropped_mid_sync_ends_in_one_line(
    demo_config: Path, tmp_path: Path, paced: type[Paced], own_postgres: str
) -> None:
    engine, _, _ = _setup(tmp_path, demo_config, own_postgres, CONNECTORS)
    engine.dispose()
    Paced.pause_after, Paced.pause = 4, 1.0
    admin = postgres_admin()

    def drop() -> None:
        _wait_for(Paced.marker.exists, "the connector to pause")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{make_url(own_postgres).database}" WITH (FORCE)'))

    dropper = threading.Thread(target=drop)
    dropper.start()
    result = _cli(demo_config, own_postgres, "sync")
    dropper.join()
    admin.dispose()
    line = _one_line(result, 1)
    assert line.startswith("sync paced: failed: the connection to the database server was lost ("), line
    line = _one_line(_cli(demo_config, own_postgres, "status"), 1)
    assert line.startswith(f"error: database {_shown(own_postgres)}: cannot connect to the database server ("), line
    assert f'database "{make_url(own_postgres).database}" does not exist' in line


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://user:secret@nosuchhost.invalid/benefits", "failed to resolve host 'nosuchhost.invalid'"),
        pytest.param(
            make_url(POSTGRES_URL).set(database="benefits_no_such_database").render_as_string(hide_password=False),
            'FATAL: database "benefits_no_such_database" does not exist',
            marks=pytest.mark.postgres,
        ),
        pytest.param(
            make_url(POSTGRES_URL).set(username="benefits_no_such_user").render_as_string(hide_password=False),
            'FATAL: role "benefits_no_such_user" does not exist',
            marks=pytest.mark.postgres,
        ),
    ],
)
def test_a_postgresql_url_naming_a_host_database_or_user_that_does_not_exist_ends_in_one_line(
    demo_config: Path, url: str, said: str
) -> None:
    for command in ("status", "init"):
        line = _one_line(_cli(demo_config, url, command), 1)
        assert line.startswith(f"error: database {_shown(url)}: cannot connect to the database server ("), line
        assert said in line and line.endswith(
            "): check that it is running and that the URL's host, port, database and user are right "
            "(`benefits doctor` checks it)"
        )
        assert "secret" not in line


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://user:secret@host:abc/db", "the database URL (--database or BENEFITS_DATABASE_URL) has a port "),
        ("postgres://user:secret@host/db", "the database URL names a database kind (postgres) not known: write sql"),
        ("sqlite//benefits.db", "the database URL (--database or BENEFITS_DATABASE_URL) is not a URL: write sqlite:"),
        ("sqlite://benefits.db", "the SQLite URL names a host (benefits.db) instead of a file: write sqlite:///bene"),
        ("sqlite://", "the SQLite URL names no file (an in-memory database is gone when the command ends): write "),
        ("sqlite:///", "the SQLite URL names no file (an in-memory database is gone when the command ends): write "),
        ("sqlite:///:memory:", "the SQLite URL names no file (an in-memory database is gone when the command ends)"),
    ],
)
def test_a_mistyped_database_url_in_the_environment_or_the_option_ends_in_one_line(
    demo_config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, said: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for command in ("init", "status", "doctor"):
        by_option = _one_line(_cli(demo_config, url, command), 2)
        by_environment = CliRunner().invoke(
            main, ["--config", str(demo_config), command], env={"BENEFITS_DATABASE_URL": url}
        )
        assert by_option.startswith(f"error: {said}") and "secret" not in by_option, (command, by_option)
        assert _one_line(by_environment, 2) == by_option
    assert list(work.iterdir()) == []  # no file made by any of them


def test_a_sync_lock_that_cannot_be_created_is_one_line_naming_the_lock(tmp_path: Path) -> None:
    """The database's folder gone between a sync registering its run and taking its connector's lock."""
    from benefits.errors import BenefitsError
    from benefits.sync.lock import connector_lock

    folder = tmp_path / "store"
    folder.mkdir()
    engine = create_engine(f"sqlite:///{folder / 'benefits.db'}")
    with Session(engine) as session:
        shutil.rmtree(folder)
        with pytest.raises(BenefitsError) as caught:
            with connector_lock(session, "demo"):
                pass
    engine.dispose()
    message = str(caught.value)
    assert message.startswith(f"cannot create the sync lock {folder / 'benefits.db'}.sync-demo.lock beside")
    assert "No such file or directory" in message and "\n" not in message


def test_a_stan_model_variable_naming_no_executable_fails_each_fit_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from benefits.forecast import stan

    monkeypatch.setenv(stan.MODEL_ENV, str(tmp_path / "no-such-model"))
    stan._executable.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=rf"^{stan.MODEL_ENV}=.*no-such-model is not an executable file"):
            stan._executable()
    finally:
        monkeypatch.delenv(stan.MODEL_ENV)
        stan._executable.cache_clear()


@pytest.mark.parametrize("command", [["status"], ["sync"], ["forecast"], ["doctor"], ["quarantine", "list"]])
def test_a_configuration_folder_that_is_a_file_ends_in_one_line(tmp_path: Path, command: list[str]) -> None:
    """--config or BENEFITS_CONFIG naming a file: one line and exit 2 (it was click's three-line usage error)."""
    named = tmp_path / "portfolio.yaml"
    named.write_text("initiatives: []\n")
    said = f"error: the configuration folder {named} (--config or BENEFITS_CONFIG) is a file: name the folder"
    by_option = CliRunner().invoke(main, ["--config", str(named), *command])
    by_environment = CliRunner().invoke(main, command, env={"BENEFITS_CONFIG": str(named)})
    for result in (by_option, by_environment):
        assert _one_line(result, 2).startswith(said)
