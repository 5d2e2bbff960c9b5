"""Usage errors are one line, ``error: <what is wrong, naming the option>``, exit 2, never click's four lines
(usage, "Try --help", a blank line, the error) nor a traceback; options with a range refuse a value outside it
so, before the command runs (never a value silently changed: a port of 70000 listened on 4464)."""

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
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
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


@pytest.mark.parametrize("date", ["0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31"])
def test_an_action_due_date_outside_1900_to_2999_is_a_usage_error(date: str) -> None:
    """``action add --due`` took any date (0001-01-01, 9999-12-31); it has --as-of's bounds."""
    line = usage_error("action", "add", "b", "t", "--owner", "Ann", "--due", date)
    assert line == f"error: Invalid value for '--due': {date} is not between 1900-01-01 and 2999-12-31.\n"


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


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["status", "--frobnicate"], "error: No such option '--frobnicate'. Did you mean '--format'?"),
        (["--frobnicate", "status"], "error: No such option '--frobnicate'."),
        (["--database"], "error: Option '--database' requires an argument."),
        (["nosuch"], "error: No such command 'nosuch'."),
        (["db", "nosuch"], "error: No such command 'nosuch'."),
        (
            ["status", "--format", "xml"],
            "error: Invalid value for '--format': 'xml' is not one of 'table', 'json', 'csv'.",
        ),
        (
            ["status", "--as-of", "2025-02-30"],
            "error: Invalid value for '--as-of': '2025-02-30' does not match the format '%Y-%m-%d'.",
        ),
        (["claims", "import", "."], "error: Invalid value for 'CSV_FILE': File '.' is a directory."),
        (
            ["register", "import", "nothere.xlsx"],
            "error: Invalid value for 'FILE': File 'nothere.xlsx' does not exist.",
        ),
        (["report", "--out", "."], "error: Invalid value for '--out': File '.' is a directory."),
        (["users", "add"], "error: Missing argument 'NAME'."),
        (["backtest", "--origins", "0"], "error: Invalid value for '--origins': 0 is not in the range 1<=x<=12."),
        (
            ["risk", "add", "b", "t", "--likelihood", "6", "--impact", "1", "--mitigation", "m"],
            "error: Invalid value for '--likelihood': 6 is not in the range 1<=x<=5.",
        ),
        (
            ["action", "add", "b", "t", "--owner", "Ann", "--due", "2025-02-30"],
            "error: Invalid value for '--due': '2025-02-30' does not match the format '%Y-%m-%d'.",
        ),
        (["serve", "--users", "."], "error: Invalid value for '--users': File '.' is a directory."),
    ],
)
def test_a_usage_error_is_one_line_naming_the_option(args: list[str], line: str) -> None:
    assert usage_error(*args) == line + "\n"


def test_a_usage_error_raised_by_a_command_is_one_line_too() -> None:
    result = CliRunner().invoke(
        main, ["users", "add", "bob", "--role", "viewer", "--password-stdin", "--file", "users.yaml"], input="short\n"
    )
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "error: Invalid value for password: the password needs at least 8 characters\n"


@pytest.mark.parametrize("args", [[], ["db"]])
def test_a_group_without_its_command_still_prints_its_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, args, prog_name="benefits")
    assert result.exit_code == 2 and result.stderr.startswith("Usage: benefits")
    assert "Commands:" in result.stderr and "error:" not in result.stderr


@pytest.mark.parametrize("args", [["--help"], ["status", "--help"], ["value", "-h"]])
def test_help_is_unchanged(args: list[str]) -> None:
    result = CliRunner().invoke(main, args, prog_name="benefits")
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout.startswith("Usage: benefits") and "Options:" in result.stdout
