"""Baseline change control: register revisions recorded by each load of the register (who, when, why),
shown as re-baselined in `benefits status --changes`, the dashboard and the pack, listed by
`benefits register history`; append-only. On a SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import csv
import importlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from benefits.cli import main
from benefits.dashboards import data, queries
from benefits.dashboards.app import create_app
from benefits.digest import digests
from benefits.report import steering_pack
from benefits.store import baselines, models
from benefits.store.db import make_engine, session_factory

from . import dashboard_data as dd
from .test_dashboard import by_id, texts

AS_OF = dd.AS_OF.isoformat()


def cli(config: Path, url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, ["--config", str(config), "--database", url, *args], env=env)
    assert result.exit_code == 0, result.output
    return result


def history(config: Path, url: str, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(cli(config, url, "register", "history", *args, "--format", "json").stdout))


def move_target(config: Path, lines: str) -> None:
    """Replace handle-time's target line (and the change_reason after it, if any) with ``lines``."""
    register = config / "portfolio.yaml"
    before, after = register.read_text().split("- key: handle-time\n")
    after = re.sub(r"        target: .*\n(        change_reason: .*\n)?", lambda _: lines, after, count=1)
    register.write_text(before + "- key: handle-time\n" + after)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return dd.write_register(tmp_path / "config")


def test_a_moved_target_is_recorded_once_with_who_and_why(config: Path, database_url: str) -> None:
    cli(config, database_url, "init", "--user", "alice")
    originals = history(config, database_url, "handle-time")
    assert {r["kind"] for r in originals} == {"original"} and {r["recorded_by"] for r in originals} == {"alice"}
    assert {r["field"]: r["after"] for r in originals}["target_value"] == 20

    move_target(config, "        target: {value: 22, date: 2026-03-02}\n")
    loaded = cli(config, database_url, "init", "--reason", "scope cut by the board", env={"BENEFITS_USER": "bob"})
    assert "re-baselined handle-time: target value 20 → 22; target date 2026-01-05 → 2026-03-02 (why: scope cut" in (
        loaded.stdout
    )
    cli(config, database_url, "init", "--reason", "nothing moved")  # the same register again records nothing

    changes = [r for r in history(config, database_url) if r["kind"] == "rebaselined"]
    assert [(r["benefit"], r["field"], r["before"], r["after"]) for r in changes] == [
        ("handle-time", "target_value", 20, 22),
        ("handle-time", "target_date", "2026-01-05", "2026-03-02"),
    ]
    assert {(r["recorded_by"], r["reason"]) for r in changes} == {("bob", "scope cut by the board")}
    assert len({r["revision"] for r in changes}) == 1  # one revision, a row per field
    assert history(config, database_url, "it-opex")[0]["kind"] == "original"


def test_a_change_reason_in_the_register_explains_one_change(config: Path, database_url: str) -> None:
    cli(config, database_url, "init")
    reason = "        change_reason: new ticketing tool delayed\n"
    move_target(config, "        target: {value: 21, date: 2026-01-05}\n" + reason)
    cli(config, database_url, "init", "--reason", "weekly reload")
    move_target(config, "        target: {value: 23, date: 2026-01-05}\n" + reason)  # the same words again
    second = cli(config, database_url, "init")
    assert "(no reason given)" in second.stdout
    assert "warning: handle-time was re-baselined without a reason" in second.stderr
    changes = [r for r in history(config, database_url, "handle-time") if r["kind"] == "rebaselined"]
    assert [(r["after"], r["reason"]) for r in changes] == [(21, "new ticketing tool delayed"), (23, "")]


def test_the_workbook_s_reason_column_reaches_the_revision(config: Path, sqlite_url: str, tmp_path: Path) -> None:
    cli(config, sqlite_url, "init")
    workbook = tmp_path / "register.xlsx"
    cli(config, sqlite_url, "register", "export", "--out", str(workbook))
    book = openpyxl.load_workbook(workbook)
    sheet = book["Benefits"]
    headers = {cell.value: cell.column for cell in sheet[1] if cell.value}
    reason = headers["Change reason"]
    sheet.cell(1, reason).value = "Reason"  # the header PMOs write
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, headers["Benefit key"]).value == "handle-time")
    sheet.cell(row, headers["Target value"]).value = 18
    sheet.cell(row, reason).value = "stretch agreed at steering"
    book.save(workbook)
    imported = cli(config, sqlite_url, "register", "import", str(workbook), "--force")
    assert "not part of the register" not in imported.stderr
    assert "change_reason: stretch agreed at steering" in (config / "portfolio.yaml").read_text()
    cli(config, sqlite_url, "init", "--user", "carol")
    changes = [r for r in history(config, sqlite_url, "handle-time") if r["kind"] == "rebaselined"]
    assert [(r["field"], r["before"], r["after"], r["recorded_by"], r["reason"]) for r in changes] == [
        ("target_value", 20, 18, "carol", "stretch agreed at steering")
    ]


def test_history_as_table_json_and_csv(config: Path, sqlite_url: str) -> None:
    cli(config, sqlite_url, "init", "--user", "alice")
    move_target(config, "        target: {value: 22, date: 2026-01-05}\n")
    cli(config, sqlite_url, "init", "--user", "bob", "--reason", "new scope")
    table = cli(config, sqlite_url, "register", "history", "handle-time").stdout.splitlines()
    assert re.split(r"\s{2,}", table[0]) == [
        "REVISION",
        "BENEFIT",
        "KIND",
        "FIELD",
        "BEFORE",
        "AFTER",
        "RECORDED BY",
        "RECORDED AT",
        "REASON",
    ]
    assert table[-1].split()[:7] == ["4", "handle-time", "rebaselined", "target_value", "20", "22", "bob"]
    assert table[-1].endswith("new scope")
    rows = list(csv.DictReader(io.StringIO(cli(config, sqlite_url, "register", "history", "--format", "csv").stdout)))
    assert list(rows[0]) == [
        "revision",
        "benefit",
        "kind",
        "field",
        "before",
        "after",
        "recorded_by",
        "recorded_at",
        "reason",
    ]
    assert rows[-1]["before"] == "20.0" and rows[-1]["recorded_at"].endswith("+00:00")
    assert len(history(config, sqlite_url)) == len(rows)
    unknown = CliRunner().invoke(
        main, ["--config", str(config), "--database", sqlite_url, "register", "history", "nope"]
    )
    assert unknown.exit_code == 1 and "error: no benefit 'nope'" in unknown.output


@pytest.fixture
def rebaselined(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The dashboard fixture store (two forecast runs) whose handle-time target then moved from 20 to 22."""
    url = dd.build_store(tmp_path, url=database_url)
    config = tmp_path / "config"
    move_target(config, "        target: {value: 22, date: 2026-01-05}\n")
    cli(config, url, "init", "--user", "bob", "--reason", "new scope")
    create_app(url)
    engine = make_engine(url)
    monkeypatch.setattr(data, "_factory", session_factory(engine))
    yield url
    engine.dispose()


def test_status_changes_show_re_baselined_beside_status_changes(rebaselined: str) -> None:
    found = json.loads(cli(Path("."), rebaselined, "status", "--changes", "--format", "json", "--as-of", AS_OF).stdout)
    by_key = {row["benefit"]: row for row in found}
    assert {key: row["change"] for key, row in by_key.items()} == {
        "it-opex": "status changed",  # on track in the previous run
        "handle-time": "re-baselined",  # its status did not change: its target did
    }
    handle = by_key["handle-time"]
    assert (handle["target"], handle["original_target"], handle["original_target_date"]) == (22, 20, "2026-01-05")
    assert (handle["original_baseline"], handle["original_baseline_date"]) == (30, "2025-01-06")
    assert (handle["rebaselines"], handle["rebaselined_by"], handle["rebaseline_reason"]) == (1, "bob", "new scope")
    assert handle["rebaselined_changes"] == "target value 20 → 22"
    every = json.loads(cli(Path("."), rebaselined, "status", "--format", "json", "--as-of", AS_OF).stdout)
    opex = next(row for row in every if row["benefit"] == "it-opex")
    assert (opex["original_target"], opex["rebaselines"], opex["rebaselined_at"]) == (400000, 0, None)
    table = cli(Path("."), rebaselined, "status", "--changes", "--as-of", AS_OF).stdout.splitlines()
    assert table[0].split()[-3:] == ["CHANGE", "WAS", "STATUS"]
    assert any(line.startswith("handle-time") and "re-baselined" in line for line in table)


def test_the_dashboard_and_the_pack_say_re_baselined(rebaselined: str) -> None:
    with data.session() as session:
        changes = queries.portfolio_summary(session, dd.AS_OF).changes
        pack = steering_pack(session, dd.AS_OF)
    assert dict(zip(changes["benefit"], changes["change"], strict=True)) == {
        "it-opex": "status changed",
        "handle-time": "re-baselined",
    }
    portfolio = importlib.import_module("benefits.dashboards.pages.portfolio").layout(as_of=AS_OF)
    words = texts(by_id(portfolio, "portfolio-changes"))
    assert "Re-baselined" in words and "Status changed" in words
    assert any(w.startswith("target value 20 → 22 (bob, ") and w.endswith("): new scope") for w in words)
    assert "<td>Re-baselined</td>" in pack and "target value 20 → 22 (bob, " in pack
    benefit = importlib.import_module("benefits.dashboards.pages.benefit").layout(key="handle-time", as_of=AS_OF)
    facts = texts(by_id(benefit, "benefit-facts"))
    assert "Original target" in facts and "20.0 minutes by 2026-01-05" in facts  # beside the current target
    assert "22.0 minutes by 2026-01-05" in facts
    assert texts(by_id(benefit, "benefit-rebaselined")) == ["re-baselined since the previous forecast"]


def test_revisions_are_append_only(config: Path, database_url: str) -> None:
    cli(config, database_url, "init")
    engine = make_engine(database_url)
    try:
        for statement in ("UPDATE register_revisions SET reason = 'rewritten'", "DELETE FROM register_revisions"):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
        with session_factory(engine)() as session:
            revision = session.scalars(select(models.RegisterRevision)).first()
            assert revision is not None
            revision.reason = "rewritten"
            with pytest.raises(PermissionError, match="append-only"):
                session.flush()
    finally:
        engine.dispose()


def test_a_benefit_stored_before_change_control_keeps_its_stored_values_as_original(
    config: Path, sqlite_url: str
) -> None:
    cli(config, sqlite_url, "init")
    engine = make_engine(sqlite_url)
    with engine.begin() as connection:  # as a database upgraded from before migration 0016 is
        connection.execute(text("DROP TRIGGER register_revisions_no_delete"))
        connection.execute(text("DELETE FROM register_revisions"))
    engine.dispose()
    move_target(config, "        target: {value: 22, date: 2026-01-05}\n")
    cli(config, sqlite_url, "init", "--reason", "new scope")
    rows = history(config, sqlite_url, "handle-time")
    assert {r["reason"] for r in rows if r["kind"] == "original"} == {baselines.BEFORE_CONTROL}
    assert {r["field"]: r["after"] for r in rows if r["kind"] == "original"}["target_value"] == 20
    assert [(r["field"], r["after"]) for r in rows if r["kind"] == "rebaselined"] == [("target_value", 22)]


def test_the_owner_s_digest_says_re_baselined(rebaselined: str) -> None:
    with data.session() as session:
        found = {d.owner: d for d in digests(session, dd.AS_OF)}
    items = [(i.benefit, i.kind, i.text) for i in found["Service desk"].items]
    assert ("handle-time", "re-baselined", items[0][2]) in items
    assert items[0][2].startswith("target value 20 → 22 (bob, ") and items[0][2].endswith("): new scope")
