"""Finance sign-off: approve or reject a claim with a comment, once; decisions are append-only.

Rules, checked here and (where a database can) by triggers from migrations 0005 and 0011 on
PostgreSQL and SQLite:

- only the finance role (or admin) decides, and never on a claim they recorded themselves
  (separation of duties: anyone who recorded a version of the claim is its claimant) unless an
  admin has allowed it for a team too small to separate the duties; that change of the rules is
  itself recorded, append-only, with who, when and why (:func:`set_claimant_may_decide`);
- a claim is decided once: pending, then approved or rejected, final (the database refuses a
  second decision and any update of a decided claim's row);
- a decision records the claim version and the claimed value it was made on;
- a claim whose benefit left the register (an orphan) cannot be decided;
- decisions, claim versions and claims are never deleted, decisions and versions never changed.

A claim's state is its decision, ``pending`` before it; only approved claims count as validated
value.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from benefits.claims import PENDING, SIGN_OFF_ROLES, Decision
from benefits.claims.money import plain
from benefits.errors import BenefitsError
from benefits.store import models


class NotAllowed(BenefitsError):
    """The user may not sign this claim off (role, or separation of duties)."""

    exit_code = 3


def can_sign_off(role: str) -> bool:
    """True for the finance role (and admin, which holds every role)."""
    return role == "admin" or role in SIGN_OFF_ROLES


def decide(
    session: Session,
    claim_id: int,
    decision: Decision,
    user: str,
    role: str,
    comment: str,
    reviewed: int | None = None,
) -> models.ClaimDecision:
    """Append the decision on claim ``claim_id`` by ``user`` acting as ``role``; the comment says why. With
    ``reviewed`` (the version the decider looked at, as `claims history` numbers them), a claim restated since is
    refused rather than decided on a value they did not see."""
    if not can_sign_off(role):
        raise NotAllowed(f"{user} has role {role}; approving or rejecting a claim needs role finance")
    if not comment.strip():
        raise BenefitsError(f"comment: say why claim {claim_id} is {decision.value}")
    # The claim's row is locked (PostgreSQL: SELECT ... FOR UPDATE) until the decision commits, so that two
    # deciders at once are one after the other: the second then finds the first's decision and is refused. Without
    # it, under READ COMMITTED both found no decision and both were recorded. SQLite has one writer at a time.
    claim = session.get(models.Claim, claim_id, with_for_update=True)
    if claim is None:
        raise BenefitsError(f"claim {claim_id}: no such claim (see `benefits claims list`)")
    decided = history(session, claim_id)
    if decided:
        last = decided[-1]
        raise BenefitsError(
            f"claim {claim_id}: already {last.decision} by {last.decided_by} on "
            f"{last.decided_at:%Y-%m-%d}; a decision is final"
        )
    if session.scalar(select(models.Benefit.id).where(models.Benefit.key == claim.benefit_key)) is None:
        raise BenefitsError(
            f"claim {claim_id}: benefit {claim.benefit_key} is no longer in the register; "
            "an orphan claim cannot be decided"
        )
    versions = list(
        session.scalars(
            select(models.ClaimVersion).where(models.ClaimVersion.claim_id == claim_id).order_by(models.ClaimVersion.id)
        )
    )
    if user in {claim.created_by, *(v.created_by for v in versions)} and not claimant_may_decide(session):
        raise NotAllowed(f"claim {claim_id}: {user} recorded it; a claim is decided by someone other than its claimant")
    if not versions:
        raise BenefitsError(f"claim {claim_id}: no recorded value to decide on")
    version = versions[-1]
    if reviewed is not None and reviewed != version.id:
        _check_reviewed(claim_id, reviewed, versions)
    row = models.ClaimDecision(
        claim_id=claim_id,
        decision=decision.value,
        decided_by=user,
        role=role,
        comment=comment.strip(),
        claim_version_id=version.id,
        claimed_value=version.claimed_value,
    )
    session.add(row)
    session.flush()
    return row


def _check_reviewed(claim_id: int, reviewed: int, versions: list[models.ClaimVersion]) -> None:
    """BenefitsError: the version reviewed is not the claim's latest (restated since), or not one of its own."""
    latest = versions[-1]
    seen = next((v for v in versions if v.id == reviewed), None)
    if seen is None:
        numbers = ", ".join(str(v.id) for v in versions)
        raise BenefitsError(
            f"claim {claim_id} has no version {reviewed} (its versions: {numbers}; `benefits claims history "
            f"{claim_id}` lists them)"
        )
    by = f" by {latest.created_by}" if latest.created_by else ""
    raise BenefitsError(
        f"claim {claim_id} was restated since version {reviewed} ({plain(seen.claimed_value)} {seen.claim_class}): "
        f"its latest is version {latest.id}, {plain(latest.claimed_value)} {latest.claim_class}, recorded{by} "
        f"at {latest.recorded_at:%Y-%m-%d %H:%M}; nothing was decided: review it (`benefits claims history "
        f"{claim_id}`) and decide with --version {latest.id}"
    )


def claimant_may_decide(session: Session) -> bool:
    """True once an admin has allowed claimants to decide their own claims (and not forbidden it again)."""
    return bool(
        session.scalar(
            select(models.SignOffSetting.claimant_may_decide).order_by(models.SignOffSetting.id.desc()).limit(1)
        )
    )


def set_claimant_may_decide(
    session: Session, allowed: bool, user: str, role: str, comment: str
) -> models.SignOffSetting:
    """Record an admin's change of the separation-of-duties rule; the comment says why."""
    if role != "admin":
        raise NotAllowed(f"{user} has role {role}; changing the sign-off rules needs role admin")
    if not comment.strip():
        raise BenefitsError("comment: say why the sign-off rule changes")
    row = models.SignOffSetting(claimant_may_decide=allowed, set_by=user, role=role, comment=comment.strip())
    session.add(row)
    session.flush()
    return row


def setting_history(session: Session) -> list[models.SignOffSetting]:
    """Every change of the sign-off rules, oldest first."""
    return list(session.scalars(select(models.SignOffSetting).order_by(models.SignOffSetting.id)))


def history(session: Session, claim_id: int) -> list[models.ClaimDecision]:
    """Every decision on a claim, oldest first (one since migration 0011; older claims may hold more)."""
    query = select(models.ClaimDecision).where(models.ClaimDecision.claim_id == claim_id)
    return list(session.scalars(query.order_by(models.ClaimDecision.id)))


def state(decisions: Sequence[models.ClaimDecision]) -> str:
    """``approved``, ``rejected`` (the latest decision) or ``pending``."""
    return decisions[-1].decision if decisions else PENDING
