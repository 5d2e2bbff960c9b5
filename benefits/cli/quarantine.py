"""`benefits quarantine`: list and show rejected rows, retry them once the config is fixed, resolve them by hand."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from benefits.cli.main import as_of_date, as_of_option, main, workspace
from benefits.cli.render import format_option, render

if TYPE_CHECKING:  # imported in the functions: `benefits --help` stays quick
    from benefits.plugins.connector import Connector
    from benefits.sync.quarantine import QuarantineFilter
    from benefits.sync.writer import SyncReport
    from benefits.workspace import Workspace

_Command = TypeVar("_Command", bound=Callable[..., Any])
LIST_COLUMNS = ("id", "connector", "sync_run", "row", "source_ref", "status", "reasons")


def _filters(func: _Command) -> _Command:
    """The --connector, --run and --reason options of list, retry and resolve."""
    func = click.option("--reason", help="Only rows with a reason containing this text (case-insensitive).")(func)
    func = click.option("--run", "sync_run", type=int, help="Only rows of this sync run.")(func)
    return click.option("--connector", help="Only rows of this connector instance.")(func)


@main.group()
def quarantine() -> None:
    """Rejected rows, kept whole with every reason: list, show, retry once fixed, resolve by hand."""


@quarantine.command("list")
@_filters
@click.option(
    "--all", "include_resolved", is_flag=True, help="Also resolved rows (loaded by a retry, or resolved by hand)."
)
@format_option
@click.pass_context
def list_rows(
    ctx: click.Context,
    connector: str | None,
    sync_run: int | None,
    reason: str | None,
    include_resolved: bool,
    fmt: str,
) -> None:
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
    for key in (
        "id",
        "connector",
        "sync_run",
        "row",
        "source_ref",
        "status",
        "retried_in",
        "resolved_in",
        "resolved_by",
        "note",
        "created_at",
        "resolved_at",
    ):
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
@click.option(
    "--from-source",
    is_flag=True,
    help="First sync all the rows' connectors again (re-reading the fixed file, table or API) and close the held "
    "rows whose source line has loaded since.",
)
@click.option(
    "--held-only",
    is_flag=True,
    help="Only re-validate the held copies: re-read no source, not even a file that changed.",
)
@_filters
@as_of_option
@click.pass_context
def retry(
    ctx: click.Context,
    entry_ids: tuple[int, ...],
    every: bool,
    from_source: bool,
    held_only: bool,
    connector: str | None,
    sync_run: int | None,
    reason: str | None,
    as_of: dt.datetime | None,
) -> None:
    """Re-read the sources that changed, then re-validate held rows with the current register and validation
    rules; load the ones that now pass.

    First, each connector that reads files (csv, .xlsx) whose held rows came from a file modified since the
    connector's latest sync run started is synced again (one line says which file), and each held row
    whose source line (same connector and source_ref) has since loaded a value for its period is closed,
    kept with the sync run that loaded it. A file that is gone, or is a folder now, is not re-read (one line says
    so). Tables
    and APIs (sql, http) are re-read only with --from-source, which syncs all the rows' connectors that
    connectors.yaml still has; --held-only re-reads nothing. The rows left are re-validated. Exits 1 when
    such a sync failed.
    """
    from benefits.errors import BenefitsError
    from benefits.sync.quarantine import QuarantineFilter
    from benefits.sync.quarantine import retry as retry_rows

    if not (entry_ids or every or connector or sync_run is not None or reason):
        raise BenefitsError("say which rows to retry: IDs, --all, --connector, --run or --reason")
    if from_source and held_only:
        raise BenefitsError("--from-source re-reads every source, --held-only none: choose one")
    ws = workspace(ctx)
    ws.ensure_current()
    where = QuarantineFilter(entry_ids, connector, sync_run, reason)
    day = as_of_date(as_of)
    reread: list[str] = []
    if from_source:
        reread = _configured(ws, where, day)
    elif not held_only:
        reread = _changed(ws, where, day)
    failed = _reread(ws, where, day, reread) if (reread or from_source) else False
    reports = retry_rows(ws.sessions, ws.config_dir, ws.register(), day, where)
    if not reports:
        click.echo("no held rows to retry")
    for report in reports:
        click.echo(
            f"retry {report.connector} (sync run {report.sync_run}): {report.rows_read} rows read, "
            f"{report.rows_accepted} loaded, {report.rows_quarantined} still held"
        )
    if not from_source and any(report.rows_quarantined and report.connector not in reread for report in reports):
        click.echo(
            "rows still held: if their source has been fixed, retry them with --from-source to re-read it; "
            "`benefits quarantine resolve … --note TEXT` closes rows nobody wants"
        )
    if failed:
        sys.exit(1)


def _configured(ws: Workspace, where: QuarantineFilter, as_of: dt.date) -> list[str]:
    """The held rows' connectors that connectors.yaml still has; one line for each it no longer has."""
    from benefits.sync.quarantine import held_connectors

    with ws.sessions() as session:
        wanted = held_connectors(session, where)
    configured = {c.name for c in _connectors(ws, as_of)}
    for name in wanted:
        if name not in configured:
            click.echo(f"retry {name}: not in connectors.yaml any more; its held rows are re-validated only")
    return [name for name in wanted if name in configured]


def _changed(ws: Workspace, where: QuarantineFilter, as_of: dt.date) -> list[str]:
    """The held rows' file connectors whose files changed since they last read them, with one line for each,
    and one for each whose files are gone or are folders now. A connectors.yaml that cannot be read re-reads
    nothing (one line says why)."""
    from benefits.errors import ConfigError
    from benefits.sync.quarantine import source_files

    try:
        connectors = _connectors(ws, as_of)
    except ConfigError as exc:
        click.echo(f"retry: no source re-read, the held rows are re-validated only ({exc})")
        return []
    with ws.sessions() as session:
        found = source_files(session, where, connectors)
    for files in found:
        if files.changed:
            them = "it" if len(files.changed) == 1 else "them"
            click.echo(
                f"retry {files.connector}: {_named(files.changed)} changed since sync run {files.last_read}, "
                f"re-reading {them}"
            )
        elif files.gone:
            are = "is" if len(files.gone) == 1 else "are"
            click.echo(
                f"retry {files.connector}: {_named(files.gone)} {are} gone (no such file); "
                "its held rows are re-validated only"
            )
        if files.folders:
            now = "is now a folder, not a file" if len(files.folders) == 1 else "are now folders, not files"
            click.echo(
                f"retry {files.connector}: {_named(files.folders)} {now}: not re-read, its held rows stay held "
                "(re-validated only)"
            )
    return [files.connector for files in found if files.changed]


def _named(paths: tuple[str, ...]) -> str:
    """The first of ``paths``, and how many more there are."""
    return paths[0] + (f" and {len(paths) - 1} more files" if len(paths) > 1 else "")


def _connectors(ws: Workspace, as_of: dt.date) -> list[Connector]:
    """The connectors of connectors.yaml, built."""
    from benefits.plugins.connector import SyncContext
    from benefits.sync.config import load_connectors

    return load_connectors(ws.config_dir, SyncContext(register=ws.register(), as_of=as_of))


def _reread(ws: Workspace, where: QuarantineFilter, as_of: dt.date, names: list[str]) -> bool:
    """Sync the connectors ``names`` again and close the held rows whose source line loaded; True when a sync
    failed."""
    from benefits import pipeline
    from benefits.sync.quarantine import close_reloaded

    reports: list[SyncReport] = []
    if names:  # none: sync_stage would sync every connector
        reports = pipeline.sync_stage(ws, as_of, names, echo=click.echo, fail=lambda line: click.echo(line, err=True))
    with ws.sessions.begin() as session:
        closed = close_reloaded(session, where)
    for name, count in closed.items():
        click.echo(f"retry {name}: closed {count} held row{'s' * (count != 1)} whose source line has loaded since")
    return any(r.status == "failed" for r in reports)


@quarantine.command()
@click.argument("entry_ids", metavar="[ID]...", nargs=-1, type=int)
@click.option("--all", "every", is_flag=True, help="Resolve every held row (that matches the filters).")
@_filters
@click.option(
    "--note", required=True, help="Why: e.g. 'fixed in the source file, re-synced' or 'test rows, not wanted'."
)
@click.option("--by", "by", default=None, help="Who resolves them (default: the login name).")
@click.pass_context
def resolve(
    ctx: click.Context,
    entry_ids: tuple[int, ...],
    every: bool,
    connector: str | None,
    sync_run: int | None,
    reason: str | None,
    note: str,
    by: str | None,
) -> None:
    """Close held rows that were fixed at the source or are not wanted; they are kept, with who, when and why.

    A plain retry re-reads the files that changed and re-validates the held copies; `quarantine retry
    --from-source` re-reads every source (tables and APIs too); both close the copies whose source line
    loaded since. Resolve here what neither closes. Resolved rows leave `quarantine list` and the
    data-quality page (`quarantine list --all` still shows them).
    """
    from benefits.errors import BenefitsError
    from benefits.sync.quarantine import QuarantineFilter
    from benefits.sync.quarantine import resolve as resolve_rows

    if not (entry_ids or every or connector or sync_run is not None or reason):
        raise BenefitsError("say which rows to resolve: IDs, --all, --connector, --run or --reason")
    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions.begin() as session:
        where = QuarantineFilter(entry_ids, connector, sync_run, reason)
        done = resolve_rows(session, where, by or getpass.getuser(), note)
    click.echo(f"{len(done)} rows resolved" if done else "no held rows to resolve")
