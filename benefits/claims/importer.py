"""Recording claims: from a CSV file (all rows or none), the dashboard or a connector's ``claims()``.

CSV format (UTF-8, header row, one claim a row)::

    benefit,period,claimed_value,class,note
    finance-ops-savings,2026-06-29,210000,cash_releasing,Q2 invoice team restructure

``class`` may be left empty: the benefit's ``cash_releasing`` flag then decides between
``cash_releasing`` and ``non_cash_releasing``. ``note`` is optional. Values are read as Decimal
(never float), with at most four decimal places and sixteen before the point, commas only between
groups of three digits (``12,50`` is refused, not read as 1250); a currency symbol
must be the register's (``$1000`` in a GBP register is refused). A period after today is
refused. Every row is checked before anything is written; one bad row rejects the file with a
one-line error naming the file, row and field.
A connector's claim records (see :meth:`benefits.plugins.connector.Connector.claims`) are
checked the same way by :func:`read_claim_records`, which names the connector and the record.

Every value a claim is recorded with is kept as a :class:`benefits.store.models.ClaimVersion`
(the claim row holds the latest), so a restated claim keeps its history.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from benefits.claims import ClaimClass, ClaimSource
from benefits.claims.money import (
    MAX_PLACES,
    OutOfRange,
    check_currency,
    check_range,
    parse_money,
    parse_written_money,
)
from benefits.errors import BenefitsError
from benefits.plugins.connector import CLAIM_FIELDS
from benefits.register import Register
from benefits.store import models

REQUIRED_COLUMNS = ("benefit", "period", "claimed_value")
OPTIONAL_COLUMNS = ("class", "note")
SOURCE_REF_LENGTH = 500  # the claim_versions.source_ref column
CLAIMABLE_CATEGORIES = ("cost_reduction", "revenue")
UNKNOWN_RECORDER = "unknown"  # who recorded a claim when nobody said (`claims import` without --by)
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
    source_ref: str | None = None  # where the source keeps it (a connector's pointer), kept with the version
    written_as: str = ""  # the value as the source wrote it (``$1,000``), checked against the register's currency


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
    repeated = _repeated_column(header)
    if repeated:
        raise BenefitsError(f"{path}: row 1: {repeated}")
    claims: list[ClaimInput] = []
    problems: list[str] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() if isinstance(v, str) else v for k, v in raw.items()}
        where = f"{path}: row {number}"
        extra = row.pop("", None)  # DictReader keeps values past the header under the key None ("" once stripped)
        found = ["more values than the header has columns"] if extra is not None else []
        found.extend(_record_problems(row))  # then the row is checked as a connector's claim record is
        if found:
            problems.extend(f"{where}: {p}" for p in found)
        else:
            claims.append(replace(_record_claim(row, where), source_ref=where[-SOURCE_REF_LENGTH:]))
    _raise_first(problems)
    if not claims:
        raise BenefitsError(f"{path}: no claims (only a header row)")
    return claims


def _repeated_column(header: list[str]) -> str | None:
    """Why a header naming a column more than once cannot be read (which of its cells holds the field is unknown,
    and a row would keep only the last), or None."""
    for name in dict.fromkeys(header):
        positions = [i + 1 for i, found in enumerate(header) if found == name]
        if len(positions) > 1:
            where = ", ".join(map(str, positions))
            return (
                f"column {name!r} is in the header {len(positions)} times (columns {where}): which one holds the "
                f"{name} is unknown; keep one"
            )
    return None


def read_claim_records(records: Iterable[Any], connector: str) -> list[ClaimInput]:
    """A connector's claim records as claims; BenefitsError naming the connector, record and field of the first problem.

    A record is a dict with ``benefit``, ``period`` (a date or ISO text), ``claimed_value`` (a
    Decimal, an int or text such as ``"1,234.50"``; never a float) and optionally ``class``,
    ``note`` and ``source_ref``. Any other key is refused, so a misspelt field is not lost.
    """
    claims: list[ClaimInput] = []
    problems: list[str] = []
    for number, record in enumerate(records, start=1):
        ref = record.get("source_ref") if isinstance(record, dict) else None
        where = f"connector {connector}: claim {number}" + (f" ({ref})" if ref not in (None, "") else "")
        found = list(_record_problems(record))
        if found:
            problems.extend(f"{where}: {p}" for p in found)
        else:
            claims.append(_record_claim(record, where))
    _raise_first(problems)
    return claims


def record_claims(
    session: Session,
    claims: Iterable[ClaimInput],
    source: ClaimSource,
    created_by: str = "",
    sync_run_id: int | None = None,
    today: dt.date | None = None,
) -> RecordCounts:
    """Check every claim against the stored register, then write them all (or nothing).

    A claim is one benefit and period: recording it again with the same value and class changes
    nothing; a new value replaces a claim nobody has decided on yet (the earlier value stays in
    the claim's versions), and is refused once finance has approved or rejected it (record the
    change as a new period instead). Each new version is credited to ``created_by`` (``unknown``
    when empty), never to whoever recorded the previous one. ``sync_run_id`` is the sync run of
    the connector that delivered the claims, kept with each new version. A period after
    ``today`` (default: the date today) is refused.
    """
    claims = list(claims)
    today = today or dt.date.today()
    currency = session.scalar(select(models.Portfolio.currency))
    who = created_by or UNKNOWN_RECORDER
    benefits = {b.key: b for b in session.scalars(select(models.Benefit))}
    existing = {
        (c.benefit_key, c.period): c
        for c in session.scalars(
            select(models.Claim)
            .options(selectinload(models.Claim.decisions))  # checked for each claim below
            .where(models.Claim.benefit_key.in_(sorted({c.benefit for c in claims})))
        )
    }
    problems: list[str] = []
    seen: dict[tuple[str, dt.date], str] = {}
    for claim in claims:
        key = (claim.benefit, claim.period)
        if key in seen:
            problems.append(
                f"{claim.where}: benefit: {claim.benefit} at {claim.period} is already claimed in {seen[key]}"
            )
        seen[key] = claim.where
        found = _claim_problems(claim, benefits.get(claim.benefit), existing.get(key), currency, today)
        problems.extend(f"{claim.where}: {p}" for p in found)
    _raise_first(problems)
    new = updated = unchanged = 0
    versions: list[tuple[models.Claim, str | None]] = []
    for claim in claims:
        claim_class = claim.claim_class or _default_class(benefits[claim.benefit])
        row = existing.get((claim.benefit, claim.period))
        if row is None:
            row = models.Claim(
                benefit_key=claim.benefit,
                period=claim.period,
                claimed_value=claim.claimed_value,
                claim_class=claim_class.value,
                source=source.value,
                note=claim.note,
                created_by=who,
            )
            session.add(row)
            new += 1
        elif row.claimed_value == claim.claimed_value and row.claim_class == claim_class.value:
            unchanged += 1
            continue
        else:
            row.claimed_value, row.claim_class, row.source = claim.claimed_value, claim_class.value, source.value
            row.note, row.created_by = claim.note or row.note, who
            updated += 1
        versions.append((row, claim.source_ref))
    session.flush()
    session.add_all(
        models.ClaimVersion(
            claim_id=row.id,
            claimed_value=row.claimed_value,
            claim_class=row.claim_class,
            note=row.note,
            source=row.source,
            created_by=row.created_by,
            source_ref=ref,
            sync_run_id=sync_run_id,
        )
        for row, ref in versions
    )
    session.flush()
    return RecordCounts(new, updated, unchanged)


def record_demo_claims(session: Session) -> RecordCounts:
    """Record the demo claims shipped with the demo configuration (``claims.csv``) for the demo register."""
    from benefits.workspace import demo_config_dir

    return record_claims(session, read_claims_csv(demo_config_dir() / DEMO_CLAIMS_FILE), ClaimSource.csv, "demo")


def _record_problems(record: Any) -> Iterator[str]:
    if not isinstance(record, dict):
        yield f"is a {type(record).__name__}, not a dict"
        return
    unknown = [str(k) for k in record if k not in CLAIM_FIELDS]
    if unknown:
        yield f"unknown key {', '.join(unknown)} (a claim has {', '.join(CLAIM_FIELDS)})"
    for field in REQUIRED_COLUMNS:
        if record.get(field) in (None, ""):
            yield f"{field}: missing"
    if record.get("benefit") not in (None, "") and not isinstance(record["benefit"], str):
        yield f"benefit: {record['benefit']!r} is not a benefit key (text)"
    if record.get("period") not in (None, "") and _record_period(record["period"]) is None:
        yield f"period: {record['period']!r} is not a date like 2026-06-29"
    if record.get("claimed_value") not in (None, ""):
        try:
            _record_money(record["claimed_value"])
        except ValueError as exc:
            yield f"claimed_value: {exc}"
    if record.get("class") not in (None, "") and record["class"] not in ClaimClass.__members__:
        yield f"class: {record['class']!r} is not one of {', '.join(ClaimClass)}"
    if not isinstance(record.get("note") or "", str):
        yield f"note: {record['note']!r} is not text"


def _record_period(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _record_money(value: Any) -> Decimal:
    """A connector's claimed value as Decimal: a Decimal, an int or text; a float is refused (money is never float)."""
    if isinstance(value, float):
        raise ValueError(f"{value!r} is a float; yield a Decimal or text so that no cent is lost")
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ValueError(f"{value!r} is not an amount of money")
    if isinstance(value, str):
        return parse_written_money(value)
    try:
        return parse_money(str(value))
    except OutOfRange:
        raise
    except ValueError:
        raise ValueError(f"{value!r} is not an amount of money with at most {MAX_PLACES} decimal places") from None


def _record_claim(record: dict[str, Any], where: str) -> ClaimInput:
    period = _record_period(record["period"])
    assert period is not None  # checked by _record_problems
    ref = record.get("source_ref")
    value = record["claimed_value"]
    return ClaimInput(
        benefit=record["benefit"],
        period=period,
        claimed_value=_record_money(value),
        claim_class=ClaimClass(record["class"]) if record.get("class") else None,
        note=record.get("note") or "",
        where=where,
        source_ref=None if ref in (None, "") else str(ref)[:SOURCE_REF_LENGTH],
        written_as=value if isinstance(value, str) else "",
    )


def register_problems(claims: Iterable[ClaimInput], register: Register, today: dt.date | None = None) -> list[str]:
    """What the register says is wrong with each claim (unknown or non-claimable benefit, period, value, currency),
    one line each; a period after ``today`` (default: the date today) is wrong too."""
    declared = {benefit.key: benefit for _, benefit in register.benefits()}
    today = today or dt.date.today()
    problems: list[str] = []
    for claim in claims:
        benefit = declared.get(claim.benefit)
        found = (
            [
                *_benefit_problems(claim, benefit.category.value, benefit.dis_benefit, benefit.baseline.date, today),
                *_currency_problems(claim, register.currency),
            ]
            if benefit
            else [_unknown(claim)]
        )
        problems.extend(f"{claim.where}: {p}" for p in found)
    return problems


def _claim_problems(
    claim: ClaimInput,
    benefit: models.Benefit | None,
    existing: models.Claim | None,
    currency: str | None,
    today: dt.date,
) -> Iterator[str]:
    if benefit is None:
        yield _unknown(claim)
        return
    yield from _benefit_problems(claim, benefit.category, benefit.dis_benefit, benefit.baseline_date, today)
    if currency is not None:
        yield from _currency_problems(claim, currency)
    claim_class = claim.claim_class or _default_class(benefit)
    if (
        existing is not None
        and existing.decisions
        and (existing.claimed_value != claim.claimed_value or existing.claim_class != claim_class.value)
    ):
        yield (
            f"claimed_value: claim {existing.id} ({claim.benefit} at {claim.period}) is already "
            f"{existing.decisions[-1].decision}; a decided claim cannot change"
        )


def _unknown(claim: ClaimInput) -> str:
    return f"benefit: {claim.benefit!r} is not in the register (run `benefits init` after editing it)"


def _currency_problems(claim: ClaimInput, currency: str) -> Iterator[str]:
    try:
        check_currency(claim.written_as, currency)
    except ValueError as exc:
        yield f"claimed_value: {exc}"


def _benefit_problems(
    claim: ClaimInput, category: str, dis_benefit: bool, baseline_date: dt.date, today: dt.date
) -> Iterator[str]:
    if category not in CLAIMABLE_CATEGORIES:
        yield f"benefit: {claim.benefit} is {category}; claims are for cost_reduction and revenue benefits"
    if dis_benefit:
        yield f"benefit: {claim.benefit} is a dis-benefit; claims are for savings and revenue"
    if claim.period <= baseline_date:
        yield f"period: {claim.period} must be after the benefit's baseline date {baseline_date}"
    if claim.period > today:
        yield f"period: {claim.period} is in the future (after {today}); claim value once it is realised"
    if claim.claimed_value <= 0:
        yield f"claimed_value: must be greater than 0, not {claim.claimed_value}"
    try:
        check_range(claim.claimed_value)
    except ValueError as exc:
        yield f"claimed_value: {exc}"


def _default_class(benefit: models.Benefit) -> ClaimClass:
    return ClaimClass.cash_releasing if benefit.cash_releasing else ClaimClass.non_cash_releasing


def _raise_first(problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        raise BenefitsError(f"{problems[0]}{more}; nothing was recorded")
