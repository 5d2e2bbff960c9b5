"""Return on an investment: net benefit, NPV, benefit/cost ratio and payback date, in Decimal.

Discounting is annual, by fiscal year, as the HM Treasury Green Book does it: the money banked or
spent in fiscal year *n* after the base year (year 0, the fiscal year holding the portfolio's
valuation date) is divided by ``(1 + r) ** n``; money of a year before the base year is
compounded (``n`` negative). The base year is not discounted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Returns:
    """An investment's return over its business case (money in the register's currency)."""

    benefits: Decimal  # every benefit banked over the business case, undiscounted (dis-benefits negative)
    costs: Decimal  # every cost, undiscounted
    net_benefit: Decimal  # benefits - costs
    present_benefits: Decimal
    present_costs: Decimal
    npv: Decimal  # present benefits - present costs
    benefit_cost_ratio: Decimal | None  # present benefits / present costs; None without costs
    payback_date: dt.date | None  # first day the money banked covers the money spent; None within the horizon


def discount_factor(rate: Decimal, years: int) -> Decimal:
    """``1 / (1 + rate) ** years``: the present value of one unit ``years`` fiscal years after the base year."""
    return 1 / (1 + rate) ** years


def present_value(by_year: Sequence[tuple[int, Decimal]], rate: Decimal) -> Decimal:
    """The sum of each fiscal year's money (years counted from the base year) discounted at ``rate``."""
    return sum((amount * discount_factor(rate, years) for years, amount in by_year), Decimal(0))


def payback(days: Sequence[dt.date], banked: Sequence[Decimal], spent: Sequence[Decimal]) -> dt.date | None:
    """The first day on which the money banked covers the money spent, from running totals at ``days``
    (in order): between two days of the grid the totals are taken to move linearly, and the day is
    interpolated. None when nothing is spent or the costs are not covered by the last day."""
    previous: tuple[dt.date, Decimal] | None = None
    for day, gained, cost in zip(days, banked, spent, strict=True):
        net = gained - cost
        if cost > 0 and net >= 0:
            if previous is None or previous[1] >= 0:
                return day
            before, shortfall = previous
            share = -shortfall / (net - shortfall)
            return before + dt.timedelta(
                days=int((share * (day - before).days).to_integral_value(rounding="ROUND_CEILING"))
            )
        previous = (day, net)
    return None


def returns(
    benefits_by_year: Sequence[tuple[int, Decimal]],
    costs_by_year: Sequence[tuple[int, Decimal]],
    rate: Decimal,
    payback_date: dt.date | None,
) -> Returns:
    """The :class:`Returns` of per-fiscal-year benefits and costs (``(years from the base year, money)``)."""
    gained = sum((amount for _, amount in benefits_by_year), Decimal(0))
    spent = sum((amount for _, amount in costs_by_year), Decimal(0))
    present_gained, present_spent = present_value(benefits_by_year, rate), present_value(costs_by_year, rate)
    return Returns(
        benefits=gained,
        costs=spent,
        net_benefit=gained - spent,
        present_benefits=present_gained,
        present_costs=present_spent,
        npv=present_gained - present_spent,
        benefit_cost_ratio=present_gained / present_spent if present_spent > 0 else None,
        payback_date=payback_date,
    )
