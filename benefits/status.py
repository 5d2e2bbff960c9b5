"""The status of every benefit: planned and realised to date, and its latest forecast."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from benefits import realisation
from benefits.staleness import stale_metrics
from benefits.store import models, repository

STATUSES = ("achieved", "on_track", "at_risk", "off_track", "insufficient_data", "no_data", "data_stale")


@dataclass(frozen=True)
class StatusRow:
    """One benefit's line in `benefits status` (JSON field names are a public contract)."""

    benefit: str
    name: str
    initiative: str
    programme: str
    category: str
    tactic: str
    owner: str
    metric: str
    unit: str
    direction: str
    dis_benefit: bool
    baseline: float
    target: float
    target_date: str
    planned_to_date: float
    realised_to_date: float | None
    percent_realised: float | None
    planned_value: float
    realised_value: float
    forecast_at_target_date: float | None
    p_on_time: float | None
    expected_landing: str | None
    status: str
    previous_status: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON-safe dict."""
        return asdict(self)


def status_rows(session: Session, as_of: dt.date | None = None) -> list[StatusRow]:
    """Every stored benefit's status at ``as_of`` (default today), using the latest forecast run."""
    as_of = as_of or dt.date.today()
    latest_run, previous_run = repository.latest_and_previous_runs(session)
    latest = repository.forecasts_of(session, latest_run)
    previous = repository.forecasts_of(session, previous_run)
    cache: dict[str, Any] = {}
    stale = {m.metric: m for m in stale_metrics(session, as_of)}
    rows = []
    for row in repository.benefits(session):
        if row.metric not in cache:
            cache[row.metric] = repository.observation_points(session, row.metric)
        built = _status_row(row, cache[row.metric], latest.get(row.key), previous.get(row.key), as_of)
        if row.metric in stale:  # no confident forecast from data that stopped coming (benefits.staleness)
            built = replace(built, status="data_stale", message=stale[row.metric].message(),
                            forecast_at_target_date=None, p_on_time=None, expected_landing=None)
        rows.append(built)
    return rows


def changed(rows: list[StatusRow]) -> list[StatusRow]:
    """The rows whose status differs from the previous forecast run's (`benefits status --changes`).

    A benefit that the previous run did not forecast (new in the register) has no previous status
    and is not listed."""
    return [row for row in rows if row.previous_status is not None and row.previous_status != row.status]


def _status_row(
    row: models.Benefit,
    observations: Any,
    forecast: models.Forecast | None,
    previous: models.Forecast | None,
    as_of: dt.date,
) -> StatusRow:
    benefit = repository.declared_benefit(row)
    planned = realisation.planned_to_date(benefit, row.start_date, as_of)
    realised = realisation.realised_to_date(benefit, observations, as_of)
    initiative = row.initiative
    return StatusRow(
        benefit=row.key,
        name=row.name,
        initiative=initiative.key,
        programme=initiative.programme.key,
        category=row.category,
        tactic=initiative.tactic,
        owner=row.owner,
        metric=row.metric,
        unit=row.unit,
        direction=row.direction,
        dis_benefit=row.dis_benefit,
        baseline=row.baseline_value,
        target=row.target_value,
        target_date=row.target_date.isoformat(),
        planned_to_date=round(planned, 4),
        realised_to_date=None if realised is None else round(realised, 4),
        percent_realised=_rounded(realisation.percent_realised(benefit, realised), 1),
        planned_value=round(realisation.money_value(benefit, planned), 2),
        realised_value=round(realisation.money_value(benefit, realised), 2),
        forecast_at_target_date=_rounded(forecast.forecast_at_target_date if forecast else None, 4),
        p_on_time=_rounded(forecast.p_on_time if forecast else None, 3),
        expected_landing=forecast.expected_landing.isoformat() if forecast and forecast.expected_landing else None,
        status=forecast.status if forecast else "no_data",
        previous_status=previous.status if previous else None,
        message=forecast.message if forecast else "not forecast yet: run `benefits forecast`",
    )


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
