"""Commentary, actions and risks per benefit: what the PMO says about a benefit each week, what is being
done about it and what could go wrong (`benefits note|action|risk`, the benefit page, the pack, the digest).

Everything is kept for good with its author and time (the tables are append-only, see
``benefits.store.commentary``): a new note does not replace the last one, it becomes the latest;
an action is done, and a risk closed, by a closure row. An action is **overdue** at a date when it
is still open and its due date is before that date.

Risks are scored on two 1-5 scales, :data:`LIKELIHOOD` and :data:`IMPACT`; their product (1-25)
orders the open risks, the largest first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benefits.errors import BenefitsError
from benefits.store.commentary import (
    BenefitAction,
    BenefitActionClosure,
    BenefitNote,
    BenefitRisk,
    BenefitRiskClosure,
)
from benefits.store.models import Benefit

UNKNOWN_AUTHOR = "unknown"
"""The author of an entry given with an empty name (as ``benefits.users.acting_user`` says when it knows no one)."""
LIKELIHOOD = {1: "rare", 2: "unlikely", 3: "possible", 4: "likely", 5: "almost certain"}
"""A risk's likelihood: 1-5 and its words."""
IMPACT = {1: "negligible", 2: "minor", 3: "moderate", 4: "major", 5: "severe"}
"""A risk's impact on the benefit if it happens: 1-5 and its words."""


class NotFound(BenefitsError):
    """A benefit, action or risk that the store does not hold."""


class AlreadyClosed(BenefitsError):
    """An action already done, or a risk already closed."""


@dataclass(frozen=True)
class Note:
    """One commentary line on a benefit."""

    id: int
    benefit: str
    text: str
    author: str
    written_at: dt.datetime

    def line(self) -> str:
        """The note, who wrote it and when: ``On track again (pat, 2026-11-30)``."""
        return f"{self.text} ({self.author}, {self.written_at:%Y-%m-%d})"


@dataclass(frozen=True)
class Action:
    """An action on a benefit and whether it is done, and overdue at the date it was read at."""

    id: int
    benefit: str
    text: str
    owner: str
    due: dt.date
    author: str
    created_at: dt.datetime
    done_by: str | None
    done_at: dt.datetime | None
    overdue: bool

    @property
    def state(self) -> str:
        """``done``, ``overdue`` or ``open``."""
        return "done" if self.done_at else "overdue" if self.overdue else "open"

    def line(self) -> str:
        """The action, its owner and due date, flagged when overdue: ``Chase vendor (Bob, due 2026-01-10, OVERDUE)``."""
        return f"{self.text} ({self.owner}, due {self.due.isoformat()}{', OVERDUE' if self.overdue else ''})"


@dataclass(frozen=True)
class Risk:
    """A risk to a benefit, its score (likelihood × impact) and whether it is closed."""

    id: int
    benefit: str
    text: str
    likelihood: int
    impact: int
    mitigation: str
    author: str
    created_at: dt.datetime
    closed_by: str | None
    closed_at: dt.datetime | None

    @property
    def score(self) -> int:
        """Likelihood × impact, 1-25."""
        return self.likelihood * self.impact

    @property
    def rating(self) -> str:
        """The scores in words: ``likely (4) × major (4)``."""
        return f"{LIKELIHOOD[self.likelihood]} ({self.likelihood}) × {IMPACT[self.impact]} ({self.impact})"

    def line(self) -> str:
        """The risk, its rating and mitigation."""
        return f"{self.text} ({self.rating}; mitigation: {self.mitigation})"


@dataclass(frozen=True)
class BenefitCommentary:
    """What the benefit page and the pack show of one benefit: the latest note, open actions and risks."""

    latest_note: Note | None
    open_actions: list[Action]
    open_risks: list[Risk]

    @property
    def overdue_actions(self) -> list[Action]:
        """The open actions past their due date."""
        return [a for a in self.open_actions if a.overdue]

    @property
    def empty(self) -> bool:
        """True when the benefit has no note, no open action and no open risk."""
        return not (self.latest_note or self.open_actions or self.open_risks)


def add_note(session: Session, benefit: str, text: str, author: str) -> int:
    """Record a commentary line on ``benefit`` by ``author``; its id."""
    row = BenefitNote(benefit_key=_known_benefit(session, benefit), text=_line(text, "note"), author=_who(author))
    session.add(row)
    session.flush()
    return row.id


def add_action(session: Session, benefit: str, text: str, owner: str, due: dt.date, author: str) -> int:
    """Record an open action on ``benefit``: ``owner`` does ``text`` by ``due``; its id."""
    row = BenefitAction(
        benefit_key=_known_benefit(session, benefit),
        text=_line(text, "action"),
        owner=_line(owner, "owner"),
        due_date=due,
        author=_who(author),
    )
    session.add(row)
    session.flush()
    return row.id


def close_action(session: Session, action_id: int, by: str) -> str:
    """Mark action ``action_id`` done by ``by``; its benefit's key."""
    return _close(session, _ACTIONS, action_id, by)


def add_risk(
    session: Session, benefit: str, text: str, likelihood: int, impact: int, mitigation: str, author: str
) -> int:
    """Record an open risk to ``benefit`` with its ``likelihood`` and ``impact`` (1-5 each); its id."""
    for name, value in (("likelihood", likelihood), ("impact", impact)):
        if value not in LIKELIHOOD:
            raise BenefitsError(f"{name}: {value} is not on the 1-5 scale")
    row = BenefitRisk(
        benefit_key=_known_benefit(session, benefit),
        text=_line(text, "risk"),
        likelihood=likelihood,
        impact=impact,
        mitigation=_line(mitigation, "mitigation"),
        author=_who(author),
    )
    session.add(row)
    session.flush()
    return row.id


def close_risk(session: Session, risk_id: int, by: str) -> str:
    """Close risk ``risk_id`` (it passed, or its mitigation worked) by ``by``; its benefit's key."""
    return _close(session, _RISKS, risk_id, by)


def notes(session: Session, benefit: str | None = None) -> list[Note]:
    """Every commentary line, newest first; only ``benefit``'s when given."""
    query = select(BenefitNote).order_by(BenefitNote.written_at.desc(), BenefitNote.id.desc())
    if benefit is not None:
        query = query.where(BenefitNote.benefit_key == benefit)
    return [_note(row) for row in session.scalars(query)]


def actions(
    session: Session, as_of: dt.date, *, benefit: str | None = None, include_done: bool = False
) -> list[Action]:
    """The open actions (every action with ``include_done``), by due date; only ``benefit``'s when given."""
    query = (
        select(BenefitAction, BenefitActionClosure)
        .outerjoin(BenefitActionClosure, BenefitActionClosure.action_id == BenefitAction.id)
        .order_by(BenefitAction.due_date, BenefitAction.id)
    )
    if benefit is not None:
        query = query.where(BenefitAction.benefit_key == benefit)
    if not include_done:
        query = query.where(BenefitActionClosure.id.is_(None))
    return [_action(row, closure, as_of) for row, closure in session.execute(query)]


def risks(session: Session, *, benefit: str | None = None, include_closed: bool = False) -> list[Risk]:
    """The open risks (every risk with ``include_closed``), the highest score first; only ``benefit``'s when given."""
    query = select(BenefitRisk, BenefitRiskClosure).outerjoin(
        BenefitRiskClosure, BenefitRiskClosure.risk_id == BenefitRisk.id
    )
    if benefit is not None:
        query = query.where(BenefitRisk.benefit_key == benefit)
    if not include_closed:
        query = query.where(BenefitRiskClosure.id.is_(None))
    found = [_risk(row, closure) for row, closure in session.execute(query)]
    return sorted(found, key=lambda r: (-r.score, r.id))


def overdue_counts(session: Session, as_of: dt.date, benefits: Iterable[str] | None = None) -> dict[str, int]:
    """How many open actions each benefit has past their due date at ``as_of`` (benefits without: absent)."""
    query = (
        select(BenefitAction.benefit_key, func.count())
        .outerjoin(BenefitActionClosure, BenefitActionClosure.action_id == BenefitAction.id)
        .where(BenefitActionClosure.id.is_(None), BenefitAction.due_date < as_of)
        .group_by(BenefitAction.benefit_key)
    )
    if benefits is not None:
        query = query.where(BenefitAction.benefit_key.in_(list(benefits)))
    return {key: count for key, count in session.execute(query)}


def for_benefit(session: Session, benefit: str, as_of: dt.date) -> BenefitCommentary:
    """``benefit``'s latest note, open actions and open risks at ``as_of``."""
    latest = session.scalars(
        select(BenefitNote)
        .where(BenefitNote.benefit_key == benefit)
        .order_by(BenefitNote.written_at.desc(), BenefitNote.id.desc())
        .limit(1)
    ).first()
    return BenefitCommentary(
        latest_note=_note(latest) if latest else None,
        open_actions=actions(session, as_of, benefit=benefit),
        open_risks=risks(session, benefit=benefit),
    )


@dataclass(frozen=True)
class _Closable:
    """Actions or risks: the table, the table of closures (with the column naming the item), and words."""

    items: type[BenefitAction] | type[BenefitRisk]
    closures: type[BenefitActionClosure] | type[BenefitRiskClosure]
    item_column: str
    noun: str
    closed: str


_ACTIONS = _Closable(BenefitAction, BenefitActionClosure, "action_id", "action", "done")
_RISKS = _Closable(BenefitRisk, BenefitRiskClosure, "risk_id", "risk", "closed")


def _close(session: Session, kind: _Closable, item_id: int, by: str) -> str:
    """Record the closure of the open action or risk ``item_id`` by ``by``; its benefit's key. Refused
    when there is no such item or it is already closed."""
    benefit = session.scalar(select(kind.items.benefit_key).where(kind.items.id == item_id))
    if benefit is None:
        raise NotFound(f"no {kind.noun} {item_id}: `benefits {kind.noun} list --all` lists them")
    closed_item = getattr(kind.closures, kind.item_column)
    if session.scalar(select(func.count()).where(closed_item == item_id)):
        raise AlreadyClosed(f"{kind.noun} {item_id} is already {kind.closed}")
    session.add(kind.closures(**{kind.item_column: item_id, "closed_by": _who(by)}))
    session.flush()
    return benefit


def _known_benefit(session: Session, key: str) -> str:
    if session.scalar(select(Benefit.id).where(Benefit.key == key)) is None:
        raise NotFound(f"no benefit {key!r} in the register: `benefits status` lists the benefits")
    return key


def _line(text: str, field: str) -> str:
    """``text`` as one line, refused when empty."""
    line = " ".join(text.split())
    if not line:
        raise BenefitsError(f"{field}: empty; say what it is")
    return line


def _who(name: str) -> str:
    return name.strip() or UNKNOWN_AUTHOR


def _note(row: BenefitNote) -> Note:
    return Note(row.id, row.benefit_key, row.text, row.author, row.written_at)


def _action(row: BenefitAction, closure: BenefitActionClosure | None, as_of: dt.date) -> Action:
    return Action(
        id=row.id,
        benefit=row.benefit_key,
        text=row.text,
        owner=row.owner,
        due=row.due_date,
        author=row.author,
        created_at=row.created_at,
        done_by=closure.closed_by if closure else None,
        done_at=closure.closed_at if closure else None,
        overdue=closure is None and row.due_date < as_of,
    )


def _risk(row: BenefitRisk, closure: BenefitRiskClosure | None) -> Risk:
    return Risk(
        id=row.id,
        benefit=row.benefit_key,
        text=row.text,
        likelihood=row.likelihood,
        impact=row.impact,
        mitigation=row.mitigation,
        author=row.author,
        created_at=row.created_at,
        closed_by=closure.closed_by if closure else None,
        closed_at=closure.closed_at if closure else None,
    )
