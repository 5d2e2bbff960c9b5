"""The forecast stage on a real store: runs kept with fingerprints, unchanged inputs reused, warm
starts, per-benefit failures, history for the dashboard, `status --changes`, and forecast.yaml."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from benefits import register
from benefits.cli import main
from benefits.errors import ConfigError
from benefits.forecast import ForecastSettings, forecast_benefit, load_settings
from benefits.forecast.backtest import stored_calibration
from benefits.forecast.runner import forecast_all
from benefits.status import changed, status_rows
from benefits.store import db, models, repository
from benefits.testing.synthetic import BASELINE, WEEK, SyntheticBenefit, generate, load_store

from .conftest import DEMO_CONFIG


def sessions_for(url: str) -> sessionmaker[Session]:
    return db.session_factory(db.make_engine(url))


def add_observations(url: str, item: SyntheticBenefit, values: list[float]) -> None:
    """Append weekly observations after the item's last one, as a new sync would."""
    last = item.observations["period"].iloc[-1]
    rows = [
        {"metric": item.benefit.metric, "period": last + (i + 1) * WEEK, "value": v, "unit": item.benefit.unit}
        for i, v in enumerate(values)
    ]
    with sessions_for(url).begin() as session:
        run = models.SyncRun(connector="synthetic", connector_type="bench", status="succeeded")
        session.add(run)
        session.flush()
        repository.load_observations(session, "synthetic", run.id, rows)


@pytest.fixture
def portfolio() -> list[SyntheticBenefit]:
    return generate(4, seed=3, weeks_observed=(30, 40), weeks_ahead=(20, 30))


def test_unchanged_inputs_are_reused_and_changed_ones_refit(
    database_url: str, portfolio: list[SyntheticBenefit]
) -> None:
    load_store(database_url, portfolio)
    sessions = sessions_for(database_url)
    as_of = max(item.as_of for item in portfolio)
    first = forecast_all(sessions, as_of, workers=1)
    assert (first.benefits, first.reused, first.failed) == (4, 0, 0)

    again = forecast_all(sessions, as_of + dt.timedelta(days=3), workers=1)  # no new observation
    assert (again.benefits, again.reused) == (4, 4)
    with sessions() as session:
        one, two = (
            repository.forecasts_of(session, session.get(models.ForecastRun, r)) for r in (first.run_id, again.run_id)
        )
        assert session.get(models.ForecastRun, again.run_id).reused_count == 4
    for key, row in one.items():
        assert two[key].reused and not row.reused
        assert (two[key].status, two[key].p_on_time, two[key].fingerprint, two[key].path) == (
            row.status,
            row.p_on_time,
            row.fingerprint,
            row.path,
        )
        assert len(row.fingerprint) == 64

    with sessions.begin() as session:
        kept = set(session.scalars(select(models.ForecastBacktest.fingerprint)).all())
        # a path no run uses any more (its benefit left the register): the next run drops it
        session.add(models.ForecastBacktest(benefit_key="gone", origin=as_of, fingerprint="0" * 64, noise=1.0, path=[]))
    assert kept  # the first run's backtest paths

    moved = portfolio[0]
    add_observations(database_url, moved, [float(moved.observations["value"].iloc[-1])])
    third = forecast_all(sessions, as_of + WEEK, workers=1)
    assert third.reused == 3
    with sessions() as session:
        now = set(session.scalars(select(models.ForecastBacktest.fingerprint)).all())
    assert "0" * 64 not in now
    assert len(kept & now) >= len(kept) - 3  # only the moved benefit's paths (3 origins at most) may be refitted
    with sessions() as session:
        rows = repository.forecasts_of(session, session.get(models.ForecastRun, third.run_id))
    refit = rows[moved.benefit.key]
    assert not refit.reused and refit.fingerprint != one[moved.benefit.key].fingerprint
    assert refit.points == one[moved.benefit.key].points + 1
    # the parameters of every fit are kept (the warm start of the next one, when switched on)
    params = one[moved.benefit.key].fit_params
    assert set(params) == {"k", "m", "sigma_obs", "delta", "beta"} and len(params["delta"]) == 25
    obs = pd.concat(
        [
            moved.observations,
            pd.DataFrame(
                {
                    "period": [moved.observations["period"].iloc[-1] + WEEK],
                    "value": [moved.observations["value"].iloc[-1]],
                }
            ),
        ]
    )
    with sessions() as session:  # the same forecast as one benefit alone, under the run's calibration
        direct = forecast_benefit(moved.benefit, BASELINE, obs, as_of + WEEK, calibration=stored_calibration(session))
    assert (refit.status, refit.p_on_time, refit.path) == (direct.status, direct.p_on_time, direct.path)


def test_a_run_on_unchanged_inputs_copies_the_latest_run_without_reading_observations(
    sqlite_url: str, portfolio: list[SyntheticBenefit], monkeypatch: pytest.MonkeyPatch
) -> None:
    load_store(sqlite_url, portfolio)
    sessions = sessions_for(sqlite_url)
    as_of = max(item.as_of for item in portfolio)
    first = forecast_all(sessions, as_of, workers=1)
    with monkeypatch.context() as patched:
        patched.setattr(repository, "observations_of", _never_called)
        seen: list[tuple[str, str]] = []
        again = forecast_all(sessions, as_of, workers=1, progress=lambda key, result: seen.append((key, result.status)))
    assert (again.benefits, again.reused, again.by_status, again.calibration) == (
        4,
        4,
        first.by_status,
        first.calibration,
    )
    with sessions() as session:
        one, two = (session.get(models.ForecastRun, r) for r in (first.run_id, again.run_id))
        assert sorted(seen) == sorted((key, row.status) for key, row in repository.forecasts_of(session, one).items())
        assert two.inputs == one.inputs and len(one.inputs or "") == 64
        copied = repository.forecasts_of(session, two)
        for key, row in repository.forecasts_of(session, one).items():
            assert copied[key].reused and (copied[key].path, copied[key].raw) == (row.path, row.raw)

    # another as-of date, other settings or a new observation: the run reads the store again
    for changed_run in (
        lambda: forecast_all(sessions, as_of + dt.timedelta(days=1), workers=1),
        lambda: forecast_all(sessions, as_of, ForecastSettings(on_track=0.75), workers=1),
    ):
        with monkeypatch.context() as patched, pytest.raises(AssertionError, match="read the observations"):
            patched.setattr(repository, "observations_of", _never_called)
            changed_run()
    add_observations(sqlite_url, portfolio[0], [float(portfolio[0].observations["value"].iloc[-1])])
    with monkeypatch.context() as patched, pytest.raises(AssertionError, match="read the observations"):
        patched.setattr(repository, "observations_of", _never_called)
        forecast_all(sessions, as_of, workers=1)


_IMPORTED_AFTER_A_RE_RUN = """
import sys
from benefits.cli import main
main.main(args=sys.argv[1:], standalone_mode=False)
heavy = ("pandas", "numpy", "great_expectations", "benefits.forecast.model", "benefits.forecast.runner")
print("imported:", ",".join(name for name in heavy if name in sys.modules) or "none")
"""


def test_a_forecast_re_run_on_unchanged_inputs_imports_neither_pandas_nor_the_model(
    sqlite_url: str, portfolio: list[SyntheticBenefit]
) -> None:
    load_store(sqlite_url, portfolio)
    as_of = max(item.as_of for item in portfolio)

    def forecast(on: dt.date) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", _IMPORTED_AFTER_A_RE_RUN, "--database", sqlite_url, "forecast"]
            + ["--as-of", on.isoformat(), "--workers", "1"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
        )
        return done.stdout.splitlines()

    first = forecast(as_of)
    assert "0 unchanged since the last run" in first[-2] and "benefits.forecast.model" in first[-1]
    again = forecast(as_of)
    assert "4 unchanged since the last run" in again[-2] and again[-1] == "imported: none"
    # a changed input (another as-of date) is forecast again, by the model
    assert "benefits.forecast.model" in forecast(as_of + dt.timedelta(days=7))[-1]


def _never_called(*args: object, **kwargs: object) -> None:
    raise AssertionError("the run read the observations")


def test_a_failure_on_one_benefit_is_recorded_and_the_others_go_on(sqlite_url: str) -> None:
    items = generate(3, seed=5, weeks_observed=(30, 30))
    short = dataclasses.replace(items[0], observations=items[0].observations.iloc[:1])  # one point
    load_store(sqlite_url, [short, *items[1:]])
    sessions = sessions_for(sqlite_url)
    # forced past the minimum, Prophet cannot fit one point: that benefit fails, the rest are forecast
    report = forecast_all(sessions, items[0].as_of, ForecastSettings(min_points=1), workers=2)
    assert (report.benefits, report.failed) == (3, 1)
    with sessions() as session:
        run = session.get(models.ForecastRun, report.run_id)
        rows = repository.forecasts_of(session, run)
        assert run.failed_count == 1
    failed = rows[short.benefit.key]
    assert failed.status == "failed" and failed.message == "forecast failed: Dataframe has less than 2 non-NaN rows."
    assert report.failed_benefits == (short.benefit.key,) and report.by_status["failed"] == 1
    assert all(rows[i.benefit.key].status in {"achieved", "on_track", "at_risk", "off_track"} for i in items[1:])
    # a failed forecast is not reused: the next run fits it again (and it fails again)
    again = forecast_all(sessions, items[0].as_of, ForecastSettings(min_points=1), workers=1)
    assert (again.reused, again.failed_benefits) == (2, (short.benefit.key,))


def test_forecast_command_exits_1_when_a_fit_fails_unless_allowed(tmp_path: Path, sqlite_url: str) -> None:
    items = generate(3, seed=5, weeks_observed=(30, 30))
    short = dataclasses.replace(items[0], observations=items[0].observations.iloc[-1:])  # one recent point
    load_store(sqlite_url, [short, *items[1:]])
    config = tmp_path / "config"
    config.mkdir()
    (config / "forecast.yaml").write_text("min_points: 1\n")  # so that the one point goes to Prophet, which refuses it
    args = ["--config", str(config), "--database", sqlite_url, "forecast", "--as-of", items[0].as_of.isoformat()]

    failing = CliRunner().invoke(main, [*args, "--workers", "2"])
    assert failing.exit_code == 1
    assert failing.stderr.splitlines() == [
        "error: 1 benefit failed to forecast (--allow-failures 0); `benefits status --format json` gives each reason"
    ]
    assert f"1 failed: {short.benefit.key}" in failing.stdout.splitlines()[-1]
    assert "Traceback" not in failing.output

    allowed = CliRunner().invoke(main, [*args, "--workers", "1", "--allow-failures", "1"])
    assert allowed.exit_code == 0, allowed.output
    assert allowed.stderr == "" and f"1 failed: {short.benefit.key}" in allowed.stdout
    rows = {
        row["benefit"]: row
        for row in json.loads(
            CliRunner().invoke(main, ["--database", sqlite_url, "status", "--format", "json", *args[-2:]]).stdout
        )
    }
    assert rows[short.benefit.key]["status"] == "failed"
    assert all(rows[i.benefit.key]["status"] in {"achieved", "on_track", "at_risk", "off_track"} for i in items[1:])
    with sessions_for(sqlite_url)() as session:
        stored = repository.forecasts_of(session, repository.forecast_runs(session, limit=1)[0])
    assert stored[short.benefit.key].message == "forecast failed: Dataframe has less than 2 non-NaN rows."


def test_history_and_status_changes(sqlite_url: str) -> None:
    # a flow well ahead of plan: 300k in 30 weeks towards 500k at week 70
    rng = np.random.default_rng(0)
    benefit = register.Benefit(
        key="flow",
        name="A flow",
        category="cost_reduction",
        metric="ledger.flow",
        unit="GBP",
        direction="increase",
        measure="cumulative",
        owner="PMO",
        baseline={"value": 0, "date": BASELINE},
        target={"value": 500_000, "date": BASELINE + 70 * WEEK},
    )
    periods = [BASELINE + (i + 1) * WEEK for i in range(30)]
    observations = pd.DataFrame({"period": periods, "value": 10_000 + rng.normal(0, 500, 30)})
    item = SyntheticBenefit(benefit, "early", observations, observations, periods[-1], True)
    load_store(sqlite_url, [item])
    sessions = sessions_for(sqlite_url)
    first = forecast_all(sessions, item.as_of, workers=1)
    assert first.by_status == {"on_track": 1}

    def status_json(*extra: str) -> list[dict]:
        result = CliRunner().invoke(main, ["--database", sqlite_url, "status", "--format", "json", *extra])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert status_json("--changes") == []  # a single run: nothing to compare with
    # then nothing comes in for 30 weeks: 200k still to go in the last 10
    add_observations(sqlite_url, item, [0.0] * 30)
    later = item.as_of + 30 * WEEK
    second = forecast_all(sessions, later, workers=1)
    assert second.by_status == {"off_track": 1}

    rows = status_json("--changes", "--as-of", later.isoformat())
    assert [(r["benefit"], r["previous_status"], r["status"]) for r in rows] == [("flow", "on_track", "off_track")]
    table = CliRunner().invoke(main, ["--database", sqlite_url, "status", "--changes", "--as-of", later.isoformat()])
    header, line = table.stdout.splitlines()
    assert header.split()[-2:] == ["WAS", "STATUS"] and line.split()[-2:] == ["on_track", "off_track"]
    with sessions() as session:
        assert [r.benefit for r in changed(status_rows(session, later))] == ["flow"]
        history = repository.forecast_history(session)
    assert list(history) == ["flow"]
    assert [(p.as_of, p.status) for p in history["flow"]] == [(item.as_of, "on_track"), (later, "off_track")]
    assert history["flow"][0].p_on_time > 0.7 and history["flow"][1].p_on_time < 0.1

    # a re-run of the same date replaces that date's point and still compares with the earlier date
    third = forecast_all(sessions, later, workers=1)
    assert third.reused == 1
    with sessions() as session:
        points = repository.forecast_history(session, "flow")["flow"]
    assert [p.run_id for p in points] == [first.run_id, third.run_id] and points[1].reused
    assert [r["benefit"] for r in status_json("--changes", "--as-of", later.isoformat())] == ["flow"]


def test_thresholds_come_from_forecast_yaml(tmp_path: Path) -> None:
    assert load_settings(tmp_path) == ForecastSettings()
    (tmp_path / "forecast.yaml").write_text(yaml.safe_dump({"on_track": 0.8, "at_risk": 0.5, "min_points": 12}))
    settings = load_settings(tmp_path)
    assert (settings.on_track, settings.at_risk, settings.min_points) == (0.8, 0.5, 12)
    (tmp_path / "forecast.yaml").write_text("on_track: 0.3\nat_risk: 0.5\n")
    with pytest.raises(ConfigError, match=r"forecast\.yaml: \(top level\): at_risk must not be above on_track"):
        load_settings(tmp_path)
    (tmp_path / "forecast.yaml").write_text("min_point: 3\n")
    with pytest.raises(ConfigError, match=r"forecast\.yaml: min_point: extra inputs are not permitted"):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("on_track: .nan", "on_track: input should be a finite number"),
        ("damping_weeks: .inf", "damping_weeks: input should be a finite number"),
        ("interval: -.inf", "interval: input should be a finite number"),
        ("changepoint_prior_scale: 1e400", "changepoint_prior_scale: input should be a finite number"),
        ("changepoint_prior_scale: 1e300", "changepoint_prior_scale: must have at most 16 digits before the decimal"),
        ("unit_ranges: {'%': {min: .nan}}", "unit_ranges.%.min: input should be a finite number"),
        ("margin_weeks: 99999999999999", "margin_weeks: input should be less than or equal to 520"),
        ("history_weeks: 99999999999999", "history_weeks: input should be less than or equal to 5200"),
    ],
)
def test_a_number_of_forecast_yaml_that_cannot_be_used_is_named_in_one_line(
    tmp_path: Path, line: str, problem: str
) -> None:
    """.nan, .inf and absurdly large numbers failed forecasts (or the run, with a traceback) instead of the check."""
    (tmp_path / "forecast.yaml").write_text(line + "\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / 'forecast.yaml'}: {problem}")
    assert "\n" not in str(raised.value)


def test_value_ranges_come_from_validation_yaml_and_forecast_yaml_may_override_them(tmp_path: Path) -> None:
    (tmp_path / "validation.yaml").write_text(
        yaml.safe_dump({"bounds": {"units": {"%": {"min": 0, "max": 100}}, "metrics": {"ops.queue": {"min": 0}}}})
    )
    settings = load_settings(tmp_path)
    assert settings.unit_ranges["%"].model_dump() == {"min": 0, "max": 100}
    assert settings.metric_ranges["ops.queue"].model_dump() == {"min": 0, "max": None}
    (tmp_path / "forecast.yaml").write_text("unit_ranges: {'%': {min: 0, max: 120}}\n")
    assert load_settings(tmp_path).unit_ranges["%"].max == 120
    (tmp_path / "validation.yaml").write_text("bounds: {units: {'%': {min: 100, max: 0}}}\n")
    with pytest.raises(ConfigError, match=r"validation\.yaml: bounds\.units\.%: min 100 is above max 0"):
        load_settings(tmp_path)


def test_the_demo_configuration_keeps_percentages_within_0_and_100() -> None:
    assert load_settings(DEMO_CONFIG).unit_ranges["%"].model_dump() == {"min": 0, "max": 100}


def test_a_killed_forecast_leaves_no_worker_behind(tmp_path: Path) -> None:
    """SIGKILL to `benefits forecast` while its pool fits: the kernel ends every worker too, and no forecast run is
    left unfinished (a run is stored whole when it ends)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    url = f"sqlite:///{tmp_path / 'benefits.db'}"
    items = generate(60, seed=8, weeks_observed=(150, 156))
    load_store(url, items)
    command = [
        sys.executable,
        "-c",
        "from benefits.cli import main; main()",
        "--database",
        url,
        "forecast",
        "--as-of",
        max(item.as_of for item in items).isoformat(),
        "--workers",
        "2",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "GX_ANALYTICS_ENABLED": "false"},
    )
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + 120
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and len(workers) < 2 and process.poll() is None:
        workers = parent.children(recursive=True)
        time.sleep(0.05)
    assert len(workers) >= 2, "the forecast finished before its workers could be seen"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []
    engine = db.make_engine(url)
    with db.session_factory(engine)() as session:
        assert session.scalars(select(models.ForecastRun)).all() == []
    engine.dispose()


def test_a_portfolio_of_odd_flows_is_forecast_and_backtested() -> None:
    """Sixteen odd flows (payments at random, every 13 weeks, a one-off, a late start; weekly,
    fortnightly and monthly readings): the run forecasts and backtests them all. Whole payments
    can put every sampled path at the median on one side, which divided by zero when the run
    scored its backtests' on-plan events and stopped the whole run (this portfolio did)."""
    from benefits.testing.calibration import forecast_set
    from benefits.testing.generators import DEFAULT_AS_OF, Item

    rng = np.random.default_rng(11)
    items = []
    for i in range(16):
        gap = int(rng.choice([7, 7, 30, 14]))
        n = int(rng.integers(20, 150))
        periods = [DEFAULT_AS_OF - dt.timedelta(days=gap * (n - k)) for k in range(n + 60)]
        flows = 10 ** rng.uniform(2, 5) * (1 + 0.3 * rng.normal(size=len(periods)))
        if i % 4 == 0:
            flows[rng.random(len(flows)) < 0.8] = 0.0  # payments at random
        if i % 4 == 1:
            flows[np.arange(len(flows)) % 13 != 5] = 0.0  # every 13 readings
        if i % 4 == 2:
            flows[rng.integers(n)] *= 50  # a one-off
        if i % 4 == 3:
            flows[: int(n * 0.8)] = 0.0  # a late start
        baseline = periods[max(0, n - 40)]
        due = float(np.abs(flows[periods.index(baseline) :]).sum() * rng.uniform(0.5, 1.5)) + 1
        benefit = register.Benefit(
            key=f"odd-{i:02d}",
            name=f"Odd flow {i}",
            category="revenue",
            metric=f"odd.flow_{i}",
            unit="GBP",
            direction="increase",
            measure="cumulative",
            owner="Finance",
            baseline={"value": 0, "date": baseline},
            target={"value": due, "date": periods[n + 30]},
        )
        frame = pd.DataFrame({"period": periods, "value": flows})
        known = frame[frame["period"] <= DEFAULT_AS_OF].reset_index(drop=True)
        items.append(Item(benefit, "odd", str(i % 4), known, frame, DEFAULT_AS_OF, landed=False))
    stored, _, bands = forecast_set(items, DEFAULT_AS_OF, ForecastSettings(), workers=1)
    assert len(stored) == 16 and sum(points for points, _ in bands) > 0
    assert all(s["status"] in {"on_track", "at_risk", "off_track", "achieved"} for s in stored.values())
    assert any("read as payments" in s["message"] for s in stored.values())
