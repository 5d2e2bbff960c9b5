"""A plain `benefits quarantine retry` re-reads a csv connector's files changed since its last sync (both databases).

Files unchanged or gone, and connectors that read no files, are only re-validated; `--held-only` re-reads nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, select, update
from sqlalchemy.orm import Session

from benefits.plugins.csv_files import source_file
from benefits.store import models

from .test_quarantine import AS_OF, _kpi_config, cli, listed

BAD = 'metric,period,value,unit\ncrm.upsell_revenue,2026-11-09,"1,120",GBP\ncrm.upsell_revenue,2026-11-16,1131,GBP\n'
FIXED = "metric,period,value,unit\ncrm.upsell_revenue,2026-11-09,1120,GBP\ncrm.upsell_revenue,2026-11-16,1131,GBP\n"
HINT = "rows still held: if their source has been fixed, retry them with --from-source to re-read it; "


@pytest.fixture
def held(demo_config: Path, database_url: str, tmp_path: Path) -> tuple[Path, str, Path]:
    """A csv connector `kpi` synced once (sync run 1) from a file whose row 2 is held (thousands marks)."""
    exports = tmp_path / "kpi.csv"
    exports.write_text(BAD)
    _touch(exports, -3600)  # written well before the sync
    _kpi_config(demo_config, exports)
    assert cli(demo_config, database_url, "init").exit_code == 0
    sync = cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat())
    assert "1 accepted" in sync.output and "1 quarantined" in sync.output, sync.output
    assert [h["source_ref"] for h in listed(demo_config, database_url)] == [f"{exports}:2"]
    return demo_config, database_url, exports


def _touch(path: Path, seconds: float) -> None:
    """Set the file's modification time ``seconds`` from now."""
    at = time.time() + seconds
    os.utime(path, (at, at))


def _retry(config: Path, url: str, *args: str) -> Result:
    return cli(config, url, "quarantine", "retry", "--all", *args, "--as-of", AS_OF.isoformat())


def _syncs(url: str) -> list[tuple[int, str]]:
    """(id, kind) of every sync run."""
    engine = create_engine(url)
    with Session(engine) as session:
        runs = [(r.id, r.kind) for r in session.scalars(select(models.SyncRun).order_by(models.SyncRun.id))]
    engine.dispose()
    return runs


def test_a_plain_retry_re_reads_a_file_fixed_since_its_sync_and_closes_the_held_row(
    held: tuple[Path, str, Path],
) -> None:
    config, url, exports = held
    exports.write_text(FIXED)
    _touch(exports, 60)  # safely later than the sync run's start
    retried = _retry(config, url)
    assert retried.exit_code == 0, retried.output
    lines = retried.output.splitlines()
    assert lines[0] == f"retry kpi: {exports} changed since sync run 1, re-reading it"
    assert lines[1].startswith("sync kpi: 2 rows read, 2 accepted (1 new, 0 restated, 1 unchanged,"), lines[1]
    assert lines[2].startswith("sync kpi: closed 1 held row whose source line loaded in this run")
    assert lines[-1] == "no held rows to retry" and HINT not in retried.output
    assert listed(config, url) == []
    (closed,) = listed(config, url, "--all")
    assert (closed["status"], closed["note"]) == ("resolved", "loaded from its source line by sync run 2")
    assert _syncs(url) == [(1, "sync"), (2, "sync")]
    engine = create_engine(url)
    with Session(engine) as session:
        loaded = session.execute(
            select(models.Observation.value, models.Observation.sync_run_id, models.Observation.source_ref).where(
                models.Observation.source_ref == f"{exports}:2"
            )
        ).one()
    engine.dispose()
    assert tuple(loaded) == (1120.0, 2, f"{exports}:2")


def test_an_unchanged_file_is_not_re_read_and_its_rows_are_re_validated(held: tuple[Path, str, Path]) -> None:
    config, url, exports = held
    retried = _retry(config, url)
    assert retried.exit_code == 0, retried.output
    assert retried.output.splitlines() == [
        "retry kpi (sync run 2): 1 rows read, 0 loaded, 1 still held",
        HINT + "`benefits quarantine resolve … --note TEXT` closes rows nobody wants",
    ]
    assert _syncs(url) == [(1, "sync"), (2, "retry")]

    # Modified an hour ago: after sync run 1 had it started two hours ago, so it is re-read (sync run 3,
    # still bad: held once); then it is older than the connector's latest read and is not re-read again.
    engine = create_engine(url)
    with Session(engine) as session:
        two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
        session.execute(update(models.SyncRun).where(models.SyncRun.id == 1).values(started_at=two_hours_ago))
        session.commit()
    engine.dispose()
    reread = _retry(config, url)
    assert reread.output.splitlines()[0] == f"retry kpi: {exports} changed since sync run 1, re-reading it"
    assert "(1 row already held in quarantine)" in reread.output and len(listed(config, url)) == 1, reread.output
    again = _retry(config, url)
    assert "re-reading" not in again.output and "1 rows read, 0 loaded, 1 still held" in again.output, again.output
    assert _syncs(url) == [(1, "sync"), (2, "retry"), (3, "sync"), (4, "retry"), (5, "retry")]


def test_held_only_does_not_re_read_a_changed_file(held: tuple[Path, str, Path]) -> None:
    config, url, exports = held
    exports.write_text(FIXED)
    _touch(exports, 60)
    retried = _retry(config, url, "--held-only")
    assert retried.exit_code == 0, retried.output
    assert retried.output.splitlines()[0] == "retry kpi (sync run 2): 1 rows read, 0 loaded, 1 still held"
    assert _syncs(url) == [(1, "sync"), (2, "retry")] and len(listed(config, url)) == 1
    both = _retry(config, url, "--held-only", "--from-source")
    assert both.exit_code == 1 and both.stderr == (
        "error: --from-source re-reads every source, --held-only none: choose one\n"
    )


def test_a_file_that_is_gone_is_said_in_one_line_and_its_rows_re_validated(held: tuple[Path, str, Path]) -> None:
    config, url, exports = held
    exports.unlink()
    retried = _retry(config, url)
    assert retried.exit_code == 0 and retried.exception is None, retried.output
    assert retried.output.splitlines() == [
        f"retry kpi: {exports} is gone (no such file); its held rows are re-validated only",
        "retry kpi (sync run 2): 1 rows read, 0 loaded, 1 still held",
        HINT + "`benefits quarantine resolve … --note TEXT` closes rows nobody wants",
    ]
    assert _syncs(url) == [(1, "sync"), (2, "retry")]

    (config / "connectors.yaml").write_text("connectors: [{name: kpi}]\n")  # unreadable: re-validate only
    broken = _retry(config, url)
    assert broken.exit_code == 0, broken.output
    first, *rest = broken.output.splitlines()
    assert first.startswith("retry: no source re-read, the held rows are re-validated only (") and "connectors" in first
    assert rest[0] == "retry kpi (sync run 3): 1 rows read, 0 loaded, 1 still held"


def test_a_file_replaced_by_a_folder_is_said_in_one_line_and_not_re_read(held: tuple[Path, str, Path]) -> None:
    config, url, exports = held
    exports.unlink()
    exports.mkdir()  # modified now, after the sync: it said "changed ..., re-reading it", then read nothing
    retried = _retry(config, url)
    assert retried.exit_code == 0 and retried.exception is None, retried.output
    assert retried.output.splitlines() == [
        f"retry kpi: {exports} is now a folder, not a file: not re-read, its held rows stay held (re-validated only)",
        "retry kpi (sync run 2): 1 rows read, 0 loaded, 1 still held",
        HINT + "`benefits quarantine resolve … --note TEXT` closes rows nobody wants",
    ]
    assert _syncs(url) == [(1, "sync"), (2, "retry")] and len(listed(config, url)) == 1


@pytest.mark.parametrize(
    ("ref", "path"),
    [("data/kpi.csv:12", "data/kpi.csv"), ("C:\\exports\\kpi.xlsx:3", "C:\\exports\\kpi.xlsx"), ("a:b.csv", "a:b.csv")],
)
def test_source_file_reads_the_file_back_from_a_source_ref(ref: str, path: str) -> None:
    assert source_file(ref) == path
