"""The built-in ``demo`` connector: seeded, repeatable weekly metrics for the demo portfolio.

Each benefit's metric follows a scenario (on plan, ahead, late, flat, noisy, with gaps, or
silent: it stopped reporting ``SILENT_WEEKS`` before the sync date, so it is stale) so that every
status appears; a few deliberately bad rows exercise validation and
quarantine. The same seed and date always give the same records.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterator
from enum import StrEnum
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from benefits import realisation
from benefits.plugins.connector import Connector, MetricInfo
from benefits.plugins.hookspecs import hookimpl
from benefits.register import Benefit, Bounds, Measure, MetricDeclaration

WEEK = dt.timedelta(days=7)
SHIFT_WEEKS = 14
SILENT_WEEKS = 8


class Scenario(StrEnum):
    """How a demo metric behaves against its benefit's plan."""

    on_plan = "on_plan"
    ahead = "ahead"
    late = "late"
    flat = "flat"
    noisy = "noisy"
    gaps = "gaps"
    silent = "silent"


class DemoSettings(BaseModel):
    """Settings of the demo connector."""

    model_config = ConfigDict(extra="forbid")
    seed: int = 7
    scenarios: dict[str, Scenario] = {}
    bad_rows: bool = True


class DemoConnector(Connector):
    """Synthesises one weekly series per metric of the register, following each benefit's scenario."""

    type: ClassVar[str] = "demo"
    Settings: ClassVar[type[BaseModel]] = DemoSettings
    settings: DemoSettings

    def discover(self) -> list[MetricInfo]:
        """Every metric a benefit of the register measures, then the catalogue's other metrics."""
        measured = [MetricInfo(b.metric, b.unit) for b in self._benefit_per_metric().values()]
        return measured + [MetricInfo(m.name, m.unit) for m in self.context.register.unused_metrics()]

    def records(self) -> Iterator[dict[str, Any]]:
        """Weekly records up to the sync date, then the deliberately bad rows."""
        register = self.context.register
        starts = {b.key: register.benefit_start(i, b) for i, b in register.benefits()}
        good: list[dict[str, Any]] = []
        for benefit in self._benefit_per_metric().values():
            scenario = self.settings.scenarios.get(benefit.key, Scenario.on_plan)
            good.extend(self._series(benefit, starts[benefit.key], scenario))
        if starts:
            for declared in register.unused_metrics():
                good.extend(self._context_series(declared, min(starts.values())))
        yield from good
        if self.settings.bad_rows and good:
            yield from self._bad_rows(good)

    def _benefit_per_metric(self) -> dict[str, Benefit]:
        first: dict[str, Benefit] = {}
        for _, benefit in self.context.register.benefits():
            first.setdefault(benefit.metric, benefit)
        return first

    def _series(self, benefit: Benefit, start: dt.date, scenario: Scenario) -> Iterator[dict[str, Any]]:
        rng = np.random.default_rng([self.settings.seed, zlib.crc32(benefit.metric.encode())])
        periods = _mondays_after(benefit.baseline.date, self.context.as_of)
        fractions = [_fraction(benefit, start, period, scenario) for period in periods]
        noise_sd = {Scenario.noisy: 0.12, Scenario.flat: 0.01}.get(scenario, 0.025)
        total = realisation.target_improvement(benefit)
        sign = realisation.sign(benefit)
        previous = 0.0
        for period, fraction in zip(periods, fractions):
            if scenario is Scenario.silent and period > self.context.as_of - SILENT_WEEKS * WEEK:
                return
            if scenario is Scenario.gaps and rng.random() < 0.35:
                continue
            noisy = fraction + rng.normal(0.0, noise_sd)
            if benefit.measure is Measure.cumulative:
                value = sign * max(noisy - previous, 0.0) * total if period >= start else 0.0
                previous = max(previous, noisy)
            else:
                value = _clip(benefit.bounds, benefit.baseline.value + sign * noisy * total)
            yield {"metric": benefit.metric, "period": period.isoformat(), "value": round(value, 2), "unit": benefit.unit}

    def _context_series(self, declared: MetricDeclaration, start: dt.date) -> Iterator[dict[str, Any]]:
        """A catalogue metric no benefit measures: a random walk from 100 (1% steps), weekly from ``start``."""
        rng = np.random.default_rng([self.settings.seed, zlib.crc32(declared.name.encode())])
        periods = _mondays_after(start, self.context.as_of)
        steps = 1.0 + rng.normal(0.0, 0.01, size=len(periods))
        for period, value in zip(periods, 100.0 * np.cumprod(steps)):
            yield {"metric": declared.name, "period": period.isoformat(),
                   "value": round(_clip(declared.bounds, value), 2), "unit": declared.unit}

    def _bad_rows(self, good: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        first, last = good[0], good[-1]
        wednesday = (dt.date.fromisoformat(last["period"]) - dt.timedelta(days=5)).isoformat()
        yield {**last, "period": wednesday, "value": "n/a"}
        yield {**first, "period": wednesday, "value": None}
        yield {**first, "period": "2026-13-01"}
        yield {**last, "period": (self.context.as_of + 2 * WEEK).isoformat()}
        yield dict(good[len(good) // 2])


def _mondays_after(start: dt.date, end: dt.date) -> list[dt.date]:
    monday = start + dt.timedelta(days=7 - start.weekday())
    periods = []
    while monday <= end:
        periods.append(monday)
        monday += WEEK
    return periods


def _fraction(benefit: Benefit, start: dt.date, at: dt.date, scenario: Scenario) -> float:
    def planned(when: dt.date) -> float:
        return realisation.planned_to_date(benefit, start, when) / realisation.target_improvement(benefit)

    if scenario is Scenario.ahead:
        return 1.1 * planned(at + SHIFT_WEEKS * WEEK)
    if scenario is Scenario.late:
        return 0.6 * planned(at - SHIFT_WEEKS * WEEK)
    if scenario is Scenario.flat:
        return 0.03 if at >= start else 0.0
    return planned(at)


def _clip(bounds: Bounds | None, value: float) -> float:
    low = bounds.min if bounds and bounds.min is not None else -np.inf
    high = bounds.max if bounds and bounds.max is not None else np.inf
    return float(np.clip(value, low, high))


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The demo connector."""
    return [DemoConnector]
