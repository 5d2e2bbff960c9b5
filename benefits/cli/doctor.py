"""`benefits doctor`: check the database and say how to recover from each problem found."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import click

from benefits.cli.main import main, workspace


@main.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: a line per check; json: a list, one object per check (check, outcome, found, fix).",
)
@click.option("--quick", is_flag=True, help="SQLite: PRAGMA quick_check instead of the slower integrity_check.")
@click.option(
    "--repair", is_flag=True, help="Mark sync runs left running by a stopped process abandoned (nothing else changes)."
)
@click.pass_context
def doctor(ctx: click.Context, fmt: str, quick: bool, repair: bool) -> None:
    """Check the database: damaged pages and foreign keys (SQLite), reachable (PostgreSQL), migrations, runs left
    running by a stopped process, the quarantine backlog and the append-only triggers of finance decisions.

    Prints ok, warn or fail per check and, for each problem, the command or step that recovers.
    Only reads, except with --repair. Exits 1 when a check failed, 0 otherwise (warnings included).
    """
    from benefits.doctor import examine

    findings = examine(workspace(ctx).database_url, quick=quick, repair=repair)
    if fmt == "json":
        click.echo(json.dumps([asdict(f) for f in findings], indent=2))
    else:
        width = max(len(f.check) for f in findings)
        for f in findings:
            click.echo(f"{f.outcome:<4}  {f.check:<{width}}  {f.found}" + (f"; to recover: {f.fix}" if f.fix else ""))
    if any(f.outcome == "fail" for f in findings):
        sys.exit(1)
