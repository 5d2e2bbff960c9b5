"""The reference class: how comparable benefits fared, for a forecast with little evidence.

Reference-class forecasting (Flyvbjerg, "From Nobel Prize to project management: getting risks
right", 2006; HM Treasury's Green Book supplementary guidance on optimism bias) corrects the
optimism of a single plan with the track record of comparable ones. Here a benefit's reference
class is the benefits of the same category and measure kind in the portfolio; its track record
is the share of those whose target date has passed that landed, shrunk towards
:data:`PRIOR_RATE` by :data:`PRIOR_BENEFITS` pseudo-benefits (so one early result does not swing
it). A forecast leans on this rate by :func:`weight`: the shorter its history against the time to
its target date, the more.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from benefits import register

#: The landing rate assumed before any comparable benefit has reached its target date.
PRIOR_RATE = 0.5
PRIOR_BENEFITS = 4.0


@dataclasses.dataclass(frozen=True)
class ReferenceClass:
    """Comparable benefits and how many of those already decided landed."""

    category: str
    measure: str
    decided: int = 0
    """Benefits of the class whose target date has passed."""
    landed: int = 0
    """Of those, the ones that reached their target by their target date."""

    @property
    def rate(self) -> float:
        """The landing rate, shrunk towards the prior."""
        return (self.landed + PRIOR_RATE * PRIOR_BENEFITS) / (self.decided + PRIOR_BENEFITS)

    @property
    def label(self) -> str:
        """``"cost reduction benefits measured cumulatively"``."""
        kind = "cumulatively" if self.measure == "cumulative" else "as a level"
        return f"{self.category.replace('_', ' ')} benefits measured {kind}"

    def describe(self) -> str:
        """The track record in words."""
        if not self.decided:
            return f"none of the {self.label} has reached its target date yet, so {self.rate:.0%} is assumed"
        return f"{self.landed} of {self.decided} {self.label} landed, {self.rate:.0%} with the prior"


def class_of(benefit: register.Benefit, classes: dict[tuple[str, str], ReferenceClass] | None = None) -> ReferenceClass:
    """The reference class of ``benefit`` among ``classes`` (an empty one when none is known)."""
    key = (benefit.category.value, benefit.measure.value)
    return (classes or {}).get(key) or ReferenceClass(*key)


def weight(most: float, as_of: dt.date, target: dt.date, history_days: float) -> float:
    """How much the probability leans on the reference class: ``most * H / (H + 2 S)`` for H days
    to the target date and S days of history (0 when the target date is not ahead)."""
    return lean(most, (target - as_of).days, 2.0 * history_days)


def lean(most: float, ahead_days: float, evidence_days: float) -> float:
    """``most * H / (H + E)``: how little E days of evidence say about H days ahead (0 when nothing
    is ahead); the weight of what a forecast leans on beside its own fit."""
    ahead = max(ahead_days, 0.0)
    if ahead == 0:
        return 0.0
    return most * ahead / (ahead + max(evidence_days, 0.0))
