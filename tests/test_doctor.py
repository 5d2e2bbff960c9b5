"""`benefits doctor` on real databases: each problem is found, named, and given the command that recovers."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import Engine, text

from benefits.cli import main
from benefits.doctor import APPEND_ONLY_TRIGGERS
from benefits.store import db, models
from benefits.sync.lock import connector_lock


def cli(config: Path, url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "--database", url, *args])


def findings(config: Path, url: str) -> tuple[int, dict[str, dict[str, str | None]]]:
    result = cli(config, url, "doctor", "--format", "json")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, {f["check"]: f for f in json.loads(result.output)}


def _triggers(engine: Engine) -> set[str]:
    query = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        if engine.dialect.name == "sqlite"
        else "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    )
    with engine.connect() as connection:
        return {row[0] for row in connection.exec_driver_sql(query)}


def test_a_sound_database_passes_every_check(demo_config: Path, database_url: str) -> None:
    assert cli(demo_config, database_url, "init").exit_code == 0
    code, found = findings(demo_config, database_url)
    assert code == 0
    assert {name: f["outcome"] for name, f in found.items()} == {
        **({"integrity": "ok", "foreign keys": "ok"} if database_url.startswith("sqlite") else {}),
        "database": "ok",
        "schema": "ok",
        "sync runs": "ok",
        "forecast runs": "ok",
        "quarantine": "ok",
        "append-only": "ok",
    }
    engine = db.make_engine(database_url)
    assert _triggers(engine) == APPEND_ONLY_TRIGGERS[engine.dialect.name]  # the doctor's list is the migrations'
    engine.dispose()
    table = cli(demo_config, database_url, "doctor").output.splitlines()
    assert len(table) == len(found) and all(line.startswith("ok ") for line in table)


def test_each_problem_is_found_with_the_command_that_recovers(demo_config: Path, database_url: str) -> None:
    assert cli(demo_config, database_url, "init").exit_code == 0
    engine = db.make_engine(database_url)
    sessions = db.session_factory(engine)
    with sessions.begin() as session:
        killed = models.SyncRun(connector="demo", connector_type="demo")  # its process is gone
        live = models.SyncRun(connector="ledger", connector_type="csv")
        session.add_all([killed, live])
        session.flush()
        session.add(models.QuarantinedRow(sync_run_id=killed.id, source="demo", row_number=1, record={}, reasons=[]))
    trigger = "claims_no_delete"
    with engine.begin() as connection:
        connection.execute(text(f"DROP TRIGGER {trigger}" + ("" if engine.dialect.name == "sqlite" else " ON claims")))
    with sessions.begin() as holder, connector_lock(holder, "ledger"):  # a sync of ledger is running now
        code, found = findings(demo_config, database_url)
    assert code == 1  # the missing trigger fails; the rest warn
    assert found["sync runs"]["outcome"] == "warn"
    assert f"demo (run {killed.id})" in str(found["sync runs"]["found"])
    assert f"syncing now: ledger (run {live.id})" in str(found["sync runs"]["found"])
    assert found["sync runs"]["fix"] == (
        "`benefits doctor --repair` or `benefits sync --connector demo` marks them abandoned"
    )
    assert found["quarantine"]["outcome"] == "warn" and "1 row held (demo 1)" in str(found["quarantine"]["found"])
    assert "`benefits quarantine retry --all --from-source`" in str(found["quarantine"]["fix"])
    assert found["append-only"]["outcome"] == "fail" and trigger in str(found["append-only"]["found"])

    assert cli(demo_config, database_url, "sync", "--connector", "demo").exit_code == 0  # the recovery it names
    _, found = findings(demo_config, database_url)
    assert "demo" not in str(found["sync runs"]["found"])
    assert f"stopped (killed?): ledger (run {live.id})" in str(found["sync runs"]["found"])  # its holder let go
    repaired = cli(demo_config, database_url, "doctor", "--repair", "--format", "json")
    [runs] = [f for f in json.loads(repaired.output) if f["check"] == "sync runs"]
    assert runs["outcome"] == "ok" and f"marked abandoned (their process had stopped): ledger (run {live.id})" in str(
        runs["found"]
    )
    with sessions() as session:
        assert session.get_one(models.SyncRun, live.id).status == "abandoned"
    _, found = findings(demo_config, database_url)
    assert found["sync runs"]["found"] == "no run left running by a stopped process"

    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0012'"))
    code, found = findings(demo_config, database_url)
    assert code == 1 and found["schema"]["fix"] == "`benefits db upgrade`"
    assert "behind the latest" in str(found["schema"]["found"]) and "quarantine" not in found  # not examined further
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    _, found = findings(demo_config, database_url)
    assert "does not know" in str(found["schema"]["found"]) and "pip install --upgrade" in str(found["schema"]["fix"])
    engine.dispose()


def test_a_damaged_or_missing_sqlite_file_fails_with_the_way_to_recover(demo_config: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    code, found = findings(demo_config, f"sqlite:///{missing}")
    assert code == 1 and found["database"]["fix"] == "`benefits init`"
    assert not missing.exists()  # the doctor does not create the file it looks for

    path = tmp_path / "benefits.db"
    url = f"sqlite:///{path}"
    assert cli(demo_config, url, "init").exit_code == 0
    assert cli(demo_config, url, "sync").exit_code == 0
    _damage(path)
    result = cli(demo_config, url, "doctor")
    assert result.exit_code == 1
    failed = [line for line in result.output.splitlines() if line.startswith("fail")]
    assert failed and all(f"restore {path} from a backup" in line for line in failed), result.output
    # an old -wal beside a restored backup would damage it again at once: the way to recover says to delete it first
    assert all(f"delete {path}-wal and {path}-shm if they are there" in line for line in failed), result.output


def test_a_path_that_is_no_sqlite_file_says_what_it_is_and_what_to_do(demo_config: Path, tmp_path: Path) -> None:
    folder = tmp_path / "benefits.db"
    folder.mkdir()
    code, found = findings(demo_config, f"sqlite:///{folder}")
    assert code == 1 and found["database"]["found"] == f"{folder} is a folder, not a SQLite file"
    assert str(found["database"]["fix"]).startswith("point --database or BENEFITS_DATABASE_URL at the database file")

    gone = tmp_path / "gone" / "benefits.db"  # its folder deleted since the last command
    code, found = findings(demo_config, f"sqlite:///{gone}")
    assert code == 1 and found["database"]["found"] == (
        f"no SQLite file at {gone}: its folder {gone.parent} does not exist (moved or deleted?)"
    )
    assert "restore the folder and its file from a backup" in str(found["database"]["fix"])
    assert not gone.parent.exists()

    path = tmp_path / "store.db"
    assert cli(demo_config, f"sqlite:///{path}", "init").exit_code == 0
    code, found = findings(demo_config, f"sqlite:///file:{path}?mode=ro&uri=true")  # a URI, read-only: examined too
    assert code == 0 and str(found["database"]["found"]).startswith(f"SQLite file {path} (")


def test_another_applications_file_and_an_unfinished_init_fail_with_what_to_do(
    demo_config: Path, tmp_path: Path
) -> None:
    import sqlite3

    other = tmp_path / "contacts.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT)")
    connection.close()
    original = other.read_bytes()
    code, found = findings(demo_config, f"sqlite:///{other}")
    assert code == 1 and found["schema"] == {
        "check": "schema",
        "outcome": "fail",
        "found": "the database is a SQLite file of another application (tables contacts; no benefits schema)",
        "fix": "point --database or BENEFITS_DATABASE_URL at a benefits database, or at a new file for "
        "`benefits init`; benefits does not change this one",
    }
    assert other.read_bytes() == original

    half = tmp_path / "half.db"
    with sqlite3.connect(half) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
        connection.execute("CREATE TABLE programmes (id INTEGER)")
    connection.close()
    code, found = findings(demo_config, f"sqlite:///{half}")
    assert code == 1 and found["schema"]["found"] == (
        "the database holds some of benefits' tables but no schema revision (a `benefits init` stopped before it "
        "finished)"
    )
    assert found["schema"]["fix"] == "it holds no data yet: move the file aside and run `benefits init` again"

    # the same tables with rows in them: its revision was lost, and dropping it would lose the rows
    with sqlite3.connect(half) as connection:
        connection.execute("INSERT INTO programmes VALUES (1)")
    connection.close()
    kept = half.read_bytes()
    code, found = findings(demo_config, f"sqlite:///{half}")
    assert code == 1 and found["schema"]["found"] == (
        "the database holds benefits' tables with rows in them but no schema revision (its alembic_version table "
        "was dropped or emptied)"
    )
    assert found["schema"]["fix"].startswith("do not drop or re-initialise it: restore its alembic_version table")
    assert half.read_bytes() == kept


def test_an_unreachable_server_fails_with_what_to_check(demo_config: Path) -> None:
    code, found = findings(demo_config, "postgresql+psycopg://postgres@127.0.0.1:1/test")
    assert code == 1 and found["database"]["outcome"] == "fail"
    assert "PostgreSQL server is running" in str(found["database"]["fix"])


def _damage(path: Path) -> None:
    """Overwrite 32 KiB in the middle of the file with garbage (after folding the WAL into it)."""
    import sqlite3

    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with path.open("r+b") as file:
        file.seek(path.stat().st_size // 2)
        file.write(b"\xff" * 32 * 1024)
