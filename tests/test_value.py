"""The business case as finance reads it: value types (cash versus run-rate), fiscal years,
investment, NPV, payback and benefit/cost ratio, the P10-P90 roll-up and `benefits value` in
every format, against hand-computed Decimal figures; storage on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import text

from benefits import realisation
from benefits.cli import main
from benefits.errors import ConfigError
from benefits.register import Benefit, Investment, Register, ValueType, load_register
from benefits.store.db import make_engine, session_factory
from benefits.value.build import build
from benefits.value.cases import BenefitSeries, InitiativeInput, PathPoint, Settings, evaluate, forecast_ahead
from benefits.value.fiscal import fiscal_year, fiscal_year_of, fiscal_years
from benefits.value.investment import spent_by
from benefits.value.kept import decoded, encoded
from benefits.value.report import as_csv, as_json, as_table
from benefits.value.returns import discount_factor, payback, returns
from benefits.value.rollup import band, rollup, standard_normals

from .conftest import DEMO_CONFIG

CENT = Decimal("0.01")
D = dt.date


def benefit(**changes: Any) -> Benefit:
    """A weekly GBP cost (level) falling from 100 to 80 over 2025, each unit a year's £52."""
    spec: dict[str, Any] = {
        "key": "run-cost",
        "name": "Run cost",
        "category": "cost_reduction",
        "metric": "ledger.run_cost_weekly",
        "unit": "GBP",
        "direction": "decrease",
        "measure": "level",
        "baseline": {"value": 100, "date": "2025-01-01"},
        "target": {"value": 80, "date": "2026-01-01"},
        "owner": "Fay",
        "value_per_unit": 52,
    }
    return Benefit.model_validate(spec | changes)


def write_register(folder: Path, **top: Any) -> Path:
    data = yaml.safe_load((DEMO_CONFIG / "portfolio.yaml").read_text())
    data.update(top)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "portfolio.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


# --- value types -------------------------------------------------------------------------------


def test_the_value_type_follows_the_measure_unless_declared() -> None:
    assert realisation.value_type(benefit()) is ValueType.run_rate
    assert (
        realisation.value_type(
            benefit(measure="cumulative", direction="increase", target={"value": 120, "date": "2026-01-01"})
        )
        is ValueType.amount
    )
    assert realisation.value_type(benefit(value_type="amount")) is ValueType.amount


def test_a_run_rate_on_a_cumulative_measure_is_one_line_naming_the_field(tmp_path: Path) -> None:
    data = yaml.safe_load((DEMO_CONFIG / "portfolio.yaml").read_text())
    data["initiatives"][0]["benefits"][0]["value_type"] = "run_rate"  # crm-upsell-revenue: cumulative
    (tmp_path / "portfolio.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as raised:
        load_register(tmp_path)
    assert str(raised.value) == (
        f"{tmp_path}/portfolio.yaml: initiatives[0].benefits[0] (crm-upsell-revenue): value_type: "
        "run_rate needs measure: level (a cumulative metric's total is an amount: use amount) (got 'run_rate')"
    )


def test_a_run_rate_banks_each_reading_over_the_days_since_the_one_before() -> None:
    run_rate = benefit()
    steps = realisation.improvements(run_rate, [(D(2024, 12, 25), 99), (D(2025, 1, 8), 90), (D(2025, 1, 15), 85)])
    assert steps == [(D(2025, 1, 8), 10.0), (D(2025, 1, 15), 15.0)]  # the reading on or before the baseline is not
    at = [D(2025, 1, 1), D(2025, 1, 8), D(2025, 1, 11), D(2025, 1, 15), D(2025, 3, 1)]
    banked = realisation.banked(run_rate, steps, run_rate.baseline.date, at)
    # 10 a year for 7 days, then 15 a year: 3 days of it by the 11th, 7 by the 15th; nothing after the last reading
    assert banked == [Decimal(0), *(Decimal(days) / 365 for days in (70, 70 + 45, 70 + 105, 70 + 105))]
    assert realisation.cash(run_rate, banked[3]).quantize(CENT) == Decimal("24.93")  # 175 / 365 x £52
    assert realisation.cash(run_rate, steps[-1][1]) == Decimal("780")  # the run-rate: 15 x £52 a year


def test_an_amount_is_what_was_banked_by_the_latest_reading() -> None:
    amount = benefit(measure="cumulative", direction="increase", target={"value": 500, "date": "2026-01-01"})
    amount = amount.model_copy(update={"baseline": amount.baseline.model_copy(update={"value": 0})})
    steps = realisation.improvements(amount, [(D(2025, 1, 8), 100), (D(2025, 1, 15), 50)])
    banked = realisation.banked(amount, steps, amount.baseline.date, [D(2025, 1, 7), D(2025, 1, 10), D(2025, 1, 15)])
    assert banked == [Decimal(0), Decimal(100), Decimal(150)]
    assert realisation.cash(amount, banked[-1]) == Decimal("7800")  # 150 x £52


def test_a_dis_benefit_banks_against_its_initiative() -> None:
    assert realisation.cash(benefit(dis_benefit=True, attribution=0.5), 10.0) == Decimal("-260")


# --- fiscal years ------------------------------------------------------------------------------


def test_an_april_fiscal_year_is_named_by_the_year_it_ends_in() -> None:
    assert fiscal_year_of(D(2026, 3, 31), 4) == fiscal_year(2026, 4) == fiscal_year_of(D(2025, 4, 1), 4)
    assert fiscal_year(2026, 4).start == D(2025, 4, 1) and fiscal_year(2026, 4).end == D(2026, 3, 31)
    assert fiscal_year_of(D(2026, 4, 1), 4).label == "FY2027"


def test_a_january_fiscal_year_is_the_calendar_year() -> None:
    year = fiscal_year_of(D(2026, 12, 31), 1)
    assert (year.label, year.start, year.end) == ("FY2026", D(2026, 1, 1), D(2026, 12, 31))
    assert fiscal_year_of(D(2027, 1, 1), 1).label == "FY2027"
    assert [y.label for y in fiscal_years(D(2025, 6, 1), D(2027, 2, 1), 1)] == ["FY2025", "FY2026", "FY2027"]


def test_the_start_month_defaults_to_april_for_gbp_and_january_otherwise() -> None:
    data = yaml.safe_load((DEMO_CONFIG / "portfolio.yaml").read_text())
    assert Register.model_validate(data).fiscal_start_month() == 4
    assert Register.model_validate(data | {"currency": "EUR"}).fiscal_start_month() == 1
    assert Register.model_validate(data | {"currency": "EUR", "fiscal_year_start_month": 7}).fiscal_start_month() == 7


# --- investment and return ---------------------------------------------------------------------


def test_costs_one_off_phased_and_running_to_the_penny() -> None:
    investment = Investment.model_validate(
        {
            "one_off": [{"amount": "1000"}, {"amount": 500.10, "date": "2026-01-01"}],
            "running": [{"per_year": "36500", "start": "2025-04-01"}],
        }
    )
    assert investment.one_off[1].amount == Decimal("500.1")  # the YAML float as written, never via binary
    at = [D(2025, 3, 31), D(2025, 4, 1), D(2025, 4, 10), D(2026, 3, 31), D(2027, 1, 1)]
    spent = spent_by(investment, D(2025, 4, 1), D(2026, 3, 31), at)
    assert spent == [Decimal(0), Decimal(1100), Decimal(2000), Decimal("38000.10"), Decimal("38000.10")]
    assert Investment.model_validate(1800000).one_off_total() == Decimal(1800000)  # `investment: 1800000` as before


def test_an_investment_with_a_decimal_comma_is_refused_naming_the_initiative(tmp_path: Path) -> None:
    data = yaml.safe_load((DEMO_CONFIG / "portfolio.yaml").read_text())
    data["initiatives"][0]["investment"] = "1,800,000"
    assert load_register(write_register(tmp_path / "grouped", **data)).initiatives[0].investment.one_off_total() == (
        Decimal(1800000)
    )
    data["initiatives"][0]["investment"] = "12,50"  # read as 1250 before
    folder = write_register(tmp_path / "comma", **data)
    with pytest.raises(ConfigError) as refused:
        load_register(folder)
    assert str(refused.value) == (
        f"{folder / 'portfolio.yaml'}: initiatives[0] (crm-modernisation): investment.one_off[0].amount: '12,50' is "
        "not an amount of money: a thousands separator must come between groups of three digits (1,234,567.50); "
        "write decimals with a point (12.50, not 12,50)"
    )


def test_a_spend_metric_is_the_cost_up_to_its_latest_reading_and_the_declared_costs_after_it() -> None:
    investment = Investment.model_validate(
        {
            "one_off": [{"amount": "1000", "date": "2025-04-01"}, {"amount": "400", "date": "2025-09-01"}],
            "running": [{"per_year": "36500", "start": "2025-04-01"}],  # 100 a day
            "metric": "ledger.programme_spend",
        }
    )
    spend = [(D(2025, 4, 30), 1200.10), (D(2025, 5, 31), 3100.0)]  # money spent in April, then in May
    at = [D(2025, 3, 31), D(2025, 4, 30), D(2025, 5, 31), D(2025, 6, 10), D(2025, 9, 1), D(2026, 6, 1)]
    spent = spent_by(investment, D(2025, 4, 1), D(2026, 3, 31), at, spend)
    # the readings replace the declared costs up to 31 May; then 100 a day from 1 June and the September 400
    assert spent == [
        Decimal(0),
        Decimal("1200.10"),
        Decimal("4300.10"),
        Decimal("5300.10"),
        Decimal("4300.10") + 93 * 100 + 400,
        Decimal("4300.10") + 304 * 100 + 400,  # to the horizon, 31 March 2026
    ]
    assert spent_by(investment, D(2025, 4, 1), D(2026, 3, 31), at[:2]) == [Decimal(0), Decimal(4000)]  # no readings


def test_a_spend_metric_must_be_a_metric_of_the_register_in_its_money(tmp_path: Path) -> None:
    data = yaml.safe_load((DEMO_CONFIG / "portfolio.yaml").read_text())
    data["initiatives"][0]["investment"] = {"one_off": 1800000, "metric": "ledger.crm_spend"}
    folder = write_register(tmp_path / "undeclared", **data)
    with pytest.raises(ConfigError) as undeclared:
        load_register(folder)
    assert str(undeclared.value) == (
        f"{folder / 'portfolio.yaml'}: initiatives[0] (crm-modernisation): investment.metric: 'ledger.crm_spend'"
        " is not a metric of the register: declare it under metrics with unit GBP"
    )
    data["metrics"].append({"name": "ledger.crm_spend", "unit": "hours"})
    with pytest.raises(ConfigError, match=r"'ledger.crm_spend' is in hours, not in the register's money \(GBP\)"):
        load_register(write_register(tmp_path / "hours", **data))


def test_npv_bcr_and_net_benefit_against_hand_computed_figures() -> None:
    rate = Decimal("0.035")
    assert discount_factor(rate, 2) == 1 / Decimal("1.071225")
    figures = returns([(0, Decimal(0)), (1, Decimal(600)), (2, Decimal(600))], [(0, Decimal(1000))], rate, None)
    present = Decimal(600) / Decimal("1.035") + Decimal(600) / Decimal("1.071225")  # 579.7101 + 560.1064
    assert figures.present_benefits == present
    assert figures.npv.quantize(CENT) == Decimal("139.82")
    assert figures.benefit_cost_ratio is not None and figures.benefit_cost_ratio.quantize(Decimal("0.0001")) == Decimal(
        "1.1398"
    )
    assert (figures.benefits, figures.costs, figures.net_benefit) == (Decimal(1200), Decimal(1000), Decimal(200))


def test_money_before_the_base_year_is_compounded_and_no_costs_have_no_ratio() -> None:
    figures = returns([(-1, Decimal(100))], [], Decimal("0.035"), None)
    assert figures.present_benefits == Decimal("103.5") and figures.benefit_cost_ratio is None


def test_payback_is_interpolated_between_the_days_of_the_grid() -> None:
    days = [D(2026, 1, 1), D(2026, 1, 31), D(2026, 2, 28)]
    assert payback(days, [Decimal(0), Decimal(500), Decimal(1500)], [Decimal(1000)] * 3) == D(2026, 2, 14)
    assert payback(days, [Decimal(0), Decimal(500), Decimal(900)], [Decimal(1000)] * 3) is None
    assert payback(days, [Decimal(5)] * 3, [Decimal(0)] * 3) is None  # nothing spent: no payback to speak of


# --- the business case of an initiative --------------------------------------------------------


def one_initiative(path: list[PathPoint] | None = None) -> list[InitiativeInput]:
    run_rate = benefit()
    weeks = [D(2025, 1, 1) + dt.timedelta(days=7 * k) for k in range(1, 53)]
    observed = realisation.improvements(run_rate, [(d, 90.0) for d in weeks if d <= D(2025, 6, 25)])  # 10 a year
    series = BenefitSeries(run_rate, run_rate.baseline.date, observed, path or [])
    investment = Investment.model_validate({"one_off": [{"amount": "300", "date": "2025-01-01"}]})
    return [InitiativeInput("i1", "One", investment, [series])]


SETTINGS = Settings("GBP", 4, Decimal("0.035"), 2, None)


def test_cash_to_date_is_the_run_rate_accrued_and_the_years_add_up_to_it() -> None:
    values, portfolio = evaluate(one_initiative(), SETTINGS, D(2025, 6, 25))
    (value,) = values
    days = (D(2025, 6, 25) - D(2025, 1, 1)).days  # 175: 25 weeks at £520 a year
    assert value.cash_to_date == Decimal(10 * days) / 365 * 52
    assert value.cash_to_date.quantize(CENT) == Decimal("249.32")
    assert value.run_rate == Decimal(520)
    assert [y.fiscal_year.label for y in value.years] == ["FY2025", "FY2026"]  # FY2025 ends 2025-03-31
    assert sum(y.realised or 0 for y in value.years) == value.cash_to_date
    assert value.horizon == D(2026, 3, 31)  # appraisal_years 2 from FY2025
    assert (portfolio.cash_to_date, portfolio.planned.npv) == (value.cash_to_date, value.planned.npv)


def test_the_forecast_follows_the_median_path_then_holds_its_last_rate() -> None:
    path = [(d, 95.0, 90.0, 85.0) for d in (D(2025, 7, 2), D(2025, 7, 9))]  # period, lower, yhat, upper
    inputs = one_initiative(path)
    steps = forecast_ahead(inputs[0].benefits[0], D(2026, 3, 31))
    assert steps == [(D(2025, 7, 2), 10.0), (D(2025, 7, 9), 10.0), (D(2026, 3, 31), 10.0)]
    (value,), _ = evaluate(inputs, SETTINGS, D(2025, 6, 25))
    whole = (D(2026, 3, 31) - D(2025, 1, 1)).days
    assert value.forecast.benefits == Decimal(10 * whole) / 365 * 52
    # costs of £300 covered at £520 a year: 300 / 520 x 365 = 210.6 days after 2025-01-01
    assert value.forecast.payback_date == D(2025, 7, 31)


def test_the_rollup_is_certain_for_what_is_banked_and_ordered_for_the_future() -> None:
    path = [(D(2025, 6, 25) + dt.timedelta(days=7 * k), 98.0, 90.0, 82.0) for k in range(1, 40)]
    inputs = one_initiative(path)
    years = [fiscal_year(2025, 4), fiscal_year(2026, 4)]
    found = rollup(inputs, SETTINGS, D(2025, 6, 25), years)
    first, second = found.years
    # FY2025 ended (2025-03-31) before the as-of date: 89 days of £520 a year, banked for certain
    assert first.p10 == first.p50 == first.p90 == (Decimal(89 * 520) / 365).quantize(CENT) == Decimal("126.79")
    assert second.p10 < second.p50 < second.p90
    horizon = found.horizons["i1"]  # one initiative alone: its band by its horizon is the portfolio's by FY2026's end
    assert (horizon.horizon, horizon.p10, horizon.p50, horizon.p90) == (
        D(2026, 3, 31),
        second.p10,
        second.p50,
        second.p90,
    )


def test_benefits_of_one_metric_share_one_draw_and_independent_metrics_diversify() -> None:
    import numpy as np

    two = np.array([[[80.0, 100.0, 120.0]], [[80.0, 100.0, 120.0]]])  # two benefits, one year: P10, P50, P90
    together = band(two, np.array([0, 0]), 1, 0.0, 4000, 1)[:, 0]  # one metric: they move as one
    assert together == pytest.approx([160, 200, 240], rel=0.01)  # the sum of their percentiles
    apart = band(two, np.array([0, 1]), 2, 0.0, 4000, 1)[:, 0]  # independent metrics: sqrt(2) x 20 either side
    assert apart == pytest.approx([200 - 20 * 2**0.5, 200, 200 + 20 * 2**0.5], rel=0.01)
    comonotone = band(two, np.array([0, 1]), 2, 1.0, 4000, 1)[:, 0]
    assert comonotone == pytest.approx(together, rel=0.01)  # correlation 1: as if one metric


def test_bands_of_fewer_metrics_read_the_same_draws_from_one_shared_stream() -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    values = np.sort(rng.uniform(0, 1000, (5, 2, 3)), axis=2)  # five benefits, two years: P10, P50, P90
    column = np.array([0, 1, 1, 2, 0])  # on three metrics, two of them shared
    alone = band(values, column, 3, 0.5, 500, 11)  # the band's own draws of its seed
    shared = band(values, column, 3, 0.5, normals=standard_normals(500, 40, 11))  # a stream drawn for 40 metrics
    assert np.array_equal(alone, shared)  # the very same figures, not merely close


# --- `benefits value` on the demo, and storage on SQLite and PostgreSQL ------------------------

AS_OF = "2026-11-23"


def invoke(config: Path, database: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "--database", database, *args])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`benefits init --demo` then `benefits run` into a SQLite file."""
    folder = tmp_path_factory.mktemp("value")
    config, database = folder / "config", f"sqlite:///{folder / 'benefits.db'}"
    for args in (["init", "--demo"], ["run", "--as-of", AS_OF]):
        result = invoke(config, database, *args)
        assert result.exit_code == 0, result.output
    return config, database


@pytest.mark.slow
def test_value_json_adds_up_to_the_penny_on_the_demo(demo: tuple[Path, str]) -> None:
    result = invoke(*demo, "value", "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["currency"], report["fiscal_year_start_month"], report["discount_rate"]) == ("GBP", 4, "0.035")
    assert len(report["initiatives"]) == 10
    crm = report["initiatives"][0]
    assert (crm["initiative"], crm["investment"]) == ("crm-modernisation", "1800000.00")
    portfolio = report["portfolio"]
    assert portfolio["investment"] == "11980000.00"  # the demo's ten one-off investments
    for field in ("cash_to_date", "run_rate", "investment"):  # the exact total, within a penny a line of the rounded
        lines = sum(Decimal(i[field]) for i in report["initiatives"])
        assert abs(Decimal(portfolio[field]) - lines) <= Decimal("0.01") * 10
    bands = report["rollup"]["years"]
    assert [b["fiscal_year"] for b in bands] == [f"FY{year}" for year in range(2026, 2036)]
    assert bands[0]["p10"] == bands[0]["p50"] == bands[0]["p90"]  # FY2026 is all banked
    assert all(Decimal(b["p10"]) <= Decimal(b["p50"]) <= Decimal(b["p90"]) for b in bands)
    years = portfolio["fiscal_years"]
    assert years[1]["fiscal_year"] == "FY2027" and years[2]["realised"] is None  # FY2028 has not begun


@pytest.mark.slow
def test_value_table_and_csv_say_the_same_on_the_demo(demo: tuple[Path, str]) -> None:
    table = invoke(*demo, "value", "--as-of", AS_OF)
    assert table.exit_code == 0, table.output
    assert "Amounts in GBP: money rounded half up to the penny, once" in table.stdout
    assert "CASH TO DATE" in table.stdout and "RUN-RATE /YEAR" in table.stdout and "FY2027 FORECAST" in table.stdout
    assert "Fiscal years start on 1 April; FY2027 runs 2026-04-01 to 2027-03-31." in table.stdout
    assert "Each initiative's cash banked by its business case's horizon (P10 / P50 / P90)" in table.stdout
    chosen = invoke(*demo, "value", "--as-of", AS_OF, "--fy", "2028", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(chosen.stdout)))
    assert (
        len(rows) == 11 and {r["fiscal_year"] for r in rows} == {"FY2028"} and {r["currency"] for r in rows} == {"GBP"}
    )
    whole = json.loads(invoke(*demo, "value", "--as-of", AS_OF, "--fy", "2028", "--format", "json").stdout)
    assert rows[-1]["initiative"] == "portfolio" and rows[-1]["forecast_npv"] == whole["portfolio"]["forecast"]["npv"]
    assert rows[-1]["fy_end_cash_p50"] == whole["rollup"]["years"][0]["p50"]
    assert rows[0]["fy_end_cash_p50"] == ""  # only the portfolio's rows carry the roll-up by year end
    crm = whole["initiatives"][0]["cash_by_horizon"]
    assert (rows[0]["horizon_cash_p50"], crm["horizon"]) == (crm["p50"], "2035-03-31")
    assert Decimal(crm["p10"]) <= Decimal(crm["p50"]) <= Decimal(crm["p90"]) and rows[-1]["horizon_cash_p50"] == ""


@pytest.mark.slow
def test_status_shows_cash_apart_from_the_run_rate_on_the_demo(demo: tuple[Path, str]) -> None:
    rows = {r["benefit"]: r for r in json.loads(invoke(*demo, "status", "--as-of", AS_OF, "--format", "json").stdout)}
    opex, upsell = rows["cloud-it-opex"], rows["crm-upsell-revenue"]
    assert (opex["value_type"], upsell["value_type"]) == ("run_rate", "amount")
    assert opex["run_rate"] == f"{Decimal(str(opex['realised_value'])):.2f}"  # the annual value it always showed
    assert Decimal(opex["cash_to_date"]) < Decimal(
        opex["run_rate"]
    )  # 18 months of a ramp bank less than 1 year at full rate
    assert upsell["run_rate"] is None and upsell["cash_to_date"] == f"{Decimal(str(upsell['realised_value'])):.2f}"
    table = invoke(*demo, "status", "--as-of", AS_OF).stdout.splitlines()
    assert "CASH TO DATE" in table[0] and "RUN-RATE /YR" in table[0]
    line = next(line for line in table if line.startswith("crm-upsell-revenue"))
    assert f"{Decimal(upsell['cash_to_date']).quantize(Decimal(1)):,}" in line  # whole pounds in the table
    listed = list(csv.DictReader(io.StringIO(invoke(*demo, "status", "--as-of", AS_OF, "--format", "csv").stdout)))
    assert {r["benefit"]: r["cash_to_date"] for r in listed}["cloud-it-opex"] == opex["cash_to_date"]


def phased_register(folder: Path) -> Path:
    """The demo in EUR (so fiscal years are calendar years) with one initiative's costs phased and running."""
    path = write_register(folder, currency="EUR", discount_rate=0.05)
    data = yaml.safe_load(path.joinpath("portfolio.yaml").read_text())
    data["initiatives"][0]["investment"] = {
        "one_off": [{"amount": "1000000.10", "date": "2025-09-01"}, {"amount": 800000, "date": "2026-03-02"}],
        "running": [{"per_year": "73000", "start": "2026-01-01", "end": "2026-12-31"}],
        "horizon": "2028-12-31",
    }
    path.joinpath("portfolio.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_investment_and_settings_are_stored_and_read_back_exactly(tmp_path: Path, database_url: str) -> None:
    config = phased_register(tmp_path / "config")
    assert invoke(config, database_url, "init").exit_code == 0
    result = invoke(config, database_url, "value", "--as-of", "2026-06-30", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["currency"], report["fiscal_year_start_month"], report["discount_rate"]) == ("EUR", 1, "0.05")
    crm = report["initiatives"][0]
    # 1,000,000.10 + 800,000 + 73,000 a year for 181 days (2026-01-01 to 2026-06-30) = 36,200
    assert crm["spent_to_date"] == "1836200.10"
    assert crm["investment"] == "1873000.10" and crm["horizon"] == "2028-12-31"
    assert [y["fiscal_year"] for y in crm["fiscal_years"]] == ["FY2025", "FY2026", "FY2027", "FY2028"]
    assert [y["costs"] for y in crm["fiscal_years"]] == ["1000000.10", "873000.00", "0.00", "0.00"]
    costs = crm["planned"]["present_costs"]  # FY2025 is year 0: 1,000,000.10 + 873,000 / 1.05
    assert costs == f"{(Decimal('1000000.10') + Decimal(873000) / Decimal('1.05')).quantize(CENT)}"


SPEND_CSV = """metric,period,value,unit
ledger.crm_spend,2025-09-30,950000.05,EUR
ledger.crm_spend,2026-01-31,120000.10,EUR
ledger.crm_spend,2026-03-31,790000.25,EUR
ledger.crm_spend,2026-04-30,6100.10,EUR
"""


def test_investment_spend_is_read_from_a_ledger_metric_a_connector_delivers(tmp_path: Path, database_url: str) -> None:
    config = phased_register(tmp_path / "config")
    data = yaml.safe_load((config / "portfolio.yaml").read_text())
    data["initiatives"][0]["investment"]["metric"] = "ledger.crm_spend"
    data["metrics"].append({"name": "ledger.crm_spend", "unit": "EUR"})
    (config / "portfolio.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "spend.csv").write_text(SPEND_CSV)
    (config / "connectors.yaml").write_text(
        f"connectors:\n  - {{name: ledger, type: csv, settings: {{path: '{tmp_path / 'spend.csv'}'}}}}\n"
    )
    for args in (["init"], ["sync", "--as-of", "2026-06-30"]):
        result = invoke(config, database_url, *args)
        assert result.exit_code == 0, result.output
    result = invoke(config, database_url, "value", "--as-of", "2026-06-30", "--format", "json")
    assert result.exit_code == 0, result.output
    crm = json.loads(result.stdout)["initiatives"][0]
    # the four readings (1,866,100.50 spent up to 30 April) replace the declared costs; after them the running
    # 73,000 a year accrues: 61 days to 30 June (12,200), 245 days to 31 December (49,000)
    assert crm["spent_to_date"] == "1878300.50"
    assert crm["investment"] == "1915100.50"
    assert [y["costs"] for y in crm["fiscal_years"]] == ["950000.05", "965100.45", "0.00", "0.00"]
    assert crm["start"] == "2025-09-01"  # the first declared cost still dates the business case


def test_a_fiscal_year_outside_every_business_case_is_one_line(tmp_path: Path, sqlite_url: str) -> None:
    config = write_register(tmp_path / "config")
    assert invoke(config, sqlite_url, "init").exit_code == 0
    result = invoke(config, sqlite_url, "value", "--fy", "1990")
    assert result.exit_code == 2
    assert result.stderr == "error: --fy 1990: FY1990 is outside every initiative's business case (FY2026 to FY2035)\n"


@pytest.mark.slow
def test_value_and_status_agree_on_cash_after_a_sync(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "config"
    for args in (["init", "--demo"], ["sync", "--as-of", AS_OF]):
        result = invoke(config, database_url, *args)
        assert result.exit_code == 0, result.output
    report = json.loads(invoke(config, database_url, "value", "--as-of", AS_OF, "--format", "json").stdout)
    rows = json.loads(invoke(config, database_url, "status", "--as-of", AS_OF, "--format", "json").stdout)
    for initiative in report["initiatives"]:
        mine = [r for r in rows if r["initiative"] == initiative["initiative"]]
        cash = sum(Decimal(r["cash_to_date"]) for r in mine)  # each rounded to the penny
        rate = sum(Decimal(r["run_rate"]) for r in mine if r["run_rate"] is not None)
        assert abs(cash - Decimal(initiative["cash_to_date"])) <= Decimal("0.005") * (len(mine) + 1)
        assert abs(rate - Decimal(initiative["run_rate"])) <= Decimal("0.005") * (len(mine) + 1)
    assert Decimal(report["portfolio"]["cash_to_date"]) > 0 and report["portfolio"]["benefits_without_forecast"] == 30


# --- the kept report (benefits.value.kept) ------------------------------------------------------


def kept_rows(database: str) -> list[tuple[str, str]]:
    """The kept value reports: (as_of, options), oldest first."""
    with make_engine(database).connect() as connection:
        found = connection.execute(text("SELECT as_of, options FROM value_reports ORDER BY id"))
        return [(str(as_of), options) for as_of, options in found]


@pytest.mark.slow
def test_the_weekly_job_keeps_the_value_report_and_value_reads_it_until_the_data_changes(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    config, shared = demo
    with sqlite3.connect(shared.removeprefix("sqlite:///")) as source, sqlite3.connect(tmp_path / "copy.db") as copy:
        source.backup(copy)  # with what the write-ahead log holds
    database = f"sqlite:///{tmp_path / 'copy.db'}"
    default = "correlation=0.5;samples=4000"
    assert kept_rows(database) == [(AS_OF, default)]  # kept by `benefits run`
    with session_factory(make_engine(database))() as session:
        computed = build(session, D(2026, 11, 23), None, 0.5, 4000)
        fy2028 = build(session, D(2026, 11, 23), 2028, 0.5, 4000)
    assert decoded(encoded(computed)) == computed  # every field of its type, exactly

    # the same text as the report computed afresh, in every format and for a chosen fiscal year (CliRunner's
    # output has the csv module's line ends as plain newlines)
    def shown(*args: str) -> str:
        return invoke(config, database, "value", "--as-of", AS_OF, *args).stdout.replace("\r\n", "\n")

    for fmt, render in (("json", as_json), ("csv", as_csv), ("table", as_table)):
        assert shown("--format", fmt) == render(computed).replace("\r\n", "\n")
    assert shown("--fy", "2028", "--format", "csv") == as_csv(fy2028).replace("\r\n", "\n")
    assert kept_rows(database) == [(AS_OF, default)]  # read, not computed and kept again
    # what is read is the kept report: a mark put into it shows
    marked = encoded(dataclasses.replace(computed, portfolio=dataclasses.replace(computed.portfolio, name="kept")))
    with make_engine(database).begin() as connection:
        connection.execute(text("UPDATE value_reports SET payload = :payload"), {"payload": marked})
    assert json.loads(shown("--format", "json"))["portfolio"]["name"] == "kept"
    # other options are another report; a change of the store's data (a register save) is never served stale
    other = invoke(config, database, "value", "--as-of", AS_OF, "--correlation", "0.2", "--format", "json")
    assert json.loads(other.stdout)["rollup"]["correlation"] == 0.2
    assert invoke(config, database, "init").exit_code == 0
    assert shown("--format", "json") == as_json(computed)  # computed again: the mark is gone
    assert kept_rows(database) == [(AS_OF, default), (AS_OF, "correlation=0.2;samples=4000"), (AS_OF, default)]


def test_value_keeps_its_report_on_both_databases(tmp_path: Path, database_url: str) -> None:
    config = phased_register(tmp_path / "config")
    assert invoke(config, database_url, "init").exit_code == 0
    first = invoke(config, database_url, "value", "--as-of", "2026-06-30", "--format", "json")
    assert first.exit_code == 0, first.output
    assert kept_rows(database_url) == [("2026-06-30", "correlation=0.5;samples=4000")]
    again = invoke(config, database_url, "value", "--as-of", "2026-06-30", "--format", "json")
    assert again.stdout == first.stdout and len(kept_rows(database_url)) == 1


def test_forecast_alone_keeps_no_report_and_the_first_value_keeps_it(tmp_path: Path) -> None:
    """`benefits forecast` stays quick on a re-run: only the weekly job (`benefits run`) keeps the
    week's value report; after a forecast alone the first `benefits value` computes and keeps it."""
    database = f"sqlite:///{tmp_path / 'store.db'}"
    config = phased_register(tmp_path / "config")
    assert invoke(config, database, "init").exit_code == 0
    forecast = invoke(config, database, "forecast", "--as-of", "2026-06-30")
    assert forecast.exit_code == 0, forecast.output
    assert kept_rows(database) == []
    assert invoke(config, database, "value", "--as-of", "2026-06-30", "--format", "json").exit_code == 0
    assert kept_rows(database) == [("2026-06-30", "correlation=0.5;samples=4000")]
