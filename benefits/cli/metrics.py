"""`benefits metrics`: every stored metric, which benefits use it, what was observed, and whether it is stale."""

from __future__ import annotations

import datetime as dt

import click

from benefits.cli.main import as_of_date, as_of_option, main, workspace
from benefits.cli.render import format_option, render

COLUMNS = ("metric", "unit", "used_by", "spend_of", "observations", "first_period", "last_period", "sources", "stale")


@main.command()
@click.option(
    "--unused", is_flag=True, help="Only metrics that no benefit measures and no initiative reads its spend from."
)
@format_option
@as_of_option
@click.pass_context
def metrics(ctx: click.Context, unused: bool, fmt: str, as_of: dt.datetime | None) -> None:
    """List metrics: unit, the benefits using each, the initiatives spending by it, observation count, first/last
    period, sources, staleness."""
    from dataclasses import asdict

    from benefits.staleness import metric_summaries

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions() as session:
        found = metric_summaries(session, as_of_date(as_of))
    rows = [{**asdict(m), "stale_message": m.message()} for m in found if not (unused and m.used)]
    click.echo(render(rows, COLUMNS, fmt), nl=False)
