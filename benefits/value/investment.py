"""An initiative's costs over its business case, in Decimal.

One-off costs are spent on their date (an undated one, as ``investment: 1800000``, at the
initiative's start); a running cost of ``per_year`` accrues day by day from its start to its end
(default: the business case horizon), 1/365 of a year's cost per day (actual/365, as a
run-rate benefit banks: :mod:`benefits.realisation`). An investment whose ``metric`` names a ledger
metric takes its costs from that metric's readings up to the latest of them, and the declared costs
after it.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import accumulate

from benefits.claims.money import from_floats
from benefits.realisation import YEAR_DAYS
from benefits.register import Investment

ONE_DAY = dt.timedelta(days=1)


def spent_by(
    investment: Investment,
    start: dt.date,
    horizon: dt.date,
    at: Iterable[dt.date],
    spend: Sequence[tuple[dt.date, float]] = (),
) -> list[Decimal]:
    """The money spent by the end of each day of ``at`` (costs dated after ``horizon`` are left out).

    ``spend``: the readings of the investment's ``metric`` (period, money spent in that period; in period
    order). Up to the latest of them the costs are the readings, each on its period's date; the declared
    costs count only after it (what is still to be spent). Without readings the declared costs are all."""
    readings = [(day, value) for day, value in spend if day <= horizon]
    days = [day for day, _ in readings]
    ledger = list(accumulate(from_floats(value for _, value in readings), initial=Decimal(0)))
    after = days[-1] if days else None  # the declared costs count after the latest reading
    one_off = [(cost.date or start, cost.amount) for cost in investment.one_off]
    one_off = [(when, amount) for when, amount in one_off if after is None or when > after]
    running = [
        (
            cost.start if after is None else max(cost.start, after + ONE_DAY),
            min(cost.end or horizon, horizon),
            cost.per_year,
        )
        for cost in investment.running
    ]
    out = []
    for day in at:
        total = ledger[bisect_right(days, day)]
        total += sum((amount for when, amount in one_off if when <= min(day, horizon)), Decimal(0))
        for first, last, per_year in running:
            accrued = (min(day, last) - first).days + 1
            if accrued > 0:
                total += per_year * accrued / YEAR_DAYS
        out.append(total)
    return out


def first_cost(investment: Investment, spend: Sequence[tuple[dt.date, float]] = ()) -> dt.date | None:
    """The earliest dated cost (a one-off's date, a running cost's start or the first reading of the spend
    metric), None when none is dated."""
    dates = [cost.date for cost in investment.one_off if cost.date] + [cost.start for cost in investment.running]
    return min([*dates, *(day for day, _ in spend[:1])], default=None)
