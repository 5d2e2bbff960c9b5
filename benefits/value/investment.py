"""An initiative's costs over its business case, in Decimal.

One-off costs are spent on their date (an undated one, as ``investment: 1800000``, at the
initiative's start); a running cost of ``per_year`` accrues day by day from its start to its end
(default: the business case horizon), 1/365 of a year's cost per day (actual/365, as a
run-rate benefit banks: :mod:`benefits.realisation`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from benefits.realisation import YEAR_DAYS
from benefits.register import Investment

ONE_DAY = dt.timedelta(days=1)


def spent_by(investment: Investment, start: dt.date, horizon: dt.date, at: Iterable[dt.date]) -> list[Decimal]:
    """The money spent by the end of each day of ``at`` (costs dated after ``horizon`` are left out)."""
    one_off = [(cost.date or start, cost.amount) for cost in investment.one_off]
    running = [(cost.start, min(cost.end or horizon, horizon), cost.per_year) for cost in investment.running]
    out = []
    for day in at:
        total = sum((amount for when, amount in one_off if when <= min(day, horizon)), Decimal(0))
        for first, last, per_year in running:
            days = (min(day, last) - first).days + 1
            if days > 0:
                total += per_year * days / YEAR_DAYS
        out.append(total)
    return out


def total(investment: Investment, start: dt.date, horizon: dt.date) -> Decimal:
    """Every cost of the business case: the one-off costs and the running costs up to the horizon."""
    return spent_by(investment, start, horizon, [horizon])[0]


def first_cost(investment: Investment) -> dt.date | None:
    """The earliest dated cost (a one-off's date or a running cost's start), None when none is dated."""
    dates = [cost.date for cost in investment.one_off if cost.date] + [cost.start for cost in investment.running]
    return min(dates, default=None)
