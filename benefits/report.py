"""The weekly steering pack: one self-contained HTML file (``benefits report --out pack.html``).

It leads with what changed (re-baselined benefits, with what moved, who and why, and status changes
since the previous forecast run) and what needs a
decision (every off-track, at-risk and stale benefit with its owner and why, every overdue action,
and those benefits' latest commentary, open actions and risks), then the portfolio
summary (one line on how far the forecasts can be trusted, cash and run-rate by category, cash planned vs
realised to date per initiative, counts by status), then the business case (cash to date apart from the run-rate,
each initiative's return, the fan chart of the portfolio's cash by fiscal year end), and ends with an
appendix saying where each realised number it states came from: every benefit needing a decision, with
its latest reading's source, place in the source (``source_ref``) and sync run. plotly.js is
embedded once, inline, so the file opens offline; nothing is fetched. All text from the register
and the sources is escaped. The same page prints as the PDF pack (``benefits.report_pdf``); the
PowerPoint pack (``benefits.report_pptx``) takes its benefits from :func:`needing_attention` too.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

import pandas as pd
import plotly.io as pio
from plotly.offline import get_plotlyjs
from sqlalchemy.orm import Session

from benefits.claims.money import display
from benefits.dashboards import business_case, figures, queries, trust
from benefits.dashboards.formatting import (
    category_label,
    change_label,
    money,
    percent,
    quantity,
    status_label,
    why_changed,
)

ATTENTION = ("off_track", "at_risk", "data_stale")
CATEGORY_HEADERS = [
    "Category",
    "Benefits",
    "Cash realised to date",
    "Cash planned to date",
    "Run-rate now (annualised)",
]
VALUE_NOTE = (
    "Planned and realised to date count a run-rate benefit at its annual rate; the tables below give cash "
    "(money banked so far, a run-rate accrued day by day) apart from the run-rate."
)

_STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1f2328; margin: 24px auto;
       max-width: 1100px; padding: 0 16px; }
h1 { margin-bottom: 4px; } .subtitle { color: #57606a; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 10px; margin: 12px 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; background: #f6f8fa; }
.label { color: #57606a; font-size: 13px; } .value { font-size: 22px; font-weight: 600; }
.note { color: #57606a; font-size: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin-bottom: 16px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #d0d7de; vertical-align: top; }
th { color: #57606a; background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; white-space: nowrap; }
.chart { page-break-inside: avoid; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { max-width: none; margin: 0; padding: 0; } thead { display: table-header-group; }
               tr, .card { break-inside: avoid; } h2 { break-after: avoid; }
               * { -webkit-print-color-adjust: exact; print-color-adjust: exact; } }
"""


def steering_pack(session: Session, as_of: dt.date | None = None) -> str:
    """The pack as one HTML document at ``as_of`` (default today)."""
    summary = queries.portfolio_summary(session, as_of)
    charts = [
        figures.initiative_bars(summary.initiatives, summary.currency),
        figures.status_bars(summary.status_counts),
    ]
    body = [
        "<h1>Benefits steering pack</h1>",
        f'<p class="subtitle">{escape(portfolio_name(session))} · as of {summary.as_of.isoformat()} · '
        f"{summary.total} benefits · money in {escape(summary.currency)}</p>",
        _cards(summary),
        "<h2>What changed: re-baselined benefits and status changes since the previous forecast run</h2>",
        _changes(summary.changes),
        "<h2>What needs a decision: off track, at risk and stale data</h2>",
        _attention(summary.benefits, summary.currency),
        *_commentary(session, summary),
        "<h2>Portfolio summary</h2>",
        _trust_line(session),
        "<h3>Value by category</h3>",
        _category_table(summary),
        *[f'<div class="chart">{_figure_html(chart, n)}</div>' for n, chart in enumerate(charts)],
        *_business_case(session, summary),
        *_lineage(session, summary),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Benefits steering pack {summary.as_of.isoformat()}</title>"
        f"<style>{_STYLE}</style><script>{get_plotlyjs()}</script></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def _business_case(session: Session, summary: queries.PortfolioSummary) -> list[str]:
    """Cash to date apart from the run-rate, each initiative's business case and the fan chart of the
    portfolio's cash by fiscal year end (``benefits.dashboards.business_case``, as on the dashboard)."""
    report = queries.value_report(session, summary.as_of)
    cash, currency = summary.cash, summary.currency
    rate = "—" if cash.run_rate is None else f"{display(cash.run_rate, currency)} a year"
    cards = [
        (
            "Cash realised to date",
            display(cash.cash_to_date, currency),
            f"of {display(cash.planned_cash_to_date, currency)} planned",
        ),
        ("Run-rate now (annualised)", rate, f"{cash.run_rate_benefits} run-rate benefits"),
    ]
    return [
        "<h2>The business case</h2>",
        _card_row(cards),
        _table(
            business_case.CASE_HEADERS,
            business_case.case_rows(report),
            table_id="business-case",
            numeric=business_case.CASE_NUMERIC,
        ),
        f'<p class="note">{escape(business_case.case_note(report))}</p>',
        f'<div class="chart">{_figure_html(business_case.fan_chart(report), "fan")}</div>',
        f'<p class="note" id="fan-caption">{escape(business_case.dependence_caption(report))}</p>',
    ]


def _trust_line(session: Session) -> str:
    """One line on how far the forecasts can be trusted (``benefits.dashboards.trust.headline``)."""
    line = escape(trust.headline(trust.track_record(session)))
    return f'<p class="note" id="forecast-trust">Forecast trust: {line}</p>'


def portfolio_name(session: Session) -> str:
    """The stored register's portfolio name ("Portfolio" before one is stored)."""
    from benefits.store import repository

    stored = repository.portfolio(session)
    return stored.name if stored else "Portfolio"


def _figure_html(figure: Any, n: int | str) -> str:
    """A chart as a div and its drawing script, without plotly.js (embedded once in the head)."""
    return pio.to_html(
        figure,
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{n}",
        config={"displaylogo": False, "displayModeBar": False},
    )


def _cards(summary: queries.PortfolioSummary) -> str:
    planned, realised = summary.planned_value, summary.realised_value
    attention = sum(summary.status_counts.get(s, 0) for s in ("at_risk", "off_track"))
    cards = [
        ("Planned to date", money(planned, summary.currency), ""),
        (
            "Realised to date",
            money(realised, summary.currency),
            f"{percent(realised / planned)} of planned" if planned > 0 else "",
        ),
        ("At risk or off track", str(attention), f"of {summary.total} benefits"),
        ("Changed", str(len(summary.changes)), "re-baselined or status, since the previous forecast run"),
    ]
    return _card_row(cards) + f'<p class="note" id="value-note">{escape(VALUE_NOTE)}</p>'


def _card_row(cards: list[tuple[str, str, str]]) -> str:
    """Cards of (label, value, note)."""
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="label">{escape(label)}</div><div class="value">{escape(value)}</div>'
            f'<div class="note">{escape(note)}</div></div>'
            for label, value, note in cards
        )
        + "</div>"
    )


def category_rows(summary: queries.PortfolioSummary) -> list[list[str]]:
    """Per category (:data:`CATEGORY_HEADERS`): its benefits, the cash they realised and planned to date and
    the run-rate benefits' annual rate now: `benefits status`'s figures added up (``queries.CashTotals``), so a
    run-rate is never counted as cash."""
    cash = queries.CashTotals.by(summary.benefits, "category")
    return [
        [
            category_label(c.category),
            str(int(c.benefits)),
            display(cash[c.category].cash_to_date, summary.currency),
            display(cash[c.category].planned_cash_to_date, summary.currency),
            _per_year(cash[c.category].run_rate, summary.currency),
        ]
        for c in summary.categories.itertuples()
    ]


def cash_cells(benefit: Any, currency: str) -> tuple[str, str]:
    """A benefit's (snapshot row's) cash realised of the cash planned to date, and its run-rate now ("—" for
    an amount)."""
    realised = f"{display(benefit.cash_to_date, currency)} of {display(benefit.planned_cash_to_date, currency)}"
    return realised, _per_year(benefit.run_rate, currency)


def _per_year(rate: Any, currency: str) -> str:
    return "—" if rate is None or pd.isna(rate) else f"{display(rate, currency)} a year"


def _category_table(summary: queries.PortfolioSummary) -> str:
    return _table(CATEGORY_HEADERS, category_rows(summary), table_id="categories", numeric=(1, 2, 3, 4))


def _changes(changes: pd.DataFrame) -> str:
    if changes.empty:
        return "<p>No benefit was re-baselined or changed status since the previous forecast run.</p>"
    rows = [
        [
            r.name,
            r.initiative_name,
            change_label(r.change),
            status_label(r.previous_status) if r.previous_status else "",
            status_label(r.status),
            percent(r.p_on_time),
            r.owner,
            why_changed(r),
        ]
        for r in changes.itertuples()
    ]
    return _table(
        ["Benefit", "Initiative", "Change", "Was", "Now", "Likely on time", "Owner", "Why"],
        rows,
        table_id="changes",
        numeric=(5,),
    )


def needing_attention(benefits: pd.DataFrame) -> pd.DataFrame:
    """The benefits (snapshot rows) whose status is in :data:`ATTENTION`: off track first, then at risk,
    then stale, each least likely to land first."""
    flagged = benefits[benefits["status"].isin(ATTENTION)]
    order = {s: n for n, s in enumerate(ATTENTION)}
    ordered = flagged.assign(_o=flagged["status"].map(order)).sort_values(["_o", "p_on_time"], na_position="last")
    return ordered.drop(columns="_o")


def _attention(benefits: pd.DataFrame, currency: str) -> str:
    flagged = needing_attention(benefits)
    if flagged.empty:
        return "<p>No benefit is at risk or off track.</p>"
    rows = [
        [
            r.name,
            r.initiative_name,
            status_label(r.status),
            percent(r.p_on_time),
            r.target_date,
            *cash_cells(r, currency),
            r.owner,
            r.initiative_owner,
            r.message,
        ]
        for r in flagged.itertuples()
    ]
    return _table(
        [
            "Benefit",
            "Initiative",
            "Status",
            "Likely on time",
            "Target date",
            "Cash realised of planned",
            "Run-rate now (annualised)",
            "Benefit owner",
            "Initiative owner",
            "Why",
        ],
        rows,
        table_id="attention",
        numeric=(3,),
    )


def _commentary(session: Session, summary: queries.PortfolioSummary) -> list[str]:
    """Every overdue action, and the latest note, open actions and open risks of each benefit needing a
    decision or with an overdue action (``benefits.commentary``)."""
    from benefits.commentary import actions, for_benefit

    names = dict(zip(summary.benefits["benefit"], summary.benefits["name"], strict=True))
    overdue = [a for a in actions(session, summary.as_of) if a.overdue and a.benefit in names]
    parts = ["<h3>Overdue actions</h3>"]
    if overdue:
        rows = [[names[a.benefit], a.text, a.owner, a.due, a.author] for a in overdue]
        parts.append(_table(["Benefit", "Action", "Owner", "Due", "Raised by"], rows, table_id="overdue-actions"))
    else:
        parts.append("<p>No action is past its due date.</p>")
    keys = dict.fromkeys([*needing_attention(summary.benefits)["benefit"], *(a.benefit for a in overdue)])
    shown = [(key, for_benefit(session, key, summary.as_of)) for key in keys]
    lines = [
        [
            names[key],
            c.latest_note.line() if c.latest_note else "",
            "; ".join(a.line() for a in c.open_actions),
            "; ".join(r.line() for r in c.open_risks),
        ]
        for key, c in shown
        if not c.empty
    ]
    if lines:
        headers = ["Benefit", "Latest commentary", "Open actions", "Open risks"]
        parts += ["<h3>Commentary, actions and risks</h3>", _table(headers, lines, table_id="commentary")]
    return parts


def _lineage(session: Session, summary: queries.PortfolioSummary) -> list[str]:
    """The appendix: for each benefit whose realised value the pack states (those needing a decision), the
    latest reading up to the pack's date with its source, its place in the source and the sync run that loaded
    it (``repository.lineage``, as on the benefit page)."""
    from benefits.store.repository import lineage

    flagged = needing_attention(summary.benefits)
    if flagged.empty:
        return []
    rows = []
    for r in flagged.itertuples():
        readings = lineage(session, r.metric, summary.as_of, limit=1)
        if not readings:
            rows.append([r.name, r.metric, "no reading loaded", "", "", "", ""])
            continue
        latest = readings[0]
        loaded = f", {latest.loaded_at:%Y-%m-%d %H:%M} UTC" if latest.loaded_at else ""
        where = latest.source_ref or "— (not recorded)"
        run = f"{latest.sync_run_id}{loaded}"
        rows.append([r.name, r.metric, latest.period, quantity(latest.value, r.unit), latest.source, where, run])
    headers = ["Benefit", "Metric", "Latest reading", "Value", "Source", "Where in the source", "Sync run"]
    return [
        "<h2>Appendix: where the numbers come from</h2>",
        '<p class="note">The latest reading behind each realised value above, with the connector that loaded it, '
        "its place in the source (file:line, table key, URL and cursor) and the sync run. A benefit's readings "
        "are listed on its dashboard page; a claim's evidence, reading by reading, in "
        "<code>benefits claims export INITIATIVE</code>.</p>",
        _table(headers, rows, table_id="lineage", numeric=(3,)),
    ]


def _table(headers: list[str], rows: list[list[Any]], table_id: str = "", numeric: tuple[int, ...] = ()) -> str:
    def cell(tag: str, n: int, value: Any) -> str:
        css = ' class="num"' if n in numeric else ""
        return f"<{tag}{css}>{escape('' if value is None else str(value))}</{tag}>"

    head = "".join(cell("th", n, h) for n, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", n, v) for n, v in enumerate(row)) + "</tr>" for row in rows)
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
