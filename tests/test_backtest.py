"""`benefits backtest`: each stored benefit forecast from past origins and compared with what came after."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benefits.cli import main
from benefits.forecast.backtest import backtest_portfolio
from benefits.store.db import make_engine, session_factory

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The demo portfolio synced (not forecast) into a SQLite file."""
    from .conftest import DEMO_CONFIG

    folder = tmp_path_factory.mktemp("backtest")
    config = folder / "config"
    config.mkdir()
    for source in DEMO_CONFIG.glob("*.yaml"):
        (config / source.name).write_text(source.read_text())
    database = f"sqlite:///{folder / 'benefits.db'}"
    for args in (["init"], ["sync", "--as-of", AS_OF.isoformat()]):
        result = CliRunner().invoke(main, ["--config", str(config), "--database", database, *args])
        assert result.exit_code == 0, result.output
    return config, database


def run(store: tuple[Path, str], *args: str) -> object:
    config, database = store
    return CliRunner().invoke(main, ["--config", str(config), "--database", database, *args])


def test_backtest_lists_coverage_and_error_per_benefit(demo_store: tuple[Path, str]) -> None:
    result = run(demo_store, "backtest", "--format", "json", "--as-of", AS_OF.isoformat())
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 30 and rows[0]["benefit"] == "crm-upsell-revenue"
    fitted = [r for r in rows if r["points"]]
    assert len(fitted) >= 25  # a few benefits start late or are decided without a fit
    assert all(0.0 <= r["coverage"] <= 1.0 and r["error"] >= 0 and 1 <= r["origins"] <= 4 for r in fitted)
    assert all(0.0 <= r["raw_coverage"] <= 1.0 for r in fitted)
    assert all(r["coverage"] is None and r["error"] is None for r in rows if not r["points"])
    assert "backtest 30/30: hr-case-hours" in result.stderr  # progress goes to stderr, not into the JSON


def test_backtest_of_one_benefit_matches_the_library(demo_store: tuple[Path, str]) -> None:
    result = run(
        demo_store,
        "backtest",
        "--benefit",
        "crm-win-rate",
        "--origins",
        "2",
        "--format",
        "json",
        "--as-of",
        AS_OF.isoformat(),
    )
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    engine = make_engine(demo_store[1])
    with session_factory(engine)() as session:
        [(key, expected)] = list(backtest_portfolio(session, AS_OF, keys=["crm-win-rate"], origins=2))
    engine.dispose()
    # two quarter-start origins (2026-10-01 and 2026-07-01), each compared with every later week
    assert key == "crm-win-rate" and row["points"] == len(expected.points) > 13
    assert {p.origin for p in expected.points} == {dt.date(2026, 10, 1), dt.date(2026, 7, 1)}
    assert row["coverage"] == round(expected.coverage, 3)
    assert row["raw_coverage"] == round(sum(p.lower <= p.actual <= p.upper for p in expected.points) / row["points"], 3)
    assert row["origins"] == 2


def test_an_unknown_benefit_is_one_line_and_exit_2(demo_store: tuple[Path, str]) -> None:
    result = run(demo_store, "backtest", "--benefit", "no-such-benefit")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: no benefit 'no-such-benefit' in the register (`benefits status` lists them)"


def test_a_calibration_learned_by_another_method_version_is_not_applied(tmp_path: Path) -> None:
    """A store upgraded from method 7 (errors not oriented) is calibrated by the prior until the
    next forecast run, never with errors read the other way round."""
    from benefits.forecast import conformal
    from benefits.forecast.backtest import stored_calibration
    from benefits.forecast.settings import METHOD_VERSION
    from benefits.store import models

    database = f"sqlite:///{tmp_path / 'benefits.db'}"
    assert CliRunner().invoke(main, ["--database", database, "init"]).exit_code == 0
    learned = conformal.calibrate([("level", 30.0, r, 400.0, 7.0) for r in [0.5] * 100])
    sessions = session_factory(make_engine(database))
    with sessions() as session:
        assert stored_calibration(session) is conformal.PRIOR  # no run yet
        for method in ("7", METHOD_VERSION):
            session.add(
                models.ForecastRun(
                    as_of=AS_OF,
                    finished_at=dt.datetime.now(dt.UTC),
                    calibration={"method": method, "calibration": learned.to_json()},
                )
            )
            session.commit()
            found = stored_calibration(session)
            assert (found is conformal.PRIOR) == (method != METHOD_VERSION)
        assert found.band("level", 30).errors == 100
