"""The weekly job end to end through the CLI, on a SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from benefits.cli import main
from benefits.forecast.stan import MODEL_ENV
from benefits.store import db, models, repository

AS_OF = "2026-11-23"
CONTRACT_FIELDS = {
    "benefit",
    "initiative",
    "category",
    "unit",
    "target",
    "target_date",
    "planned_to_date",
    "realised_to_date",
    "forecast_at_target_date",
    "p_on_time",
    "expected_landing",
    "status",
}


def cli(config: Path, url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", str(config), "--database", url, *args])
    assert result.exit_code == 0, f"benefits {' '.join(args)} failed: {result.output}{result.stderr}"
    return result.stdout


def test_demo_weekly_job_end_to_end(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "demo-config"
    out = cli(config, database_url, "init", "--demo")
    assert f"demo configuration copied to {config}/" in out
    assert (config / "portfolio.yaml").exists() and (config / "connectors.yaml").exists()

    out = cli(config, database_url, "run", "--as-of", AS_OF, "--workers", "2")
    assert "sync demo:" in out and "forecast run 1: 30 benefits" in out
    # the run first backtests the portfolio, then says how far its calibrated intervals held
    assert re.search(r"^backtesting \d+ past forecasts to calibrate this run$", out, re.M)
    trust = r"^forecast trust: 80% intervals held (\d+)% of ([\d,]+) backtested outcomes of (\d+) benefits"
    held = re.search(trust, out, re.M)
    assert held and 70 <= int(held[1]) <= 95 and int(held[3]) >= 25
    rows_80 = [
        r
        for r in json.loads(cli(config, database_url, "status", "--format", "json", "--as-of", AS_OF))
        if r["forecast_low_80"] is not None
    ]
    assert rows_80
    assert all(r["forecast_low_80"] <= r["forecast_at_target_date"] <= r["forecast_high_80"] for r in rows_80)

    rows = json.loads(cli(config, database_url, "status", "--format", "json", "--as-of", AS_OF))
    assert len(rows) == 30
    # the run's line for each benefit leads with the status `status` gives it
    printed = dict(re.findall(r"^forecast +\d+: (\S+): (\S+)", out, re.M))
    assert printed == {r["benefit"]: r["status"] for r in rows}
    assert re.search(r"^forecast +\d+: skills-contractor-spend: data_stale \(forecast \w+\)$", out, re.M)
    assert "; 1 data_stale: metric stopped reporting)" in out
    assert CONTRACT_FIELDS <= set(rows[0])
    statuses = {r["status"] for r in rows}
    assert statuses == {"achieved", "on_track", "at_risk", "off_track", "data_stale"}
    for row in rows:
        if row["status"] in {"on_track", "at_risk", "off_track"}:
            assert 0.0 <= row["p_on_time"] <= 1.0
            assert row["forecast_at_target_date"] is not None

    table = cli(config, database_url, "status", "--as-of", AS_OF)
    assert table.splitlines()[0].split()[:3] == ["BENEFIT", "INITIATIVE", "CATEGORY"]
    assert len(table.splitlines()) == 31
    csv_lines = cli(config, database_url, "status", "--format", "csv", "--as-of", AS_OF).splitlines()
    assert csv_lines[0].startswith("benefit,name,initiative") and len(csv_lines) == 31


def test_sync_loses_nothing_and_rerun_changes_nothing(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "config"
    cli(config, database_url, "init", "--demo")
    cli(config, database_url, "sync", "--as-of", AS_OF)
    engine = db.make_engine(database_url)
    sessions = db.session_factory(engine)
    with sessions() as session:
        run = session.scalars(select(models.SyncRun)).one()
        stored = session.scalar(select(func.count()).select_from(models.Observation))
        quarantined = session.scalars(select(models.QuarantinedRow)).all()
    assert run.status == "succeeded"
    assert run.rows_read == run.rows_accepted + run.rows_quarantined
    assert run.rows_quarantined == len(quarantined) >= 5
    assert stored == run.rows_accepted
    reasons = " | ".join(r for q in quarantined for r in q.reasons)
    for expected in ("value", "period", "future", "duplicate"):
        assert expected in reasons
    assert any(q.record.get("value") == "n/a" for q in quarantined)

    again = cli(config, database_url, "sync", "--as-of", AS_OF)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Observation)) == stored
        assert session.scalar(select(func.count()).select_from(models.SyncRun)) == 2
    # the re-sent rows are counted as unchanged, none as new or restated
    assert f"{run.rows_accepted:,} accepted (0 new, 0 restated, {run.rows_accepted:,} unchanged," in again
    engine.dispose()


def test_commands_before_init_say_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--database", f"sqlite:///{tmp_path}/none.db", "status"])
    assert result.exit_code == 2 and not (tmp_path / "none.db").exists()  # no file made (tests/test_faults.py)
    assert result.stderr == (
        f"error: no SQLite database at {tmp_path}/none.db: create it with `benefits init` (or `benefits run`), "
        "or check the path in --database or BENEFITS_DATABASE_URL\n"
    )
    (tmp_path / "empty.db").touch()  # a file without the schema
    result = CliRunner().invoke(main, ["--database", f"sqlite:///{tmp_path}/empty.db", "status"])
    assert result.exit_code == 1
    assert result.stderr.strip().endswith("is not initialised: run `benefits init` first")


def test_unknown_connector_type_names_file_and_field(tmp_path: Path, demo_config: Path) -> None:
    (demo_config / "connectors.yaml").write_text("connectors:\n  - {name: x, type: nosuch}\n")
    url = f"sqlite:///{tmp_path}/b.db"
    cli(demo_config, url, "init")
    result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "sync"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"error: {demo_config}/connectors.yaml: connectors[0].type: unknown connector type 'nosuch' (installed: "
    )
    assert "demo" in result.stderr and result.stderr.count("\n") == 1


def test_a_connector_failure_is_one_line_on_stderr_and_the_others_still_sync(tmp_path: Path, demo_config: Path) -> None:
    missing = tmp_path / "exports" / "*.csv"
    (demo_config / "connectors.yaml").write_text(
        f"connectors:\n  - {{name: kpi, type: csv, settings: {{path: '{missing}'}}}}\n  - {{name: demo, type: demo}}\n"
    )
    url = f"sqlite:///{tmp_path}/b.db"
    cli(demo_config, url, "init")
    result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "sync", "--as-of", AS_OF])
    assert result.exit_code == 1
    assert result.stderr == f"sync kpi: failed: no file matches {missing}\n"
    assert "kpi" not in result.stdout and "sync demo:" in result.stdout
    engine = db.make_engine(url)
    with db.session_factory(engine)() as session:
        failed = session.scalars(select(models.SyncRun).where(models.SyncRun.connector == "kpi")).one()
        assert failed.error == f"no file matches {missing}"  # stored without the exception's class name
    engine.dispose()


@pytest.mark.parametrize(
    ("connector", "expected"),
    [
        ("{name: demo, type: demo, timeout: .inf}", "connectors[0].timeout: input should be a finite number"),
        ("{name: demo, type: demo, timeout: .nan}", "connectors[0].timeout: input should be a finite number"),
        (
            "{name: demo, type: demo, timeout: 1e12}",
            "connectors[0].timeout: input should be less than or equal to 86400",
        ),
        ("{name: demo, type: demo, timeout: 0}", "connectors[0].timeout: input should be greater than 0"),
        (
            "{name: api, type: http, settings: {url: 'http://127.0.0.1:1/x', metric: m, unit: u, timeout: .inf}}",
            "connectors[0].settings.timeout: input should be a finite number",
        ),
        (
            "{name: api, type: http, settings: {url: 'http://127.0.0.1:1/x', metric: m, unit: u, timeout: 1e12}}",
            "connectors[0].settings.timeout: input should be less than or equal to 86400",
        ),
        (
            "{name: api, type: http, settings: {url: 'http://127.0.0.1:1/x', metric: m, unit: u, backoff: .nan}}",
            "connectors[0].settings.backoff: input should be a finite number",
        ),
    ],
)
def test_a_timeout_that_cannot_be_waited_for_is_refused_with_the_settings_not_by_the_sync(
    tmp_path: Path, demo_config: Path, connector: str, expected: str
) -> None:
    (demo_config / "connectors.yaml").write_text(f"connectors:\n  - {connector}\n")
    url = f"sqlite:///{tmp_path}/b.db"
    cli(demo_config, url, "init")
    result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "sync"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {demo_config}/connectors.yaml: {expected}\n"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ("{seed: many}", "connectors[0].settings.seed: input should be a valid integer"),
        ("{colour: red}", "connectors[0].settings.colour: extra inputs are not permitted"),
    ],
)
def test_bad_connector_settings_are_caught_before_anything_runs(
    tmp_path: Path, demo_config: Path, settings: str, expected: str
) -> None:
    (demo_config / "connectors.yaml").write_text(f"connectors:\n  - {{name: demo, type: demo, settings: {settings}}}\n")
    url = f"sqlite:///{tmp_path}/b.db"
    cli(demo_config, url, "init")
    result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "sync"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {demo_config}/connectors.yaml: {expected}")
    engine = db.make_engine(url)
    with db.session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(models.SyncRun)) == 0
    engine.dispose()


@pytest.mark.slow  # the demo's 30 fits each fail after CmdStan's start-up; test_forecast_runner covers the exit code
def test_a_broken_stan_model_fails_each_fit_and_the_weekly_job_exits_1(tmp_path: Path, sqlite_url: str) -> None:
    """CmdStan itself fails (BENEFITS_STAN_MODEL names an executable that cannot run): every benefit
    that needs a fit is stored as failed with Stan's reason, the others keep their verdicts, and
    `run` exits 1 with one line; with the model back, the failed benefits are fitted again."""
    config = tmp_path / "config"
    cli(config, sqlite_url, "init", "--demo")
    broken = tmp_path / "prophet_model.bin"
    broken.write_text(
        "#!/bin/sh\necho 'error while loading shared libraries: libtbb.so.12: cannot open shared "
        "object file: No such file or directory' >&2\nexit 127\n"
    )
    broken.chmod(0o755)

    def benefits(*args: str, stan_model: Path | None = None) -> subprocess.CompletedProcess[str]:
        env = {key: value for key, value in os.environ.items() if key != MODEL_ENV}
        env.update({MODEL_ENV: str(stan_model)} if stan_model else {})
        return subprocess.run(
            [
                sys.executable,
                "-c",
                "from benefits.cli import main; main()",
                "--config",
                str(config),
                "--database",
                sqlite_url,
                *args,
                "--as-of",
                AS_OF,
                "--workers",
                "2",
            ],
            cwd=Path(__file__).resolve().parents[1],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    failing = benefits("run", stan_model=broken)
    sessions = db.session_factory(db.make_engine(sqlite_url))
    with sessions() as session:
        stored = repository.forecasts_of(session, repository.forecast_runs(session, limit=1)[0])
    failed = sorted(key for key, row in stored.items() if row.status == "failed")
    assert 5 <= len(failed) < len(stored) == 30
    reason = (
        "forecast failed: Stan optimisation failed: error while loading shared libraries: libtbb.so.12: "
        "cannot open shared object file: No such file or directory"
    )
    assert {stored[key].message for key in failed} == {reason}
    assert {row.status for key, row in stored.items() if key not in failed} <= {  # verdicts that need no fit
        "achieved",
        "on_track",
        "off_track",
        "insufficient_data",
        "no_data",
    }
    assert failing.returncode == 1
    assert failing.stderr.splitlines() == [
        f"error: {len(failed)} benefits failed to forecast (--allow-failures 0); "
        "`benefits status --format json` gives each reason"
    ]
    more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
    assert f"{len(failed)} failed: {', '.join(failed[:10])}{more}\n" in failing.stdout
    assert "Traceback" not in failing.stdout + failing.stderr

    tolerated = benefits("forecast", "--allow-failures", str(len(failed)), stan_model=broken)
    assert (tolerated.returncode, tolerated.stderr) == (0, ""), tolerated.stderr
    # the failed benefits are fitted again (and fail again); the others are reused
    assert f"{len(stored) - len(failed)} unchanged since the last run, {len(failed)} failed: " in tolerated.stdout
    again = benefits("forecast", "--allow-failures", str(len(failed) - 1), stan_model=broken)
    assert again.returncode == 1 and len(again.stderr.splitlines()) == 1

    mended = benefits("forecast")
    assert (mended.returncode, mended.stderr) == (0, ""), mended.stderr
    assert f"{len(stored) - len(failed)} unchanged since the last run, 0 failed" in mended.stdout


def test_init_demo_in_the_demo_folder_itself_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The config folder is the demo's own folder and its portfolio.yaml was deleted: nothing is
    copied onto itself, and init says in one line what is missing."""
    import benefits.workspace

    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "connectors.yaml").write_text("connectors: []\n")
    monkeypatch.setattr(benefits.workspace, "demo_config_dir", lambda: demo)
    result = CliRunner().invoke(
        main, ["--config", str(demo), "--database", f"sqlite:///{tmp_path / 'b.db'}", "init", "--demo"]
    )
    assert result.exit_code != 0
    assert "Traceback" not in result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "portfolio.yaml" in result.stderr


def test_a_connector_name_over_the_limit_is_refused_in_one_line(tmp_path: Path, demo_config: Path) -> None:
    url = f"sqlite:///{tmp_path}/b.db"
    cli(demo_config, url, "init")
    longest = "d" * 100
    (demo_config / "connectors.yaml").write_text(f"connectors:\n  - {{name: {longest}, type: demo}}\n")
    synced = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "sync", "--as-of", AS_OF])
    assert synced.exit_code == 0, synced.output
    assert f"sync {longest}:" in synced.stdout
    (demo_config / "connectors.yaml").write_text(f"connectors:\n  - {{name: {'a' * 300}, type: demo}}\n")
    result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", url, "sync"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {demo_config}/connectors.yaml: connectors[0].name: a connector name has at most 100 characters, "
        f"not 300 ({'a' * 20}...): its sync runs are stored under it\n"
    )
