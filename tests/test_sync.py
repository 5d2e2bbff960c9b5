"""Sync: fault isolation between connectors, incremental state and no partial batches."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from sqlalchemy import func, select

from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector
from benefits.plugins.manager import plugin_manager
from benefits.register import load_register
from benefits.store import db, migrate, models, repository
from benefits.sync import sync_all

AS_OF = dt.date(2026, 11, 23)
WEEKS = [(AS_OF - dt.timedelta(weeks=w)).isoformat() for w in range(6, 0, -1)]


class Steady(Connector):
    """Six weekly values; remembers the bookmark it was given."""

    type: ClassVar[str] = "test-steady"
    seen_bookmarks: ClassVar[list[Any]] = []
    values: ClassVar[dict[str, float]] = {}

    def records(self) -> Iterator[dict[str, Any]]:
        Steady.seen_bookmarks.append(self.context.bookmark)
        for week in WEEKS:
            yield {"metric": "ledger.it_opex_weekly", "period": week, "value": Steady.values.get(week, 100.0), "unit": "GBP"}


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


class Malformed(Connector):
    type: ClassVar[str] = "test-malformed"

    def records(self) -> Iterator[Any]:
        yield ["not", "a", "dict"]


@pytest.fixture
def test_plugin() -> Iterator[None]:
    plugin = SimpleNamespace(register_connectors=hookimpl(lambda: [Steady, Raising, Hanging, Malformed]))
    plugin_manager().register(plugin, name="test-connectors")
    Steady.seen_bookmarks.clear()
    Steady.values.clear()
    yield
    plugin_manager().unregister(name="test-connectors")


def _setup(tmp_path: Path, demo_config: Path, url: str, connectors: str):  # type: ignore[no-untyped-def]
    (demo_config / "connectors.yaml").write_text(connectors)
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    register = load_register(demo_config)
    with sessions.begin() as session:
        repository.save_register(session, register)
    return engine, sessions, register


def test_a_failing_connector_fails_alone(tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None) -> None:
    engine, sessions, register = _setup(tmp_path, demo_config, database_url, """connectors:
  - {name: raising, type: test-raising}
  - {name: hanging, type: test-hanging, timeout: 0.5}
  - {name: malformed, type: test-malformed}
  - {name: steady, type: test-steady}
""")
    reports = {r.connector: r for r in sync_all(sessions, demo_config, register, AS_OF)}
    assert reports["raising"].error == "RuntimeError: source went away"
    assert reports["hanging"].error.startswith("timed out after 0.5 s")
    assert reports["malformed"].error == "record 1 is a list, not a dict"
    assert reports["steady"].status == "succeeded" and reports["steady"].rows_accepted == 6
    with sessions() as session:
        runs = {r.connector: r for r in session.scalars(select(models.SyncRun))}
        sources = set(session.scalars(select(models.Observation.source)))
    assert {n: r.status for n, r in runs.items()} == {
        "raising": "failed", "hanging": "failed", "malformed": "failed", "steady": "succeeded"}
    assert runs["raising"].error == "RuntimeError: source went away"
    assert sources == {"steady"}, "a failed connector must not write a partial batch"
    engine.dispose()


def test_framework_keeps_bookmark_and_revisions(tmp_path: Path, demo_config: Path, database_url: str, test_plugin: None) -> None:
    engine, sessions, register = _setup(tmp_path, demo_config, database_url,
                                        "connectors:\n  - {name: steady, type: test-steady}\n")
    first = sync_all(sessions, demo_config, register, AS_OF)[0]
    Steady.values[WEEKS[1]] = 250.0
    second = sync_all(sessions, demo_config, register, AS_OF)[0]
    assert Steady.seen_bookmarks == [None, dt.date.fromisoformat(WEEKS[-1])]
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
from benefits.sync import sync_all

class Slow(Connector):
    type = "test-slow"
    def records(self):
        for n in range(100000):
            if n == 5000:
                print("halfway", flush=True)
                time.sleep(60)
            yield {"metric": "m", "period": (dt.date(2020, 1, 6) + dt.timedelta(days=n)).isoformat(), "value": n, "unit": "GBP"}

plugin_manager().register(SimpleNamespace(register_connectors=hookimpl(lambda: [Slow])), name="slow")
config = Path(sys.argv[1])
sync_all(db.session_factory(db.make_engine(sys.argv[2])), config, load_register(config), dt.date(2026, 11, 23))
"""


def test_killing_a_sync_midway_writes_nothing(tmp_path: Path, demo_config: Path, sqlite_url: str) -> None:
    engine, sessions, _ = _setup(tmp_path, demo_config, sqlite_url, "connectors:\n  - {name: slow, type: test-slow}\n")
    proc = subprocess.Popen([sys.executable, "-c", KILLED_SYNC, str(demo_config), sqlite_url],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, "BENEFITS_LOAD_PLUGINS": ""})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "halfway"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    with sessions() as session:
        run = session.scalars(select(models.SyncRun)).one()
        assert session.scalar(select(func.count()).select_from(models.Observation)) == 0
    assert (run.status, run.finished_at, run.rows_accepted) == ("running", None, 0)
    engine.dispose()
