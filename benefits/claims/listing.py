"""`benefits claims list` output: claims next to their evidence as a table, CSV or JSON, with totals.

Every format carries the totals (each benefit's latest claim, the latest approved one for
validated value; orphan claims listed but left out). CSV and JSON carry exact decimals as
strings and the register's currency; the table shows money to the penny, rounded half up once,
for reading, and says so.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from benefits import spreadsheet
from benefits.claims.ledger import ClaimLine, ClaimsReport
from benefits.claims.money import PENNY, display, display_share, plain

FIELDS = (
    "id",
    "initiative",
    "benefit",
    "period",
    "class",
    "source",
    "currency",
    "claimed_value",
    "evidenced_value",
    "variance",
    "evidenced_share",
    "validated_value",
    "evidence_state",
    "evidence_reason",
    "double_counting",
    "orphan",
    "state",
)
TABLE = (
    ("id", "ID"),
    ("benefit", "BENEFIT"),
    ("period", "PERIOD"),
    ("class", "CLASS"),
    ("claimed", "CLAIMED"),
    ("evidenced", "EVIDENCED"),
    ("variance", "VARIANCE"),
    ("share", "EVIDENCED %"),
    ("evidence_state", "EVIDENCE"),
    ("state", "STATE"),
    ("flags", "FLAGS"),
)
NUMERIC = {"claimed", "evidenced", "variance", "share"}
TOTAL_ID = "total"
TOTALS_BASIS = "each benefit's latest claim (latest approved claim for validated); orphan claims left out"


def record(line: ClaimLine, currency: str) -> dict[str, str]:
    """A claim as exact strings (the CSV and JSON shape)."""
    r = line.reconciliation
    return {
        "id": str(line.id),
        "initiative": line.initiative,
        "benefit": line.benefit,
        "period": line.period.isoformat(),
        "class": line.claim_class.value,
        "source": line.source,
        "currency": currency,
        "claimed_value": plain(r.claimed),
        "evidenced_value": plain(r.evidenced),
        "variance": plain(r.variance),
        "evidenced_share": plain(r.evidenced_share),
        "validated_value": plain(line.validated),
        "evidence_state": r.state,
        "evidence_reason": r.reason,
        "double_counting": line.double_counted.message() if line.double_counted else "",
        "orphan": "yes" if line.orphan else "",
        "state": line.state,
    }


def totals(report: ClaimsReport, currency: str) -> dict[str, Any]:
    """The report's totals as exact strings, with how they are added up."""
    return {
        "currency": currency,
        "claims": len(report.lines),
        "benefits": len({line.benefit for line in report.lines}),
        "reported": plain(report.reported),
        "evidenced": plain(report.evidenced),
        "variance": plain(report.reported - report.evidenced),
        "validated": plain(report.validated),
        "orphan_claims": len(report.orphans),
        "orphaned": plain(report.orphaned),
        "basis": TOTALS_BASIS,
    }


def render(report: ClaimsReport, fmt: str, currency: str) -> str:
    """The report as ``table``, ``csv`` or ``json``; ends with a newline.

    JSON is an object: ``currency``, ``claims`` (one object a claim) and ``totals``. CSV has one
    row a claim, then a row whose ``id`` is ``total``.
    """
    if fmt == "json":
        document = {
            "currency": currency,
            "claims": [record(line, currency) for line in report.lines],
            "totals": totals(report, currency),
        }
        return json.dumps(document, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(spreadsheet.row(record(line, currency)) for line in report.lines)
        writer.writerow(spreadsheet.row(_total_row(report, currency)))
        return buffer.getvalue()
    return _table(report, currency)


def _total_row(report: ClaimsReport, currency: str) -> dict[str, str]:
    found = totals(report, currency)
    return {field: "" for field in FIELDS} | {
        "id": TOTAL_ID,
        "currency": currency,
        "claimed_value": found["reported"],
        "evidenced_value": found["evidenced"],
        "variance": found["variance"],
        "validated_value": found["validated"],
        "evidence_reason": TOTALS_BASIS,
        "orphan": f"{found['orphan_claims']} orphan claims ({found['orphaned']}) left out" if report.orphans else "",
    }


def _table(report: ClaimsReport, currency: str) -> str:
    rows = [_cells(line, currency) for line in report.lines]
    widths = {key: max([len(title)] + [len(row[key]) for row in rows]) for key, title in TABLE}

    def fmt(cells: dict[str, str]) -> str:
        return "  ".join(
            cells[k].rjust(widths[k]) if k in NUMERIC else cells[k].ljust(widths[k]) for k, _ in TABLE
        ).rstrip()

    lines = [fmt(dict(TABLE))] + [fmt(row) for row in rows]
    benefits = len({line.benefit for line in report.lines})
    lines.append(
        f"{len(report.lines)} claims on {benefits} benefits (totals add each benefit's latest claim): "
        f"reported {_money(report.reported, currency)}, evidenced {_money(report.evidenced, currency)}, "
        f"validated (approved) {_money(report.validated, currency)}"
    )
    if report.orphans:
        lines.append(
            f"{len(report.orphans)} orphan claims ({_money(report.orphaned, currency)}) left out of the "
            "totals: their benefit is no longer in the register (see `benefits claims check`)"
        )
    lines.append("Money to the penny, rounded half up; CSV and JSON carry the exact values.")
    return "\n".join(lines) + "\n"


def _money(value: Decimal, currency: str) -> str:
    return display(value, currency, PENNY)


def _cells(line: ClaimLine, currency: str) -> dict[str, str]:
    r = line.reconciliation
    flags = (["double counted"] if line.double_counted else []) + (["orphan"] if line.orphan else [])
    return {
        "id": str(line.id),
        "benefit": line.benefit,
        "period": line.period.isoformat(),
        "class": line.claim_class.value,
        "claimed": _money(r.claimed, currency),
        "evidenced": _money(r.evidenced, currency),
        "variance": _money(r.variance, currency),
        "share": display_share(r.evidenced_share),
        "evidence_state": r.state,
        "state": line.state,
        "flags": ", ".join(flags),
    }
