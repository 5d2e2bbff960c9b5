"""The reference class: how comparable benefits fared, for a forecast with little evidence.

Reference-class forecasting (Flyvbjerg, "From Nobel Prize to project management: getting risks
right", 2006; HM Treasury's Green Book supplementary guidance on optimism bias) corrects the
optimism of a single plan with the track record of comparable ones. Here a benefit's reference
class is the benefits of the same category and measure kind in the portfolio; its track record
is the share of those whose target date has passed that landed, shrunk towards
:data:`PRIOR_RATE` by :data:`PRIOR_BENEFITS` pseudo-benefits (so one early result does not swing
it). A forecast leans on this rate by :func:`weight`: the shorter its history against the time to
its target date, the more. A cumulative benefit that has delivered nothing yet leans with its
interval too, on how far from their targets comparable benefits land (:func:`margins`): its own
fit knows no more than that nothing came so far.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from statistics import NormalDist

import numpy as np

from benefits import register

#: The landing rate assumed before any comparable benefit has reached its target date.
PRIOR_RATE = 0.5
PRIOR_BENEFITS = 4.0
#: How far from their targets comparable benefits land, in target improvements: the standard
#: deviation of the *margin* (Q at the target date less the target, over the target improvement,
#: oriented so that a margin of 0 or more is a landing). With 0.5, 80% of a class of which half
#: land are between about a third and one and two thirds of their target improvement. A
#: documented prior, not learned.
PRIOR_SPREAD = 0.5


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


def margins(rate: float, points: int) -> np.ndarray:
    """``points`` evenly spaced quantiles of a reference class's margin at the target date
    (:data:`PRIOR_SPREAD`): normal, centred so that a share ``rate`` of it is 0 or more."""
    rate = min(max(rate, 1e-6), 1.0 - 1e-6)
    normal = NormalDist(PRIOR_SPREAD * NormalDist().inv_cdf(rate), PRIOR_SPREAD)
    return np.array([normal.inv_cdf((k + 0.5) / points) for k in range(points)])


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
