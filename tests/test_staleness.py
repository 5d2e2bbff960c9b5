"""Staleness: a metric with no new data past its cadence x tolerance is flagged, and its benefits show data_stale."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from benefits.cli import main
from benefits.staleness import cadence, metric_summaries, stale_metrics
from benefits.status import STATUSES, status_rows

AS_OF = dt.date(2026, 11, 23)
SILENT = "ledger.contractor_savings"  # skills-contractor-spend: the demo's silent scenario


def test_cadence_is_the_usual_gap_between_distinct_periods() -> None:
    assert cadence(dt.date(2026, 1, 5), dt.date(2026, 2, 2), 5) == 7.0  # five weekly periods
    assert cadence(dt.date(2026, 1, 5), dt.date(2026, 2, 9), 5) == 8.75  # one week missing: 35 days, 4 gaps
    assert cadence(dt.date(2026, 1, 1), dt.date(2026, 3, 1), 3) == 29.5
    assert cadence(dt.date(2026, 1, 1), dt.date(2026, 1, 1), 1) is None


@pytest.fixture
def synced(demo_config: Path, database_url: str) -> tuple[Path, str]:
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(demo_config), "--database", database_url, "init"]).exit_code == 0
    sync = runner.invoke(
        main, ["--config", str(demo_config), "--database", database_url, "sync", "--as-of", AS_OF.isoformat()]
    )
    assert sync.exit_code == 0, sync.output
    return demo_config, database_url


def test_the_silent_demo_metric_is_stale_and_its_benefit_shows_data_stale(synced: tuple[Path, str]) -> None:
    config, url = synced
    engine = create_engine(url)
    with Session(engine) as session:
        stale = stale_metrics(session, AS_OF)
        assert [m.metric for m in stale] == [SILENT]
        assert stale[0].cadence_days == 7 and not stale[0].cadence_declared
        assert stale[0].last_period is not None and stale[0].last_period <= AS_OF - dt.timedelta(weeks=8)
        rows = {r.benefit: r for r in status_rows(session, AS_OF)}
        assert stale_metrics(session, stale[0].last_period + dt.timedelta(days=14)) == []  # two weeks on: fine
        # The same data seen 15 days after its last period: more than 2 x 7 days without news.
        assert [m.metric for m in stale_metrics(session, stale[0].last_period + dt.timedelta(days=15))] == [SILENT]
    engine.dispose()
    row = rows["skills-contractor-spend"]
    assert row.status == "data_stale" and "data_stale" in STATUSES
    assert row.p_on_time is None and row.expected_landing is None and row.forecast_at_target_date is None
    assert row.forecast_low_80 is None and row.forecast_high_80 is None
    assert row.message.startswith(f"no new data for {SILENT} since {stale[0].last_period}")
    assert row.realised_to_date is not None  # what was observed is still shown
    assert sum(r.status == "data_stale" for r in rows.values()) == 1
    shown = CliRunner().invoke(
        main, ["--config", str(config), "--database", url, "status", "--as-of", AS_OF.isoformat()]
    )
    assert any(
        line.startswith("skills-contractor-spend") and line.endswith("data_stale") for line in shown.output.splitlines()
    )


def test_a_declared_cadence_and_tolerance_override_the_inferred_ones(synced: tuple[Path, str]) -> None:
    config, url = synced
    register = yaml.safe_load((config / "portfolio.yaml").read_text())
    for initiative in register["initiatives"]:
        for benefit in initiative["benefits"]:
            if benefit["metric"] == SILENT:
                benefit["cadence_days"], benefit["stale_tolerance"] = 35, 2
    (config / "portfolio.yaml").write_text(yaml.safe_dump(register, sort_keys=False))
    assert CliRunner().invoke(main, ["--config", str(config), "--database", url, "init"]).exit_code == 0
    engine = create_engine(url)
    with Session(engine) as session:
        summary = metric_summaries(session, AS_OF, [SILENT])[0]
        assert summary.cadence_declared and summary.cadence_days == 35 and not summary.stale  # 8 weeks < 2 x 35 days
        assert stale_metrics(session, AS_OF) == []
    engine.dispose()
