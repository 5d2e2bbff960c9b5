"""Fiscal years: the finance year that value is reported in.

A fiscal year starts on the 1st of the register's ``fiscal_year_start_month`` (April for a GBP
register unless declared, January otherwise) and is named by the calendar year it ends in:
with an April start, FY2027 runs from 1 April 2026 to 31 March 2027; with a January start,
FY2026 is the calendar year 2026.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class FiscalYear:
    """One fiscal year: its name (the calendar year it ends in), first day and last day."""

    year: int
    start: dt.date
    end: dt.date

    @property
    def label(self) -> str:
        """``FY2027``."""
        return f"FY{self.year}"

    @property
    def after(self) -> dt.date:
        """The day after its last: the first day of the next fiscal year."""
        return self.end + dt.timedelta(days=1)


def fiscal_year(year: int, start_month: int) -> FiscalYear:
    """The fiscal year named ``year`` (ending in that calendar year) for a year starting in ``start_month``."""
    first_year = year if start_month == 1 else year - 1
    start = dt.date(first_year, start_month, 1)
    after = dt.date(first_year + 1, start_month, 1)
    return FiscalYear(year, start, after - dt.timedelta(days=1))


def fiscal_year_of(day: dt.date, start_month: int) -> FiscalYear:
    """The fiscal year that holds ``day``."""
    year = day.year if start_month == 1 or day.month < start_month else day.year + 1
    return fiscal_year(year, start_month)


def fiscal_years(first: dt.date, last: dt.date, start_month: int) -> list[FiscalYear]:
    """Every fiscal year from the one holding ``first`` to the one holding ``last``, in order."""
    start, end = fiscal_year_of(first, start_month).year, fiscal_year_of(last, start_month).year
    return [fiscal_year(year, start_month) for year in range(start, end + 1)]
