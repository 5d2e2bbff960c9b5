"""`benefits claims list` output: claims next to their evidence as a table, CSV or JSON.

The table rounds money once, for reading; CSV and JSON carry exact decimals as strings.
"""

from __future__ import annotations

import csv
import io
import json

from benefits.claims.ledger import ClaimLine, ClaimsReport
from benefits.claims.money import display, display_share, plain

FIELDS = ("id", "initiative", "benefit", "period", "class", "source", "claimed_value", "evidenced_value", "variance",
          "evidenced_share", "evidence_state", "evidence_reason", "double_counting", "state")
TABLE = (("id", "ID"), ("benefit", "BENEFIT"), ("period", "PERIOD"), ("class", "CLASS"), ("claimed", "CLAIMED"),
         ("evidenced", "EVIDENCED"), ("variance", "VARIANCE"), ("share", "EVIDENCED %"),
         ("evidence_state", "EVIDENCE"), ("state", "STATE"), ("flags", "FLAGS"))
NUMERIC = {"claimed", "evidenced", "variance", "share"}


def record(line: ClaimLine) -> dict[str, str]:
    """A claim as exact strings (the CSV and JSON shape)."""
    r = line.reconciliation
    return {
        "id": str(line.id), "initiative": line.initiative, "benefit": line.benefit, "period": line.period.isoformat(),
        "class": line.claim_class.value, "source": line.source, "claimed_value": plain(r.claimed),
        "evidenced_value": plain(r.evidenced), "variance": plain(r.variance), "evidenced_share": plain(r.evidenced_share),
        "evidence_state": r.state, "evidence_reason": r.reason,
        "double_counting": line.double_counted.message() if line.double_counted else "", "state": line.state,
    }


def render(report: ClaimsReport, fmt: str, currency: str) -> str:
    """The report as ``table``, ``csv`` or ``json``; ends with a newline."""
    if fmt == "json":
        return json.dumps([record(line) for line in report.lines], indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(record(line) for line in report.lines)
        return buffer.getvalue()
    return _table(report, currency)


def _table(report: ClaimsReport, currency: str) -> str:
    rows = [_cells(line, currency) for line in report.lines]
    widths = {key: max([len(title)] + [len(row[key]) for row in rows]) for key, title in TABLE}

    def fmt(cells: dict[str, str]) -> str:
        return "  ".join(cells[k].rjust(widths[k]) if k in NUMERIC else cells[k].ljust(widths[k])
                         for k, _ in TABLE).rstrip()

    lines = [fmt(dict(TABLE))] + [fmt(row) for row in rows]
    benefits = len({line.benefit for line in report.lines})
    lines.append(f"{len(report.lines)} claims on {benefits} benefits (totals add each benefit's latest claim): "
                 f"reported {display(report.reported, currency)}, evidenced {display(report.evidenced, currency)}, "
                 f"validated (approved) {display(report.validated, currency)}")
    return "\n".join(lines) + "\n"


def _cells(line: ClaimLine, currency: str) -> dict[str, str]:
    r = line.reconciliation
    flags = ["double counted"] if line.double_counted else []
    return {
        "id": str(line.id), "benefit": line.benefit, "period": line.period.isoformat(),
        "class": line.claim_class.value, "claimed": display(r.claimed, currency),
        "evidenced": display(r.evidenced, currency), "variance": display(r.variance, currency),
        "share": display_share(r.evidenced_share), "evidence_state": r.state, "state": line.state,
        "flags": ", ".join(flags),
    }
