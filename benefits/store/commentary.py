"""SQLAlchemy models of the commentary, actions and risks kept per benefit (migration 0017).

Every table is append-only: database triggers refuse UPDATE and DELETE (and TRUNCATE on
PostgreSQL), and the ORM events below refuse them before they reach the database. Closing an
action or a risk is a new row in its closures table, never a change of the action or the risk.
Rows name their benefit by key, as claims do, so they outlive a register that drops the benefit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, event, func
from sqlalchemy.orm import Mapped, mapped_column

from benefits.store.models import Base

LIKELIHOOD_COMMENT = "1 rare, 2 unlikely, 3 possible, 4 likely, 5 almost certain"
IMPACT_COMMENT = "1 negligible, 2 minor, 3 moderate, 4 major, 5 severe"


class BenefitNote(Base):
    """One line of commentary on a benefit (the latest is this week's)."""

    __tablename__ = "benefit_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_key: Mapped[str] = mapped_column(String(100), index=True)
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    written_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BenefitAction(Base):
    """An action on a benefit: what, who owns it, by when; open until a closure row says done."""

    __tablename__ = "benefit_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_key: Mapped[str] = mapped_column(String(100), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due_date: Mapped[dt.date] = mapped_column(Date)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BenefitActionClosure(Base):
    """An action marked done: by whom and when (at most one per action)."""

    __tablename__ = "benefit_action_closures"
    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("benefit_actions.id"), unique=True)
    closed_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BenefitRisk(Base):
    """A risk to a benefit: likelihood and impact on a 1-5 scale, and its mitigation; open until closed."""

    __tablename__ = "benefit_risks"
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_key: Mapped[str] = mapped_column(String(100), index=True)
    text: Mapped[str] = mapped_column(Text)
    likelihood: Mapped[int] = mapped_column(Integer, comment=LIKELIHOOD_COMMENT)
    impact: Mapped[int] = mapped_column(Integer, comment=IMPACT_COMMENT)
    mitigation: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BenefitRiskClosure(Base):
    """A risk closed: by whom and when (at most one per risk)."""

    __tablename__ = "benefit_risk_closures"
    id: Mapped[int] = mapped_column(primary_key=True)
    risk_id: Mapped[int] = mapped_column(ForeignKey("benefit_risks.id"), unique=True)
    closed_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


APPEND_ONLY = (BenefitNote, BenefitAction, BenefitActionClosure, BenefitRisk, BenefitRiskClosure)
"""The models whose rows are never changed or deleted."""


def _refuse_change(_mapper: Any, _connection: Any, target: Any) -> None:
    """No ORM path edits or deletes commentary, actions, risks or their closures."""
    raise PermissionError(f"{target.__tablename__} row {target.id} is append-only: it cannot be changed or deleted")


for _model in APPEND_ONLY:
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
