"""Finance sign-off: approve or reject a claim with a comment; decisions are append-only.

A decision is only ever inserted. The ORM refuses to update or delete one (events on
:class:`benefits.store.models.ClaimDecision`) and so does the database (triggers created by
migration 0005 on PostgreSQL and SQLite). A claim's state is its latest decision, ``pending``
before the first; only approved claims count as validated value.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from benefits.claims import PENDING, SIGN_OFF_ROLES, Decision
from benefits.errors import BenefitsError
from benefits.store import models


class NotAllowed(BenefitsError):
    """The user's role may not sign claims off."""

    exit_code = 3


def can_sign_off(role: str) -> bool:
    """True for the finance role (and admin, which holds every role)."""
    return role == "admin" or role in SIGN_OFF_ROLES


def decide(session: Session, claim_id: int, decision: Decision, user: str, role: str, comment: str) -> models.ClaimDecision:
    """Append a decision on claim ``claim_id`` by ``user`` acting as ``role``; the comment says why."""
    if not can_sign_off(role):
        raise NotAllowed(f"{user} has role {role}; approving or rejecting a claim needs role finance")
    if not comment.strip():
        raise BenefitsError(f"comment: say why claim {claim_id} is {decision.value}")
    if session.get(models.Claim, claim_id) is None:
        raise BenefitsError(f"claim {claim_id}: no such claim (see `benefits claims list`)")
    row = models.ClaimDecision(claim_id=claim_id, decision=decision.value, decided_by=user, role=role,
                               comment=comment.strip())
    session.add(row)
    session.flush()
    return row


def history(session: Session, claim_id: int) -> list[models.ClaimDecision]:
    """Every decision on a claim, oldest first."""
    query = select(models.ClaimDecision).where(models.ClaimDecision.claim_id == claim_id)
    return list(session.scalars(query.order_by(models.ClaimDecision.id)))


def state(decisions: Sequence[models.ClaimDecision]) -> str:
    """``approved``, ``rejected`` (the latest decision) or ``pending``."""
    return decisions[-1].decision if decisions else PENDING
