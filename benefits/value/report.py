"""`benefits value` as a table, JSON or CSV.

Money is computed exactly (Decimal) and rounded once, half up, to the penny when shown; the
portfolio's figures add the initiatives' exact amounts, so a total is right to the penny even
where the rounded lines differ from it by a penny. JSON and CSV carry amounts as decimal strings.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from benefits.claims.money import CENT, display
from benefits.value.cases import InitiativeValue, Settings, YearValue
from benefits.value.fiscal import FiscalYear
from benefits.value.returns import Returns
from benefits.value.rollup import HorizonBand, Rollup, YearBand

RATIO = Decimal("0.01")
ROUNDING = "money rounded half up to the penny, once; the portfolio line adds the initiatives' exact amounts"


@dataclass(frozen=True)
class ValueReport:
    """Everything `benefits value` shows."""

    as_of: dt.date
    settings: Settings
    base_year: FiscalYear
    fiscal_year: FiscalYear  # the year the table's FY columns show (and the only one listed when chosen)
    chosen: bool  # --fy was given
    initiatives: list[InitiativeValue]
    portfolio: InitiativeValue
    rollup: Rollup
    correlation: float
    samples: int


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(CENT, rounding=ROUND_HALF_UP):f}"


def _ratio(value: Decimal | None, places: Decimal = Decimal("0.0001")) -> str | None:
    return None if value is None else f"{value.quantize(places, rounding=ROUND_HALF_UP):f}"


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _returns(figures: Returns) -> dict[str, Any]:
    return {
        "benefits": _money(figures.benefits),
        "costs": _money(figures.costs),
        "net_benefit": _money(figures.net_benefit),
        "present_benefits": _money(figures.present_benefits),
        "present_costs": _money(figures.present_costs),
        "npv": _money(figures.npv),
        "benefit_cost_ratio": _ratio(figures.benefit_cost_ratio),
        "payback_date": _date(figures.payback_date),
    }


def _year(year: YearValue) -> dict[str, Any]:
    return {
        "fiscal_year": year.fiscal_year.label,
        "start": year.fiscal_year.start.isoformat(),
        "end": year.fiscal_year.end.isoformat(),
        "planned": _money(year.planned),
        "realised": _money(year.realised),
        "forecast": _money(year.forecast),
        "costs": _money(year.costs),
    }


def _years(report: ValueReport, value: InitiativeValue) -> list[YearValue]:
    if report.chosen:
        return [y for y in value.years if y.fiscal_year == report.fiscal_year]
    return value.years


def _figures(value: InitiativeValue) -> dict[str, str | None]:
    """Cash, run-rate and costs at the as-of date, and the whole investment."""
    return {
        "cash_to_date": _money(value.cash_to_date),
        "planned_cash_to_date": _money(value.planned_cash_to_date),
        "run_rate": _money(value.run_rate),
        "planned_run_rate": _money(value.planned_run_rate),
        "spent_to_date": _money(value.spent_to_date),
        "investment": _money(value.investment),
    }


def _initiative(report: ValueReport, value: InitiativeValue) -> dict[str, Any]:
    return {
        "initiative": value.key,
        "name": value.name,
        "start": value.start.isoformat(),
        "horizon": value.horizon.isoformat(),
        **_figures(value),
        "planned": _returns(value.planned),
        "forecast": _returns(value.forecast),
        "fiscal_years": [_year(y) for y in _years(report, value)],
        "benefits_without_forecast": value.forecast_missing,
        **({"cash_by_horizon": _horizon_band(band)} if (band := _horizon(report, value)) else {}),
    }


def _horizon_band(band: HorizonBand) -> dict[str, str | None]:
    return {
        "horizon": band.horizon.isoformat(),
        "p10": _money(band.p10),
        "p50": _money(band.p50),
        "p90": _money(band.p90),
    }


def _bands(report: ValueReport) -> list[YearBand]:
    return [b for b in report.rollup.years if not report.chosen or b.fiscal_year == report.fiscal_year]


def _horizon(report: ValueReport, value: InitiativeValue) -> HorizonBand | None:
    """An initiative's band by its horizon (the portfolio has none: its initiatives' horizons differ)."""
    return report.rollup.horizons.get(value.key) if value is not report.portfolio else None


def as_json(report: ValueReport) -> str:
    """The report as one JSON object; amounts are decimal strings to the penny."""
    document = {
        "as_of": report.as_of.isoformat(),
        "currency": report.settings.currency,
        "fiscal_year_start_month": report.settings.fiscal_year_start_month,
        "discount_rate": f"{report.settings.discount_rate:f}",
        "base_year": report.base_year.label,
        "rounding": ROUNDING,
        "initiatives": [_initiative(report, v) for v in report.initiatives],
        "portfolio": _initiative(report, report.portfolio),
        "rollup": {
            "basis": "cash banked from the benefits' baselines to each fiscal year's end, forecast",
            "correlation": report.correlation,
            "samples": report.samples,
            "years": [
                {
                    "fiscal_year": b.fiscal_year.label,
                    "end": b.fiscal_year.end.isoformat(),
                    "p10": _money(b.p10),
                    "p50": _money(b.p50),
                    "p90": _money(b.p90),
                }
                for b in _bands(report)
            ],
        },
    }
    return json.dumps(document, indent=2) + "\n"


CSV_COLUMNS = (
    "initiative",
    "currency",
    "cash_to_date",
    "planned_cash_to_date",
    "run_rate",
    "planned_run_rate",
    "spent_to_date",
    "investment",
    "fiscal_year",
    "fy_planned",
    "fy_realised",
    "fy_forecast",
    "fy_costs",
    "planned_net_benefit",
    "forecast_net_benefit",
    "planned_npv",
    "forecast_npv",
    "planned_benefit_cost_ratio",
    "forecast_benefit_cost_ratio",
    "planned_payback_date",
    "forecast_payback_date",
    "fy_end_cash_p10",
    "fy_end_cash_p50",
    "fy_end_cash_p90",
    "horizon_cash_p10",
    "horizon_cash_p50",
    "horizon_cash_p90",
)


def as_csv(report: ValueReport) -> str:
    """One row per initiative and fiscal year (the chosen one with --fy), then the portfolio's rows
    (``initiative`` = ``portfolio``), which alone carry the roll-up's P10/P50/P90 by the year's end;
    an initiative's rows carry its own by its horizon."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    bands = {b.fiscal_year: b for b in report.rollup.years}
    for value in [*report.initiatives, report.portfolio]:
        horizon = _horizon(report, value)
        for year in _years(report, value):
            band = bands.get(year.fiscal_year) if value is report.portfolio else None
            row = {
                "initiative": value.key,
                "currency": report.settings.currency,
                **_figures(value),
                "fiscal_year": year.fiscal_year.label,
                "fy_planned": _money(year.planned),
                "fy_realised": _money(year.realised),
                "fy_forecast": _money(year.forecast),
                "fy_costs": _money(year.costs),
                "planned_net_benefit": _money(value.planned.net_benefit),
                "forecast_net_benefit": _money(value.forecast.net_benefit),
                "planned_npv": _money(value.planned.npv),
                "forecast_npv": _money(value.forecast.npv),
                "planned_benefit_cost_ratio": _ratio(value.planned.benefit_cost_ratio),
                "forecast_benefit_cost_ratio": _ratio(value.forecast.benefit_cost_ratio),
                "planned_payback_date": _date(value.planned.payback_date),
                "forecast_payback_date": _date(value.forecast.payback_date),
                "fy_end_cash_p10": _money(band.p10) if band else None,
                "fy_end_cash_p50": _money(band.p50) if band else None,
                "fy_end_cash_p90": _money(band.p90) if band else None,
                "horizon_cash_p10": _money(horizon.p10) if horizon else None,
                "horizon_cash_p50": _money(horizon.p50) if horizon else None,
                "horizon_cash_p90": _money(horizon.p90) if horizon else None,
            }
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()


def as_table(report: ValueReport) -> str:
    """Four tables (cash and run-rate, return, the portfolio's P10–P90 by fiscal year end and each
    initiative's by its horizon) and the notes under them."""
    currency, fy = report.settings.currency, report.fiscal_year
    rows = [*report.initiatives, report.portfolio]

    def pounds(value: Decimal | None) -> str:
        return display(value, currency, places=2)

    def year_of(value: InitiativeValue) -> YearValue | None:
        return next((y for y in value.years if y.fiscal_year == fy), None)

    def fy_cell(value: InitiativeValue, field: str) -> str:
        year = year_of(value)
        return pounds(getattr(year, field)) if year else "—"

    cash = _grid(
        ["INITIATIVE", "CASH TO DATE", "PLANNED CASH", "RUN-RATE /YEAR", "PLANNED RUN-RATE"]
        + [f"{fy.label} PLANNED", f"{fy.label} REALISED", f"{fy.label} FORECAST"],
        [
            [
                v.key,
                pounds(v.cash_to_date),
                pounds(v.planned_cash_to_date),
                pounds(v.run_rate),
                pounds(v.planned_run_rate),
                fy_cell(v, "planned"),
                fy_cell(v, "realised"),
                fy_cell(v, "forecast"),
            ]
            for v in rows
        ],
    )
    ret = _grid(
        ["INITIATIVE", "HORIZON", "INVESTMENT", "NET BENEFIT PLAN", "NET BENEFIT FCST", "NPV PLAN", "NPV FCST"]
        + ["BCR PLAN", "BCR FCST", "PAYBACK PLAN", "PAYBACK FCST"],
        [
            [
                v.key,
                v.horizon.isoformat(),
                pounds(v.investment),
                pounds(v.planned.net_benefit),
                pounds(v.forecast.net_benefit),
                pounds(v.planned.npv),
                pounds(v.forecast.npv),
                _ratio(v.planned.benefit_cost_ratio, RATIO) or "—",
                _ratio(v.forecast.benefit_cost_ratio, RATIO) or "—",
                _date(v.planned.payback_date) or "—",
                _date(v.forecast.payback_date) or "—",
            ]
            for v in rows
        ],
    )
    band = _grid(
        ["FISCAL YEAR", "ENDS", "P10", "P50", "P90"],
        [
            [b.fiscal_year.label, b.fiscal_year.end.isoformat(), pounds(b.p10), pounds(b.p50), pounds(b.p90)]
            for b in _bands(report)
        ],
    )
    horizons = _grid(
        ["INITIATIVE", "HORIZON", "P10", "P50", "P90"],
        [
            [key, b.horizon.isoformat(), pounds(b.p10), pounds(b.p50), pounds(b.p90)]
            for key, b in report.rollup.horizons.items()
        ],
    )
    month = dt.date(2000, report.settings.fiscal_year_start_month, 1).strftime("%B")
    rate = (report.settings.discount_rate * 100).normalize()
    notes = [
        f"Cash to date: money banked by {report.as_of.isoformat()} (run-rates accrued day by day, amounts as reached); "
        "run-rate: the recurring benefits' annual rate now. Never added together.",
        f"Fiscal years start on 1 {month}; {fy.label} runs {fy.start.isoformat()} to {fy.end.isoformat()}.",
        f"NPV at {rate:f}% a year, discounted by fiscal year from {report.base_year.label} (year 0); "
        "BCR = present benefits / present costs; PLAN = the planned profile, "
        "FCST = realised, then the forecast's median.",
        f"Roll-up: cash banked from the baselines by each date, forecast percentiles over {report.samples:,} draws, "
        f"correlation {report.correlation:g} between metrics (benefits of one metric share one draw).",
        f"Amounts in {currency}: {ROUNDING}.",
    ]
    if report.portfolio.forecast_missing:
        notes.append(
            f"{report.portfolio.forecast_missing} benefits have no forecast path (run `benefits forecast`; "
            "achieved or too little data): their forecast holds what they realised."
        )
    return (
        f"Cash and run-rate at {report.as_of.isoformat()}\n{cash}\nReturn over each business case\n{ret}\n"
        f"Portfolio cash banked by fiscal year end (P10 / P50 / P90)\n{band}\n"
        f"Each initiative's cash banked by its business case's horizon (P10 / P50 / P90)\n{horizons}\n"
        + "\n".join(notes)
        + "\n"
    )


def _grid(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An aligned table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)]) + "\n"
