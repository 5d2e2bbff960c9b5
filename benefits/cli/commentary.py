"""`benefits note`, `benefits action …` and `benefits risk …`: commentary, actions and risks per benefit.

Each entry is kept for good with its author (``--user NAME`` or ``BENEFITS_USER``, else the system
user, as for `benefits init`: ``benefits.users.acting_user``) and time; done and closed are new
entries, never changes (``benefits.commentary``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from benefits.cli.main import EARLIEST_DATE, LATEST_DATE, DateOption, as_of_date, as_of_option, main, workspace
from benefits.cli.render import format_option, render
from benefits.users import acting_user

user_option = click.option(
    "--user",
    "by",
    envvar="BENEFITS_USER",
    default=None,
    metavar="NAME",
    help="Who is writing, kept with the entry [env BENEFITS_USER; default: the system user].",
)
ACTION_COLUMNS = ("id", "benefit", "text", "owner", "due", "state", "author")
RISK_COLUMNS = ("id", "benefit", "text", "likelihood", "impact", "score", "mitigation", "state", "author")
SCALE = click.IntRange(1, 5)


@main.command("note")
@click.argument("benefit")
@click.argument("text")
@user_option
@click.pass_context
def note(ctx: click.Context, benefit: str, text: str, by: str | None) -> None:
    """Record this week's commentary line TEXT on BENEFIT (the latest note is the one shown)."""
    from benefits.commentary import add_note

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions.begin() as session:
        note_id = add_note(session, benefit, text, acting_user(by))
    click.echo(f"note {note_id} on {benefit}")


@main.group()
def action() -> None:
    """Actions on benefits: who does what by when; done is recorded, never deleted."""


@action.command("add")
@click.argument("benefit")
@click.argument("text")
@click.option("--owner", required=True, metavar="NAME", help="Who does it.")
@click.option(
    "--due", required=True, type=DateOption(), help=f"Due date, YYYY-MM-DD, {EARLIEST_DATE} to {LATEST_DATE}."
)
@user_option
@click.pass_context
def action_add(ctx: click.Context, benefit: str, text: str, owner: str, due: dt.datetime, by: str | None) -> None:
    """Record an open action TEXT on BENEFIT, owned by --owner and due by --due."""
    from benefits.commentary import add_action

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions.begin() as session:
        action_id = add_action(session, benefit, text, owner, due.date(), acting_user(by))
    click.echo(f"action {action_id} on {benefit}: {owner}, due {due.date().isoformat()}")


@action.command("done")
@click.argument("action_id", type=int)
@user_option
@click.pass_context
def action_done(ctx: click.Context, action_id: int, by: str | None) -> None:
    """Mark action ACTION_ID done."""
    from benefits.commentary import close_action

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions.begin() as session:
        benefit = close_action(session, action_id, acting_user(by))
    click.echo(f"action {action_id} on {benefit} done")


@action.command("list")
@click.option("--overdue", is_flag=True, help="Only the open actions past their due date.")
@click.option("--all", "include_done", is_flag=True, help="Done actions too.")
@click.option("--benefit", default=None, help="Only this benefit's actions.")
@as_of_option
@format_option
@click.pass_context
def action_list(
    ctx: click.Context, overdue: bool, include_done: bool, benefit: str | None, as_of: dt.datetime | None, fmt: str
) -> None:
    """List the open actions by due date; state is open, overdue (past due at --as-of) or done."""
    from benefits.commentary import actions

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions() as session:
        found = actions(session, as_of_date(as_of), benefit=benefit, include_done=include_done and not overdue)
    rows: list[dict[str, Any]] = [
        {
            "id": a.id,
            "benefit": a.benefit,
            "text": a.text,
            "owner": a.owner,
            "due": a.due.isoformat(),
            "state": a.state,
            "author": a.author,
            "created_at": a.created_at.isoformat(timespec="seconds"),
            "done_by": a.done_by,
            "done_at": a.done_at.isoformat(timespec="seconds") if a.done_at else None,
        }
        for a in found
        if a.overdue or not overdue
    ]
    click.echo(render(rows, ACTION_COLUMNS, fmt), nl=False)


@main.group()
def risk() -> None:
    """Risks to benefits: likelihood and impact (1-5 each) and the mitigation; closing is recorded."""


@risk.command("add")
@click.argument("benefit")
@click.argument("text")
@click.option(
    "--likelihood",
    required=True,
    type=SCALE,
    help="1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain.",
)
@click.option("--impact", required=True, type=SCALE, help="1 negligible, 2 minor, 3 moderate, 4 major, 5 severe.")
@click.option("--mitigation", required=True, help="What is being done to make it less likely or less harmful.")
@user_option
@click.pass_context
def risk_add(
    ctx: click.Context, benefit: str, text: str, likelihood: int, impact: int, mitigation: str, by: str | None
) -> None:
    """Record an open risk TEXT to BENEFIT."""
    from benefits.commentary import add_risk

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions.begin() as session:
        risk_id = add_risk(session, benefit, text, likelihood, impact, mitigation, acting_user(by))
    click.echo(f"risk {risk_id} on {benefit}: score {likelihood * impact} of 25")


@risk.command("close")
@click.argument("risk_id", type=int)
@user_option
@click.pass_context
def risk_close(ctx: click.Context, risk_id: int, by: str | None) -> None:
    """Close risk RISK_ID (it passed, or its mitigation worked)."""
    from benefits.commentary import close_risk

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions.begin() as session:
        benefit = close_risk(session, risk_id, acting_user(by))
    click.echo(f"risk {risk_id} on {benefit} closed")


@risk.command("list")
@click.option("--all", "include_closed", is_flag=True, help="Closed risks too.")
@click.option("--benefit", default=None, help="Only this benefit's risks.")
@format_option
@click.pass_context
def risk_list(ctx: click.Context, include_closed: bool, benefit: str | None, fmt: str) -> None:
    """List the open risks, the highest score (likelihood × impact) first."""
    from benefits.commentary import risks

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions() as session:
        found = risks(session, benefit=benefit, include_closed=include_closed)
    rows: list[dict[str, Any]] = [
        {
            "id": r.id,
            "benefit": r.benefit,
            "text": r.text,
            "likelihood": r.likelihood,
            "impact": r.impact,
            "score": r.score,
            "mitigation": r.mitigation,
            "state": "closed" if r.closed_at else "open",
            "author": r.author,
            "created_at": r.created_at.isoformat(timespec="seconds"),
            "closed_by": r.closed_by,
            "closed_at": r.closed_at.isoformat(timespec="seconds") if r.closed_at else None,
        }
        for r in found
    ]
    click.echo(render(rows, RISK_COLUMNS, fmt), nl=False)
