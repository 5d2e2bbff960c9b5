"""The digests delivered (``digest_deliveries``): which owner's digest went where for a date, so that
`benefits digest` run again sends only what was not delivered (``benefits.digest``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from benefits.store.models import DigestDelivery


def delivered(session: Session, as_of: dt.date, contents: Iterable[str]) -> dict[str, dt.datetime]:
    """When each of ``contents`` (see :class:`~benefits.store.models.DigestDelivery`) was first delivered for
    ``as_of``; those never delivered are left out."""
    wanted = set(contents)
    rows = session.execute(
        select(DigestDelivery.content, DigestDelivery.sent_at)
        .where(DigestDelivery.as_of == as_of)
        .order_by(DigestDelivery.id)
    )
    found: dict[str, dt.datetime] = {}
    for content, sent_at in rows:
        if content in wanted:
            found.setdefault(content, sent_at)
    return found


def record(session: Session, as_of: dt.date, owner: str, channel: str, recipient: str, content: str) -> None:
    """Keep one delivered digest."""
    session.add(
        DigestDelivery(as_of=as_of, owner=owner[:200], channel=channel, recipient=recipient[:320], content=content)
    )
