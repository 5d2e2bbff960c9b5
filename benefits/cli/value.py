"""`benefits value`: the business case as finance reads it, per initiative and for the portfolio."""

from __future__ import annotations

import datetime as dt

import click

from benefits.cli.main import (
    EARLIEST_DATE,
    LATEST_DATE,
    FiniteFloatRange,
    as_of_date,
    as_of_option,
    main,
    workspace,
)
from benefits.cli.render import format_option
from benefits.value import DEFAULT_CORRELATION, DEFAULT_SAMPLES


@main.command()
@click.option(
    "--fy",
    "year",
    type=click.IntRange(EARLIEST_DATE.year + 1, LATEST_DATE.year),
    metavar="YEAR",
    default=None,
    help=f"Only this fiscal year, named by the year it ends in ({EARLIEST_DATE.year + 1} to {LATEST_DATE.year}).",
)
@click.option(
    "--correlation",
    type=FiniteFloatRange(0.0, 1.0),
    default=DEFAULT_CORRELATION,
    show_default=True,
    help="Correlation between metrics in the P10-P90 roll-up (0 independent, 1 comonotone).",
)
@as_of_option
@format_option
@click.pass_context
def value(ctx: click.Context, year: int | None, correlation: float, as_of: dt.datetime | None, fmt: str) -> None:
    """Cash banked to date and annual run-rate, investment, net benefit, NPV, benefit/cost ratio and
    payback (planned and forecast) per initiative and for the portfolio, values per fiscal year, and
    P10/P50/P90 of the portfolio's cash by each fiscal year's end and each initiative's by its horizon
    (docs/finance.md). The report is kept in the store per date and options until its data changes."""
    from benefits.value.kept import kept_report
    from benefits.value.report import as_csv, as_json, as_table

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.engine.connect() as connection:
        report = kept_report(connection, as_of_date(as_of), year, correlation, DEFAULT_SAMPLES)
    render = {"json": as_json, "csv": as_csv, "table": as_table}[fmt]
    click.echo(render(report), nl=False)
