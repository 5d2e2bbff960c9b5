"""`benefits report`: the weekly steering pack as one self-contained HTML file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from benefits.cli.main import as_of_date, as_of_option, main, workspace


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The HTML file to write (opens offline: charts and scripts embedded).",
)
@as_of_option
@click.pass_context
def report(ctx: click.Context, out: Path, as_of: dt.datetime | None) -> None:
    """Write the steering pack: portfolio summary, status changes since the last run, at-risk and
    off-track benefits with their owners."""
    from benefits.report import steering_pack

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions() as session:
        html = steering_pack(session, as_of_date(as_of))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    click.echo(f"steering pack written to {out} ({len(html.encode()) // 1024} KiB)")
