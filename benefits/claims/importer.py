"""Recording claims: from a CSV file (all rows or none), the dashboard or a connector.

CSV format (UTF-8, header row, one claim a row)::

    benefit,period,claimed_value,class,note
    finance-ops-savings,2026-06-29,210000,cash_releasing,Q2 invoice team restructure

``class`` may be left empty: the benefit's ``cash_releasing`` flag then decides between
``cash_releasing`` and ``non_cash_releasing``. ``note`` is optional. Values are read as Decimal
(never float), with at most four decimal places. Every row is checked before anything is
written; one bad row rejects the file with a one-line error naming the file, row and field.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from benefits.claims import ClaimClass, ClaimSource
from benefits.claims.money import parse_money
from benefits.errors import BenefitsError
from benefits.store import models

REQUIRED_COLUMNS = ("benefit", "period", "claimed_value")
OPTIONAL_COLUMNS = ("class", "note")
CLAIMABLE_CATEGORIES = ("cost_reduction", "revenue")
DEMO_CLAIMS_FILE = "claims.csv"


@dataclass(frozen=True)
class ClaimInput:
    """One claim to record; ``where`` names its origin in error messages (``file.csv: row 3``)."""

    benefit: str
    period: dt.date
    claimed_value: Decimal
    claim_class: ClaimClass | None = None  # None: from the benefit's cash_releasing flag
    note: str = ""
    where: str = "claim"


@dataclass(frozen=True)
class RecordCounts:
    """What recording a batch of claims did."""

    new: int
    updated: int
    unchanged: int


def read_claims_csv(path: Path) -> list[ClaimInput]:
    """Parse a claims CSV; raise BenefitsError naming the file, row and field of the first problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BenefitsError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise BenefitsError(f"{path}: not UTF-8 text") from None
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or unknown:
        problem = f"missing column {', '.join(missing)}" if missing else f"unknown column {', '.join(unknown)}"
        raise BenefitsError(f"{path}: row 1: {problem} (expected {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})")
    claims, problems = [], []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else v for k, v in raw.items()}
        found = list(_row_problems(row))
        if found:
            problems.extend(f"{path}: row {number}: {p}" for p in found)
        else:
            claims.append(_claim(row, f"{path}: row {number}"))
    _raise_first(problems)
    if not claims:
        raise BenefitsError(f"{path}: no claims (only a header row)")
    return claims


def record_claims(session: Session, claims: Iterable[ClaimInput], source: ClaimSource,
                  created_by: str = "") -> RecordCounts:
    """Check every claim against the stored register, then write them all (or nothing).

    A claim is one benefit and period: recording it again with the same value changes nothing;
    a new value replaces a claim nobody has decided on yet, and is refused once finance has
    approved or rejected it (record the change as a new period instead).
    """
    claims = list(claims)
    benefits = {b.key: b for b in session.scalars(select(models.Benefit))}
    existing = {(c.benefit_key, c.period): c for c in session.scalars(
        select(models.Claim).where(models.Claim.benefit_key.in_(sorted({c.benefit for c in claims}))))}
    problems: list[str] = []
    seen: dict[tuple[str, dt.date], str] = {}
    for claim in claims:
        key = (claim.benefit, claim.period)
        if key in seen:
            problems.append(f"{claim.where}: benefit: {claim.benefit} at {claim.period} is already claimed in {seen[key]}")
        seen[key] = claim.where
        problems.extend(f"{claim.where}: {p}" for p in _claim_problems(claim, benefits.get(claim.benefit), existing.get(key)))
    _raise_first(problems)
    new = updated = unchanged = 0
    for claim in claims:
        claim_class = claim.claim_class or _default_class(benefits[claim.benefit])
        row = existing.get((claim.benefit, claim.period))
        if row is None:
            session.add(models.Claim(benefit_key=claim.benefit, period=claim.period, claimed_value=claim.claimed_value,
                                     claim_class=claim_class.value, source=source.value, note=claim.note,
                                     created_by=created_by))
            new += 1
        elif row.claimed_value == claim.claimed_value and row.claim_class == claim_class.value:
            unchanged += 1
        else:
            row.claimed_value, row.claim_class, row.source = claim.claimed_value, claim_class.value, source.value
            row.note, row.created_by = claim.note or row.note, created_by or row.created_by
            updated += 1
    session.flush()
    return RecordCounts(new, updated, unchanged)


def record_demo_claims(session: Session) -> RecordCounts:
    """Record the demo claims shipped with the demo configuration (``claims.csv``) for the demo register."""
    from benefits.workspace import demo_config_dir

    return record_claims(session, read_claims_csv(demo_config_dir() / DEMO_CLAIMS_FILE), ClaimSource.csv, "demo")


def _row_problems(row: dict[str, str]) -> Iterator[str]:
    if "" in row:
        yield "more values than the header has columns"
    for column in REQUIRED_COLUMNS:
        if not row.get(column):
            yield f"{column}: missing"
    if row.get("period"):
        try:
            dt.date.fromisoformat(row["period"])
        except ValueError:
            yield f"period: {row['period']!r} is not a date like 2026-06-29"
    if row.get("claimed_value"):
        try:
            parse_money(row["claimed_value"])
        except ValueError as exc:
            yield f"claimed_value: {exc}"
    if row.get("class") and row["class"] not in ClaimClass.__members__:
        yield f"class: {row['class']!r} is not one of {', '.join(ClaimClass)}"


def _claim(row: dict[str, str], where: str) -> ClaimInput:
    return ClaimInput(
        benefit=row["benefit"],
        period=dt.date.fromisoformat(row["period"]),
        claimed_value=parse_money(row["claimed_value"]),
        claim_class=ClaimClass(row["class"]) if row.get("class") else None,
        note=row.get("note") or "",
        where=where,
    )


def _claim_problems(claim: ClaimInput, benefit: models.Benefit | None,
                    existing: models.Claim | None) -> Iterator[str]:
    if benefit is None:
        yield f"benefit: {claim.benefit!r} is not in the register (run `benefits init` after editing it)"
        return
    if benefit.category not in CLAIMABLE_CATEGORIES:
        yield f"benefit: {claim.benefit} is {benefit.category}; claims are for cost_reduction and revenue benefits"
    if benefit.dis_benefit:
        yield f"benefit: {claim.benefit} is a dis-benefit; claims are for savings and revenue"
    if claim.period <= benefit.baseline_date:
        yield f"period: {claim.period} must be after the benefit's baseline date {benefit.baseline_date}"
    if claim.claimed_value <= 0:
        yield f"claimed_value: must be greater than 0, not {claim.claimed_value}"
    claim_class = claim.claim_class or _default_class(benefit)
    if existing is not None and existing.decisions and (
            existing.claimed_value != claim.claimed_value or existing.claim_class != claim_class.value):
        yield (f"claimed_value: claim {existing.id} ({claim.benefit} at {claim.period}) is already "
               f"{existing.decisions[-1].decision}; a decided claim cannot change")


def _default_class(benefit: models.Benefit) -> ClaimClass:
    return ClaimClass.cash_releasing if benefit.cash_releasing else ClaimClass.non_cash_releasing


def _raise_first(problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        raise BenefitsError(f"{problems[0]}{more}; nothing was recorded")
