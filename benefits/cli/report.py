"""`benefits report`: the weekly steering pack as HTML, PDF or PowerPoint, chosen by the file's suffix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import click

from benefits.cli.main import as_of_date, as_of_option, main, workspace
from benefits.errors import BenefitsError

if TYPE_CHECKING:
    from benefits.workspace import Workspace

FORMATS = (".html", ".pdf", ".pptx")


@main.command()
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The file to write: pack.html (opens offline: charts and scripts embedded), pack.pdf (printed by "
    "headless Chromium) or pack.pptx (PowerPoint).",
)
@click.option(
    "--chromium",
    envvar="BENEFITS_CHROMIUM",
    metavar="PATH",
    default=None,
    help="The Chromium executable that prints a .pdf pack [env BENEFITS_CHROMIUM; default: chromium on the PATH].",
)
@as_of_option
@click.pass_context
def report(ctx: click.Context, out: Path, chromium: str | None, as_of: dt.datetime | None) -> None:
    """Write the steering pack: what changed since the last run, what needs a decision (off-track, at-risk
    and stale benefits with their owners and why), then the portfolio summary and value charts."""
    write_pack(workspace(ctx), out, chromium, as_of_date(as_of))


def write_pack(ws: Workspace, out: Path, chromium: str | None, as_of: dt.date) -> None:
    """Write the steering pack at ``as_of`` to ``out``, in the format its suffix names (`benefits report`,
    `benefits run --pack`), whole or not at all; BenefitsError for an unknown suffix or a missing Chromium, before
    the store is read, and in one line naming ``out`` when it cannot be written (:mod:`benefits.files`)."""
    suffix = out.suffix.lower()
    browser = pack_browser(out, chromium)  # before reading the store: a missing browser fails at once
    from benefits.files import write_bytes, write_text

    ws.ensure_current()
    with ws.sessions() as session:
        if suffix == ".pptx":
            from benefits.report_pptx import steering_deck

            write_bytes(out, steering_deck(session, as_of))
            html = None
        else:
            from benefits.report import steering_pack

            html = steering_pack(session, as_of)
    if browser is not None and html is not None:
        from benefits.report_pdf import print_pdf

        print_pdf(html, out, browser)
    elif html is not None:
        write_text(out, html)
    click.echo(f"steering pack written to {out} ({out.stat().st_size // 1024} KiB)")


def pack_browser(out: Path, chromium: str | None, option: str = "--out") -> Path | None:
    """The Chromium that prints ``out`` when it is a .pdf, else None; BenefitsError (naming ``option``) for
    a suffix that is no pack format, or for a Chromium not found."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise BenefitsError(
            f"{option} {out}: unknown pack format {suffix or '(no suffix)'!r}; use {', '.join(FORMATS)}"
        )
    if suffix != ".pdf":
        return None
    from benefits.report_pdf import find_chromium

    return find_chromium(chromium)
