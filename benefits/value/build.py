"""Building `benefits value`'s report from the store: read, evaluate, roll up."""

from __future__ import annotations

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
    settings = reading.settings(session)
    initiatives = reading.initiatives(session, as_of)
    values, portfolio = evaluate(initiatives, settings, as_of)
    month = settings.fiscal_year_start_month
    years = [y.fiscal_year for y in portfolio.years]
    chosen = fiscal_year(year, month) if year is not None else fiscal_year_of(as_of, month)
    if year is not None and chosen not in years:
        span = f"{years[0].label} to {years[-1].label}" if years else "none"
        raise ConfigError(f"--fy {year}: FY{year} is outside every initiative's business case ({span})")
    return ValueReport(
        as_of=as_of,
        settings=settings,
        base_year=base_year(settings, portfolio.start),
        fiscal_year=chosen,
        chosen=year is not None,
        initiatives=values,
        portfolio=portfolio,
        rollup=rollup(initiatives, settings, as_of, years, correlation, samples),
        correlation=correlation,
        samples=samples,
    )
