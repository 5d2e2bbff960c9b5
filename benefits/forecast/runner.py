"""The forecast stage: forecast every stored benefit, in parallel or on Dask, and keep the run.

First the run learns the portfolio's track record (:mod:`benefits.forecast.track_record`): the
calibration and reference classes every forecast uses. Then each benefit's inputs are
fingerprinted (:func:`benefits.forecast.fingerprint`). When the fingerprint equals that of the
benefit's forecast in the latest run, that forecast is kept without a fit: as it is when the
calibration is also unchanged, else re-calibrated from its stored raw forecast (both count as
``reused``); otherwise a job is fitted (from the previous fit's parameters when the
``warm_start`` setting is on).
Jobs run in a local process pool (``workers``, default all cores) or, with ``scheduler``, on a
Dask distributed cluster; both give the same results, as each forecast is seeded by its inputs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from benefits.errors import BenefitsError
from benefits.forecast import conformal, fingerprints, runs, series, track_record
from benefits.forecast.messages import reason
from benefits.forecast.model import BenefitForecast, failure, forecast_benefit
from benefits.forecast.reference import ReferenceClass
from benefits.forecast.runs import ForecastRunReport, Progress
from benefits.forecast.settings import ForecastSettings
from benefits.processes import die_with_parent
from benefits.register import Benefit
from benefits.store import models, repository

_CHUNK = 4
"""Jobs sent to a worker at a time."""


@dataclass(frozen=True)
class ForecastJob:
    """Everything one benefit's forecast needs; picklable, so it can go to another process."""

    key: str
    benefit: Benefit
    start: dt.date
    observations: pd.DataFrame
    as_of: dt.date
    settings: ForecastSettings
    fingerprint: str
    warm: dict[str, Any] | None = None
    """The previous fit's parameters, to start the optimiser from."""
    calibration: conformal.Calibration | None = None
    """The run's calibration (:mod:`benefits.forecast.track_record`)."""
    reference: ReferenceClass | None = None
    """The benefit's reference class."""
    context: str = ""
    """:meth:`TrackRecord.digest` of the calibration and reference class used."""
    raw: dict[str, Any] | None = None
    """The raw forecast of an earlier run on the same inputs: re-calibrated, not refitted."""


def default_workers() -> int:
    """All cores."""
    return os.cpu_count() or 1


def forecast_all(
    sessions: sessionmaker[Session],
    as_of: dt.date,
    settings: ForecastSettings | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    scheduler: str | None = None,
    notes: Callable[[str], None] | None = None,
) -> ForecastRunReport:
    """Forecast every stored benefit and store the run with one Forecast per benefit.

    Benefits whose input fingerprint is unchanged since the latest run are reused, not fitted
    (except a failed forecast, which is fitted again).
    ``scheduler`` is the address of a Dask distributed scheduler (``tcp://host:8786``); without it
    the work runs in ``workers`` local processes. A failure on one benefit is recorded for that
    benefit (status ``failed``, message ``forecast failed: <reason>``), counted in the run's
    ``failed_count`` and the report's ``failed_benefits``, and the others go on.
    Before the forecasts, the run learns the portfolio's track record (backtests and reference
    classes, :mod:`benefits.forecast.track_record`) that calibrates them; ``notes`` receives a
    line of progress about it.
    When nothing the run depends on changed since the latest run (:func:`runs.run_inputs`)
    and that run had no failed fit, the new run copies it whole, every forecast ``reused``, without
    reading an observation.
    """
    settings = settings or ForecastSettings()
    with sessions() as session:
        digest = runs.run_inputs(session, as_of, settings)
        copied = runs.copy_if_repeated(session, digest, scheduler, progress)
        if copied is not None:
            session.commit()
            return copied
    jobs: list[ForecastJob] = []
    reused: dict[str, models.Forecast] = {}
    recalibrated: dict[str, tuple[ForecastJob, BenefitForecast]] = {}
    results: dict[str, BenefitForecast] = {}
    with contextlib.ExitStack() as stack:
        with sessions() as session:
            stored = list(stored_inputs(session, repository.benefits(session)))
        local = _Workers(workers or default_workers(), stack)
        mapper = _mapper(local, scheduler)
        record = track_record.learn(sessions, as_of, settings, mapper, notes, stored)
        with sessions() as session:
            planned = _plan(session, as_of, settings, jobs, reused, recalibrated, record, stored)
            if scheduler:
                list(planned)
                ran = _run_dask(jobs, _dask_client(scheduler)) if jobs else iter(())
            else:
                # Jobs go to the workers as they are planned: worker start-up and the first
                # fits overlap the planning of the rest.
                ran = _run_local(planned, local)
        summary = record.summary  # worked out here while the local workers fit
        for key, row in reused.items():
            results[key] = runs.verdict_of(row)
            if progress:
                progress(key, results[key])
        for key, (_, result) in recalibrated.items():
            results[key] = result
            if progress:
                progress(key, result)
        for key, result in ran:
            results[key] = result
            if progress:
                progress(key, result)
    inputs = {job.key: (job.fingerprint, job.context) for job in jobs}
    inputs |= {key: (job.fingerprint, job.context) for key, (job, _) in recalibrated.items()}
    inputs |= {key: (row.fingerprint, row.context) for key, row in reused.items()}
    kept = len(reused) + len(recalibrated)
    with sessions.begin() as session:
        run = models.ForecastRun(
            as_of=as_of, benefits_count=len(results), scheduler=scheduler, calibration=summary, inputs=digest
        )
        run.forecasts = [
            _row(key, result, *inputs[key], key in recalibrated) for key, result in results.items() if key not in reused
        ]
        failed = tuple(sorted(key for key, result in results.items() if result.failed))
        run.failed_count = len(failed)
        run.reused_count = kept
        run.finished_at = dt.datetime.now(dt.UTC)
        session.add(run)
        session.flush()
        run_id = run.id
        repository.copy_forecasts(session, reused.values(), run_id)
    return ForecastRunReport(
        run_id, len(results), runs.by_status(r.status for r in results.values()), kept, failed, summary
    )


def _plan(
    session: Session,
    as_of: dt.date,
    settings: ForecastSettings,
    jobs: list[ForecastJob],
    reused: dict[str, models.Forecast],
    recalibrated: dict[str, tuple[ForecastJob, BenefitForecast]],
    record: track_record.TrackRecord,
    stored: list[tuple[models.Benefit, Benefit, pd.DataFrame]],
) -> Iterator[ForecastJob]:
    """Yield a job for every benefit to fit (also appended to ``jobs``). The latest run's
    forecast of a benefit whose inputs have the same fingerprint (and did not fail) is kept: as
    it is (``reused``) when the run's calibration and reference class are also the same, else
    re-calibrated here without fitting (``recalibrated``)."""
    runs = repository.forecast_runs(session, limit=1)
    previous = repository.forecasts_of(session, runs[0] if runs else None, verdicts_only=True)
    for row, benefit, observations in stored:
        readings = series.history_readings(benefit, observations, as_of, settings, row.start_date)
        key = fingerprints.window_fingerprint(benefit, row.start_date, readings, as_of, settings)
        context = record.digest(benefit)
        before = previous.get(row.key)
        same = before if before is not None and before.fingerprint == key and before.status != "failed" else None
        if same is not None and (same.context == context or same.raw is None):  # no raw: decided without calibration
            reused[row.key] = same
            continue
        raw = same.raw if same is not None else None
        warm = before.fit_params if before is not None and settings.warm_start else None
        job = ForecastJob(
            row.key,
            benefit,
            row.start_date,
            readings.frame(),
            as_of,
            settings,
            key,
            warm,
            record.calibration,
            record.reference(benefit),
            context,
            raw,
        )
        if raw is not None:
            recalibrated[row.key] = (job, run_job(job)[1])
            continue
        jobs.append(job)
        yield job


def stored_inputs(
    session: Session, rows: Iterable[models.Benefit]
) -> Iterator[tuple[models.Benefit, Benefit, pd.DataFrame]]:
    """Each stored benefit of ``rows`` with its declared benefit and its metric's observations
    (read in one query, shared by the benefits of a metric)."""
    rows = list(rows)
    observed = repository.observations_of(session, (row.metric for row in rows))  # typed: windows parse nothing
    for row in rows:
        yield row, repository.declared_benefit(row), observed[row.metric]


def _run_local(planned: Iterator[ForecastJob], local: _Workers) -> Iterator[tuple[str, BenefitForecast]]:
    """Submit every planned job (consuming ``planned``) and return their results, in order: in the
    run's process pool with more than one worker, else here, after planning."""
    if local.workers <= 1:
        return (run_job(job) for job in list(planned))
    return local.pool().map(run_job, planned, chunksize=_CHUNK)


class _Workers:
    """The run's local process pool: started when first needed, shared by the backtests and the
    fits (one set of workers, not one per stage), entered on ``stack`` and shut down when it
    closes. Its workers die with this process even when it is killed (no worker is left behind
    by a killed `benefits forecast`)."""

    def __init__(self, workers: int, stack: contextlib.ExitStack) -> None:
        self.workers = workers
        self._stack = stack
        self._pool: ProcessPoolExecutor | None = None

    def pool(self) -> ProcessPoolExecutor:
        """The pool, started on the first call."""
        if self._pool is None:
            self._pool = self._stack.enter_context(
                ProcessPoolExecutor(max_workers=self.workers, initializer=die_with_parent, initargs=(os.getpid(),))
            )
        return self._pool


def _mapper(workers: _Workers, scheduler: str | None) -> track_record.Mapper:
    """How the run maps a function over jobs: on the Dask cluster, in the run's process pool, or
    here with one worker."""

    def local(fn: Callable[[Any], Any], items: list[Any]) -> Iterable[Any]:
        if workers.workers <= 1 or len(items) < 2:
            return [fn(item) for item in items]
        return workers.pool().map(fn, items, chunksize=_CHUNK)

    def dask(address: str) -> track_record.Mapper:
        def run(fn: Callable[[Any], Any], items: list[Any]) -> Iterable[Any]:
            if not items:
                return []
            with _dask_client(address) as client:
                return list(client.gather(client.map(fn, items, pure=False)))

        return run

    return dask(scheduler) if scheduler else local


def _dask_client(address: str) -> Any:
    """A client of the Dask distributed scheduler at ``address`` (dask is imported only here)."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask[distributed] is a dependency
        raise BenefitsError("--scheduler needs dask[distributed]: pip install 'dask[distributed]'") from None
    try:
        return Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise BenefitsError(f"cannot reach the Dask scheduler at {address}: {reason(exc)}") from None


def _run_dask(jobs: list[ForecastJob], client: Any) -> Iterator[tuple[str, BenefitForecast]]:
    """Run the jobs on the cluster of ``client``, then close it."""
    from distributed import as_completed

    with client:
        futures = client.map(run_job, jobs, pure=False)
        for future in as_completed(futures):
            yield future.result()


def run_job(job: ForecastJob) -> tuple[str, BenefitForecast]:
    """Forecast one job; any error becomes that benefit's ``failed`` result."""
    try:
        result = forecast_benefit(
            job.benefit,
            job.start,
            job.observations,
            job.as_of,
            job.settings,
            job.warm,
            job.calibration,
            job.reference,
            job.raw,
        )
    except Exception as exc:  # noqa: BLE001 - one benefit's failure must not stop the others
        result = failure(exc, len(job.observations))
    return job.key, result


def _row(key: str, result: BenefitForecast, fingerprint: str, context: str, reused: bool) -> models.Forecast:
    """The stored row of a result."""
    fields = {field.name: getattr(result, field.name) for field in dataclasses.fields(BenefitForecast)}
    return models.Forecast(benefit_key=key, fingerprint=fingerprint, context=context, reused=reused, **fields)
