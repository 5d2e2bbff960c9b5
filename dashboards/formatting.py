"""How values read on the dashboard: money, quantities in their unit, percentages, statuses.

Pure string functions shared by the figures and the pages, so that a value looks the same in a
card, a table and a chart's hover.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Iterable
from typing import Any

from benefits.status import REBASELINED, rebaseline_text

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}

STATUS_LABELS = {
    "achieved": "Achieved",
    "on_track": "On track",
    "at_risk": "At risk",
    "off_track": "Off track",
    "insufficient_data": "Insufficient data",
    "no_data": "No data",
    "data_stale": "Data stale",
    "failed": "Forecast failed",
}

STATUS_COLOURS = {
    "achieved": "#1a7f37",
    "on_track": "#4ac26b",
    "at_risk": "#d4a72c",
    "off_track": "#cf222e",
    "insufficient_data": "#8c959f",
    "no_data": "#d0d7de",
    "data_stale": "#bc4c00",
    "failed": "#8250df",
}


def status_label(status: str) -> str:
    """A status as people read it ("at_risk" -> "At risk"); unknown statuses pass through."""
    return STATUS_LABELS.get(status, status)


def change_label(change: str | None) -> str:
    """What changed since the previous forecast run (a status row's ``change``) as people read it: "Re-baselined"."""
    return (change or "").capitalize()


def why_changed(row: Any) -> str:
    """The "why" of a changed status row: its re-baselining when it was re-baselined, else its forecast's message."""
    return rebaseline_text(row) if row.change == REBASELINED else str(row.message)


def category_label(category: str) -> str:
    """``cost_reduction`` -> ``Cost reduction`` (also tactics: ``data_driven_insight``)."""
    return category.replace("_", " ").capitalize()


def is_money(unit: str) -> bool:
    """True when the unit is a currency code we know (GBP, EUR, USD)."""
    return unit.strip().upper() in CURRENCY_SYMBOLS


def decimals_for(values: Iterable[float | None]) -> int:
    """Decimals that suit a set of values: none from 1,000 up, one from 10, else two."""
    largest = max((abs(v) for v in values if v is not None), default=0.0)
    if largest >= 1000:
        return 0
    return 1 if largest >= 10 else 2


def money(value: float | None, currency: str) -> str:
    """``£317,500``; ``-£1,200`` for a negative value; an em dash for None."""
    if value is None:
        return "—"
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    amount = f"{abs(value):,.0f}"
    text = f"{symbol}{amount}" if symbol else f"{amount} {currency}"
    return f"-{text}" if value < 0 else text


def quantity(value: float | None, unit: str, decimals: int | None = None) -> str:
    """A value in its unit: ``£462,500`` for a currency unit, else ``25.0 minutes``."""
    if value is None:
        return "—"
    if is_money(unit):
        return money(value, unit)
    places = decimals_for([value]) if decimals is None else decimals
    return f"{value:,.{places}f}{_spaced(unit)}"


def percent(share: float | None) -> str:
    """A probability or share (0..1) as ``62%``."""
    return "—" if share is None else f"{100 * share:.0f}%"


def timestamp(value: Any) -> str:
    """A date-time to the minute (``2025-07-07 06:05``); any other value as text, None as empty."""
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else str(value or "")


def plot_text(text: str) -> str:
    """Text safe to hand to plotly, whose labels read a little HTML (``<b>``, ``<a>``): escape it."""
    return html.escape(text, quote=False)


def short_label(text: str, width: int = 22, lines: int = 2) -> str:
    """``text`` as a chart's axis or node label: wrapped at ``width`` characters onto at most ``lines`` lines, the
    last cut short with "…" when the rest does not fit; escaped for plotly, lines joined by ``<br>``. A long
    initiative or benefit name then leaves the chart its room; the full name belongs in the hover."""
    wrapped = textwrap.wrap(text, width) or [""]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], wrapped[lines - 1][: width - 1].rstrip(" ,;:.-") + "…"]
    return "<br>".join(plot_text(line) for line in wrapped)


def hover_value(unit: str, decimals: int, axis: str = "y") -> str:
    """A plotly hovertemplate fragment showing ``axis`` in ``unit`` (e.g. ``£%{y:,.0f}``)."""
    code = unit.strip().upper()
    if code in CURRENCY_SYMBOLS:
        return f"{CURRENCY_SYMBOLS[code]}%{{{axis}:,.0f}}"
    return f"%{{{axis}:,.{decimals}f}}{_spaced(plot_text(unit))}"


def _spaced(unit: str) -> str:
    """The unit as it follows a number: ``25.0 minutes`` but ``24.5%``."""
    return unit if unit == "%" else f" {unit}"
