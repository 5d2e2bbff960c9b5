"""The conformance kit's restatement test: a value restated at the source is synced again and counted as restated.

The kit cannot change a vendor's source, so the vendor's ``conftest.py`` offers a fixture,
``benefits_restate``: a function that takes a record of the first run and changes its value at
the source, as a correction would (marking it updated now), and that undoes the change when the
test ends. The test syncs the connector twice with the sync's own runner
(:func:`benefits.sync.runner.sync_connector`) into a throwaway SQLite store, restating the record
of the earliest period in between, so the second sync starts from a bookmark later than that
period: only a connector that asks for what was *updated* since the bookmark (or re-sends
everything) yields it again. The runner's own counts judge the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benefits.plugins.connector import SyncContext
from benefits.testing.suite import ConnectorTests, record_period

#: The name of the fixture a vendor's conftest.py defines to restate a record at the source.
RESTATE_FIXTURE = "benefits_restate"
Restate = Callable[[dict[str, Any]], None]


class RestatementTests(ConnectorTests):
    """The restatement test; :func:`~benefits.testing.get_connector_tests` adds it to every connector's class."""

    __test__ = False

    def test_a_restated_record_is_synced_again_and_counted_as_restated(
        self, context: SyncContext, records: list[Any], request: pytest.FixtureRequest, tmp_path: Path
    ) -> None:
        """After the source restates the earliest period's value, the next sync (from its bookmark) yields
        that record again and the sync counts exactly one row restated."""
        try:
            restate: Restate = request.getfixturevalue(RESTATE_FIXTURE)
        except pytest.FixtureLookupError:
            pytest.skip(
                f"no `{RESTATE_FIXTURE}` fixture: define one in conftest.py that changes a record's value at the "
                "source (see 'Testing your connector' in docs/plugins.md) to test restatements"
            )
        periods = {id(r): p for r in records if isinstance(r, dict) and (p := record_period(r)) is not None}
        assert periods, "no record has an ISO date period (YYYY-MM-DD): nothing to restate"
        target = next(r for r in records if periods.get(id(r)) == min(periods.values()))
        sync = _syncer(self, context, tmp_path)
        first = sync()
        assert first.status == "succeeded", f"the first sync failed: {first.error}"
        restate(dict(target))
        second = sync()
        assert second.status == "succeeded", f"the sync after the restatement failed: {second.error}"
        counts = (
            f"{second.rows_new} new, {second.rows_restated} restated, {second.rows_unchanged} unchanged, "
            f"{second.rows_quarantined} quarantined"
        )
        assert second.rows_restated == 1, (
            f"after {RESTATE_FIXTURE} changed {target.get('metric')} {target.get('period')} at the source, the "
            f"next sync (bookmark {max(periods.values())}) counted {counts}; "
            "expected 1 restated: fetch what was updated since the bookmark (updated_since), not only later "
            "periods, and check that the fixture changes the value"
        )


def _syncer(tests: ConnectorTests, context: SyncContext, tmp_path: Path) -> Callable[[], Any]:
    """A function that syncs a new instance of the connector into one SQLite store, as ``benefits sync`` does."""
    from benefits.store import db, migrate
    from benefits.sync.runner import sync_connector

    engine = db.make_engine(f"sqlite:///{tmp_path / 'restatement.db'}")
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)

    def sync() -> Any:
        return sync_connector(sessions, tests._new(context), context.as_of)

    return sync
