"""`benefits forecast --scheduler`: the same work on a Dask distributed cluster gives the same results."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from benefits.cli import main
from benefits.store import db, models, repository
from benefits.testing.synthetic import generate, load_store

distributed = pytest.importorskip("distributed")

COMPARED = (
    "status",
    "message",
    "points",
    "p_on_time",
    "expected_landing",
    "forecast_at_target_date",
    "lower_at_target_date",
    "upper_at_target_date",
    "path",
    "fingerprint",
    "fit_params",
)


def stored(url: str) -> tuple[models.ForecastRun, dict[str, tuple]]:
    with db.session_factory(db.make_engine(url))() as session:
        run = repository.forecast_runs(session, limit=1)[0]
        rows = repository.forecasts_of(session, run)
        return run, {key: tuple(getattr(row, name) for name in COMPARED) for key, row in rows.items()}


def test_local_cluster_gives_the_same_forecasts_as_the_local_run(tmp_path: Path) -> None:
    items = generate(5, seed=21, weeks_observed=(30, 60))
    local, remote = (f"sqlite:///{tmp_path / name}" for name in ("local.db", "dask.db"))
    for url in (local, remote):
        load_store(url, items)
    as_of = max(item.as_of for item in items).isoformat()

    result = CliRunner().invoke(main, ["--database", local, "forecast", "--workers", "1", "--as-of", as_of])
    assert result.exit_code == 0, result.output
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    ) as cluster:
        result = CliRunner().invoke(
            main, ["--database", remote, "forecast", "--scheduler", cluster.scheduler_address, "--as-of", as_of]
        )
    assert result.exit_code == 0, result.output
    assert "forecast run 1: 5 benefits" in result.stdout

    local_run, local_rows = stored(local)
    dask_run, dask_rows = stored(remote)
    assert local_run.scheduler is None and dask_run.scheduler == cluster.scheduler_address
    assert len(dask_rows) == 5 and dask_rows == local_rows
    assert {row[0] for row in dask_rows.values()} <= {"achieved", "on_track", "at_risk", "off_track"}
