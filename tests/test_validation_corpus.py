"""The corpus of bad inputs (tests/corpus/): each file through the real csv connector and the real
sync (``benefits init`` and ``benefits sync`` on the command line) into a real SQLite file, with the
outcome tests/corpus/expected.yaml gives for it.

One sync runs every file (one csv connector per file) into one store; the parametrized test then
checks each file's sync run: its error (naming the file), or its counts and, per quarantined line,
the reasons and the ``source_ref`` (``<file>:<line>``) that lead back to the row. Every file's
outcome is also said on the command line in lines of its own, without a traceback.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from benefits.cli import main
from benefits.store import models

from .conftest import DEMO_CONFIG

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((CORPUS / "expected.yaml").read_text())
FILES = sorted(p.name for p in CORPUS.glob("*.csv"))
AS_OF = dt.date(2026, 11, 23)
#: What no message a user sees may hold: a traceback, or SQL.
NOT_FOR_USERS = re.compile(r"Traceback|\bSELECT\b|\bINSERT INTO\b|\bUPDATE \w+ SET\b|\[SQL:")


def _connector(name: str) -> str:
    return name.removesuffix(".csv")


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Sync every corpus file with `benefits sync`; per file its sync run and quarantined rows, and the output."""
    folder = tmp_path_factory.mktemp("corpus")
    config = folder / "config"
    config.mkdir()
    for name in ("portfolio.yaml", "validation.yaml"):
        shutil.copyfile(DEMO_CONFIG / name, config / name)
    connectors = [{"name": _connector(f), "type": "csv", "settings": {"path": str(CORPUS / f)}} for f in FILES]
    (config / "connectors.yaml").write_text(yaml.safe_dump({"connectors": connectors}))
    database = f"sqlite:///{folder / 'benefits.db'}"
    runner = CliRunner()
    init = runner.invoke(main, ["--config", str(config), "--database", database, "init"])
    assert init.exit_code == 0, init.output
    sync = runner.invoke(main, ["--config", str(config), "--database", database, "sync", "--as-of", AS_OF.isoformat()])
    assert sync.exit_code == 1 and isinstance(sync.exception, SystemExit), sync.output  # some files fail
    engine = create_engine(database)
    with Session(engine) as session:
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
    return {"runs": runs, "quarantined": quarantined, "stdout": sync.stdout, "stderr": sync.stderr}


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
        assert "\n" not in run.error and not NOT_FOR_USERS.search(run.error)
        assert f"sync {_connector(name)}: failed: {run.error}\n" in synced["stderr"]
        return
    assert run.status == "succeeded", run.error
    lines = {
        int(line): [reason.replace("{file}", str(path)) for reason in reasons]
        for line, reasons in (expected.get("quarantined") or {}).items()
    }
    assert (run.rows_read, run.rows_accepted, run.rows_quarantined) == (
        expected["accepted"] + len(lines),
        expected["accepted"],
        len(lines),
    )
    assert f"sync {_connector(name)}: {run.rows_read} rows read, {run.rows_accepted} accepted" in synced["stdout"]
    rows = synced["quarantined"][_connector(name)]
    found = {int(q.source_ref.rsplit(":", 1)[1]): q.reasons for q in rows}
    assert found == lines
    text = _lines(path)
    for q in rows:
        assert q.source_ref.rsplit(":", 1)[0] == str(path)
        assert all("\n" not in reason and not NOT_FOR_USERS.search(reason) for reason in q.reasons)
        line = int(q.source_ref.rsplit(":", 1)[1])
        if "text" in q.record and q.record.get("unreadable"):  # a line the connector could not read: kept as text
            assert q.record["text"].splitlines()[0] == text[line - 1]
        else:
            delimiter = text[0][4] if text[0].startswith("sep=") else ","  # Excel's first line may say it
            cells = delimiter.join(str(q.record[f] or "") for f in ("metric", "period", "value", "unit"))
            assert cells.rstrip(delimiter) in _unquoted(text[line - 1])  # a short row ends early
        assert q.record["source_ref"] == q.source_ref


def test_the_command_line_says_every_outcome_in_lines_of_its_own(synced: dict[str, Any]) -> None:
    output = synced["stdout"] + synced["stderr"]
    assert not NOT_FOR_USERS.search(output), output
    said = {line.split(":", 1)[0] for line in output.splitlines()}
    assert said == {f"sync {_connector(name)}" for name in FILES}


def _lines(path: Path) -> list[str]:
    """The file's lines as the connector keeps an unreadable one: decoded as UTF-8 (UTF-16 after its
    byte-order mark), each byte that is not text and each NUL written ``\\xNN``."""
    raw = path.read_bytes()
    encoding = "utf-16" if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) else "utf-8-sig"
    return raw.decode(encoding, "backslashreplace").replace("\x00", "\\x00").splitlines()


def _unquoted(line: str) -> str:
    return line.replace('"', "")
