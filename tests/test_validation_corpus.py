"""The corpus of bad inputs (tests/corpus/): each file through the real csv connector and the real
sync into a real SQLite file, with the outcome tests/corpus/expected.yaml gives for it.

One sync runs every file (one csv connector per file) into one store; the parametrized test then
checks each file's sync run: its error (naming the file), or its counts and, per quarantined line,
the reasons and the ``source_ref`` (``<file>:<line>``) that lead back to the row.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from benefits.register import load_register
from benefits.store import db, migrate, models, repository
from benefits.sync.runner import sync_all

from .conftest import DEMO_CONFIG

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
FILES = sorted(p.name for p in CORPUS.glob("*.csv"))
AS_OF = dt.date(2026, 11, 23)


def _connector(name: str) -> str:
    return name.removesuffix(".csv")


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Sync every corpus file; per file its sync run and quarantined rows."""
    folder = tmp_path_factory.mktemp("corpus")
    config = folder / "config"
    config.mkdir()
    for name in ("portfolio.yaml", "validation.yaml"):
        shutil.copyfile(DEMO_CONFIG / name, config / name)
    connectors = [{"name": _connector(f), "type": "csv", "settings": {"path": str(CORPUS / f)}} for f in FILES]
    (config / "connectors.yaml").write_text(yaml.safe_dump({"connectors": connectors}))
    engine = db.make_engine(f"sqlite:///{folder / 'benefits.db'}")
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    register = load_register(config)
    with sessions.begin() as session:
        repository.save_register(session, register)
    sync_all(sessions, config, register, AS_OF)
    with sessions() as session:
        runs = {r.connector: r for r in session.scalars(select(models.SyncRun))}
        quarantined = {
            name: list(
                session.scalars(
                    select(models.QuarantinedRow)
                    .where(models.QuarantinedRow.source == name)
                    .order_by(models.QuarantinedRow.row_number)
                )
            )
            for name in runs
        }
    engine.dispose()
    return {"runs": runs, "quarantined": quarantined}


def test_every_corpus_file_has_an_expected_outcome() -> None:
    assert sorted(EXPECTED) == FILES


@pytest.mark.parametrize("name", FILES)
def test_corpus_file(name: str, synced: dict[str, Any]) -> None:
    expected = EXPECTED[name]
    path = CORPUS / name
    run = synced["runs"][_connector(name)]
    if "error" in expected:
        assert run.status == "failed"
        assert f"{path}: {expected['error']}" in run.error, run.error
        assert "\n" not in run.error
        return
    assert run.status == "succeeded", run.error
    lines = {int(line): reasons for line, reasons in (expected.get("quarantined") or {}).items()}
    assert (run.rows_read, run.rows_accepted, run.rows_quarantined) == (
        expected["accepted"] + len(lines),
        expected["accepted"],
        len(lines),
    )
    rows = synced["quarantined"][_connector(name)]
    found = {int(q.source_ref.rsplit(":", 1)[1]): q.reasons for q in rows}
    assert found == lines
    text = path.read_text(encoding="utf-8-sig").splitlines()
    for q in rows:
        assert q.source_ref.rsplit(":", 1)[0] == str(path)
        line = int(q.source_ref.rsplit(":", 1)[1])
        assert ",".join(str(q.record[f] or "") for f in ("metric", "period", "value", "unit")) in _unquoted(
            text[line - 1]
        )
        assert q.record["source_ref"] == q.source_ref


def _unquoted(line: str) -> str:
    return line.replace('"', "")
