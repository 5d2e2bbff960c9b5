"""`benefits claims`: import, list, check, approve, reject and export finance claims.

Approving and rejecting need ``--user NAME``; the user's role is read from the same users file as
the dashboard's (``--users FILE``, default CONFIG/users.yaml; see `benefits users add`), and only
the finance role (or admin) may decide, once, and never on a claim they recorded unless an admin
allowed it (`benefits claims self-approval allow`, recorded with who and why).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from benefits.cli.main import main, workspace
from benefits.users import USERS_FILE

if TYPE_CHECKING:
    from benefits.store.models import ClaimVersion


@main.group()
def claims() -> None:
    """Finance claims: claimed savings and revenue next to ledger evidence, with sign-off."""


@claims.command("import")
@click.argument("csv_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--by",
    "created_by",
    default="",
    help="Who entered the claims (kept with each recorded value; 'unknown' when not given).",
)
@click.pass_context
def import_claims(ctx: click.Context, csv_file: Path, created_by: str) -> None:
    """Record claims from CSV_FILE (columns benefit, period, claimed_value[, class, note]); all rows or none.

    Amounts are exact decimals written in full (at most 4 decimal places, 16 digits before the point;
    not 1.2E+5), in the register's currency (another currency's symbol is refused); periods after
    today are refused.

    Claims a source system holds are delivered by its connector during `benefits sync` instead
    (a connector's claims(), see docs/plugins.md).
    """
    from benefits.claims import ClaimSource
    from benefits.claims.importer import read_claims_csv, record_claims

    ws = workspace(ctx)
    ws.ensure_current()
    parsed = read_claims_csv(csv_file)
    with ws.sessions.begin() as session:
        counts = record_claims(session, parsed, ClaimSource.csv, created_by)
    click.echo(f"{csv_file}: {counts.new} new claims, {counts.updated} updated, {counts.unchanged} unchanged")


@claims.command("list")
@click.option("--initiative", default=None, help="Only this initiative's claims.")
@click.option(
    "--state", type=click.Choice(["pending", "approved", "rejected"]), default=None, help="Only claims in this state."
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def list_claims(ctx: click.Context, initiative: str | None, state: str | None, fmt: str) -> None:
    """Show each claim next to its ledger evidence: variance, evidenced share and sign-off state."""
    from dataclasses import replace

    from benefits.claims.ledger import claims_report
    from benefits.claims.listing import render

    ws = workspace(ctx)
    currency = ws.register().currency
    ws.ensure_current()
    with ws.sessions() as session:
        report = claims_report(session, initiative)
    if state:
        report = replace(report, lines=[line for line in report.lines if line.state == state])
    click.echo(render(report, fmt, currency), nl=False)


@claims.command("check")
@click.pass_context
def check(ctx: click.Context) -> None:
    """Flag double counting (attribution over 100% of a metric), unevidenced claims and orphan claims.

    Exits 1 when a metric is over-attributed or a claim's benefit left the register.
    """
    from benefits.claims.ledger import claims_report, orphan_claims
    from benefits.claims.reconciliation import UNEVIDENCED

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions() as session:
        report = claims_report(session)
        orphans = orphan_claims(session)
    for found in report.over_attributed:
        claimed = [line.id for line in report.lines if line.double_counted is found]
        on_claims = f" (claims {', '.join(map(str, claimed))})" if claimed else ""
        click.echo(f"double counting: {found.message()}{on_claims}")
    for orphan in orphans:
        click.echo(f"orphan claim {orphan.id}: benefit {orphan.benefit_key} is no longer in the register")
    for line in report.lines:
        if line.reconciliation.state == UNEVIDENCED:
            click.echo(f"unevidenced claim {line.id} ({line.benefit} at {line.period}): {line.reconciliation.reason}")
    problems = len(report.over_attributed) + len(orphans)
    click.echo(
        f"checked {len(report.lines)} claims: {len(report.over_attributed)} over-attributed metrics, "
        f"{len(orphans)} orphan claims"
    )
    if problems:
        sys.exit(1)


_user_option = click.option("--user", "user", required=True, help="Who decides (a user of the users file).")
_comment_option = click.option("--comment", required=True, help="Why: kept in the claim's history.")
_users_option = click.option(
    "--users",
    "users_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Users file with roles [default: CONFIG/{USERS_FILE}].",
)


def _decision_command(verb: str, decision: str, help_text: str) -> None:
    """Register `claims approve` or `claims reject`: the same options, a different decision."""

    @claims.command(verb, help=help_text)
    @click.argument("claim_id", type=int)
    @_user_option
    @_comment_option
    @click.option(
        "--version",
        "reviewed",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help="The version you reviewed (as `claims history` numbers them): refused, deciding nothing, if the "
        "claim was restated since [default: its latest, whatever it is].",
    )
    @_users_option
    @click.pass_context
    def command(
        ctx: click.Context, claim_id: int, user: str, comment: str, reviewed: int | None, users_file: Path | None
    ) -> None:
        _decide(ctx, claim_id, decision, user, comment, users_file, reviewed)


_decision_command("approve", "approved", "Approve claim CLAIM_ID: its value counts as validated (role finance).")
_decision_command("reject", "rejected", "Reject claim CLAIM_ID (role finance).")


@claims.command("self-approval")
@click.argument("change", type=click.Choice(["allow", "forbid"]), required=False)
@click.option("--user", "user", default=None, help="The admin who changes the rule (a user of the users file).")
@click.option("--comment", default=None, help="Why: kept with the change.")
@_users_option
@click.pass_context
def self_approval(
    ctx: click.Context, change: str | None, user: str | None, comment: str | None, users_file: Path | None
) -> None:
    """Show, or (role admin) allow or forbid, claimants deciding their own claims; every change is kept.

    Forbidden by default (separation of duties). Allow it only for a team too small to separate
    the duties: `benefits claims self-approval allow --user root --comment "two-person team"`.
    """
    from benefits.claims.signoff import set_claimant_may_decide, setting_history
    from benefits.errors import BenefitsError

    ws = workspace(ctx)
    if change is not None:
        if not user or comment is None:
            raise BenefitsError(f"self-approval {change}: give --user NAME (role admin) and --comment WHY")
        role = _role_of(users_file or ws.config_dir / USERS_FILE, user)
        ws.ensure_current()
        with ws.sessions.begin() as session:
            set_claimant_may_decide(session, change == "allow", user, role, comment)
    ws.ensure_current()
    with ws.sessions() as session:
        changes = setting_history(session)
    for row in changes:
        verb = "allowed" if row.claimant_may_decide else "forbade"
        click.echo(
            f"{row.set_at.isoformat(timespec='seconds')}  {row.set_by} ({row.role})  {verb} self-approval: "
            f"{row.comment}"
        )
    allowed = bool(changes) and changes[-1].claimant_may_decide
    click.echo(
        "claimants may decide their own claims"
        if allowed
        else "claimants may not decide their own claims (separation of duties)"
    )


@claims.command("history")
@click.argument("claim_id", type=int)
@click.pass_context
def history(ctx: click.Context, claim_id: int) -> None:
    """Claim CLAIM_ID's recorded values (source, who, sync run), then its decision: when, who, role, the value
    decided on, why. Exits 1 when there is no such claim."""
    from benefits.claims.money import plain
    from benefits.claims.signoff import history as decisions
    from benefits.errors import BenefitsError
    from benefits.store import models

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.sessions() as session:
        claim = session.get(models.Claim, claim_id)
        if claim is None:
            raise BenefitsError(f"claim {claim_id}: no such claim (see `benefits claims list`)")
        versions = [_version_line(v) for v in claim.versions]
        rows = decisions(session, claim_id)
    for line in versions:
        click.echo(line)
    for d in rows:
        click.echo(
            f"{d.decided_at.isoformat(timespec='seconds')}  {d.decided_by} ({d.role})  {d.decision} "
            f"{plain(d.claimed_value)} (version {d.claim_version_id}): {d.comment}"
        )
    if not rows:
        click.echo(f"claim {claim_id}: no decision yet")


@claims.command("export")
@click.argument("initiative")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("evidence"),
    show_default=True,
    help="Folder to write the pack into.",
)
@click.pass_context
def export(ctx: click.Context, initiative: str, out_dir: Path) -> None:
    """Write INITIATIVE's evidence pack (CSV and HTML): each figure with its sync run and validation."""
    from benefits.claims.evidence_pack import write_evidence_pack
    from benefits.claims.ledger import claims_report
    from benefits.errors import BenefitsError

    ws = workspace(ctx)
    register = ws.register()
    if initiative not in {i.key for i in register.initiatives}:
        raise BenefitsError(f"initiative: no initiative {initiative!r} in {ws.config_dir}/portfolio.yaml")
    ws.ensure_current()
    with ws.sessions() as session:
        report = claims_report(session, initiative)
    for path in write_evidence_pack(report, initiative, out_dir, register.currency):
        click.echo(f"wrote {path}")


def _version_line(version: ClaimVersion) -> str:
    """One recorded value of a claim: its version, when, the value and class, who, the source and where it came from."""
    from benefits.claims.money import plain

    origin = ", ".join(
        filter(
            None, [version.source, version.source_ref, f"sync run {version.sync_run_id}" if version.sync_run_id else ""]
        )
    )
    who = f" by {version.created_by}" if version.created_by else ""
    return (
        f"{version.recorded_at.isoformat(timespec='seconds')}  version {version.id}: recorded "
        f"{plain(version.claimed_value)} {version.claim_class}{who} ({origin})"
    )


def _decide(
    ctx: click.Context,
    claim_id: int,
    decision: str,
    user: str,
    comment: str,
    users_file: Path | None,
    reviewed: int | None = None,
) -> None:
    from benefits.claims import Decision
    from benefits.claims.money import plain
    from benefits.claims.signoff import decide

    ws = workspace(ctx)
    role = _role_of(users_file or ws.config_dir / USERS_FILE, user)
    ws.ensure_current()
    with ws.sessions.begin() as session:
        row = decide(session, claim_id, Decision(decision), user, role, comment, reviewed)
        on = f"{plain(row.claimed_value)}, version {row.claim_version_id}"
    click.echo(f"claim {claim_id} {decision} by {user} ({role}): {on}")


def _role_of(path: Path, user: str) -> str:
    """The role of ``user`` in the users file at ``path``."""
    from benefits.claims.signoff import NotAllowed
    from benefits.users import load_users

    entry = load_users(path).get(user)
    if entry is None:
        raise NotAllowed(f"{path}: no user called {user}")
    return entry.role
