"""The one human sentence of a forecast, and the numbers in it."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from benefits import register

if TYPE_CHECKING:
    from benefits.forecast.conformal import Calibration
    from benefits.forecast.reference import ReferenceClass


def likely(benefit: register.Benefit, p: float) -> str:
    """``"73% likely to reach 900,000 GBP by 2027-03-29"`` (a dis-benefit: to stay within its limit)."""
    target = benefit.target
    goal = (
        f"stay within the tolerated limit of {amount(target.value, benefit.unit)}"
        if benefit.dis_benefit
        else f"reach {amount(target.value, benefit.unit)}"
    )
    return f"{round(100 * p)}% likely to {goal} by {target.date.isoformat()}"


def so_far(benefit: register.Benefit, realised: float, big_t: float) -> str:
    """What has been realised so far against the target improvement."""
    unit = "percentage points" if benefit.unit == "%" else benefit.unit  # improvements of a percentage
    if benefit.dis_benefit:
        return f"adverse effect so far {number(realised)} of {amount(big_t, unit)} tolerated"
    return f"realised {number(realised)} of {amount(big_t, unit)} targeted"


def number(x: float) -> str:
    """A number for people: thousands separated, at most two decimals, but three significant
    digits below 1 (a conversion rate's target of 0.0138 is not shown as 0.01, below its baseline
    of 0.011), no negative zero."""
    if not math.isfinite(x):
        return str(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if x == 0:
        return "0"
    decimals = max(2, 2 - math.floor(math.log10(abs(x))))
    if decimals > 6:
        return f"{x:.2e}"
    text = f"{x:,.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def amount(x: float, unit: str) -> str:
    """A number with its unit (``85%``, ``900,000 GBP``)."""
    return f"{number(x)}{'' if unit == '%' else ' '}{unit}"


def fit_note(
    excluded: int,
    shifts: Sequence[str] = (),
    excursions: Sequence[Sequence[str]] = (),
    payments: Sequence[float] | None = None,
    unit: str = "",
    season_months: int | None = None,
) -> str:
    """The suffix saying how many outliers were left out of the fit, which readings went off course
    and came back (:func:`benefits.forecast.series.excursions`), when the level last shifted
    (:func:`benefits.forecast.series.level_shifts`) and, for a flow read as payments
    (:func:`benefits.forecast.fitting.payments`), their typical size and interval (``payments``,
    in ``unit`` and days), and when a yearly season was learned from fewer than two years of
    readings (``season_months``), from how many months; empty for none of them."""
    note = ""
    if payments:
        size, days = payments
        every = f"{round(days / 7)} weeks" if days >= 14 else f"{round(days)} days"
        note += f"; read as payments of about {amount(size, unit)} every {every}"
    note += f"; {excluded} outlier{'s' if excluded != 1 else ''} left out of the fit" if excluded else ""
    if len(excursions) == 1:
        first, last = excursions[0]
        note += f"; the readings from {first} to {last} went off course and came back: left out of the fit"
    elif excursions:
        first, last = excursions[-1]
        note += (
            f"; {len(excursions)} runs of readings went off course and came back (the last from {first} to {last}):"
            " left out of the fit"
        )
    if shifts:
        note += f"; the level stepped on {shifts[-1]} and is taken to stay there"
    if season_months:
        note += f"; its yearly season is learned from {season_months} months of readings"
    return note


def reason(exc: BaseException) -> str:
    """An exception as one line of at most 200 characters."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def holds(benefit: register.Benefit, p: float) -> str:
    """``"82% likely to stay at or beyond 6.5 minutes on 2027-03-29"`` (a level that reached its target)."""
    target = amount(benefit.target.value, benefit.unit)
    return f"{round(100 * p)}% likely to still be at or beyond {target} on {benefit.target.date.isoformat()}"


def too_few(points: int, needed: int, reached_on: dt.date | None, so_far: str) -> str:
    """Why a benefit has no forecast yet: too few readings (and, when its target is reached, that
    it is too early to tell whether it holds)."""
    held = f"target reached on {reached_on.isoformat()}, too early to tell if it holds; " if reached_on else ""
    return f"{held}only {points} observation{'s' if points != 1 else ''} ({needed} needed to forecast); {so_far}"


def trust(
    calibration: Calibration,
    reference: ReferenceClass,
    lean: float,
    points: int,
    history_days: float,
    benefit: register.Benefit,
    latest: dt.date,
) -> str:
    """One plain sentence on how far a forecast can be trusted: what calibrated its range and
    how much its probability leans on comparable benefits (``history_days``: how long the benefit
    has delivered, :func:`benefits.forecast.series.delivering_from`; ``latest``: the last
    reading's date)."""
    if calibration.errors:
        basis = (
            f"Its range is set by how far, and which way, {number(calibration.errors)} past forecasts of "
            f"{number(calibration.benefits)} benefits in this portfolio missed"
        )
    else:
        basis = "Its range uses the default widening, as this portfolio has no backtested forecasts yet"
    weeks_ahead = max((benefit.target.date - latest).days, 0) // 7
    weeks = int(history_days // 7)
    history = (
        f"{points} readings and {weeks} week{'s' if weeks != 1 else ''} of delivery"
        if history_days > 0
        else f"{points} readings and nothing delivered yet"
    )
    if lean >= 0.05:
        from benefits.forecast.probability import range_leans

        what = "the probability and its range lean" if range_leans(benefit, history_days) else "the probability leans"
        return (
            f"{basis}; with {history} for a target {weeks_ahead} weeks away, {what} "
            f"{lean:.0%} on comparable benefits: {reference.describe()}."
        )
    return f"{basis}; it rests on {history} for a target {weeks_ahead} weeks away."
