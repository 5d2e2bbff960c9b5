"""The forecast stage: forecast every stored benefit, in parallel, and keep the run."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from benefits.forecast.model import BenefitForecast, ForecastSettings, fingerprint, forecast_benefit, quiet_prophet
from benefits.register import Benefit
from benefits.store import models, repository


@dataclass(frozen=True)
class ForecastJob:
    """Everything one benefit's forecast needs; picklable, so it can go to another process."""

    key: str
    benefit: Benefit
    start: dt.date
    observations: pd.DataFrame
    as_of: dt.date
    settings: ForecastSettings


@dataclass(frozen=True)
class ForecastRunReport:
    """Summary of one forecast run."""

    run_id: int
    benefits: int
    by_status: dict[str, int]


def default_workers() -> int:
    """All cores."""
    return os.cpu_count() or 1


def forecast_all(
    sessions: sessionmaker[Session],
    as_of: dt.date,
    settings: ForecastSettings | None = None,
    workers: int | None = None,
    progress: Callable[[str, BenefitForecast], None] | None = None,
) -> ForecastRunReport:
    """Forecast every stored benefit and store the run with one Forecast per benefit."""
    settings = settings or ForecastSettings()
    with sessions() as session:
        jobs = list(_jobs(session, as_of, settings))
    results: dict[str, BenefitForecast] = {}
    for key, result in _run(jobs, workers or default_workers()):
        results[key] = result
        if progress:
            progress(key, result)
    with sessions.begin() as session:
        run = models.ForecastRun(as_of=as_of, benefits_count=len(jobs), finished_at=dt.datetime.now(dt.timezone.utc))
        run.failed_count = sum(r.message.startswith("forecast failed") for r in results.values())
        run.forecasts = [_row(job, results[job.key]) for job in jobs]
        session.add(run)
    counts: dict[str, int] = {}
    for result in results.values():
        counts[result.status] = counts.get(result.status, 0) + 1
    return ForecastRunReport(run.id, len(jobs), counts)


def _jobs(session: Session, as_of: dt.date, settings: ForecastSettings) -> Iterator[ForecastJob]:
    series: dict[str, pd.DataFrame] = {}
    for row in repository.benefits(session):
        if row.metric not in series:
            series[row.metric] = repository.observations(session, row.metric)
        benefit = repository.declared_benefit(row)
        yield ForecastJob(row.key, benefit, row.start_date, series[row.metric], as_of, settings)


def _run(jobs: list[ForecastJob], workers: int) -> Iterator[tuple[str, BenefitForecast]]:
    if workers <= 1 or len(jobs) <= 1:
        quiet_prophet()
        for job in jobs:
            yield _forecast(job)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=quiet_prophet) as pool:
        yield from pool.map(_forecast, jobs)


def _forecast(job: ForecastJob) -> tuple[str, BenefitForecast]:
    return job.key, forecast_benefit(job.benefit, job.start, job.observations, job.as_of, job.settings)


def _row(job: ForecastJob, result: BenefitForecast) -> models.Forecast:
    return models.Forecast(
        benefit_key=job.key,
        status=result.status,
        message=result.message,
        points=result.points,
        p_on_time=result.p_on_time,
        expected_landing=result.expected_landing,
        forecast_at_target_date=result.forecast_at_target_date,
        lower_at_target_date=result.lower_at_target_date,
        upper_at_target_date=result.upper_at_target_date,
        path=result.path,
        fingerprint=fingerprint(job.benefit, job.start, job.observations, job.as_of, job.settings),
    )
