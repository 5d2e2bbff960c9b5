"""Each initiative's business case from its benefits and investment: cash, run-rate, fiscal years, return.

Pure functions over the register's models and plain series; :mod:`benefits.value.reading` reads
them from the store. A benefit has three series of dated improvements (the maths of
:mod:`benefits.realisation`): *realised* (observed up to the as-of date), *planned* (its profile,
stepped weekly, holding the target from its date to the horizon) and *forecast* (the realised
series, then the stored forecast's median path after the last observation, then — for a run-rate —
its last rate held to the horizon). What each banks by a date is :func:`realisation.banking`'s,
turned into money by :func:`realisation.cash`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from benefits import realisation
from benefits.register import Benefit, Investment, Register, ValueType, default_fiscal_start_month
from benefits.value import investment as costs
from benefits.value.fiscal import FiscalYear, fiscal_year, fiscal_year_of, fiscal_years
from benefits.value.returns import Returns, payback, returns

Steps = list[tuple[dt.date, float]]
PathPoint = tuple[dt.date, float, float, float]  # a forecast week: period, then Q's lower, yhat and upper
PATH_KEYS = ("lower", "yhat", "upper")  # the stored path's 10th, 50th and 90th percentiles of the tracked quantity


@dataclass(frozen=True)
class Settings:
    """The register's finance settings (``portfolio.yaml``, kept in ``portfolio.finance``)."""

    currency: str
    fiscal_year_start_month: int
    discount_rate: Decimal
    appraisal_years: int
    valuation_date: dt.date | None = None

    @classmethod
    def from_stored(cls, currency: str, finance: dict[str, Any] | None) -> Settings:
        """From the stored JSON (a store saved before migration 0013 has none: the register's defaults)."""
        finance, defaults = finance or {}, Register.model_fields
        valuation = finance.get("valuation_date")
        return cls(
            currency=currency.upper(),
            fiscal_year_start_month=int(finance.get("fiscal_year_start_month") or default_fiscal_start_month(currency)),
            discount_rate=Decimal(str(finance.get("discount_rate", defaults["discount_rate"].default))),
            appraisal_years=int(finance.get("appraisal_years", defaults["appraisal_years"].default)),
            valuation_date=dt.date.fromisoformat(valuation) if valuation else None,
        )


@dataclass(frozen=True)
class BenefitSeries:
    """One benefit's inputs: the benefit, its ramp start, its observed improvements and its forecast path."""

    benefit: Benefit
    start: dt.date
    observed: Steps  # (period, improvement) after the baseline date up to the as-of date
    path: Sequence[PathPoint] = ()  # the latest forecast's weekly path


@dataclass(frozen=True)
class InitiativeInput:
    """One initiative's inputs."""

    key: str
    name: str
    investment: Investment
    benefits: Sequence[BenefitSeries]
    spend: Sequence[tuple[dt.date, float]] = ()  # its spend metric's readings to the as-of date: (period, spent)


@dataclass(frozen=True)
class YearValue:
    """One fiscal year's money: planned, realised (to the as-of date; None for a year not begun) and forecast."""

    fiscal_year: FiscalYear
    planned: Decimal
    realised: Decimal | None
    forecast: Decimal
    costs: Decimal


@dataclass(frozen=True)
class InitiativeValue:
    """One initiative's (or the portfolio's) business case at the as-of date."""

    key: str
    name: str
    start: dt.date
    horizon: dt.date
    cash_to_date: Decimal  # money banked by the as-of date (run-rates accrued, amounts as reached)
    planned_cash_to_date: Decimal
    run_rate: Decimal  # the run-rate benefits' annual rate at the as-of date
    planned_run_rate: Decimal
    spent_to_date: Decimal
    investment: Decimal  # every cost over the business case
    planned: Returns
    forecast: Returns
    years: list[YearValue]
    forecast_missing: int = 0  # benefits without a forecast path (their forecast holds what they have realised)


def initiative_start(initiative: InitiativeInput, as_of: dt.date) -> dt.date:
    """The earliest of the initiative's benefits' baseline dates and dated costs (the as-of date without either)."""
    dates = [series.benefit.baseline.date for series in initiative.benefits]
    first = costs.first_cost(initiative.investment, initiative.spend)
    return min([*dates, *([first] if first else [])], default=as_of)


def horizon_of(initiative: InitiativeInput, start: dt.date, settings: Settings) -> dt.date:
    """The last day of the business case: as declared, else the end of the ``appraisal_years``-th fiscal year."""
    if initiative.investment.horizon is not None:
        return initiative.investment.horizon
    first = fiscal_year_of(start, settings.fiscal_year_start_month).year
    return fiscal_year(first + settings.appraisal_years - 1, settings.fiscal_year_start_month).end


def forecast_ahead(series: BenefitSeries, horizon: dt.date, key: str = "yhat") -> Steps:
    """What the forecast adds after the observed improvements: the path's ``key`` percentile after the
    last observation up to the horizon, then (for a run-rate) its last rate held to the horizon."""
    dates, columns = forecast_columns(series, horizon)
    return list(zip(dates, columns[PATH_KEYS.index(key)], strict=True))


def forecast_columns(series: BenefitSeries, horizon: dt.date) -> tuple[list[dt.date], list[list[float]]]:
    """:func:`forecast_ahead` of every percentile at once: its dates, and the improvements of each of
    :data:`PATH_KEYS` (in that order) at them."""
    benefit = series.benefit
    last = series.observed[-1][0] if series.observed else benefit.baseline.date
    ahead = [point for point in series.path if last < point[0] <= horizon]
    dates = [point[0] for point in ahead]
    direction, base = realisation.sign(benefit), benefit.baseline.value  # improvement_of inlined, per week
    columns = [
        [float(direction * (lower - base)) for _, lower, _, _ in ahead],
        [float(direction * (yhat - base)) for _, _, yhat, _ in ahead],
        [float(direction * (upper - base)) for _, _, _, upper in ahead],
    ]
    latest = dates[-1] if dates else series.observed[-1][0] if series.observed else None
    if latest is not None and latest < horizon and realisation.value_type(benefit) is ValueType.run_rate:
        dates.append(horizon)  # the last rate held to the horizon
        for column in columns:
            column.append(column[-1] if ahead else series.observed[-1][1])
    return dates, columns


def _sum(columns: Sequence[Sequence[Decimal]], width: int) -> list[Decimal]:
    return [sum((column[n] for column in columns), Decimal(0)) for n in range(width)]


def month_ends(start: dt.date, last: dt.date) -> list[dt.date]:
    """The last day of each month from ``start``'s to ``last``'s (``last`` itself last)."""
    days: list[dt.date] = []
    year, month = start.year, start.month
    while True:
        after = dt.date(year + month // 12, month % 12 + 1, 1)
        day = after - dt.timedelta(days=1)
        if day >= last:
            return [*days, last]
        days.append(day)
        year, month = after.year, after.month


@dataclass(frozen=True)
class _Prepared:
    """One benefit's three series, built once (what each banks over time), and its money factor."""

    benefit: Benefit
    factor: Decimal
    planned: realisation.Banking
    realised: realisation.Banking
    forecast: realisation.Banking
    run_rate: Decimal  # the realised annual rate at the as-of date (0 for an amount)
    planned_run_rate: Decimal
    has_path: bool


@dataclass(frozen=True)
class _Case:
    """An initiative with its business case's first and last day and its benefits' series."""

    initiative: InitiativeInput
    start: dt.date
    horizon: dt.date
    benefits: list[_Prepared]


def _prepare(series: BenefitSeries, horizon: dt.date, as_of: dt.date) -> _Prepared:
    benefit, since = series.benefit, series.benefit.baseline.date
    factor = realisation.cash_factor(benefit)
    rate = planned_rate = Decimal(0)
    if realisation.value_type(benefit) is ValueType.run_rate:
        if series.observed:
            rate = realisation.cash(benefit, series.observed[-1][1], factor)
        planned_now = realisation.planned_to_date(benefit, series.start, min(as_of, horizon))
        planned_rate = realisation.cash(benefit, planned_now, factor)
    realised = realisation.banking(benefit, series.observed, since)
    return _Prepared(
        benefit,
        factor,
        realisation.planned_banking(benefit, series.start, horizon),
        realised,
        realised.extended(forecast_ahead(series, horizon)),
        rate,
        planned_rate,
        bool(series.path),
    )


@dataclass(frozen=True)
class _Totals:
    """Running totals at a list of dates (money banked planned, realised and forecast; money spent),
    and the run-rates at the as-of date."""

    planned: list[Decimal]
    realised: list[Decimal]
    forecast: list[Decimal]
    spent: list[Decimal]
    run_rate: Decimal = Decimal(0)
    planned_run_rate: Decimal = Decimal(0)
    missing: int = 0


def _banked(prepared: _Prepared, series: realisation.Banking, dates: list[dt.date]) -> list[Decimal]:
    """Money banked by each of ``dates``: :func:`realisation.cash` of an exact banking's (Decimal) readings."""
    factor = prepared.factor
    return [value * factor for value in series.at(dates)]


def _totals(cases: Sequence[_Case], dates: list[dt.date]) -> _Totals:
    """The cases' running totals at ``dates``, added up (each case's series end at its horizon)."""
    width = len(dates)
    every = [p for case in cases for p in case.benefits]
    return _Totals(
        _sum([_banked(p, p.planned, dates) for p in every], width),
        _sum([_banked(p, p.realised, dates) for p in every], width),
        _sum([_banked(p, p.forecast, dates) for p in every], width),
        _spent(cases, dates),
        sum((p.run_rate for p in every), Decimal(0)),
        sum((p.planned_run_rate for p in every), Decimal(0)),
        sum(not p.has_path for p in every),
    )


def _spent(cases: Sequence[_Case], dates: list[dt.date]) -> list[Decimal]:
    """The cases' money spent by each of ``dates``, added up."""
    spent = [costs.spent_by(c.initiative.investment, c.start, c.horizon, dates, c.initiative.spend) for c in cases]
    return _sum(spent, len(dates))


def _added(parts: Sequence[_Totals]) -> _Totals:
    width = len(parts[0].planned) if parts else 0
    return _Totals(
        _sum([t.planned for t in parts], width),
        _sum([t.realised for t in parts], width),
        _sum([t.forecast for t in parts], width),
        _sum([t.spent for t in parts], width),
        sum((t.run_rate for t in parts), Decimal(0)),
        sum((t.planned_run_rate for t in parts), Decimal(0)),
        sum(t.missing for t in parts),
    )


def _payback(
    cases: Sequence[_Case],
    years: list[FiscalYear],
    ends: list[Decimal],
    spent: list[Decimal],
    kind: str,
) -> dt.date | None:
    """The payback date of ``kind`` (planned or forecast): the first fiscal year whose end has the
    money banked (``ends``, running totals at the day before the first year and each year's end)
    covering the money spent, then the month ends within that year, interpolated linearly."""
    year = next((n for n in range(1, len(ends)) if spent[n] > 0 and ends[n] >= spent[n]), None)
    if year is None:
        return None
    first = years[year - 1]
    grid = [first.start - dt.timedelta(days=1), *month_ends(first.start, first.end)]
    every = [p for case in cases for p in case.benefits]
    banked = _sum([_banked(p, getattr(p, kind), grid) for p in every], len(grid))
    return payback(grid, banked, _spent(cases, grid))


def _value(
    key: str,
    name: str,
    cases: Sequence[_Case],
    totals: _Totals,
    layout: _Layout,
    settings: Settings,
) -> InitiativeValue:
    """The business case of ``cases`` together (one initiative, or all of them for the portfolio),
    from their running totals at the layout's dates."""
    start, horizon = min(c.start for c in cases), max(c.horizon for c in cases)

    def by_year(running: list[Decimal]) -> list[Decimal]:
        ends = running[1:]
        return [after - before for before, after in zip(ends, ends[1:], strict=False)]

    planned_years, forecast_years, cost_years = by_year(totals.planned), by_year(totals.forecast), by_year(totals.spent)
    realised_years = by_year(totals.realised)
    indexed = [year.year - layout.base_year for year in layout.years]

    def case(kind: str, per_year: list[Decimal]) -> Returns:
        when = _payback(cases, layout.years, getattr(totals, kind)[1:], totals.spent[1:], kind)
        flows = list(zip(indexed, per_year, strict=True))
        return returns(flows, list(zip(indexed, cost_years, strict=True)), settings.discount_rate, when)

    kept = [n for n, year in enumerate(layout.years) if year.end >= start and year.start <= horizon]
    return InitiativeValue(
        key=key,
        name=name,
        start=start,
        horizon=horizon,
        cash_to_date=totals.realised[0],
        planned_cash_to_date=totals.planned[0],
        run_rate=totals.run_rate,
        planned_run_rate=totals.planned_run_rate,
        spent_to_date=totals.spent[0],
        investment=totals.spent[-1],
        planned=case("planned", planned_years),
        forecast=case("forecast", forecast_years),
        years=[
            YearValue(
                layout.years[n],
                planned_years[n],
                realised_years[n] if layout.years[n].start <= layout.as_of else None,
                forecast_years[n],
                cost_years[n],
            )
            for n in kept
        ],
        forecast_missing=totals.missing,
    )


@dataclass(frozen=True)
class _Layout:
    """The dates every initiative is evaluated at, so that the portfolio's figures are their sums:
    the as-of date, the day before the first fiscal year and each fiscal year's last day."""

    as_of: dt.date
    years: list[FiscalYear]
    base_year: int

    @property
    def dates(self) -> list[dt.date]:
        return [self.as_of, self.years[0].start - dt.timedelta(days=1), *(year.end for year in self.years)]


PORTFOLIO = "portfolio"


def base_year(settings: Settings, first: dt.date) -> FiscalYear:
    """Discounting's year 0: the fiscal year holding the valuation date, else ``first`` (the portfolio's start)."""
    return fiscal_year_of(settings.valuation_date or first, settings.fiscal_year_start_month)


def evaluate(
    initiatives: Sequence[InitiativeInput], settings: Settings, as_of: dt.date
) -> tuple[list[InitiativeValue], InitiativeValue]:
    """Every initiative's business case at ``as_of`` and the portfolio's (all of them together)."""
    cases = []
    for initiative in initiatives:
        start = initiative_start(initiative, as_of)
        horizon = horizon_of(initiative, start, settings)
        cases.append(_Case(initiative, start, horizon, [_prepare(s, horizon, as_of) for s in initiative.benefits]))
    first = min((c.start for c in cases), default=as_of)
    last = max((c.horizon for c in cases), default=as_of)
    month = settings.fiscal_year_start_month
    base = base_year(settings, first).year
    layout = _Layout(as_of, fiscal_years(first, last, month), base)
    totals = [_totals([c], layout.dates) for c in cases]
    values = [
        _value(c.initiative.key, c.initiative.name, [c], t, layout, settings)
        for c, t in zip(cases, totals, strict=True)
    ]
    whole = _added(totals) if cases else _totals([], layout.dates)
    if not cases:
        cases = [_Case(InitiativeInput(PORTFOLIO, "Portfolio", Investment(), []), as_of, as_of, [])]
    return values, _value(PORTFOLIO, "Portfolio", cases, whole, layout, settings)
