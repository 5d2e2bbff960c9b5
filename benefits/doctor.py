"""`benefits doctor`: is the database sound, current and tidy, and if not, what to run to recover.

Each check gives one :class:`Finding` (ok, warn or fail) with what it found and, for a problem,
the command or step that recovers. The checks only read: the one exception is the lock file a
SQLite sync uses, created empty when a run is found ``running`` (to prove whether its process is
gone, the doctor takes the connector's lock exactly as a sync would, and lets it go at once).
A database that cannot be reached or is not at the latest schema is not examined further.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from benefits.errors import BenefitsError
from benefits.store import db, models
from benefits.store.failures import damaged, driver_line
from benefits.store.revisions import database_schema, schema_problem
from benefits.urls import shown_url, url_secrets

Outcome = Literal["ok", "warn", "fail"]

#: The tables of commentary, actions and risks (migration 0017), each with the same two triggers per database.
COMMENTARY_TABLES = (
    "benefit_notes",
    "benefit_actions",
    "benefit_action_closures",
    "benefit_risks",
    "benefit_risk_closures",
)
#: The append-only triggers that keep finance decisions, claims, sign-off settings, register revisions and
#: commentary, actions and risks unchanged.
APPEND_ONLY_TRIGGERS = {
    "sqlite": frozenset(
        {
            "claim_decisions_no_delete",
            "claim_decisions_no_update",
            "claim_decisions_once",
            "claim_versions_no_delete",
            "claim_versions_no_update",
            "claims_decided_no_update",
            "claims_no_delete",
            "register_revisions_no_delete",
            "register_revisions_no_update",
            "sign_off_settings_no_delete",
            "sign_off_settings_no_update",
        }
    )
    | {f"{table}_no_{operation}" for table in COMMENTARY_TABLES for operation in ("delete", "update")},
    "postgresql": frozenset(
        {
            "claim_decisions_no_change",
            "claim_decisions_no_truncate",
            "claim_decisions_once",
            "claim_versions_no_change",
            "claim_versions_no_truncate",
            "claims_decided_no_update",
            "claims_no_delete",
            "claims_no_truncate",
            "register_revisions_no_change",
            "register_revisions_no_truncate",
            "sign_off_settings_no_change",
            "sign_off_settings_no_truncate",
        }
    )
    | {f"{table}_no_{operation}" for table in COMMENTARY_TABLES for operation in ("change", "truncate")},
}


@dataclass(frozen=True)
class Finding:
    """One check's result: its name, ok/warn/fail, what it found and how to recover (None when ok)."""

    check: str
    outcome: Outcome
    found: str
    fix: str | None = None


def examine(database_url: str, quick: bool = False, repair: bool = False) -> list[Finding]:
    """Check the database at ``database_url``: reachable, undamaged (SQLite: ``integrity_check``, or
    ``quick_check`` when ``quick``, and ``foreign_key_check``), at the latest migration, no run left
    ``running`` by a process that is gone (with ``repair``, such runs are marked ``abandoned``), the
    quarantine backlog, and the append-only triggers."""
    url = db.database_url(database_url)
    parsed = make_url(url)
    where = shown_url(parsed)
    if parsed.get_backend_name() == "sqlite":
        db.check_sqlite_url(parsed)  # a file, not memory nor a host
        path = db.sqlite_path(parsed.database)
        assert path is not None, "check_sqlite_url refuses a URL that names no file"
        shown = str(path) if str(parsed.database).startswith("file:") else str(parsed.database)  # as the user wrote it
        if (missing := _no_sqlite_file(path, shown)) is not None:
            return [missing]
    engine = db.make_engine(url)
    try:
        findings = _examine(engine, where, quick, repair)
    finally:
        engine.dispose()
    return _masked(findings, url_secrets(parsed))


def _masked(findings: list[Finding], secrets: frozenset[str]) -> list[Finding]:
    """``findings`` with the URL's secrets masked in what they found (a driver's message may quote them)."""
    if not secrets:
        return findings
    from benefits.plugins.secrets import mask

    return [replace(f, found=mask(f.found, secrets)) for f in findings]


def _no_sqlite_file(path: Path, shown: str) -> Finding | None:
    """The finding of a SQLite path that names no file (a folder, a folder that does not exist, nothing), None
    when there is a file to examine; ``shown`` is the path as the URL gives it."""
    if path.is_file():
        return None
    if path.is_dir():
        return Finding(
            "database",
            "fail",
            f"{shown} is a folder, not a SQLite file",
            "point --database or BENEFITS_DATABASE_URL at the database file (e.g. "
            f"sqlite:///{path / 'benefits.db'}), then run `benefits doctor` again",
        )
    if not path.parent.is_dir():
        return Finding(
            "database",
            "fail",
            f"no SQLite file at {shown}: its folder {path.parent} does not exist (moved or deleted?)",
            "check the path in --database or BENEFITS_DATABASE_URL, or restore the folder and its file from a "
            "backup; `benefits init` creates a new, empty file once the folder exists",
        )
    return Finding("database", "fail", f"no SQLite file at {shown}", "`benefits init`")


def _examine(engine: Engine, where: str, quick: bool, repair: bool) -> list[Finding]:
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            findings = [_reached(connection, where)]
            if sqlite:
                findings += _sqlite_pages(connection, quick)
            if any(f.outcome == "fail" for f in findings):
                return findings
            schema = _schema(engine)
            findings.append(schema)
            if schema.outcome == "fail":
                return findings
            return [
                *findings,
                _sync_runs(engine, repair),
                _forecast_runs(connection),
                _quarantine(connection),
                _append_only(connection),
            ]
    except SQLAlchemyError as exc:
        if damaged(exc):
            path = str(db.sqlite_path(engine.url.database))
            return [Finding("integrity", "fail", f"{where}: {driver_line(exc)}", _restore(path))]
        return [Finding("database", "fail", f"{where}: {driver_line(exc)}", _recover(engine))]


def _recover(engine: Engine) -> str:
    """What to do about a database that cannot be read."""
    if engine.dialect.name == "postgresql":
        return (
            "check that the PostgreSQL server is running, that the URL's database exists and that the server "
            "accepts this user, then run `benefits doctor` again"
        )
    return "check the file and its folder (permissions, free space), then run `benefits doctor` again"


def _restore(path: str) -> str:
    """How to recover a damaged SQLite file. A backup copied over the file while the old one's ``-wal`` is still
    beside it is damaged again at once (SQLite applies that journal to it): both go first."""
    return (
        f"stop the weekly job; delete {path}-wal and {path}-shm if they are there (they belong to the damaged "
        f"file), then restore {path} from a backup, or copy what is readable with "
        f"`sqlite3 {path} .recover | sqlite3 recovered.db` and use that file (`--database sqlite:///recovered.db`), "
        "then `benefits db upgrade` and `benefits sync` (connectors re-send what was lost)"
    )


def _reached(connection: Connection, where: str) -> Finding:
    if connection.dialect.name == "sqlite":
        path = db.sqlite_path(connection.engine.url.database)
        assert path is not None, "examine() refuses an in-memory database"
        return Finding("database", "ok", f"SQLite file {path} ({path.stat().st_size / 1024:,.0f} KiB)")
    version = connection.execute(text("SHOW server_version")).scalar()
    return Finding("database", "ok", f"PostgreSQL {version} at {where}")


def _sqlite_pages(connection: Connection, quick: bool) -> list[Finding]:
    """SQLite's own checks of its pages and indexes, and of every foreign key."""
    path = str(db.sqlite_path(connection.engine.url.database))
    pragma = "quick_check" if quick else "integrity_check"
    problems = [str(row[0]) for row in connection.exec_driver_sql(f"PRAGMA {pragma}")]
    if problems == ["ok"]:
        pages = Finding("integrity", "ok", f"{pragma}: no damaged page or index")
    else:
        found = f"{pragma}: {len(problems)} problem{'s' * (len(problems) > 1)}, the first: {problems[0]}"
        pages = Finding("integrity", "fail", found, _restore(path))
    orphans = Counter((str(row[0]), str(row[2])) for row in connection.exec_driver_sql("PRAGMA foreign_key_check"))
    if not orphans:
        return [pages, Finding("foreign keys", "ok", "every row's references exist")]
    listed = ", ".join(f"{count} in {table} (to {parent})" for (table, parent), count in sorted(orphans.items()))
    return [pages, Finding("foreign keys", "fail", f"rows that point at missing rows: {listed}", _restore(path))]


def _schema(engine: Engine) -> Finding:
    """Whether the database is at the latest migration; if not, what it holds instead (nothing yet, an earlier or
    a newer schema, an init stopped halfway, another application's tables) and what recovers."""
    schema = database_schema(engine)
    problem = schema_problem(schema, engine.dialect.name == "sqlite")
    if problem is None:
        return Finding("schema", "ok", f"at the latest migration ({schema.head})")
    found, fix = problem
    if schema.state == "new":
        return Finding("schema", "fail", "the database is not initialised", "`benefits init`")
    return Finding("schema", "fail", f"the database {found}", fix.removeprefix("run "))


def _sync_runs(engine: Engine, repair: bool) -> Finding:
    """Runs still ``running``: live when their connector's lock is held, left by a stopped process otherwise
    (and then, with ``repair``, marked abandoned under that lock, as the connector's next sync would)."""
    from benefits.sync.lock import connector_lock, mark_abandoned

    runs = models.SyncRun
    sessions = db.session_factory(engine)
    with sessions() as session:
        running = session.execute(select(runs.connector, runs.id).where(runs.status == "running").order_by(runs.id))
        by_connector: dict[str, list[int]] = {}
        for connector, run_id in running:
            by_connector.setdefault(connector, []).append(run_id)
    live, left = [], []
    for connector, ids in by_connector.items():
        described = f"{connector} (run{'s' * (len(ids) > 1)} {', '.join(map(str, ids))})"
        try:
            with sessions.begin() as session, connector_lock(session, connector):
                left.append((connector, described))
                if repair:
                    mark_abandoned(session, connector, max(ids) + 1)
        except BenefitsError:
            live.append(described)
    now = f"; syncing now: {', '.join(live)}" if live else ""
    if not left:
        return Finding("sync runs", "ok", f"no run left running by a stopped process{now}")
    stopped = ", ".join(d for _, d in left)
    if repair:
        return Finding("sync runs", "ok", f"marked abandoned (their process had stopped): {stopped}{now}")
    names = " ".join(f"--connector {connector}" for connector, _ in left)
    return Finding(
        "sync runs",
        "warn",
        f"left running by a process that stopped (killed?): {stopped}; nothing of them was stored{now}",
        f"`benefits doctor --repair` or `benefits sync {names}` marks them abandoned",
    )


def _forecast_runs(connection: Connection) -> Finding:
    runs = models.ForecastRun
    unfinished = connection.execute(select(func.count()).where(runs.finished_at.is_(None))).scalar_one()
    if not unfinished:
        return Finding("forecast runs", "ok", "none unfinished (a forecast run is stored whole when it ends)")
    return Finding(
        "forecast runs",
        "warn",
        f"{unfinished} forecast run{'s' * (unfinished > 1)} without an end time",
        "`benefits forecast` stores a new, complete run; the status reads the latest finished one",
    )


def _quarantine(connection: Connection) -> Finding:
    rows = models.QuarantinedRow
    held = connection.execute(
        select(rows.source, func.count(), func.min(rows.created_at))
        .where(rows.resolved_at.is_(None))
        .group_by(rows.source)
        .order_by(rows.source)
    ).all()
    if not held:
        return Finding("quarantine", "ok", "no rows held")
    total = sum(count for _, count, _ in held)
    oldest = min(since for _, _, since in held)
    per = ", ".join(f"{source} {count:,}" for source, count, _ in held)
    return Finding(
        "quarantine",
        "warn",
        f"{total:,} row{'s' * (total > 1)} held ({per}), the oldest since {oldest:%Y-%m-%d}",
        "`benefits quarantine list` shows why; once the source or the register is fixed, "
        "`benefits quarantine retry --all --from-source`; rows nobody wants: `benefits quarantine resolve --all "
        "--note TEXT`",
    )


def _append_only(connection: Connection) -> Finding:
    if connection.dialect.name == "sqlite":
        present = connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    else:
        present = connection.exec_driver_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    expected = APPEND_ONLY_TRIGGERS[connection.dialect.name]
    missing = sorted(expected - {str(row[0]) for row in present})
    if not missing:
        return Finding("append-only", "ok", f"all {len(expected)} triggers that keep finance decisions unchanged")
    return Finding(
        "append-only",
        "fail",
        f"triggers missing: {', '.join(missing)}: claims, decisions, sign-off settings, register revisions or "
        "commentary, actions and risks can be changed or deleted",
        "restore the database from a backup taken before they were dropped, and find out who dropped them "
        "(`benefits db upgrade` does not re-create them)",
    )
