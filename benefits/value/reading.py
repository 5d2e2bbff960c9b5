"""Reading the business cases' inputs from the store: a handful of queries for the whole portfolio.

The register (initiatives with their investment, benefits as declared), every observation of
the benefits' metrics up to the as-of date (one value per period, the most recently loaded, as
``repository.observation_points`` keeps it) and the latest finished forecast run's paths.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from benefits import realisation
from benefits.claims.money import from_float
from benefits.register import Benefit, Investment
from benefits.store import models, repository
from benefits.value.cases import BenefitSeries, InitiativeInput, PathPoint, Settings


def settings(session: Session) -> Settings:
    """The register's finance settings as stored (GBP and the defaults before a register is loaded)."""
    row = repository.portfolio(session)
    return Settings.from_stored(row.currency if row else "GBP", row.finance if row else None)


def forecast_paths(session: Session, as_of: dt.date | None = None) -> dict[str, list[PathPoint]]:
    """The latest finished forecast run's weekly path per benefit key (empty without a run), its
    periods parsed once: (period, lower, yhat, upper). With ``as_of``, the run of the latest date at
    or before it, as `benefits status` shows (never a later run's, forecast from data not there yet)."""
    run, _ = repository.latest_and_previous_runs(session, as_of)
    if run is None:
        return {}
    f = models.Forecast
    rows = session.execute(select(f.benefit_key, f.path).where(f.forecast_run_id == run.id))
    return {
        key: [(dt.date.fromisoformat(p["period"]), p["lower"], p["yhat"], p["upper"]) for p in path or []]
        for key, path in rows
    }


def initiatives(session: Session, as_of: dt.date) -> list[InitiativeInput]:
    """Every stored initiative (in register order) with its investment, the readings of its spend metric
    (up to ``as_of``) and its benefits' series."""
    stored = session.scalars(select(models.Initiative).order_by(models.Initiative.id)).all()
    benefits = session.scalars(select(models.Benefit).order_by(models.Benefit.id)).all()
    investments = {row.id: _investment(row) for row in stored}
    spending = {investment.metric for investment in investments.values() if investment.metric}
    points = repository.observation_points(session, {b.metric for b in benefits} | spending, as_of)
    paths = forecast_paths(session, as_of)
    by_initiative: dict[int, list[BenefitSeries]] = defaultdict(list)
    for row in benefits:
        benefit = Benefit.model_validate(row.spec)
        observed = realisation.improvements(benefit, points.get(row.metric, []))
        by_initiative[row.initiative_id].append(
            BenefitSeries(benefit, row.start_date, observed, paths.get(row.key, []))
        )
    return [
        InitiativeInput(row.key, row.name, investment, by_initiative.get(row.id, []), spent)
        for row in stored
        for investment in [investments[row.id]]
        for spent in [points.get(investment.metric, []) if investment.metric else []]
    ]


def _investment(row: models.Initiative) -> Investment:
    """The investment as declared; a store loaded before migration 0013 has only the one-off total."""
    if row.investment_plan is not None:
        return Investment.model_validate(row.investment_plan)
    return Investment.model_validate(from_float(row.investment) if row.investment else Decimal(0))
