"""The business case on the dashboard and in the steering pack, from `benefits value`'s report.

Pure functions over a ``benefits.value.report.ValueReport`` (read once per data version by
``benefits.dashboards.queries.value_report``): the fan chart of the portfolio's cash banked by
each fiscal year's end (P10/P50/P90 of ``benefits.value.rollup`` with the planned cash beside it),
the one-line caption naming how benefits are taken to move together, and the business case per
initiative as rows of text (investment, net benefit, NPV, benefit/cost ratio, payback; planned
and forecast). The portfolio page, the finance page and both packs show these, so they cannot
disagree with `benefits value` or with each other.
"""

from __future__ import annotations

import itertools
from decimal import ROUND_HALF_UP, Decimal

import plotly.graph_objects as go

from benefits.claims.money import display
from benefits.dashboards.figures import FORECAST_COLOUR, PLANNED_COLOUR, new_figure
from benefits.dashboards.formatting import CURRENCY_SYMBOLS, hover_value, plot_text
from benefits.value.cases import InitiativeValue
from benefits.value.report import ValueReport

CASE_HEADERS = [
    "Initiative",
    "Investment",
    "Net benefit planned",
    "Net benefit forecast",
    "NPV planned",
    "NPV forecast",
    "BCR planned",
    "BCR forecast",
    "Payback planned",
    "Payback forecast",
]
CASE_NUMERIC = (1, 2, 3, 4, 5, 6, 7)  # the money and ratio columns, right-aligned
BAND_FILL = "rgba(130, 80, 223, 0.18)"  # FORECAST_COLOUR, light: the P10-P90 band


def planned_cash_by_year_end(report: ValueReport) -> list[Decimal]:
    """The portfolio's planned cash banked from the baselines to each fiscal year's end (running sum
    of its fiscal years' planned money, exact)."""
    return list(itertools.accumulate((year.planned for year in report.portfolio.years), initial=Decimal(0)))[1:]


def fan_chart(report: ValueReport) -> go.Figure:
    """P10, P50 and P90 of the portfolio's cash banked by each fiscal year's end (a shaded band round
    the median) with the planned cash by the same dates beside it."""
    currency = report.settings.currency
    bands = report.rollup.years
    x = [band.fiscal_year.label for band in bands]
    money = hover_value(currency, 0)

    def line(name: str, values: list[Decimal], **style: object) -> go.Scatter:
        return go.Scatter(
            name=name,
            x=x,
            y=[float(v) for v in values],
            mode="lines+markers",
            hovertemplate=f"%{{x}} end<br>{name}: {money}<extra></extra>",
            **style,
        )

    p90 = line("P90", [b.p90 for b in bands], line=dict(color=FORECAST_COLOUR, width=1, dash="dot"))
    p10 = line(
        "P10 (band to P90)",
        [b.p10 for b in bands],
        line=dict(color=FORECAST_COLOUR, width=1, dash="dot"),
        fill="tonexty",
        fillcolor=BAND_FILL,
    )
    p50 = line("P50 forecast", [b.p50 for b in bands], line=dict(color=FORECAST_COLOUR, width=3))
    planned = line("Planned", planned_cash_by_year_end(report)[: len(bands)], line=dict(color=PLANNED_COLOUR, width=2))
    figure = new_figure([p90, p10, p50, planned])
    figure.update_layout(
        title_text=f"Portfolio cash banked by each fiscal year's end: P10–P90 ({plot_text(currency)})",
        yaxis=dict(
            title=dict(text=plot_text(currency)),
            tickprefix=CURRENCY_SYMBOLS.get(currency.upper(), ""),
            tickformat=",.0f",
            rangemode="tozero",
        ),
        xaxis=dict(title=dict(text="fiscal year end"), type="category"),
    )
    return figure


def dependence_caption(report: ValueReport) -> str:
    """One line naming how the roll-up treats dependence between benefits."""
    return (
        f"P10–P90 of {report.samples:,} seeded draws of the whole portfolio's cash (filters do not apply): each "
        f"benefit keeps its percentile over time, benefits on one metric share one draw, and metrics move together "
        f"with correlation {report.correlation:g} (a Gaussian copula; 0 would treat them as independent and "
        f"narrow the band). Money already banked is certain."
    )


def _ratio(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def _case_row(value: InitiativeValue, currency: str) -> list[str]:
    planned, forecast = value.planned, value.forecast
    return [
        value.name,
        display(value.investment, currency),
        display(planned.net_benefit, currency),
        display(forecast.net_benefit, currency),
        display(planned.npv, currency),
        display(forecast.npv, currency),
        _ratio(planned.benefit_cost_ratio),
        _ratio(forecast.benefit_cost_ratio),
        planned.payback_date.isoformat() if planned.payback_date else "not within the horizon",
        forecast.payback_date.isoformat() if forecast.payback_date else "not within the horizon",
    ]


def case_rows(report: ValueReport, initiative: str | None = None) -> list[list[str]]:
    """The business case per initiative, then the portfolio's, as text under :data:`CASE_HEADERS`
    (money in whole units, rounded half up once; the portfolio adds the initiatives' exact amounts);
    only ``initiative``'s when given."""
    currency = report.settings.currency
    if initiative is not None:
        return [_case_row(value, currency) for value in report.initiatives if value.key == initiative]
    return [_case_row(value, currency) for value in [*report.initiatives, report.portfolio]]


def case_note(report: ValueReport) -> str:
    """What the business case's figures are: discounting, the base year, the rounding."""
    return (
        f"Over each business case (start to horizon): net benefit undiscounted; NPV and BCR discounted at "
        f"{report.settings.discount_rate * 100:g}% a year by fiscal year from {report.base_year.label}; forecast is "
        f"realised to {report.as_of.isoformat()} then the forecast's median. Money in whole "
        f"{report.settings.currency}, rounded half up."
    )
