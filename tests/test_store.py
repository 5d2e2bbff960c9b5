"""The store on a real SQLite file and on the real PostgreSQL server: migrations, register, upserts."""

from __future__ import annotations

import datetime as dt

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select

from benefits.register import load_register
from benefits.store import db, migrate, models, repository, revisions

from .conftest import DEMO_CONFIG


def test_migrations_reach_head_and_match_the_models(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    assert revisions.database_schema(engine).revision == migrate.head_revision()
    assert {"benefits", "observations", "sync_runs", "quarantine", "forecasts"} <= set(
        inspect(engine).get_table_names()
    )
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), models.Base.metadata
        )
    assert diff == [], f"models changed without a migration: {diff}"
    engine.dispose()


def test_register_saved_twice_stays_one_copy(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    register = load_register(DEMO_CONFIG)
    for _ in range(2):
        with sessions.begin() as session:
            repository.save_register(session, register)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Benefit)) == 30
        assert session.scalar(select(func.count()).select_from(models.Initiative)) == 10
        milestone_benefit = session.scalar(select(models.Benefit).where(models.Benefit.key == "crm-upsell-revenue"))
        assert milestone_benefit.start_date == dt.date(2025, 11, 3)
        assert repository.declared_benefit(milestone_benefit).starts_after == "go-live"
        used = session.scalars(select(models.Metric.name).where(models.Metric.used)).all()
        assert "ops.cost_per_order" in used
    engine.dispose()


def test_any_change_of_the_portfolio_row_moves_its_updated_at(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    with sessions.begin() as session:
        repository.save_register(session, load_register(DEMO_CONFIG))
    with sessions() as session:
        saved = session.scalars(select(models.Portfolio)).one().updated_at
    with sessions.begin() as session:
        session.scalars(select(models.Portfolio)).one().currency = "EUR"  # a change that is not a register save
    with sessions() as session:
        changed = session.scalars(select(models.Portfolio)).one().updated_at
    assert changed > saved  # readers that keep results per data version see the register changed
    engine.dispose()


def test_loading_is_idempotent_and_a_restated_value_keeps_its_old_revision(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    rows = [
        {"metric": "m", "period": dt.date(2026, 1, 5) + dt.timedelta(weeks=w), "value": float(w), "unit": "GBP"}
        for w in range(5)
    ]
    counts = []
    with sessions.begin() as session:
        first, second = (
            models.SyncRun(connector="c", connector_type="demo"),
            models.SyncRun(connector="c", connector_type="demo"),
        )
        session.add_all([first, second])
        session.flush()
        counts.append(repository.load_observations(session, "c", first.id, rows))
        counts.append(repository.load_observations(session, "c", first.id, rows))
        counts.append(repository.load_observations(session, "c", second.id, [{**rows[2], "value": 99.0}, rows[3]]))
    assert counts == [repository.LoadCounts(5, 0, 0), repository.LoadCounts(0, 0, 5), repository.LoadCounts(0, 1, 1)]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Observation)) == 5
        series = repository.observations(session, "m")
        history = repository.revisions(session, "m")
    assert list(series["value"]) == [0.0, 1.0, 99.0, 3.0, 4.0]
    assert [(h.period, h.value, h.sync_run_id, h.replaced_by_sync_run_id) for h in history] == [
        (dt.date(2026, 1, 19), 2.0, first.id, second.id)
    ]
    engine.dispose()


def test_bookmark_only_moves_forward(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    with sessions.begin() as session:
        assert repository.bookmark(session, "c") is None
        repository.advance_bookmark(session, "c", dt.date(2026, 3, 2))
    with sessions.begin() as session:
        repository.advance_bookmark(session, "c", dt.date(2026, 1, 5))
    with sessions() as session:
        assert repository.bookmark(session, "c") == dt.date(2026, 3, 2)
    engine.dispose()


def test_a_value_that_is_not_a_finite_number_is_never_stored(database_url: str) -> None:
    # Validation quarantines such values; this is the store's own guard (PostgreSQL would keep a NaN).
    import pytest

    from benefits.errors import BenefitsError

    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    good = {"metric": "m", "period": dt.date(2026, 1, 5), "value": 1.0, "unit": "GBP"}
    for bad in (float("nan"), float("inf"), None, "12", True):
        later = {**good, "period": dt.date(2026, 1, 12), "value": bad}
        with pytest.raises(BenefitsError) as refused, sessions.begin() as session:
            run = models.SyncRun(connector="c", connector_type="demo")
            session.add(run)
            session.flush()
            repository.load_observations(session, "c", run.id, [good, later])
        assert str(refused.value) == f"refused to store m 2026-01-12: its value {bad!r} is not a finite number"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Observation)) == 0
    engine.dispose()
