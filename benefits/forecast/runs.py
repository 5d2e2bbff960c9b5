"""A forecast run's report, and the run on unchanged inputs: when nothing a run depends on changed
since the latest run, the new run copies it whole inside the database.

Nothing here imports pandas or the model, so a weekly job re-run on unchanged data
(:func:`copy_if_unchanged`, which ``benefits forecast`` tries before anything else) costs the
imports of the store and one query, not those of a fit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from benefits.forecast.result import BenefitForecast
from benefits.forecast.settings import METHOD_VERSION, ForecastSettings, prophet_version
from benefits.store import models, repository

Progress = Callable[[str, BenefitForecast], None]

_STORE_DATA = text(
    """
    SELECT
        (SELECT count(*) FROM observations),
        (SELECT max(id) FROM observations),
        (SELECT max(id) FROM observation_revisions),
        (SELECT count(*) FROM benefits),
        (SELECT max(updated_at) FROM portfolio),
        (SELECT max(id) FROM register_revisions)
    """
)


@dataclass(frozen=True)
class ForecastRunReport:
    """Summary of one forecast run."""

    run_id: int
    benefits: int
    by_status: dict[str, int]
    reused: int
    failed_benefits: tuple[str, ...]
    """The keys of the benefits whose fit failed (status ``failed``), sorted."""
    calibration: dict[str, Any] = field(default_factory=dict)
    """What the run learned from the portfolio's backtests (``forecast_runs.calibration``)."""

    @property
    def backtested(self) -> tuple[int, float]:
        """(points, held): the run's cross-fitted backtested outcomes, and how many of them the
        calibrated 80% interval held."""
        bands = self.backtested_by_band
        return sum(points for points, _ in bands), sum(held for _, held in bands)

    @property
    def backtested_by_band(self) -> tuple[tuple[int, float], ...]:
        """:attr:`backtested` per horizon band (``track_record.BAND_LABELS``), every band, held or not."""
        bands = self.calibration.get("coverage", [])
        return tuple((b["points"], (b["calibrated"] or 0.0) * b["points"]) for b in bands)

    @property
    def _scored(self) -> list[dict]:
        """The coverage bands (by horizon) that hold backtested outcomes."""
        return [b for b in self.calibration.get("coverage", []) if b["points"]]

    @property
    def held(self) -> str:
        """``"80% intervals held 84% of 1,985 backtested outcomes (60-69% before calibration)"``, or ""."""
        points, held = self.backtested
        if not points:
            return ""
        calibrated = held / points
        raw = [b["raw"] for b in self._scored]
        failed = self.calibration.get("paths_failed", 0)
        return (
            f"80% intervals held {calibrated:.0%} of {points:,} backtested outcomes of "
            f"{self.calibration.get('benefits', 0)} benefits ({min(raw):.0%}-{max(raw):.0%} before calibration)"
            + (f"; {failed} backtest fit{'s' if failed != 1 else ''} failed and were left out" if failed else "")
        )

    @property
    def failed(self) -> int:
        """How many benefits' fits failed."""
        return len(self.failed_benefits)


def run_inputs(session: Session, as_of: dt.date, settings: ForecastSettings) -> str:
    """SHA-256 (hex) of everything a whole forecast run depends on: the store's observations
    (new, restated) and register (every save), the as-of date, the settings, the method version
    and Prophet's version. Two runs with the same digest forecast every benefit the same way,
    so the later one copies the earlier (:func:`copy_if_unchanged`)."""
    store = "|".join("" if value is None else str(value) for value in session.execute(_STORE_DATA).one())
    payload = {
        "store": store,
        "as_of": as_of.isoformat(),
        "settings": settings.model_dump(mode="json"),
        "method": METHOD_VERSION,
        "prophet": prophet_version(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def copy_if_unchanged(
    sessions: sessionmaker[Session],
    as_of: dt.date,
    settings: ForecastSettings,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> ForecastRunReport | None:
    """The report of a new run copying the latest one whole (every forecast ``reused``, no
    observation read) when nothing the run depends on changed since (:func:`run_inputs`) and that
    run had no failed fit; else None, and nothing is written."""
    with sessions() as session:
        copied = copy_if_repeated(session, run_inputs(session, as_of, settings), scheduler, progress)
        session.commit()
        return copied


def copy_if_repeated(
    session: Session, digest: str, scheduler: str | None = None, progress: Progress | None = None
) -> ForecastRunReport | None:
    """:func:`copy_if_unchanged` in ``session`` (not committed) for a run on inputs ``digest``."""
    latest = next(iter(repository.forecast_runs(session, limit=1)), None)
    return _copy_run(session, latest, scheduler, progress) if latest is not None and repeats(latest, digest) else None


def repeats(latest: models.ForecastRun, digest: str) -> bool:
    """Whether a run on inputs ``digest`` would repeat ``latest``: the same inputs, and no fit that
    failed there (a failed benefit or backtest is fitted again)."""
    failed_paths = (latest.calibration or {}).get("paths_failed", 0)
    return latest.inputs == digest and not latest.failed_count and not failed_paths


def _copy_run(
    session: Session, latest: models.ForecastRun, scheduler: str | None, progress: Progress | None
) -> ForecastRunReport:
    """A new run holding every forecast of ``latest``, copied inside the database as ``reused``."""
    previous = repository.forecasts_of(session, latest, verdicts_only=True)
    run = models.ForecastRun(
        as_of=latest.as_of,
        benefits_count=len(previous),
        failed_count=0,
        reused_count=len(previous),
        scheduler=scheduler,
        calibration=latest.calibration,
        inputs=latest.inputs,
        finished_at=dt.datetime.now(dt.UTC),
    )
    session.add(run)
    session.flush()
    repository.copy_forecasts(session, previous.values(), run.id)
    if progress:
        for key, row in previous.items():
            progress(key, verdict_of(row))
    counts = by_status(row.status for row in previous.values())
    return ForecastRunReport(run.id, len(previous), counts, len(previous), (), latest.calibration or {})


def verdict_of(row: models.Forecast) -> BenefitForecast:
    """A reused forecast's verdict for the progress and the run's counts: its columns but the
    path, raw forecast and fitted parameters, which the database copies into the new run
    (:func:`benefits.store.repository.copy_forecasts`) without reading them."""
    light = (
        field.name for field in dataclasses.fields(BenefitForecast) if field.name not in {"path", "raw", "fit_params"}
    )
    return BenefitForecast(**{name: getattr(row, name) for name in light}, path=[])


def by_status(statuses: Iterable[str]) -> dict[str, int]:
    """How many forecasts have each status, in the order the statuses first appear."""
    return dict(Counter(statuses))
