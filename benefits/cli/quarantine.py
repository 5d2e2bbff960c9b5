"""`benefits quarantine`: list and show rejected rows, and retry them once the source or config is fixed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click

from benefits.cli.main import as_of_date, as_of_option, main, workspace
from benefits.cli.render import format_option, render

_Command = TypeVar("_Command", bound=Callable[..., Any])
LIST_COLUMNS = ("id", "connector", "sync_run", "row", "source_ref", "status", "reasons")


def _filters(func: _Command) -> _Command:
    """The --connector, --run and --reason options of list and retry."""
    func = click.option("--reason", help="Only rows with a reason containing this text (case-insensitive).")(func)
    func = click.option("--run", "sync_run", type=int, help="Only rows of this sync run.")(func)
    return click.option("--connector", help="Only rows of this connector instance.")(func)


@main.group()
def quarantine() -> None:
    """Rejected rows, kept whole with every reason: list, show, and retry once fixed."""


@quarantine.command("list")
@_filters
@click.option("--all", "include_resolved", is_flag=True, help="Also rows already loaded by a retry.")
@format_option
@click.pass_context
def list_rows(ctx: click.Context, connector: str | None, sync_run: int | None, reason: str | None,
              include_resolved: bool, fmt: str) -> None:
    """List held rows: id, connector, sync run, row, source_ref and reasons."""
    from benefits.sync.quarantine import QuarantineFilter, as_dict, entries

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions() as session:
        found = entries(session, QuarantineFilter((), connector, sync_run, reason, include_resolved))
        rows = [as_dict(e) for e in found]
    click.echo(render(rows, LIST_COLUMNS, fmt), nl=False)


@quarantine.command()
@click.argument("entry_id", metavar="ID", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def show(ctx: click.Context, entry_id: int, fmt: str) -> None:
    """Show one row: the record verbatim as the connector gave it, and every reason."""
    from benefits.sync.quarantine import as_dict, entry

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions() as session:
        data = as_dict(entry(session, entry_id))
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, default=str))
        return
    for key in ("id", "connector", "sync_run", "row", "source_ref", "status", "retried_in", "resolved_in", "created_at"):
        if data[key] is not None:
            click.echo(f"{key}: {data[key]}")
    click.echo("record:")
    for field, value in data["record"].items():
        click.echo(f"  {field}: {json.dumps(value)}")
    click.echo("reasons:")
    for reason in data["reasons"]:
        click.echo(f"  - {reason}")


@quarantine.command()
@click.argument("entry_ids", metavar="[ID]...", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Retry every held row.")
@_filters
@as_of_option
@click.pass_context
def retry(ctx: click.Context, entry_ids: tuple[int, ...], every: bool, connector: str | None, sync_run: int | None,
          reason: str | None, as_of: dt.datetime | None) -> None:
    """Re-validate held rows with the current register and validation rules; load the ones that now pass."""
    from benefits.errors import BenefitsError
    from benefits.sync.quarantine import QuarantineFilter
    from benefits.sync.quarantine import retry as retry_rows

    if not (entry_ids or every or connector or sync_run is not None or reason):
        raise BenefitsError("say which rows to retry: IDs, --all, --connector, --run or --reason")
    ws = workspace(ctx)
    ws.ensure_current()
    where = QuarantineFilter(entry_ids, connector, sync_run, reason)
    reports = retry_rows(ws.sessions, ws.config_dir, ws.register(), as_of_date(as_of), where)
    if not reports:
        click.echo("no held rows to retry")
    for report in reports:
        click.echo(f"retry {report.connector} (sync run {report.sync_run}): {report.rows_read} rows read, "
                   f"{report.rows_accepted} loaded, {report.rows_quarantined} still held")
