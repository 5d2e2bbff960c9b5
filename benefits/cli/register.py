"""`benefits register`: the register in and out of Excel (template, import, export) and its revisions (history)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from benefits.cli.main import main, workspace
from benefits.cli.render import format_option, render
from benefits.errors import BenefitsError

if TYPE_CHECKING:
    from benefits.store.models import RegisterRevision

_force_option = click.option("--force", is_flag=True, help="Overwrite the output file if it exists.")


@main.group()
def register() -> None:
    """The benefits register in and out of Excel (a documented template, import into portfolio.yaml, export), and
    its history of re-baselinings."""


@register.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("register.xlsx"),
    show_default=True,
    help="The workbook to write (.xlsx).",
)
@_force_option
def template(out: Path, force: bool) -> None:
    """Write an empty register workbook: a Benefits sheet (one row per benefit), optional sheets and instructions."""
    from benefits.register_io.writing import write_workbook

    _refuse_other_formats(out)
    _refuse_overwrite(out, force)
    write_workbook(out)
    click.echo(f"wrote {out}: fill in the Benefits sheet, then `benefits register import {out}`")


@register.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the register [default: portfolio.yaml in the config folder].",
)
@_force_option
@click.option(
    "--dayfirst/--monthfirst",
    default=True,
    show_default=True,
    help="How to read numeric dates with the year last: 01/04/2026 is 1 April (day first) or 4 January.",
)
@click.option("--name", default=None, help="The portfolio's name [default: the Portfolio sheet's, else the file's].")
@click.option("--currency", default=None, help="The portfolio's currency [default: the Portfolio sheet's, else GBP].")
@click.pass_context
def import_(
    ctx: click.Context,
    file: Path,
    out: Path | None,
    force: bool,
    dayfirst: bool,
    name: str | None,
    currency: str | None,
) -> None:
    """Read a register workbook (.xlsx) or CSV file, check it and write portfolio.yaml.

    The problems are listed, one a line, by sheet and cell (`Benefits!Q12: target_date: ...`, or
    `file.csv:row 12: ...`; the first 20, then how many more); nothing is written while there is one.
    ISO dates (2026-04-01) and Excel date cells are always accepted.
    """
    from benefits.files import write_files
    from benefits.register import REGISTER_FILE
    from benefits.register_io.importing import RegisterImportError, import_register
    from benefits.register_io.portfolio_yaml import register_yaml

    target = out or workspace(ctx).config_dir / REGISTER_FILE
    _refuse_overwrite(target, force)
    try:
        imported = import_register(file, dayfirst=dayfirst, name=name, currency=currency)
    except RegisterImportError as exc:
        for warning in exc.warnings:
            click.echo(f"warning: {warning}", err=True)
        for line in exc.shown():
            click.echo(line, err=True)
        count = len(exc.problems)
        raise BenefitsError(f"{file}: {count} problem{'s' if count != 1 else ''}; nothing written") from None
    for warning in imported.warnings:
        click.echo(f"warning: {warning}", err=True)
    connectors = _connectors_for_new_user(target.parent) if out is None else None
    contents = {target: register_yaml(imported.register, file.name).encode("utf-8")}
    if connectors is not None:
        contents[connectors] = READINGS_CONNECTORS.encode("utf-8")
    write_files(contents)  # both or neither: a retry is never refused as "already exists"
    register = imported.register
    count = sum(1 for _ in register.benefits())
    click.echo(
        f"wrote {target}: {len(register.programmes)} programmes, {len(register.initiatives)} initiatives, "
        f"{count} benefits; next: `benefits init` to load it"
    )
    if connectors is not None:
        click.echo(f"wrote {connectors}: a csv connector reading readings/*.csv (columns metric, period, value, unit)")


READINGS_CONNECTORS = """\
# Written by `benefits register import`: the readings are the CSV files in readings/ (next to where
# `benefits run` is started), columns metric, period (YYYY-MM-DD), value and unit. Add or replace
# connectors here (docs/plugins.md).
connectors:
  - name: readings
    type: csv
    settings:
      path: readings/*.csv
"""


def _connectors_for_new_user(config_dir: Path) -> Path | None:
    """Where to write a connectors.yaml reading readings/*.csv, so `benefits run` can sync: None when the config
    folder has one."""
    from benefits.sync.config import CONNECTORS_FILE

    path = config_dir / CONNECTORS_FILE
    return None if path.exists() else path


@register.command()
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The workbook to write (.xlsx)."
)
@_force_option
@click.pass_context
def export(ctx: click.Context, out: Path, force: bool) -> None:
    """Write the register of the config folder's portfolio.yaml into a workbook in the template's layout."""
    from benefits.register_io.writing import write_workbook

    _refuse_other_formats(out)
    _refuse_overwrite(out, force)
    register = workspace(ctx).register()
    write_workbook(out, register)
    count = sum(1 for _ in register.benefits())
    click.echo(f"wrote {out}: {len(register.initiatives)} initiatives, {count} benefits")


HISTORY_COLUMNS = ("revision", "benefit", "kind", "field", "before", "after", "recorded_by", "recorded_at", "reason")


@register.command()
@click.argument("benefit", required=False)
@format_option
@click.pass_context
def history(ctx: click.Context, benefit: str | None, fmt: str) -> None:
    """List the register revisions of BENEFIT (default: every benefit), oldest first: each field's value
    before and after, who loaded it, when (UTC) and why.

    A benefit's first revision (kind original) holds its approved baseline; each later one
    (rebaselined) a change of its baseline, target, dates, profile or attribution, recorded by
    `benefits init` or `benefits run` (their --user and --reason, or the register's change_reason).
    """
    from benefits.store import baselines

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions() as session:
        rows = [row for revision in baselines.history(session, benefit) for row in _history_rows(revision)]
        if benefit is not None and not rows and not session.scalar(_benefit_exists(benefit)):
            raise BenefitsError(f"no benefit {benefit!r} in the register or its history (`benefits status` lists them)")
    if fmt == "table":  # numbers as a person writes them; JSON and CSV keep the values
        rows = [row | {k: baselines.shown(row[k]) for k in ("before", "after") if row[k] is not None} for row in rows]
    click.echo(render(rows, HISTORY_COLUMNS, fmt), nl=False)


def _history_rows(revision: RegisterRevision) -> list[dict[str, Any]]:
    """One row per field of a revision: the changed fields of a re-baselining, the set ones of an original."""
    from benefits.store import baselines

    base = {"revision": revision.id, "benefit": revision.benefit_key, "kind": revision.kind}
    after = {"recorded_by": revision.recorded_by, "recorded_at": baselines.when(revision.recorded_at)}
    changes = revision.changes or [
        {"field": name, "before": None, "after": revision.values.get(name)}
        for name in baselines.FIELDS
        if revision.values.get(name) is not None
    ]
    return [
        base
        | {"field": change["field"], "before": change["before"], "after": change["after"]}
        | after
        | {"reason": revision.reason}
        for change in changes
    ]


def _benefit_exists(key: str) -> Any:
    from sqlalchemy import select

    from benefits.store import models

    return select(models.Benefit.id).where(models.Benefit.key == key)


WORKBOOK_FORMATS = (".xlsx",)
"""What `register template` and `export` write: a workbook of every sheet (a CSV file would hold the Benefits sheet
only, and an export of it would not read back into the same register)."""


def _refuse_other_formats(path: Path) -> None:
    """Refuse an ``--out`` whose suffix is not a workbook these commands write, before anything is read or written."""
    suffix = path.suffix.lower()
    if suffix not in WORKBOOK_FORMATS:
        raise BenefitsError(
            f"--out {path}: cannot write the register as {suffix or '(no suffix)'!r}: use {', '.join(WORKBOOK_FORMATS)}"
        )


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise BenefitsError(f"{path} already exists: add --force to overwrite it (or --out another path)")
