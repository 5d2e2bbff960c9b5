"""The steering pack as PowerPoint (``benefits report --out pack.pptx``), written with python-pptx.

The slides, in order: a title slide; what changed since the previous forecast run (re-baselined
benefits apart from status changes) and what needs a decision; the portfolio summary (headline
figures and value by category); cash planned vs realised to date per
initiative as a native (editable) chart; the business case per initiative and the
portfolio's cash by fiscal year end (P10/P50/P90 beside the plan, a native line chart); the
at-risk benefits with their owner, why, commentary and open actions (overdue flagged), a few to
a slide; then one slide per off-track benefit, with its latest commentary, open actions and open
risks (``benefits.commentary``). It reads the same portfolio summary (``benefits.dashboards.queries``)
and the same benefits needing a decision (``benefits.report.needing_attention``) as the HTML pack, so the two
cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from io import BytesIO
from typing import Any

import pandas as pd
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.text import MSO_AUTO_SIZE
from pptx.presentation import Presentation as Deck
from pptx.slide import Slide
from pptx.util import Emu, Inches, Length, Pt
from sqlalchemy.orm import Session

from benefits.commentary import BenefitCommentary, for_benefit
from benefits.dashboards import business_case, queries, trust
from benefits.dashboards.formatting import (
    CURRENCY_SYMBOLS,
    money,
    percent,
    quantity,
    rebaseline_text,
    status_label,
)
from benefits.report import CATEGORY_HEADERS, VALUE_NOTE, cash_cells, category_rows, needing_attention, portfolio_name
from benefits.status import REBASELINED
from benefits.value.report import ValueReport

ROWS_PER_SLIDE = 7  # table rows on an at-risk slide (each "why" wraps to about three lines)
CASES_PER_SLIDE = 9  # business cases (initiatives) on a slide
LISTED = 8  # benefits named on the "what changed" slide before "… and N more"
_WIDTH, _HEIGHT = Inches(13.333), Inches(7.5)  # 16:9
_MARGIN = Inches(0.5)
_BODY_WIDTH = Emu(_WIDTH - 2 * _MARGIN)  # a shape across the slide, inside the margins
_TITLE_ONLY, _TITLE_SLIDE = 5, 0  # layouts of python-pptx's default template


def steering_deck(session: Session, as_of: dt.date | None = None) -> bytes:
    """The pack as a .pptx file's bytes at ``as_of`` (default today)."""
    summary = queries.portfolio_summary(session, as_of)
    attention = needing_attention(summary.benefits)
    deck = Presentation()
    deck.slide_width, deck.slide_height = _WIDTH, _HEIGHT
    _title_slide(deck, summary, portfolio_name(session))
    _decisions_slide(deck, summary, attention)
    _summary_slide(deck, summary, trust.headline(trust.track_record(session)))
    _value_chart_slide(deck, summary)
    _business_case_slides(deck, queries.value_report(session, summary.as_of))
    said = {key: for_benefit(session, key, summary.as_of) for key in attention["benefit"]}
    at_risk = attention[attention["status"] == "at_risk"]
    pages = -(-len(at_risk) // ROWS_PER_SLIDE)
    for page, start in enumerate(range(0, len(at_risk), ROWS_PER_SLIDE), start=1):
        title = "At risk" if pages == 1 else f"At risk ({page} of {pages})"
        _at_risk_slide(deck, title, at_risk.iloc[start : start + ROWS_PER_SLIDE], summary.currency, said)
    for benefit in attention[attention["status"] == "off_track"].itertuples():
        _off_track_slide(deck, benefit, summary.currency, said[benefit.benefit])
    buffer = BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def _slide(deck: Deck, title: str) -> Slide:
    """A title-only slide, its title across the wide slide."""
    slide = deck.slides.add_slide(deck.slide_layouts[_TITLE_ONLY])
    heading = slide.shapes.title
    assert heading is not None  # the title-only layout has a title placeholder
    heading.left, heading.top, heading.width, heading.height = _MARGIN, Inches(0.3), _BODY_WIDTH, Inches(1)
    heading.text = title
    heading.text_frame.paragraphs[0].font.size = Pt(30)
    return slide


def _title_slide(deck: Deck, summary: queries.PortfolioSummary, name: str) -> None:
    slide = deck.slides.add_slide(deck.slide_layouts[_TITLE_SLIDE])
    title, subtitle = slide.placeholders[0], slide.placeholders[1]
    for shape, top in ((title, Inches(2.2)), (subtitle, Inches(4))):
        shape.left, shape.top, shape.width = _MARGIN, top, _BODY_WIDTH
    title.text = "Benefits steering pack"
    subtitle.text = (
        f"{name} · as of {summary.as_of.isoformat()} · {summary.total} benefits · money in {summary.currency}"
    )


def _decisions_slide(deck: Deck, summary: queries.PortfolioSummary, attention: pd.DataFrame) -> None:
    """What changed since the previous forecast run, and what needs a decision."""
    slide = _slide(deck, "What changed and what needs a decision")
    changes = summary.changes
    rebaselined, moved = changes[changes["change"] == REBASELINED], changes[changes["change"] != REBASELINED]
    counts = attention["status"].value_counts()
    lines: list[tuple[str, int]] = []
    if len(rebaselined):  # never a plain status change: what moved, who and why
        lines.append((_count(len(rebaselined), "benefit") + " re-baselined since the previous run", 0))
        lines += _listed([f"{r.name} ({r.initiative_name}): {rebaseline_text(r)}" for r in rebaselined.itertuples()])
    lines.append((_count(len(moved), "benefit") + " changed status since the previous run", 0))
    lines += _listed(
        [
            f"{r.name} ({r.initiative_name}): {status_label(r.previous_status)} → {status_label(r.status)}"
            for r in moved.itertuples()
        ]
    )
    lines.append(
        (
            f"Needing a decision: {_count(len(attention), 'benefit')}, {counts.get('off_track', 0)} off track, "
            f"{counts.get('at_risk', 0)} at risk, {counts.get('data_stale', 0)} with stale data",
            0,
        )
    )
    lines += _listed(
        [
            f"{r.name}: {status_label(r.status)}, {percent(r.p_on_time)} likely on time, owner {r.owner}"
            for r in attention.itertuples()
        ]
    )
    _text(slide, lines, top=Inches(1.4))


def _summary_slide(deck: Deck, summary: queries.PortfolioSummary, trust_text: str) -> None:
    """Headline figures and value by category."""
    slide = _slide(deck, "Portfolio summary")
    planned, realised = summary.planned_value, summary.realised_value
    flagged = sum(summary.status_counts.get(s, 0) for s in ("at_risk", "off_track"))
    headline = [
        ["Planned to date", "Realised to date", "At risk or off track", "Re-baselined or changed status"],
        [
            money(planned, summary.currency),
            money(realised, summary.currency) + (f" ({percent(realised / planned)} of planned)" if planned > 0 else ""),
            f"{flagged} of {summary.total} benefits",
            f"{len(summary.changes)} since the previous run",
        ],
    ]
    _table(slide, headline, top=Inches(1.4), height=Inches(0.9))
    _text(slide, [(VALUE_NOTE, 0)], top=Inches(2.35), size=12)
    categories = [CATEGORY_HEADERS, *category_rows(summary)]
    _table(slide, categories, top=Inches(2.9), height=Emu(Inches(0.4) * len(categories)))
    _text(slide, [(f"Forecast trust: {trust_text}", 0)], top=Inches(6.5), size=12)


def _value_chart_slide(deck: Deck, summary: queries.PortfolioSummary) -> None:
    """Cash planned and realised to date per initiative (never a run-rate's annual rate; the dashboard's
    chart, ``figures.initiative_bars``): a native clustered column chart."""
    slide = _slide(deck, f"Cash planned vs realised to date by initiative ({summary.currency})")
    if summary.initiatives.empty:
        _text(slide, [("No initiative has a benefit with a value yet.", 0)], top=Inches(1.4))
        return
    data = CategoryChartData()
    data.categories = summary.initiatives["name"].to_list()
    data.add_series("Cash planned to date", [float(v) for v in summary.initiatives["planned_cash_to_date"]])
    data.add_series("Cash realised to date", [float(v) for v in summary.initiatives["cash_to_date"]])
    frame = slide.shapes.add_chart(
        XL_CHART_TYPE.COLUMN_CLUSTERED,
        _MARGIN,
        Inches(1.4),
        _BODY_WIDTH,
        Inches(5.7),
        data,  # type: ignore[arg-type]  # python-pptx annotates its deprecated alias ChartData, a subclass
    )
    chart = _money_chart(frame, summary.currency)
    chart.category_axis.tick_labels.font.size = Pt(10)


def _money_chart(frame: Any, currency: str) -> Any:
    """The chart of a chart shape, its legend on top and its values in ``currency``."""
    chart = frame.chart  # add_chart returns a GraphicFrame holding the chart
    chart.has_legend = True
    chart.legend.position = XL_LEGEND_POSITION.TOP
    chart.legend.include_in_layout = False
    symbol = CURRENCY_SYMBOLS.get(currency.upper(), "")
    chart.value_axis.tick_labels.number_format = f'"{symbol}"#,##0' if symbol else "#,##0"
    chart.value_axis.tick_labels.number_format_is_linked = False
    return chart


def _business_case_slides(deck: Deck, report: ValueReport) -> None:
    """The business case per initiative (the portfolio's first), a few to a slide, then the fan chart:
    P10/P50/P90 of the portfolio's cash by each fiscal year's end beside the plan, as a native line chart."""
    rows = business_case.case_rows(report)
    rows = [rows[-1], *rows[:-1]]  # the portfolio first
    pages = -(-len(rows) // CASES_PER_SLIDE)
    for page, start in enumerate(range(0, len(rows), CASES_PER_SLIDE), start=1):
        title = "Business case" if pages == 1 else f"Business case ({page} of {pages})"
        slide = _slide(deck, title)
        shown = [business_case.CASE_HEADERS, *rows[start : start + CASES_PER_SLIDE]]
        _table(slide, shown, top=Inches(1.4), height=Emu(Inches(0.45) * len(shown)))
        _text(slide, [(business_case.case_note(report), 0)], top=Inches(6.4), size=12)
    slide = _slide(deck, f"Portfolio cash by fiscal year end: P10, P50, P90 ({report.settings.currency})")
    bands = report.rollup.years
    if not bands:
        _text(slide, [("No fiscal year to draw yet: no benefit has a business case.", 0)], top=Inches(1.4))
        return
    data = CategoryChartData()
    data.categories = [band.fiscal_year.label for band in bands]
    for name, values in (
        ("P10", [band.p10 for band in bands]),
        ("P50", [band.p50 for band in bands]),
        ("P90", [band.p90 for band in bands]),
        ("Planned", business_case.planned_cash_by_year_end(report)[: len(bands)]),
    ):
        data.add_series(name, [float(v) for v in values])
    frame = slide.shapes.add_chart(
        XL_CHART_TYPE.LINE_MARKERS,
        _MARGIN,
        Inches(1.4),
        _BODY_WIDTH,
        Inches(4.9),
        data,  # type: ignore[arg-type]  # python-pptx annotates its deprecated alias ChartData, a subclass
    )
    _money_chart(frame, report.settings.currency)
    _text(slide, [(business_case.dependence_caption(report), 0)], top=Inches(6.4), size=12)


def _at_risk_slide(
    deck: Deck, title: str, benefits: pd.DataFrame, currency: str, said: dict[str, BenefitCommentary]
) -> None:
    """A table of at-risk benefits: owner, how likely on time, value, why, and the commentary and open actions."""
    slide = _slide(deck, title)
    headers = ["Benefit", "Initiative", "Owner", "Likely on time", "Cash realised of planned", "Run-rate now"]
    headers += ["Why", "Commentary, actions"]
    rows = [headers] + [
        [
            r.name,
            r.initiative_name,
            r.owner,
            percent(r.p_on_time),
            *cash_cells(r, currency),
            r.message,
            "\n".join(_commentary_lines(said[r.benefit], risks=False)),
        ]
        for r in benefits.itertuples()
    ]
    widths = (1.7, 1.4, 1.1, 0.9, 1.7, 1.2, 2.33, 2.0)
    _table(slide, rows, top=Inches(1.4), height=Emu(Inches(0.6) * len(rows)), widths=widths)


def _off_track_slide(deck: Deck, benefit: Any, currency: str, said: BenefitCommentary) -> None:
    """One off-track benefit: its facts, why, its commentary, actions and risks, for the steering committee's
    decision."""
    slide = _slide(deck, f"Off track: {benefit.name}")
    cash, rate = cash_cells(benefit, currency)
    facts = [
        ["Initiative", benefit.initiative_name],
        ["Benefit owner", benefit.owner],
        ["Initiative owner", benefit.initiative_owner],
        ["Target", f"{quantity(benefit.target, benefit.unit)} by {benefit.target_date}"],
        [
            "Realised to date",
            f"{quantity(benefit.realised_to_date, benefit.unit)} of "
            f"{quantity(benefit.planned_to_date, benefit.unit)} planned",
        ],
        ["Cash realised to date", f"{cash} planned"],
        *([["Run-rate now (annualised)", rate]] if benefit.value_type == "run_rate" else []),
        ["Likely on time", percent(benefit.p_on_time)],
        ["Expected landing", benefit.expected_landing or "not within the forecast horizon"],
        ["Why", benefit.message],
        *_commentary_facts(said),
        ["Decision", "recover (with the owner's plan), re-baseline (with the reason), or stop"],
    ]
    _table(slide, facts, top=Inches(1.4), height=Emu(Inches(0.42) * len(facts)), widths=(2.5, 9.83), header=False)


def _commentary_lines(said: BenefitCommentary, risks: bool = True) -> list[str]:
    """The latest note, then each open action (overdue flagged) and, with ``risks``, each open risk."""
    note = [f"Commentary: {said.latest_note.line()}"] if said.latest_note else []
    found = [f"Risk: {r.line()}" for r in said.open_risks] if risks else []
    return note + [f"Action: {a.line()}" for a in said.open_actions] + found


def _commentary_facts(said: BenefitCommentary) -> list[list[str]]:
    """The off-track slide's rows for what the PMO said: commentary, open actions, open risks (those there are)."""
    rows = [
        ["Commentary", said.latest_note.line() if said.latest_note else ""],
        ["Open actions", "\n".join(a.line() for a in said.open_actions)],
        ["Open risks", "\n".join(r.line() for r in said.open_risks)],
    ]
    return [row for row in rows if row[1]]


def _table(
    slide: Slide,
    rows: list[list[str]],
    top: Length,
    height: Length,
    widths: Sequence[float] = (),
    header: bool = True,
) -> None:
    """A table of text across the slide; ``widths`` in inches (equal columns when empty)."""
    shape = slide.shapes.add_table(len(rows), len(rows[0]), _MARGIN, top, _BODY_WIDTH, height)
    table = shape.table
    table.first_row = header
    for n, width in enumerate(widths):
        table.columns[n].width = Inches(width)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.text = "" if value is None else str(value)
            for paragraph in cell.text_frame.paragraphs:
                paragraph.font.size = Pt(12)
                paragraph.font.bold = (header and r == 0) or (not header and c == 0)


def _text(slide: Slide, lines: list[tuple[str, int]], top: Length, size: int = 16) -> None:
    """A text box of paragraphs, each ``(text, level)``; level 1 is indented under the one before."""
    box = slide.shapes.add_textbox(_MARGIN, top, _BODY_WIDTH, Emu(_HEIGHT - top - _MARGIN))
    frame = box.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE  # PowerPoint shrinks a long list to the box
    for n, (text, level) in enumerate(lines):
        paragraph = frame.paragraphs[0] if n == 0 else frame.add_paragraph()
        paragraph.text = ("• " if level else "") + text
        paragraph.level = level
        paragraph.font.size = Pt(size - 2 * level)
        paragraph.font.bold = level == 0


def _listed(texts: list[str]) -> list[tuple[str, int]]:
    """The first :data:`LISTED` texts as indented lines, then "… and N more"."""
    lines = [(text, 1) for text in texts[:LISTED]]
    if len(texts) > LISTED:
        lines.append((f"… and {len(texts) - LISTED} more", 1))
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
