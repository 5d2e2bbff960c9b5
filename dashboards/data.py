"""The store connection the pages read through: set once by ``create_app``, used by every page.

Pages never import the app; they ask this module for a session. One engine serves one app
process, so the session factory is kept here when the app is created.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

_factory: sessionmaker[Session] | None = None


def configure(factory: sessionmaker[Session]) -> None:
    """Use ``factory`` for every page of this process (called by ``benefits.dashboards.app.create_app``)."""
    global _factory
    _factory = factory


@contextmanager
def session() -> Iterator[Session]:
    """A read session on the dashboard's store, closed when the block ends."""
    if _factory is None:
        raise RuntimeError("the dashboard has no store: create the app with benefits.dashboards.app.create_app()")
    with _factory() as opened:
        yield opened
