"""`benefits digest`: each owner's news about their benefits, by e-mail and/or webhook (notify.yaml)."""

from __future__ import annotations

import datetime as dt

import click

from benefits.cli.main import as_of_date, as_of_option, main, workspace


@main.command()
@as_of_option
@click.option("--dry-run", is_flag=True, help="Print what each owner would be sent; send nothing.")
@click.option(
    "--attach-pack",
    is_flag=True,
    help="Attach the steering pack, printed to PDF by headless Chromium, to every e-mail "
    "[also notify.yaml's attach_pack: true].",
)
@click.option(
    "--chromium",
    envvar="BENEFITS_CHROMIUM",
    metavar="PATH",
    default=None,
    help="The Chromium executable that prints the attached pack [env BENEFITS_CHROMIUM; default: chromium on "
    "the PATH].",
)
@click.pass_context
def digest(
    ctx: click.Context, as_of: dt.datetime | None, dry_run: bool, attach_pack: bool, chromium: str | None
) -> None:
    """Send each benefit owner their benefits that changed status, whose forecast failed, whose data went
    stale or whose metric has rows in quarantine: by e-mail through the SMTP server and/or to the webhook
    of notify.yaml in the config folder, with the steering pack attached when asked.

    Each digest delivered is recorded: one already delivered for the date (same address or webhook, same text)
    is not sent again, so after a partial failure running it again sends only what was not delivered. A digest
    started while another is delivering waits for it, then sends only what that one did not."""
    from benefits.digest import send_digest

    send_digest(
        workspace(ctx), as_of_date(as_of), click.echo, dry_run=dry_run, attach_pack=attach_pack, chromium=chromium
    )
