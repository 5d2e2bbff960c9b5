"""Reconciliation maths: a claim's evidence in the ledger, its variance and evidenced share.

Pure functions over a benefit and its metric's observations; no store, no float arithmetic.
The evidence follows :mod:`benefits.realisation` exactly — the improvement from the baseline to
the claim's period (the running sum since the baseline date of a ``cumulative`` metric, the
latest value of a ``level`` one), times value per unit and attribution share, negative for a
dis-benefit — but in Decimal, and it keeps the observations it used so that each figure can be
traced to its sync run. ``tests/test_claims_reconciliation.py`` proves both agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from benefits import realisation
from benefits.claims import ClaimClass
from benefits.claims.money import from_float
from benefits.register import Benefit, Measure

LEDGER_PREFIX = "ledger."

EVIDENCED = "evidenced"
PARTLY_EVIDENCED = "partly_evidenced"
UNEVIDENCED = "unevidenced"
DOUBLE_COUNTED = "double_counted"  # its metric's attribution shares add up to over 100%: evidence not counted
ORPHAN = "orphan"  # its benefit left the register: no evidence to set it against


@dataclass(frozen=True)
class EvidenceLine:
    """One observation a figure rests on, with its place in the source and the sync run that loaded it."""

    period: dt.date
    value: Decimal
    source: str
    sync_run_id: int
    source_ref: str | None = None
    """Where in the source: file:line, table key, URL and cursor (None for rows loaded before lineage was kept)."""


@dataclass(frozen=True)
class Evidence:
    """What the observations say the benefit delivered by the claim's period."""

    metric: str
    period: dt.date
    improvement: Decimal | None  # in the metric's unit; None when nothing was observed
    value: Decimal  # money credited to the benefit (0 when nothing was observed)
    lines: tuple[EvidenceLine, ...]


@dataclass(frozen=True)
class Reconciliation:
    """A claim next to its evidence."""

    claimed: Decimal
    evidenced: Decimal  # evidence that counts for the claim's class (0 when unevidenced)
    variance: Decimal  # claimed - evidenced
    evidenced_share: Decimal | None  # 0..1 of the claim backed by evidence; None for a zero claim
    state: str  # evidenced, partly_evidenced or unevidenced
    reason: str  # why, in one sentence


def is_ledger_metric(metric: str) -> bool:
    """True for a budget-line metric from the ledger (``ledger.*``)."""
    return metric.startswith(LEDGER_PREFIX)


def evidence_lines(benefit: Benefit, observations: pd.DataFrame, period: dt.date) -> tuple[EvidenceLine, ...]:
    """The observations that make the tracked quantity at ``period`` (see :func:`realisation.tracked_value`).

    ``observations`` has columns ``period``, ``value``, ``source``, ``sync_run_id`` and (optionally)
    ``source_ref``, one row per period. A cumulative metric uses every period after the baseline date up to
    ``period``; a level metric uses the latest one.
    """
    if observations.empty:
        return ()
    periods = pd.to_datetime(observations["period"]).dt.date
    window = observations.assign(day=periods)
    window = window[(window["day"] > benefit.baseline.date) & (window["day"] <= period)].sort_values("day")
    if benefit.measure is Measure.level:
        window = window.tail(1)
    return tuple(
        EvidenceLine(row.day, from_float(row.value), str(row.source), int(row.sync_run_id), _ref(row))
        for row in window.itertuples(index=False)
    )


def _ref(row: Any) -> str | None:
    ref = getattr(row, "source_ref", None)
    return ref if isinstance(ref, str) and ref else None


def evidence(benefit: Benefit, observations: pd.DataFrame, period: dt.date) -> Evidence:
    """The benefit's realised value at ``period`` in money, as Decimal, with the observations used."""
    lines = evidence_lines(benefit, observations, period)
    if not lines:
        return Evidence(benefit.metric, period, None, Decimal(0), ())
    baseline = from_float(benefit.baseline.value)
    if benefit.measure is Measure.cumulative:
        tracked = baseline + sum((line.value for line in lines), Decimal(0))
    else:
        tracked = lines[-1].value
    improvement = realisation.sign(benefit) * (tracked - baseline)
    value = improvement * from_float(benefit.value_per_unit) * from_float(benefit.attribution)
    return Evidence(benefit.metric, period, improvement, -value if benefit.dis_benefit else value, lines)


def reconcile(claimed: Decimal, claim_class: ClaimClass, found: Evidence) -> Reconciliation:
    """Set a claim against its evidence: what counts, the variance and the evidenced share.

    A cash-releasing claim counts only a reduction in a ledger (budget line) metric; without one
    it is unevidenced whatever else was observed.
    """
    counted, reason = _counted(claim_class, found)
    share = None if claimed == 0 else min(max(counted / claimed, Decimal(0)), Decimal(1))
    if share is None or share <= 0:
        state = UNEVIDENCED
        reason = reason or "the observations show no improvement by this period"
    elif share < 1:
        state, reason = PARTLY_EVIDENCED, "the evidence covers part of the claim"
    else:
        state, reason = EVIDENCED, "the evidence covers the claim"
    return Reconciliation(claimed, counted, claimed - counted, share, state, reason)


def not_counted(claimed: Decimal, state: str, reason: str) -> Reconciliation:
    """A claim whose evidence does not count (double counted or orphan): nothing evidenced, flagged by ``state``."""
    return Reconciliation(claimed, Decimal(0), claimed, None, state, reason)


def _counted(claim_class: ClaimClass, found: Evidence) -> tuple[Decimal, str]:
    """The evidence that counts for the class, and the reason when none does."""
    if not found.lines:
        return Decimal(0), f"no observations of {found.metric} up to {found.period.isoformat()}"
    if claim_class is ClaimClass.cash_releasing:
        if not is_ledger_metric(found.metric):
            return Decimal(0), (
                f"cash-releasing needs a reduction in a ledger metric; "
                f"{found.metric} is not a ledger ({LEDGER_PREFIX}*) metric"
            )
        if found.value <= 0:
            return Decimal(0), f"no reduction in ledger metric {found.metric} by {found.period.isoformat()}"
    return max(found.value, Decimal(0)), ""
