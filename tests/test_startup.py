"""`benefits --help` and `benefits status` stay quick: they import no validation, forecasting or dashboard
libraries (and status not even pandas, numpy, Alembic or YAML). Module-presence checks in a fresh process,
not timings (bench/startup.py measures them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from benefits.cli import main
from benefits.store.migrate import head_revision
from benefits.store.revisions import script_head

HEAVY = ("great_expectations", "prophet", "dash", "plotly", "cmdstanpy", "scipy")
PROBE = """
import json, sys
from benefits.cli import main
try:
    main({args!r})
except SystemExit as exit:
    code = exit.code
else:
    code = 0
print(json.dumps({{"code": code, "modules": sorted(sys.modules)}}), file=sys.stderr)
"""


def loaded_after(*args: str, env: dict[str, str]) -> tuple[int, set[str]]:
    """The exit code and the top-level modules imported by running ``benefits ARGS`` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=list(args))], env=env, capture_output=True, text=True, timeout=120
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], {name.split(".")[0] for name in report["modules"]}


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A demo workspace with the register loaded and the demo's observations synced (no forecast needed)."""
    folder = tmp_path_factory.mktemp("startup")
    env = {
        **os.environ,
        "BENEFITS_CONFIG": str(folder / "config"),
        "GX_ANALYTICS_ENABLED": "false",
        "BENEFITS_DATABASE_URL": f"sqlite:///{folder / 'benefits.db'}",
    }
    runner = CliRunner(env=env)
    assert runner.invoke(main, ["init", "--demo"]).exit_code == 0
    assert runner.invoke(main, ["sync", "--as-of", "2026-11-23"]).exit_code == 0
    return env


def test_help_imports_nothing_heavy(demo_database: dict[str, str]) -> None:
    code, modules = loaded_after("--help", env=demo_database)
    assert code == 0
    unwanted = {*HEAVY, "pandas", "numpy", "alembic", "sqlalchemy", "pydantic", "yaml"}
    assert not modules & unwanted, modules & unwanted


def test_status_imports_no_validation_forecast_dashboard_pandas_or_alembic(demo_database: dict[str, str]) -> None:
    code, modules = loaded_after("status", "--format", "json", "--as-of", "2026-11-23", env=demo_database)
    assert code == 0
    assert "sqlalchemy" in modules and "benefits" in modules  # it did run the status path
    unwanted = {*HEAVY, "pandas", "numpy", "alembic", "yaml"}
    assert not modules & unwanted, modules & unwanted


def test_the_quick_revision_check_agrees_with_alembic() -> None:
    assert script_head() == head_revision()
