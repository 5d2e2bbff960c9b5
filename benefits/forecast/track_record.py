"""The portfolio's track record, learned at the start of every forecast run.

Two things calibrate each forecast:

- **Backtests** (:mod:`benefits.forecast.backtest`) of a sample of the portfolio's benefits
  (``calibration_benefits``, chosen by a hash of their keys so the sample is stable from week to
  week) from ``calibration_origins`` past origins. Raw paths whose inputs are unchanged are read
  from ``forecast_backtests``; only new ones are fitted, in the run's workers. Their normalised
  errors against what was observed since become the run's :class:`~conformal.Calibration`.
- **Reference classes** (:mod:`benefits.forecast.reference`): how many benefits of each
  category and measure kind whose target date has passed landed.

The run also keeps a summary for people (``forecast_runs.calibration``): the 80% interval's
coverage by horizon before and after calibration, and a reliability table of the probability of
being on plan at each backtested date. Both are *cross-fitted*: the points of one half of the
benefits are judged with the calibration learned from the other half, so the figures are not
flattered by judging the errors with themselves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from benefits import realisation, register
from benefits.forecast import backtest, calibration, conformal, series
from benefits.forecast.messages import reason
from benefits.forecast.probability import meets, orientation
from benefits.forecast.reference import ReferenceClass, class_of
from benefits.forecast.settings import METHOD_VERSION, ForecastSettings
from benefits.store import models, repository

Mapper = Callable[[Callable[[Any], Any], list[Any]], Iterable[Any]]
BAND_LABELS = (
    "up to 8 weeks",
    "8 weeks to a quarter",
    "a quarter to half a year",
    "half a year to a year",
    "over a year",
)


@dataclasses.dataclass(frozen=True)
class PathJob:
    """One backtest path to fit; picklable."""

    key: str
    benefit: register.Benefit
    observations: pd.DataFrame
    origin: dt.date
    settings: ForecastSettings
    start: dt.date


@dataclasses.dataclass(frozen=True)
class TrackRecord:
    """What a run learned from the portfolio's history."""

    calibration: conformal.Calibration
    classes: dict[tuple[str, str], ReferenceClass]
    explain: Callable[[], dict[str, Any]] = dataclasses.field(repr=False, compare=False)
    """Works out :attr:`summary` (called once, when it is first read)."""

    @functools.cached_property
    def summary(self) -> dict[str, Any]:
        """JSON for ``forecast_runs.calibration``: what was learned, and how far it held when
        cross-fitted. The forecasts need only :attr:`calibration` and the classes, so a run reads
        this while its workers fit."""
        return self.explain()

    def reference(self, benefit: register.Benefit) -> ReferenceClass:
        """The reference class of ``benefit``."""
        return class_of(benefit, self.classes)

    def digest(self, benefit: register.Benefit) -> str:
        """What of the track record a benefit's forecast depends on, for its fingerprint."""
        text = f"{self.calibration.digest}|{self.reference(benefit).rate:.6f}"
        return hashlib.sha256(text.encode()).hexdigest()


def fit_path(job: PathJob) -> backtest.RawPath | None | str:
    """Fit one backtest path: the path, None when too little was known, or the failure's reason."""
    try:
        return backtest.raw_path(job.benefit, job.observations, job.origin, job.settings, job.start)
    except Exception as exc:  # noqa: BLE001 - a failed backtest fit only leaves out its points
        return reason(exc)


def learn(
    sessions: sessionmaker[Session],
    as_of: dt.date,
    settings: ForecastSettings,
    mapper: Mapper,
    progress: Callable[[str], None] | None = None,
    stored: Iterable[tuple[models.Benefit, register.Benefit, pd.DataFrame]] | None = None,
) -> TrackRecord:
    """Backtest the sample (fitting only new paths, with ``mapper``), keep the new paths, and
    return the calibration, the reference classes and the summary. ``stored`` is every stored
    benefit with its observations (:func:`benefits.forecast.runner.stored_inputs`), read here
    when not given."""
    with sessions() as session:
        if stored is None:
            stored = list(_inputs(session, repository.benefits(session)))
        inputs = {row.key: (row, benefit, obs) for row, benefit, obs in stored}
        sample = set(_sample(list(inputs), settings.calibration_benefits))
        decided = {key for key, (row, _, _) in inputs.items() if row.target_date < as_of}
        kept = _kept_paths(session, sample)
        runs = repository.forecast_runs(session, limit=1)
        before = (runs[0].calibration or {}) if runs else {}
    jobs, paths = _plan(inputs, sample, kept, as_of, settings)
    if jobs and progress:
        progress(f"backtesting {len(jobs)} past forecast{'s' if len(jobs) != 1 else ''} to calibrate this run")
    fitted = [(job, result) for job, result in zip(jobs, mapper(fit_path, jobs), strict=True)]
    new = [(job.key, result) for job, result in fitted if isinstance(result, backtest.RawPath)]
    for key, raw in new:
        paths.setdefault(key, []).append(raw)
    _keep(sessions, new, paths)
    seen = {
        key: series.history(inputs[key][1], inputs[key][2], as_of, settings, inputs[key][0].start_date)
        for key in sorted(sample)
    }
    digest = _inputs_digest(inputs, seen, paths, decided, as_of, settings)
    if not new and before.get("inputs") == digest:  # nothing it learns from changed: the last run's record holds
        classes = {
            (c["category"], c["measure"]): ReferenceClass(c["category"], c["measure"], c["decided"], c["landed"])
            for c in before.get("classes", [])
        }
        return TrackRecord(conformal.Calibration.from_json(before["calibration"]), classes, lambda: before)
    found = {
        key: [
            p
            for raw in paths.get(key, [])
            for p in backtest.points(inputs[key][1], seen[key], raw, inputs[key][0].start_date)
        ]
        for key in sorted(sample)
    }
    errors = {key: backtest.errors(inputs[key][1].measure.value, pts) for key, pts in found.items() if pts}
    learned = conformal.calibrate((e for key in errors for e in errors[key]), len(errors)).to_json()
    classes = _classes(inputs, decided)

    def explain() -> dict[str, Any]:
        return {
            "method": METHOD_VERSION,
            "inputs": digest,
            "calibration": learned,
            **_record(inputs, found, errors, settings),
            "paths_fitted": len(new),
            "paths_reused": sum(len(v) for v in paths.values()) - len(new),
            "paths_failed": sum(isinstance(result, str) for _, result in fitted),
            "classes": [dataclasses.asdict(c) | {"rate": c.rate} for c in classes.values()],
        }

    # The forecasts use the stored form of the calibration, so that a later run reading it back
    # from forecast_runs.calibration calibrates exactly as this one did.
    return TrackRecord(conformal.Calibration.from_json(learned), classes, explain)


def _inputs_digest(
    inputs: dict[str, tuple[models.Benefit, register.Benefit, pd.DataFrame]],
    seen: dict[str, pd.DataFrame],
    paths: dict[str, list[backtest.RawPath]],
    decided: set[str],
    as_of: dt.date,
    settings: ForecastSettings,
) -> str:
    """SHA-256 of everything a track record depends on: the sample's observations and kept paths,
    the decided benefits' observations, and the settings."""
    from benefits.forecast.fingerprints import window_fingerprint

    parts = [settings.model_dump_json()]
    for key in sorted(seen):
        row, benefit, _ = inputs[key]
        parts.append(window_fingerprint(benefit, row.start_date, seen[key], as_of, settings))
        parts += sorted(f"{raw.origin}:{raw.fingerprint}" for raw in paths.get(key, []))
    for key in sorted(decided):
        row, benefit, observations = inputs[key]
        window = series.window_readings(benefit, row.start_date, observations, benefit.target.date)
        parts.append(f"{key}:{window_fingerprint(benefit, row.start_date, window, as_of, settings)}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _keep(
    sessions: sessionmaker[Session],
    new: list[tuple[str, backtest.RawPath]],
    paths: dict[str, list[backtest.RawPath]],
) -> None:
    """Store the newly fitted backtest paths and drop the stored ones this run no longer uses
    (an origin that aged out, history that was restated, a benefit out of the sample)."""
    used = {(key, raw.origin, raw.fingerprint) for key, found in paths.items() for raw in found}
    with sessions.begin() as session:
        session.add_all(
            models.ForecastBacktest(
                benefit_key=key, origin=raw.origin, fingerprint=raw.fingerprint, noise=raw.noise, path=raw.path
            )
            for key, raw in new
        )
        rows = session.execute(
            select(
                models.ForecastBacktest.id,
                models.ForecastBacktest.benefit_key,
                models.ForecastBacktest.origin,
                models.ForecastBacktest.fingerprint,
            )
        )
        unused = [row.id for row in rows if (row.benefit_key, row.origin, row.fingerprint) not in used]
        if unused:
            session.execute(delete(models.ForecastBacktest).where(models.ForecastBacktest.id.in_(unused)))


def _sample(keys: list[str], count: int) -> list[str]:
    """``count`` keys chosen by a hash of each key (stable while the register keeps them)."""
    return sorted(keys, key=lambda k: hashlib.sha256(k.encode()).hexdigest())[:count]


def _inputs(
    session: Session, rows: list[models.Benefit]
) -> Iterator[tuple[models.Benefit, register.Benefit, pd.DataFrame]]:
    from benefits.forecast.runner import stored_inputs

    return stored_inputs(session, rows)


def _kept_paths(session: Session, keys: set[str]) -> dict[tuple[str, dt.date, str], backtest.RawPath]:
    """The stored backtest paths of ``keys``, by (benefit, origin, fingerprint)."""
    if not keys:
        return {}
    rows = session.scalars(select(models.ForecastBacktest).where(models.ForecastBacktest.benefit_key.in_(keys)))
    return {
        (row.benefit_key, row.origin, row.fingerprint): backtest.RawPath(
            row.origin, row.fingerprint, row.noise, list(row.path)
        )
        for row in rows
    }


def _plan(
    inputs: dict[str, tuple[models.Benefit, register.Benefit, pd.DataFrame]],
    sample: set[str],
    kept: dict[tuple[str, dt.date, str], backtest.RawPath],
    as_of: dt.date,
    settings: ForecastSettings,
) -> tuple[list[PathJob], dict[str, list[backtest.RawPath]]]:
    """The paths to fit, and the kept paths that still hold, by benefit."""
    jobs: list[PathJob] = []
    paths: dict[str, list[backtest.RawPath]] = {}
    for key in sorted(sample):
        row, benefit, observations = inputs[key]
        for origin in backtest.origin_dates(as_of, settings.calibration_origins):
            learned = series.history_readings(benefit, observations, origin, settings, row.start_date)
            if len(learned) < settings.min_points:
                continue
            found = kept.get((key, origin, backtest.path_fingerprint(benefit, learned, origin, settings)))
            if found is not None:
                paths.setdefault(key, []).append(found)
            else:
                known = observations[pd.to_datetime(observations["period"]) <= pd.Timestamp(origin)]
                jobs.append(PathJob(key, benefit, known, origin, settings, row.start_date))
    return jobs, paths


def _record(
    inputs: dict[str, tuple[models.Benefit, register.Benefit, pd.DataFrame]],
    found: dict[str, list[backtest.BacktestPoint]],
    errors: dict[str, list[tuple[str, float, float, float, float]]],
    settings: ForecastSettings,
) -> dict[str, Any]:
    """The cross-fitted coverage and reliability of the backtested points (``errors``: each
    benefit's with points, for :func:`conformal.calibrate`)."""
    with_points = list(errors)
    folds = {key: int(hashlib.sha256(key.encode()).hexdigest(), 16) % 2 for key in with_points}
    halves = [
        conformal.calibrate(e for key in with_points if folds[key] != fold for e in errors[key]) for fold in (0, 1)
    ]
    coverage = np.zeros((len(conformal.HORIZON_EDGES), 3))
    probabilities: list[float] = []
    outcomes: list[bool] = []
    for key in with_points:
        row, benefit, observations = inputs[key]
        judged = backtest.Backtest(benefit.measure.value, found[key], 1.0, halves[folds[key]], settings.interval)
        for point, _, lower, upper in judged.calibrated():
            band = conformal.horizon_band(point.horizon_days)
            coverage[band] += (1, point.lower <= point.actual <= point.upper, lower <= point.actual <= upper)
        for p, landed in _on_plan_events(row, benefit, observations, found[key], halves[folds[key]]):
            probabilities.append(p)
            outcomes.append(landed)
    return {
        "benefits": len(with_points),
        "points": int(coverage[:, 0].sum()),
        "coverage": [
            {
                "band": BAND_LABELS[b],
                "points": int(n),
                "raw": raw / n if n else None,
                "calibrated": cal / n if n else None,
            }
            for b, (n, raw, cal) in enumerate(coverage)
        ],
        "reliability": [dataclasses.asdict(row) for row in calibration.reliability(probabilities, outcomes, bins=5)]
        if probabilities
        else [],
        "brier": calibration.brier(probabilities, outcomes) if probabilities else None,
        "events": len(probabilities),
    }


def _on_plan_events(
    row: models.Benefit,
    benefit: register.Benefit,
    observations: pd.DataFrame,
    points: list[backtest.BacktestPoint],
    cal: conformal.Calibration,
) -> Iterator[tuple[float, bool]]:
    """(predicted probability, outcome) of "Q is on plan at this date" for each point from an
    origin on or after the benefit's start and before its target date."""
    start = row.start_date
    cumulative = benefit.measure is register.Measure.cumulative
    upwards = orientation(benefit) > 0
    window = series.window(benefit, start, observations, benefit.target.date)
    periods = window["period"].to_numpy(dtype="datetime64[ns]")
    tracked = series.tracked(benefit, window)
    for point in points:
        if point.origin < start or point.period > benefit.target.date:
            continue
        upto = int(np.searchsorted(periods, np.datetime64(point.origin, "ns"), side="right"))
        if not upto:
            continue
        q0 = float(tracked[upto - 1])
        shift = q0 if cumulative else 0.0
        planned = realisation.planned_value(benefit, start, point.period)
        band = cal.band(benefit.measure.value, point.horizon_days, point.delivering_days)
        above = conformal.probability_at_least(
            band, point.yhat + shift, point.lower + shift, point.upper + shift, 0.0, planned, point.orientation
        )
        p = above if upwards else 1.0 - above
        actual = point.actual + shift
        yield p, (actual >= planned) if upwards else (actual <= planned)


def _classes(
    inputs: dict[str, tuple[models.Benefit, register.Benefit, pd.DataFrame]], decided: set[str]
) -> dict[tuple[str, str], ReferenceClass]:
    """Reference classes from the benefits whose target date has passed."""
    counts: dict[tuple[str, str], list[int]] = {}
    for key in decided:
        row, benefit, observations = inputs[key]
        window = series.window(benefit, row.start_date, observations, benefit.target.date)
        realised = realisation.realised_to_date(benefit, window, benefit.target.date)
        landed = realised is not None and meets(benefit, realised, realisation.target_improvement(benefit))
        tally = counts.setdefault((benefit.category.value, benefit.measure.value), [0, 0])
        tally[0] += 1
        tally[1] += int(landed)
    return {k: ReferenceClass(k[0], k[1], decided=n, landed=hit) for k, (n, hit) in counts.items()}
