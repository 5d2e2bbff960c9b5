"""Every reader of observations (`benefits value`, `benefits status`, the forecast, the dashboard) keeps
one value per period, the most recently loaded, whichever source loaded it (SQLite and PostgreSQL):
``repository._latest_loads``, the one place the rule is written."""

from __future__ import annotations

import datetime as dt

from benefits.store import migrate, models, repository
from benefits.store.db import make_engine, session_factory


def test_the_most_recently_loaded_value_of_a_period_wins_whatever_its_source(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    june, july, august = dt.date(2026, 6, 29), dt.date(2026, 7, 27), dt.date(2026, 8, 31)
    loads = [  # (source, period, value), in the order they are loaded
        ("zeta", june, 1.0),
        ("alpha", june, 2.0),  # loaded later, though its source sorts first: it wins
        ("alpha", july, 3.0),
        ("zeta", july, 4.0),  # loaded later and sorts last: it wins
        ("mid", july, 3.5),  # loaded last of all: it wins
        ("alpha", august, 5.0),  # after the as-of date: left out
        ("alpha", june, 9.0),  # another metric
    ]
    with session_factory(engine)() as session:
        run = models.SyncRun(connector="test", connector_type="csv", status="succeeded")
        session.add(run)
        session.flush()
        for n, (source, period, value) in enumerate(loads):
            metric = "ledger.other" if n == len(loads) - 1 else "ledger.it_opex"
            session.add(
                models.Observation(
                    metric=metric, period=period, value=value, unit="GBP", source=source, sync_run_id=run.id
                )
            )
            session.flush()  # one id after another, in load order
        session.commit()
        found = repository.observation_points(session, {"ledger.it_opex", "ledger.other"}, dt.date(2026, 7, 31))
        assert found == {"ledger.it_opex": [(june, 2.0), (july, 3.5)], "ledger.other": [(june, 9.0)]}
        everything = repository.observation_points(session, ["ledger.it_opex"])["ledger.it_opex"]
        assert everything == [(june, 2.0), (july, 3.5), (august, 5.0)]  # no as-of date: every period
        frames = repository.observations_of(session, ["ledger.it_opex", "ledger.none"])
        assert frames["ledger.it_opex"]["value"].tolist() == [2.0, 3.5, 5.0]
        assert frames["ledger.it_opex"]["period"].dt.date.tolist() == [june, july, august]
        assert frames["ledger.none"].empty
    engine.dispose()
