"""Options with a range refuse a value outside it as a usage error (exit 2) naming the option, before the
command runs: never a traceback, nor a value silently changed (a port of 70000 listened on 4464)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from benefits.cli import main


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty folder: a command that wrongly ran would find no configuration nor database to change."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BENEFITS_CONFIG", raising=False)
    monkeypatch.delenv("BENEFITS_DATABASE_URL", raising=False)


def usage_error(*args: str) -> str:
    """stderr of ``benefits ARGS``, which must end in a usage error (exit 2) with nothing on stdout."""
    result = CliRunner().invoke(main, list(args))
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.stderr


@pytest.mark.parametrize("port", ["70000", "65536", "0", "-5"])
def test_serve_refuses_a_port_outside_1_to_65535(port: str) -> None:
    assert f"Invalid value for '--port': {port} is not in the range 1<=x<=65535." in usage_error(
        "serve", "--port", port
    )


AS_OF_COMMANDS = [
    ["status"],
    ["metrics"],
    ["value"],
    ["forecast", "--workers", "1"],
    ["backtest"],
    ["report", "--out", "pack.html"],
    ["digest", "--dry-run"],
    ["sync"],
    ["run"],
    ["action", "list"],
    ["quarantine", "retry", "--all"],
]


@pytest.mark.parametrize("command", AS_OF_COMMANDS, ids=lambda c: " ".join(c))
@pytest.mark.parametrize("date", ["0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31"])
def test_an_as_of_date_outside_1900_to_2999_is_a_usage_error(command: list[str], date: str) -> None:
    stderr = usage_error(*command, "--as-of", date)
    assert f"Invalid value for '--as-of': {date} is not between 1900-01-01 and 2999-12-31." in stderr


@pytest.mark.parametrize("year", ["0", "1900", "3000", "99999", "-1"])
def test_value_refuses_a_fiscal_year_outside_1901_to_2999(year: str) -> None:
    assert f"Invalid value for '--fy': {year} is not in the range 1901<=x<=2999." in usage_error("value", "--fy", year)


@pytest.mark.parametrize("rho", ["nan", "NaN", "-nan"])
def test_value_refuses_a_correlation_that_is_not_a_number(rho: str) -> None:
    assert f"Invalid value for '--correlation': '{rho}' is not a finite number." in usage_error(
        "value", "--correlation", rho
    )


@pytest.mark.parametrize("rho", ["inf", "2", "-0.1"])
def test_value_refuses_a_correlation_outside_0_to_1(rho: str) -> None:
    assert "Invalid value for '--correlation': " in usage_error("value", "--correlation", rho)
