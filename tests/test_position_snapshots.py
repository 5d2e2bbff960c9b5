"""The position snapshot (``benefits.store.snapshots``): `benefits status` and the dashboard read the
same kept rows, and a change of the store after it was written is never served from it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from benefits import commentary
from benefits.cli import main
from benefits.dashboards import cache
from benefits.dashboards.snapshot import metric_health, snapshot
from benefits.live_positions import compute
from benefits.register import load_register
from benefits.staleness import metric_summaries
from benefits.status import Position, StatusRow, kept_positions, positions
from benefits.store import models, repository, snapshots
from benefits.store.db import make_engine, session_factory
from benefits.tables import render_status

from . import dashboard_data as dd


@pytest.fixture
def store(tmp_path: Path, database_url: str) -> Iterator[tuple[str, Engine]]:
    url = dd.build_store(tmp_path, url=database_url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


def status_json(url: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(
        main, ["--database", url, "status", "--format", "json", "--as-of", dd.AS_OF.isoformat()], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    listed: list[dict[str, object]] = json.loads(result.output)
    return listed


def kept(engine: Engine) -> list[tuple[int, dt.date, int]]:
    """The snapshots in the store: id, date and how many rows."""
    table = models.PositionSnapshot
    with session_factory(engine)() as session:
        rows = session.execute(select(table.id, table.as_of, table.benefits).order_by(table.id)).all()
    return [(i, d, n) for i, d, n in rows]


def sync_reading(session: Session, value: float) -> None:
    """A sync run of the CRM that loads ``value`` as upsell revenue's reading at the date."""
    run = models.SyncRun(connector="crm", connector_type="csv", status="succeeded")
    session.add(run)
    session.flush()
    reading = {"metric": "crm.upsell_revenue", "period": dd.AS_OF, "value": value, "unit": "GBP", "source_ref": None}
    repository.load_observations(session, "crm", run.id, [reading])


def live(engine: Engine) -> list[Position]:
    with session_factory(engine)() as session:
        return compute(session, dd.AS_OF)


def test_status_and_the_dashboard_read_the_same_snapshot(store: tuple[str, Engine]) -> None:
    url, engine = store
    assert kept(engine) == []
    printed = status_json(url)  # computed, and kept as the snapshot of the date
    [(first, as_of, count)] = kept(engine)
    assert (as_of, count) == (dd.AS_OF, 3)
    cache.clear()
    with session_factory(engine)() as session:
        frame = snapshot(session, dd.AS_OF)  # the dashboard's rows
        assert kept(engine) == [(first, dd.AS_OF, 3)]  # read from that snapshot, not computed again
        rows = [{name: row[name] for name in StatusRow.__dataclass_fields__} for row in frame.to_dict("records")]
        assert json.loads(render_status([StatusRow(**row) for row in rows], "json")) == printed
        served = positions(session, dd.AS_OF, initiative="cloud-platform")
        assert metric_health(session, dd.AS_OF) == metric_summaries(session, dd.AS_OF)  # the data-quality page's
        assert kept(engine) == [(first, dd.AS_OF, 3)]
    assert status_json(url) == printed  # the second status reads it too
    assert kept(engine) == [(first, dd.AS_OF, 3)]
    computed = live(engine)
    assert served == computed[:2]
    assert json.loads(render_status([p.row for p in computed], "json")) == printed  # the same as computing them


def test_a_change_after_the_snapshot_is_computed_again(store: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = store
    before = {row["benefit"]: row for row in status_json(url)}
    sessions = session_factory(engine)

    with sessions.begin() as session:  # a new reading synced: upsell-revenue banks 50,000 more
        sync_reading(session, 50_000.0)
    after = {row["benefit"]: row for row in status_json(url)}
    assert after["upsell-revenue"]["realised_to_date"] == before["upsell-revenue"]["realised_to_date"] + 50_000.0
    assert len(kept(engine)) == 2

    with sessions.begin() as session:  # the same period restated by the source
        sync_reading(session, 20_000.0)
    restated = {row["benefit"]: row for row in status_json(url)}
    assert restated["upsell-revenue"]["realised_to_date"] == before["upsell-revenue"]["realised_to_date"] + 20_000.0

    edited = dd.REGISTER_YAML.replace("value: 520000", "value: 530000")
    assert edited != dd.REGISTER_YAML
    with sessions.begin() as session:  # the register edited: a new target
        repository.save_register(session, load_register(dd.write_register(tmp_path / "edited", edited)), by="pat")
    rebaselined = {row["benefit"]: row for row in status_json(url)}
    assert rebaselined["upsell-revenue"]["target"] == 530_000.0
    assert rebaselined["upsell-revenue"]["change"] == "re-baselined"

    renamed = edited.replace("owner: Sales", "owner: Sales operations")
    with sessions.begin() as session:  # the register edited again, no baseline change: a benefit's owner
        repository.save_register(session, load_register(dd.write_register(tmp_path / "renamed", renamed)), by="pat")
    assert status_json(url)[2]["owner"] == "Sales operations"

    with sessions.begin() as session:  # an action, overdue at the date
        commentary.add_action(session, "it-opex", "Chase the vendor", "bob", dd.AS_OF - dt.timedelta(days=1), "pat")
    assert rebaselined["it-opex"]["overdue_actions"] == 0
    assert status_json(url)[0]["overdue_actions"] == 1

    assert len(kept(engine)) == 6  # one per change; a status after none reads the last one
    status_json(url)
    assert len(kept(engine)) == 6
    with engine.connect() as connection:
        assert kept_positions(connection, dd.AS_OF) == live(engine)


def test_snapshots_are_pruned_and_a_refused_write_still_serves_the_rows(
    store: tuple[str, Engine], caplog: pytest.LogCaptureFixture
) -> None:
    _, engine = store
    for days in range(snapshots.KEEP + 2):
        with engine.connect() as connection:
            kept_positions(connection, dd.AS_OF + dt.timedelta(days=days))
    assert len(kept(engine)) == snapshots.KEEP
    assert kept(engine)[-1][1] == dd.AS_OF + dt.timedelta(days=snapshots.KEEP + 1)
    with Session(engine) as session:
        held = session.scalar(select(func.count()).select_from(models.PositionSnapshotRow))
    assert held == 3 * snapshots.KEEP

    other = engine.connect()  # another writer holds the store: the snapshot is not kept, the rows are served
    if engine.dialect.name == "sqlite":
        other.exec_driver_sql("BEGIN IMMEDIATE")
        with engine.connect() as connection:
            assert kept_positions(connection, dd.BASELINE) == [*_live_at(engine, dd.BASELINE)]
        assert all(as_of != dd.BASELINE for _, as_of, _ in kept(engine))
        assert f"position snapshot of {dd.BASELINE} not kept (database is locked)" in caplog.text
        other.rollback()
    other.close()


def _live_at(engine: Engine, as_of: dt.date) -> list[Position]:
    with session_factory(engine)() as session:
        return compute(session, as_of)


def test_a_snapshot_whose_commit_fails_on_a_full_disk_says_so_and_still_serves_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import sqlite3

    engine = make_engine(dd.build_store(tmp_path))

    def full(dbapi_connection: sqlite3.Connection) -> None:  # SQLite's error when the WAL cannot grow at commit
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(engine.dialect, "do_commit", full)
    with engine.connect() as connection:
        assert kept_positions(connection, dd.AS_OF) == live(engine)
    monkeypatch.undo()
    assert kept(engine) == []
    assert f"position snapshot of {dd.AS_OF} not kept (database or disk is full)" in caplog.text
    assert "rollback" not in caplog.text  # not SQLAlchemy's refusal of the next statement, which hid the reason
    engine.dispose()
