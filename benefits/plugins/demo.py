"""The built-in ``demo`` connector: seeded, repeatable weekly metrics for the demo portfolio.

Each benefit's metric follows a scenario (on plan, ahead, late, flat, noisy, with gaps, or
silent: it stopped reporting ``SILENT_WEEKS`` before the sync date, so it is stale) so that every
status appears; a few deliberately bad rows exercise validation and
quarantine. The same seed and date always give the same records. The benefits listed in the
``claims`` setting are claimed by the demo source too (see :meth:`DemoConnector.claims`).
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
    claims: list[str] = []
    """Benefit keys (cost_reduction or revenue) whose planned value to date the demo source claims."""


class DemoConnector(Connector):
    """Synthesises one weekly series per metric of the register, following each benefit's scenario."""

    type: ClassVar[str] = "demo"
    Settings = DemoSettings
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

    def claims(self) -> Iterator[dict[str, Any]]:
        """For each benefit in the ``claims`` setting: its planned money value to date at the latest quarter end.

        The quarter end is the last Monday of the latest quarter that ended by the sync date; a
        benefit with nothing planned by then is not claimed. Values are whole units of money, as text.
        """
        register = self.context.register
        period = _last_quarter_end(self.context.as_of)
        for initiative, benefit in register.benefits():
            if benefit.key not in self.settings.claims or period <= benefit.baseline.date:
                continue
            start = register.benefit_start(initiative, benefit)
            value = realisation.money_value(benefit, realisation.planned_to_date(benefit, start, period))
            if value >= 1:
                yield {
                    "benefit": benefit.key,
                    "period": period.isoformat(),
                    "claimed_value": f"{value:.0f}",
                    "note": "Planned value to date, as reported by the source system",
                    "source_ref": f"demo:claims:{benefit.key}:{period.isoformat()}",
                }

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
        for period, fraction in zip(periods, fractions, strict=True):
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
            yield {
                "metric": benefit.metric,
                "period": period.isoformat(),
                "value": round(value, 2),
                "unit": benefit.unit,
            }

    def _context_series(self, declared: MetricDeclaration, start: dt.date) -> Iterator[dict[str, Any]]:
        """A catalogue metric no benefit measures: a random walk from 100 (1% steps), weekly from ``start``."""
        rng = np.random.default_rng([self.settings.seed, zlib.crc32(declared.name.encode())])
        periods = _mondays_after(start, self.context.as_of)
        steps = 1.0 + rng.normal(0.0, 0.01, size=len(periods))
        for period, value in zip(periods, 100.0 * np.cumprod(steps), strict=True):
            yield {
                "metric": declared.name,
                "period": period.isoformat(),
                "value": round(_clip(declared.bounds, value), 2),
                "unit": declared.unit,
            }

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


def _last_quarter_end(as_of: dt.date) -> dt.date:
    """The last Monday of the latest quarter whose last Monday is on or before ``as_of``."""
    year, month = as_of.year, as_of.month - (as_of.month - 1) % 3 + 2  # this quarter's last month
    while True:
        first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
        last_day = first_of_next - dt.timedelta(days=1)
        monday = last_day - dt.timedelta(days=last_day.weekday())
        if monday <= as_of:
            return monday
        year, month = (year, month - 3) if month > 3 else (year - 1, month + 9)


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
