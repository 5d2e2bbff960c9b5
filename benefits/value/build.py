"""Building `benefits value`'s report from the store: read, evaluate, roll up."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from benefits.errors import ConfigError
from benefits.value import reading
from benefits.value.cases import base_year, evaluate
from benefits.value.fiscal import fiscal_year, fiscal_year_of
from benefits.value.report import ValueReport
from benefits.value.rollup import rollup


def build(session: Session, as_of: dt.date, year: int | None, correlation: float, samples: int) -> ValueReport:
    """The report at ``as_of`` (the fiscal year ``year`` chosen, else the one holding ``as_of``);
    ConfigError when ``year`` is outside every business case."""
    return choose(compute(session, as_of, correlation, samples), year)


def compute(session: Session, as_of: dt.date, correlation: float, samples: int) -> ValueReport:
    """The report at ``as_of`` showing the fiscal year that holds it: every fiscal year is computed,
    whichever :func:`choose` picks later."""
    settings = reading.settings(session)
    initiatives = reading.initiatives(session, as_of)
    values, portfolio = evaluate(initiatives, settings, as_of)
    years = [y.fiscal_year for y in portfolio.years]
    return ValueReport(
        as_of=as_of,
        settings=settings,
        base_year=base_year(settings, portfolio.start),
        fiscal_year=fiscal_year_of(as_of, settings.fiscal_year_start_month),
        chosen=False,
        initiatives=values,
        portfolio=portfolio,
        rollup=rollup(initiatives, settings, as_of, years, correlation, samples),
        correlation=correlation,
        samples=samples,
    )


def choose(report: ValueReport, year: int | None) -> ValueReport:
    """``report`` showing the fiscal year ``year`` (named by the year it ends in) alone, or as it is
    for None; ConfigError when ``year`` is outside every business case."""
    if year is None:
        return report
    chosen = fiscal_year(year, report.settings.fiscal_year_start_month)
    years = [y.fiscal_year for y in report.portfolio.years]
    if chosen not in years:
        span = f"{years[0].label} to {years[-1].label}" if years else "none"
        raise ConfigError(f"--fy {year}: FY{year} is outside every initiative's business case ({span})")
    return dataclasses.replace(report, fiscal_year=chosen, chosen=True)
