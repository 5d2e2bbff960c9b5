"""Reconciliation maths, money handling and double-counting detection: pure functions, no store."""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from benefits import realisation
from benefits.claims import ClaimClass
from benefits.claims.double_counting import over_attributed
from benefits.claims.money import display, display_share, from_float, parse_money
from benefits.claims.reconciliation import EVIDENCED, PARTLY_EVIDENCED, UNEVIDENCED, evidence, reconcile
from benefits.register import DoubleCountingWarning, load_register

from .conftest import DEMO_CONFIG

SHARED = Path(__file__).parent / "data" / "claims" / "shared"


@pytest.fixture(scope="module")
def benefits() -> dict:
    register = load_register(SHARED)
    return {b.key: b for _, b in register.benefits()}


def frame(*rows: tuple[str, float]) -> pd.DataFrame:
    """Observations one per period, loaded by sync run 7 of the ``ledger`` connector."""
    return pd.DataFrame(
        [(dt.date.fromisoformat(p), v, "ledger", 7) for p, v in rows],
        columns=["period", "value", "source", "sync_run_id"],
    )


def test_level_evidence_is_the_baseline_to_period_reduction_times_price_and_share(benefits) -> None:
    benefit = benefits["shared-savings"]  # level, decrease from 1000, £52 a unit, 60% attribution
    observations = frame(("2026-02-02", 950.0), ("2026-03-02", 900.1), ("2026-04-06", 850.0))
    found = evidence(benefit, observations, dt.date(2026, 3, 31))
    assert found.improvement == Decimal("99.9")  # 1000 - 900.1, exact in Decimal
    assert found.value == Decimal("99.9") * 52 * Decimal("0.6")
    assert [(e.period, e.value, e.sync_run_id) for e in found.lines] == [(dt.date(2026, 3, 2), Decimal("900.1"), 7)]


def test_cumulative_evidence_sums_periods_after_the_baseline_exactly(benefits) -> None:
    benefit = benefits["overtime-avoided"]  # cumulative, increase, £40.5 an hour
    observations = frame(("2026-01-05", 999.0), ("2026-02-02", 0.1), ("2026-03-02", 0.2), ("2026-05-04", 50.0))
    found = evidence(benefit, observations, dt.date(2026, 4, 30))
    assert found.improvement == Decimal("0.3")  # 0.1 + 0.2 is exactly 0.3; the baseline-date row is excluded
    assert found.value == Decimal("12.15")
    assert len(found.lines) == 2


@pytest.mark.parametrize("key", ["shared-savings", "overtime-avoided", "automation-revenue"])
def test_decimal_evidence_agrees_with_the_realisation_maths(benefits, key: str) -> None:
    benefit = benefits[key]
    observations = frame(("2026-02-02", 970.25), ("2026-03-02", 940.5), ("2026-04-06", 905.75))
    at = dt.date(2026, 4, 6)
    expected = realisation.money_value(benefit, realisation.realised_to_date(benefit, observations, at))
    assert float(evidence(benefit, observations, at).value) == pytest.approx(expected, rel=1e-12)


def test_no_observations_means_no_evidence(benefits) -> None:
    found = evidence(benefits["shared-savings"], frame(("2026-06-01", 900.0)), dt.date(2026, 3, 31))
    assert (found.improvement, found.value, found.lines) == (None, Decimal(0), ())
    result = reconcile(Decimal("1000"), ClaimClass.cash_releasing, found)
    assert result.state == UNEVIDENCED and "no observations of ledger.shared_costs" in result.reason
    assert result.variance == Decimal("1000") and result.evidenced_share == 0


def test_variance_and_evidenced_share(benefits) -> None:
    found = evidence(benefits["shared-savings"], frame(("2026-03-02", 900.0)), dt.date(2026, 3, 31))
    assert found.value == Decimal("3120.0")  # 100 x 52 x 0.6
    partly = reconcile(Decimal("4000.00"), ClaimClass.cash_releasing, found)
    assert partly.state == PARTLY_EVIDENCED
    assert partly.evidenced == Decimal("3120.0") and partly.variance == Decimal("880.00")
    assert partly.evidenced_share == Decimal("0.78")
    covered = reconcile(Decimal("3000"), ClaimClass.cash_releasing, found)
    assert covered.state == EVIDENCED and covered.evidenced_share == 1 and covered.variance == Decimal("-120.0")


def test_cash_releasing_needs_a_ledger_metric(benefits) -> None:
    found = evidence(benefits["overtime-avoided"], frame(("2026-02-02", 100.0)), dt.date(2026, 3, 31))
    assert found.value == Decimal("4050.0")
    cash = reconcile(Decimal("4000"), ClaimClass.cash_releasing, found)
    assert cash.state == UNEVIDENCED and cash.evidenced == 0
    assert "ops.overtime_hours_saved is not a ledger" in cash.reason
    non_cash = reconcile(Decimal("4000"), ClaimClass.non_cash_releasing, found)
    assert non_cash.state == EVIDENCED and non_cash.evidenced == Decimal("4050.0")


def test_cash_releasing_needs_a_reduction_in_the_ledger(benefits) -> None:
    risen = evidence(benefits["shared-savings"], frame(("2026-03-02", 1010.0)), dt.date(2026, 3, 31))
    assert risen.value < 0
    result = reconcile(Decimal("500"), ClaimClass.cash_releasing, risen)
    assert result.state == UNEVIDENCED and result.evidenced == 0
    assert result.reason == "no reduction in ledger metric ledger.shared_costs by 2026-03-31"


def test_money_is_parsed_without_float_and_rounded_once_half_up() -> None:
    assert parse_money("£1,234.5650") == Decimal("1234.5650")
    assert parse_money(" 0.1 ") + parse_money("0.2") == Decimal("0.3")
    assert from_float(0.1) == Decimal("0.1")
    for bad, message in [
        ("12.34567", "more than 4 decimal places"),
        ("abc", "not an amount"),
        ("NaN", "not an amount"),
        ("", "not an amount"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_money(bad)
    assert display(Decimal("2.5"), "GBP") == "£3"  # half up, not banker's rounding
    assert display(Decimal("-1234.5"), "GBP") == "-£1,235"
    assert display(Decimal("1234.565"), "EUR", places=2) == "€1,234.57"
    assert display(Decimal("10"), "CHF") == "10 CHF" and display(None, "GBP") == "—"
    assert display_share(Decimal("0.785")) == "79%" and display_share(None) == "—"


def test_money_commas_are_read_only_as_thousands_separators() -> None:
    for text, value in [("1,000", "1000"), ("12,345.67", "12345.67"), ("-1,234,567", "-1234567"), ("£ 1,000", "1000")]:
        assert parse_money(text) == Decimal(value)
    for bad in ["1,5", "12,50", "12,34,5", "0,500", "1,234,56", "1,,000", "1000,000"]:  # 15, 1250, 12345, 500, ...
        with pytest.raises(ValueError) as refused:
            parse_money(bad)
        assert str(refused.value) == (
            f"{bad!r} is not an amount of money: a thousands separator must come between groups of three digits "
            "(1,234,567.50); write decimals with a point (12.50, not 12,50)"
        )
    with pytest.raises(ValueError, match=r"^'4,0x' is not an amount of money$"):
        parse_money("4,0x")


def test_double_counting_sums_shares_exactly() -> None:
    assert over_attributed([("a", "m", 0.6), ("b", "m", 0.4)]) == []
    assert over_attributed([("a", "m", 0.7), ("b", "m", 0.2), ("c", "m", 0.1)]) == []  # 0.9999999999999999 in float
    found = over_attributed([("a", "m", 0.6), ("b", "m", 0.6), ("c", "other", 1.0)])
    assert len(found) == 1
    assert found[0].metric == "m" and found[0].total == Decimal("1.2") and found[0].benefits == ("a", "b")
    assert found[0].message() == (
        "metric m: attribution shares add up to 120% (a 60%, b 60%); the same saving may be counted twice"
    )


def over_attributed_register(tmp_path: Path) -> Path:
    """The shared test register with the automation share raised to 50%: 110% of ledger.shared_costs."""
    text = (SHARED / "portfolio.yaml").read_text().replace("attribution: 0.4", "attribution: 0.5")
    (tmp_path / "portfolio.yaml").write_text(text)
    return tmp_path


def test_loading_an_over_attributed_register_warns(tmp_path: Path) -> None:
    with pytest.warns(
        DoubleCountingWarning,
        match=r"ledger.shared_costs: attribution shares add up to 110% "
        r"\(shared-savings 60%, automation-savings 50%\)",
    ):
        register = load_register(over_attributed_register(tmp_path))
    assert len(register.initiatives) == 2


@pytest.mark.parametrize("folder", [SHARED, DEMO_CONFIG])
def test_registers_within_100_percent_load_silently(folder: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DoubleCountingWarning)
        load_register(folder)
