"""Reading claims from the store with their evidence, sync runs, validation results and decisions.

This is the only claims module that queries the store for reading; the CLI, the finance page and
the evidence pack all work from the :class:`ClaimsReport` it returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session, selectinload

from benefits.claims import ClaimClass, Decision
from benefits.claims.double_counting import OverAttribution, over_attributed
from benefits.claims.reconciliation import (
    DOUBLE_COUNTED,
    ORPHAN,
    Evidence,
    Reconciliation,
    evidence,
    not_counted,
    reconcile,
)
from benefits.claims.signoff import state
from benefits.store import models, repository


@dataclass(frozen=True)
class DecisionView:
    """One entry of a claim's sign-off history."""

    decision: str
    decided_by: str
    role: str
    comment: str
    decided_at: dt.datetime
    claimed_value: Decimal  # the value decided on
    claim_version_id: int  # the recorded value (claim version) decided on


@dataclass(frozen=True)
class VersionView:
    """One value a claim was recorded with (the last one is the claim's current value)."""

    claimed_value: Decimal
    claim_class: str
    source: str
    created_by: str
    source_ref: str | None
    sync_run_id: int | None
    recorded_at: dt.datetime


@dataclass(frozen=True)
class RunInfo:
    """The sync run behind an evidence figure and its validation result."""

    id: int
    connector: str
    status: str
    finished_at: dt.datetime | None
    rows_quarantined: int
    validation: str  # one line, e.g. "passed 9 of 9 expectations"


@dataclass(frozen=True)
class ClaimLine:
    """One claim next to its evidence, its state and its sign-off history."""

    id: int
    benefit: str
    benefit_name: str
    initiative: str
    initiative_name: str
    category: str
    metric: str
    period: dt.date
    claim_class: ClaimClass
    source: str
    note: str
    created_by: str
    source_ref: str | None  # where the latest value came from (a connector's pointer, a CSV file's row)
    sync_run_id: int | None  # the sync run whose connector delivered the latest value
    versions: tuple[VersionView, ...]
    evidence: Evidence
    reconciliation: Reconciliation
    state: str  # pending, approved or rejected
    decisions: tuple[DecisionView, ...]
    double_counted: OverAttribution | None
    orphan: bool = False  # its benefit is no longer in the register: shown, flagged, left out of the totals

    @property
    def validated(self) -> Decimal:
        """The claimed value once finance approved it, else 0."""
        return self.reconciliation.claimed if self.state == Decision.approved else Decimal(0)


@dataclass(frozen=True)
class ClaimsReport:
    """Every claim (of one initiative, or all), the runs its evidence came from and double counting.

    A claim is the value realised from the benefit's baseline up to its period, so a benefit's
    later claim includes its earlier ones: the totals add up the latest claim of each benefit
    (the latest approved one for validated value), never every claim. Orphan claims (their
    benefit left the register) are listed but left out of the totals; :attr:`orphaned` says how
    much they claim.
    """

    lines: list[ClaimLine]
    runs: dict[int, RunInfo]
    over_attributed: list[OverAttribution]

    @property
    def counted(self) -> list[ClaimLine]:
        """The claims the totals add up: all but the orphans."""
        return [line for line in self.lines if not line.orphan]

    @property
    def orphans(self) -> list[ClaimLine]:
        """Claims whose benefit is no longer in the register."""
        return [line for line in self.lines if line.orphan]

    @property
    def reported(self) -> Decimal:
        """The sum of each benefit's latest claimed value."""
        return sum((line.reconciliation.claimed for line in latest_per_benefit(self.counted)), Decimal(0))

    @property
    def evidenced(self) -> Decimal:
        """The sum of the evidence that counts for each benefit's latest claim."""
        return sum((line.reconciliation.evidenced for line in latest_per_benefit(self.counted)), Decimal(0))

    @property
    def validated(self) -> Decimal:
        """The sum of each benefit's latest approved claim: the only value finance vouches for."""
        approved = [line for line in self.counted if line.state == Decision.approved]
        return sum((line.validated for line in latest_per_benefit(approved)), Decimal(0))

    @property
    def orphaned(self) -> Decimal:
        """The sum of each orphan benefit's latest claimed value (not in the totals above)."""
        return sum((line.reconciliation.claimed for line in latest_per_benefit(self.orphans)), Decimal(0))


def latest_per_benefit(lines: list[ClaimLine]) -> list[ClaimLine]:
    """The claim with the latest period of each benefit among ``lines``."""
    latest: dict[str, ClaimLine] = {}
    for line in lines:
        if line.benefit not in latest or line.period > latest[line.benefit].period:
            latest[line.benefit] = line
    return list(latest.values())


@dataclass(frozen=True)
class ClaimedValue:
    """An initiative's reported and validated claimed value, as :class:`ClaimsReport` counts them."""

    reported: Decimal
    validated: Decimal


def claimed_value_by_initiative(
    session: Session, benefit_keys: Collection[str] | None = None
) -> dict[str, ClaimedValue]:
    """Reported and validated (approved) claimed value per initiative key: latest claims chosen in SQL, added in Python.

    Reported value adds up each benefit's latest claim; validated value each benefit's latest
    approved claim (a claim's state is its latest decision). ``benefit_keys`` limits the claims to
    those benefits (a filtered view). Initiatives without claims are left out.
    """
    reported = _sum_latest_by_initiative(session, select(models.Claim.id), benefit_keys)
    validated = _sum_latest_by_initiative(session, _approved_claim_ids(), benefit_keys)
    return {key: ClaimedValue(value, validated.get(key, Decimal(0))) for key, value in reported.items()}


def _approved_claim_ids() -> Select[int]:
    """The ids of claims whose latest decision is ``approved``."""
    d = models.ClaimDecision
    last = select(func.max(d.id).label("id")).group_by(d.claim_id).subquery()
    return select(d.claim_id).join(last, last.c.id == d.id).where(d.decision == Decision.approved.value)


def _sum_latest_by_initiative(
    session: Session, claim_ids: Select[int], benefit_keys: Collection[str] | None
) -> dict[str, Decimal]:
    """Sum, per initiative, the claimed value of each benefit's latest claim among ``claim_ids``.

    The values are added in Python: on SQLite they are decimal text, which SQL would add as floats.
    """
    c, b, i = models.Claim, models.Benefit, models.Initiative
    chosen: ColumnElement[bool] = c.id.in_(claim_ids)
    if benefit_keys is not None:
        chosen = and_(chosen, c.benefit_key.in_(sorted(benefit_keys)))
    latest = select(c.benefit_key, func.max(c.period).label("period")).where(chosen).group_by(c.benefit_key).subquery()
    query = (
        select(i.key, c.claimed_value)
        .join(latest, and_(latest.c.benefit_key == c.benefit_key, latest.c.period == c.period))
        .join(b, b.key == c.benefit_key)
        .join(i, i.id == b.initiative_id)
    )
    totals: dict[str, Decimal] = {}
    for key, value in session.execute(query):
        totals[key] = totals.get(key, Decimal(0)) + value
    return totals


def claims_report(session: Session, initiative: str | None = None) -> ClaimsReport:
    """Claims (of ``initiative`` when given) with evidence from the metric observations stored now.

    Without ``initiative``, orphan claims (their benefit left the register) are listed too, flagged.
    """
    benefits = {b.key: b for b in repository.benefits(session)}
    doubles = over_attributed((b.key, b.metric, b.attribution) for b in benefits.values())
    double_by_benefit = {key: found for found in doubles for key in found.benefits}
    query = select(models.Claim).options(selectinload(models.Claim.decisions), selectinload(models.Claim.versions))
    claims = list(session.scalars(query.order_by(models.Claim.id)))
    if initiative is not None:
        claims = [
            c for c in claims if c.benefit_key in benefits and benefits[c.benefit_key].initiative.key == initiative
        ]
    frames: dict[str, pd.DataFrame] = {}
    lines = []
    for claim in claims:
        row = benefits.get(claim.benefit_key)
        if row is None:
            lines.append(_orphan_line(claim))
            continue
        if row.metric not in frames:
            frames[row.metric] = metric_observations(session, row.metric)
        lines.append(_line(claim, row, frames[row.metric], double_by_benefit.get(row.key)))
    run_ids = {e.sync_run_id for line in lines for e in line.evidence.lines}
    run_ids |= {line.sync_run_id for line in lines if line.sync_run_id is not None}
    return ClaimsReport(lines, sync_run_info(session, run_ids), doubles)


def orphan_claims(session: Session) -> list[models.Claim]:
    """Claims whose benefit is no longer in the register (kept, never dropped; shown by `claims check`)."""
    known = set(session.scalars(select(models.Benefit.key)))
    return [c for c in session.scalars(select(models.Claim).order_by(models.Claim.id)) if c.benefit_key not in known]


def metric_observations(session: Session, metric: str) -> pd.DataFrame:
    """A metric's observations with their source, place in it and sync run, one per period (the latest loaded
    wins)."""
    query = (
        select(
            models.Observation.period,
            models.Observation.value,
            models.Observation.source,
            models.Observation.sync_run_id,
            models.Observation.source_ref,
        )
        .where(models.Observation.metric == metric)
        .order_by(models.Observation.period, models.Observation.id)
    )
    frame = pd.DataFrame(
        session.execute(query).all(), columns=["period", "value", "source", "sync_run_id", "source_ref"]
    )
    return frame.drop_duplicates("period", keep="last").reset_index(drop=True)


def sync_run_info(session: Session, run_ids: set[int]) -> dict[int, RunInfo]:
    """The sync runs with these ids and a one-line summary of each one's validation result."""
    if not run_ids:
        return {}
    r = models.SyncRun
    runs = session.execute(
        select(r.id, r.connector, r.status, r.finished_at, r.rows_quarantined, r.validation).where(
            r.id.in_(sorted(run_ids))
        )
    )
    return {
        r.id: RunInfo(
            r.id,
            r.connector,
            r.status,
            r.finished_at,
            r.rows_quarantined,
            validation_summary(r.validation, r.rows_quarantined),
        )
        for r in runs
    }


def validation_summary(validation: dict[str, Any] | None, rows_quarantined: int) -> str:
    """One line from a sync run's stored validation result (one entry per expectation)."""
    entries = {k: v for k, v in (validation or {}).items() if isinstance(v, dict) and "success" in v}
    if not entries:
        return "no validation result stored"
    failed = [v for v in entries.values() if not v["success"]]
    warned = [str(v.get("expectation")) for v in failed if v.get("severity") == "warning"]
    critical = [str(v.get("expectation")) for v in failed if v.get("severity") != "warning"]
    text = f"passed {len(entries) - len(failed)} of {len(entries)} expectations"
    if critical:
        text += f"; failed {', '.join(critical)} ({rows_quarantined} rows quarantined, the rest accepted)"
    if warned:
        text += f"; warned {', '.join(warned)}"
    return text


def _line(
    claim: models.Claim, row: models.Benefit, observations: pd.DataFrame, double: OverAttribution | None
) -> ClaimLine:
    benefit = repository.declared_benefit(row)
    found = evidence(benefit, observations, claim.period)
    claim_class = ClaimClass(claim.claim_class)
    reconciliation = (
        reconcile(claim.claimed_value, claim_class, found)
        if double is None
        else not_counted(claim.claimed_value, DOUBLE_COUNTED, f"not counted as evidenced: {double.message()}")
    )
    return _claim_line(
        claim,
        found,
        reconciliation,
        double,
        benefit_name=row.name,
        initiative=row.initiative.key,
        initiative_name=row.initiative.name,
        category=row.category,
    )


def _orphan_line(claim: models.Claim) -> ClaimLine:
    """A claim whose benefit left the register: no evidence, flagged, not counted."""
    reason = f"benefit {claim.benefit_key} is no longer in the register; the claim cannot be evidenced or decided"
    found = Evidence("", claim.period, None, Decimal(0), ())
    return _claim_line(claim, found, not_counted(claim.claimed_value, ORPHAN, reason), None, orphan=True)


def _claim_line(
    claim: models.Claim,
    found: Evidence,
    reconciliation: Reconciliation,
    double: OverAttribution | None,
    benefit_name: str = "",
    initiative: str = "",
    initiative_name: str = "",
    category: str = "",
    orphan: bool = False,
) -> ClaimLine:
    latest = claim.versions[-1] if claim.versions else None
    return ClaimLine(
        id=claim.id,
        benefit=claim.benefit_key,
        benefit_name=benefit_name,
        initiative=initiative,
        initiative_name=initiative_name,
        category=category,
        metric=found.metric,
        period=claim.period,
        claim_class=ClaimClass(claim.claim_class),
        source=claim.source,
        note=claim.note,
        created_by=claim.created_by,
        source_ref=latest.source_ref if latest else None,
        sync_run_id=latest.sync_run_id if latest else None,
        versions=tuple(
            VersionView(
                v.claimed_value, v.claim_class, v.source, v.created_by, v.source_ref, v.sync_run_id, v.recorded_at
            )
            for v in claim.versions
        ),
        evidence=found,
        reconciliation=reconciliation,
        state=state(claim.decisions),
        decisions=tuple(
            DecisionView(d.decision, d.decided_by, d.role, d.comment, d.decided_at, d.claimed_value, d.claim_version_id)
            for d in claim.decisions
        ),
        double_counted=double,
        orphan=orphan,
    )
