"""The evidence pack of one initiative: every claim, its evidence and its sign-off, as CSV and HTML.

The CSV has one row per observation behind each claim (a claim without evidence has one row with
the evidence columns empty), so that each figure links to its place in the source (``source_ref``:
file:line, table key, URL and cursor), the sync run that loaded it and that run's validation result;
the claimed value links to its own source, place and sync run the same way. Amounts in the CSV are
exact decimals; the HTML rounds them for reading.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from pathlib import Path

from benefits import spreadsheet
from benefits.claims.ledger import ClaimLine, ClaimsReport
from benefits.claims.money import PENNY, display, display_share, plain

NOT_RECORDED = "— (not recorded)"
"""Where in the source, for a value loaded before lineage was kept (as on the benefit page)."""

CSV_COLUMNS = (
    "initiative",
    "claim_id",
    "benefit",
    "metric",
    "period",
    "class",
    "claim_source",
    "claim_source_ref",
    "claim_sync_run_id",
    "state",
    "claimed_value",
    "evidenced_value",
    "variance",
    "evidenced_share",
    "evidence_state",
    "evidence_reason",
    "double_counting",
    "decision",
    "decided_by",
    "decided_at",
    "comment",
    "observation_period",
    "observation_value",
    "observation_source",
    "observation_source_ref",
    "sync_run_id",
    "sync_run_status",
    "sync_run_finished_at",
    "validation",
)


def write_evidence_pack(report: ClaimsReport, initiative: str, out_dir: Path, currency: str) -> list[Path]:
    """Write ``<initiative>-evidence.csv`` and ``.html`` into ``out_dir``, both or neither (a failure is one line
    naming the file, :func:`benefits.files.write_files`); return their paths."""
    from benefits.files import write_files

    csv_path, html_path = out_dir / f"{initiative}-evidence.csv", out_dir / f"{initiative}-evidence.html"
    table = io.StringIO(newline="")
    writer = csv.writer(table)
    writer.writerow(CSV_COLUMNS)
    writer.writerows([spreadsheet.cell(value) for value in row] for row in csv_rows(report))
    page = render_html(report, initiative, currency)
    write_files({csv_path: table.getvalue().encode("utf-8"), html_path: page.encode("utf-8")})
    return [csv_path, html_path]


def csv_rows(report: ClaimsReport) -> list[list[str]]:
    """The CSV rows of the pack: one per observation behind each claim."""
    rows = []
    for line in report.lines:
        claim = _claim_cells(line)
        for evidence in line.evidence.lines or (None,):
            if evidence is None:
                rows.append(claim + [""] * 8)
                continue
            run = report.runs.get(evidence.sync_run_id)
            rows.append(
                claim
                + [
                    evidence.period.isoformat(),
                    plain(evidence.value),
                    evidence.source,
                    evidence.source_ref or "",
                    str(evidence.sync_run_id),
                    run.status if run else "missing",
                    _when(run.finished_at) if run else "",
                    run.validation if run else "sync run not found",
                ]
            )
    return rows


def _claim_cells(line: ClaimLine) -> list[str]:
    r = line.reconciliation
    last = line.decisions[-1] if line.decisions else None
    return [
        line.initiative,
        str(line.id),
        line.benefit,
        line.metric,
        line.period.isoformat(),
        line.claim_class.value,
        line.source,
        line.source_ref or "",
        "" if line.sync_run_id is None else str(line.sync_run_id),
        line.state,
        plain(r.claimed),
        plain(r.evidenced),
        plain(r.variance),
        plain(r.evidenced_share),
        r.state,
        r.reason,
        line.double_counted.message() if line.double_counted else "",
        last.decision if last else "",
        last.decided_by if last else "",
        _when(last.decided_at) if last else "",
        last.comment if last else "",
    ]


def render_html(report: ClaimsReport, initiative: str, currency: str) -> str:
    """A self-contained HTML page of the pack (every text escaped)."""
    name = report.lines[0].initiative_name if report.lines else initiative
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Evidence pack · {_e(name)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0 1.5em}"
        "td,th{border:1px solid #d0d7de;padding:.25em .5em;text-align:left}.num{text-align:right}"
        ".flag{color:#cf222e}</style></head><body>",
        f"<h1>Evidence pack: {_e(name)}</h1>",
        f"<p>Generated {_e(_when(dt.datetime.now(dt.UTC)))}. Reported {_e(display(report.reported, currency, PENNY))}, "
        f"evidenced {_e(display(report.evidenced, currency, PENNY))}, validated (approved) "
        f"{_e(display(report.validated, currency, PENNY))}.</p>",
    ]
    for line in report.lines:
        parts.append(_claim_html(line, report, currency))
    if not report.lines:
        parts.append("<p>This initiative has no claims.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _claim_html(line: ClaimLine, report: ClaimsReport, currency: str) -> str:
    r = line.reconciliation
    facts = [
        ("Benefit", f"{line.benefit_name} ({line.benefit})"),
        ("Metric", line.metric),
        ("Period", line.period.isoformat()),
        ("Class", line.claim_class.value.replace("_", "-")),
        ("Source", _claim_origin(line, report)),
        ("Claimed", display(r.claimed, currency, PENNY)),
        ("Evidenced", display(r.evidenced, currency, PENNY)),
        ("Variance", display(r.variance, currency, PENNY)),
        ("Evidenced share", display_share(r.evidenced_share)),
        ("Evidence", f"{r.state}: {r.reason}"),
        ("State", line.state),
    ]
    if line.double_counted:
        facts.append(("Double counting", line.double_counted.message()))
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    evidence = (
        "".join(
            f"<tr><td>{_e(e.period.isoformat())}</td><td class='num'>{_e(plain(e.value))}</td><td>{_e(e.source)}</td>"
            f"<td>{_e(e.source_ref or NOT_RECORDED)}</td><td>{e.sync_run_id}</td>"
            f"<td>{_e(_run_text(report, e.sync_run_id))}</td></tr>"
            for e in line.evidence.lines
        )
        or "<tr><td colspan='6' class='flag'>no observations</td></tr>"
    )
    history = (
        "".join(
            f"<tr><td>{_e(_when(d.decided_at))}</td><td>{_e(d.decided_by)}</td><td>{_e(d.role)}</td>"
            f"<td>{_e(d.decision)}</td><td>{_e(d.comment)}</td></tr>"
            for d in line.decisions
        )
        or "<tr><td colspan='5'>no decision yet</td></tr>"
    )
    return (
        f"<h2 id='claim-{line.id}'>Claim {line.id}: {_e(line.benefit_name)}, {_e(line.period.isoformat())}</h2>"
        f"<table>{rows}</table><h3>Evidence</h3><table><tr><th>Period</th><th>Value</th><th>Source</th>"
        f"<th>Where in the source</th><th>Sync run</th><th>Validation</th></tr>{evidence}</table>"
        f"<h3>Sign-off history</h3><table><tr><th>When</th><th>Who</th><th>Role</th><th>Decision</th>"
        f"<th>Comment</th></tr>{history}</table>"
    )


def _claim_origin(line: ClaimLine, report: ClaimsReport) -> str:
    """Where the claimed value came from: the source, its reference and the connector's sync run."""
    parts = [line.source + (f" ({line.created_by})" if line.created_by else "")]
    if line.source_ref:
        parts.append(line.source_ref)
    if line.sync_run_id is not None:
        parts.append(f"sync run {line.sync_run_id}: {_run_text(report, line.sync_run_id)}")
    if len(line.versions) > 1:
        parts.append(
            f"version {len(line.versions)} (earlier: "
            + ", ".join(plain(v.claimed_value) for v in line.versions[:-1])
            + ")"
        )
    return "; ".join(parts)


def _run_text(report: ClaimsReport, run_id: int) -> str:
    run = report.runs.get(run_id)
    if run is None:
        return "sync run not found"
    return f"{run.connector}, {run.status} {_when(run.finished_at)}: {run.validation}"


def _when(value: dt.datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def _e(text: str) -> str:
    return html.escape(text, quote=True)
