"""Validation of one connector batch with real Great Expectations runs (no mocks).

GX takes seconds to import, so the cases share a few validations (module-scoped fixtures): one
clean batch, one batch holding every kind of bad row, one empty batch.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benefits.errors import BenefitsError
from benefits.validation import (
    QuarantineEntry,
    ValidationOutcome,
    default_expectations,
    validate_batch,
    validate_batch_with,
)

ROOT = Path(__file__).resolve().parents[1]
AS_OF = dt.date(2026, 11, 23)
COLUMNS = ["row", "metric", "period", "value", "unit"]
NAN = float("nan")


def batch(rows: list[tuple]) -> pd.DataFrame:
    """A batch as the sync builds it: object dtype, raw values as the connector yielded them."""
    return pd.DataFrame(rows, columns=COLUMNS, dtype=object)


@contextmanager
def no_network() -> Iterator[list]:
    """Refuse (and record) every outgoing connection while validating."""
    attempts: list = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(sock, address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f"network disabled in tests: {address}")

    socket.socket.connect = refuse  # type: ignore[method-assign]  # no network for the test's length
    socket.socket.connect_ex = refuse  # type: ignore[method-assign]  # (monkeypatch undoes both)
    try:
        yield attempts
    finally:
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex


def check_invariant(outcome: ValidationOutcome) -> None:
    assert outcome.rows_read == len(outcome.accepted) + len(outcome.quarantined)
    quarantined_rows = [q.row for q in outcome.quarantined]
    assert len(quarantined_rows) == len(set(quarantined_rows)), "a row is quarantined once"
    assert not set(quarantined_rows) & set(outcome.accepted["row"]), "a row is accepted or quarantined"
    assert outcome.success == (not outcome.quarantined)


CLEAN = batch(
    [
        (1, "ledger.it_opex", "2026-01-05", "100.5", "GBP"),
        (2, "ledger.it_opex", dt.date(2026, 1, 12), 250, "GBP"),
        (3, "crm.upsell_revenue", dt.datetime(2026, 1, 5), 1.5e3, "GBP"),
        (4, "crm.upsell_revenue", pd.Timestamp("2026-01-12"), Decimal("12.5"), "GBP"),
        (5, "hr.certified_staff", " 2026-11-23 ", " 42 ", "people"),  # as_of itself is not the future
        (6, "hr.certified_staff", "2026-11-16", "-1.5e2", "people"),
    ]
)

# Row numbers are not positions: they step by 10 so that a mix-up between the two shows.
MESSY = batch(
    [
        (10, "ledger.it_opex", "2026-01-05", "100.5", "GBP"),  # clean
        (20, None, "2026-01-19", 1, "GBP"),  # metric missing
        (30, "ledger.it_opex", None, 1, "GBP"),  # period missing
        (40, "ledger.it_opex", "2026-01-26", NAN, "GBP"),  # value not a number (NaN)
        (50, "ledger.it_opex", "2026-02-02", "abc", "GBP"),  # text in value
        (60, "hr.certified_staff", "xx", 3, "people"),  # unparseable date
        (70, "hr.certified_staff", "05/01/2026", 3, "people"),  # another date format
        (80, "hr.certified_staff", "2026-1-5", 3, "people"),  # ISO-ish but not YYYY-MM-DD
        (90, "hr.certified_staff", "2026-02-30", 3, "people"),  # no such day
        (100, "crm.upsell_revenue", "2026-03-02", 10, "GBP"),  # duplicate of row 110 ...
        (110, "crm.upsell_revenue", dt.date(2026, 3, 2), 11, "GBP"),  # ... given as a date object
        (120, "ledger.it_opex", "2027-01-04", 5, "GBP"),  # future period
        (130, "ledger.it_opex", "2027-01-11", "n/a", "GBP"),  # future period and text in value
        (140, "ledger.it_opex", "2026-03-09", "inf", "GBP"),  # inf text
        (150, "ledger.it_opex", "2026-03-16", "NaN", "GBP"),  # NaN text
        (160, "   ", "2026-03-23", 1, "GBP"),  # blank metric
        (170, "ledger.it_opex", "2026-03-30", 1, None),  # unit missing
        (180, "ledger.it_opex", dt.datetime(2026, 4, 6, 10, 30), 1, "GBP"),  # a time of day
        (190, "ledger.it_opex", "2026-04-13", "1e999", "GBP"),  # overflows to inf
        (200, "ledger.it_opex", dt.date(9999, 12, 31), 1, "GBP"),  # beyond datetime64[ns]
        (210, "ledger.it_opex", "2026-04-20", True, "GBP"),  # a bool is not a number
        (220, None, None, None, None),  # everything missing
        (230, "ledger.it_opex", dt.date(2026, 4, 27), 7, "GBP"),  # clean
        (240, "ledger.it_opex", "2026-05-04", "\u0661\u0662", "GBP"),  # non-ASCII digits
    ]
)
ACCEPTED_MESSY = [10, 230]


@pytest.fixture(scope="module")
def clean() -> ValidationOutcome:
    with no_network() as attempts:
        outcome = validate_batch(CLEAN, as_of=AS_OF)
    assert attempts == []
    return outcome


@pytest.fixture(scope="module")
def messy() -> ValidationOutcome:
    with no_network() as attempts:
        outcome = validate_batch(MESSY, as_of=AS_OF)
    assert attempts == []
    return outcome


@pytest.fixture(scope="module")
def reasons(messy: ValidationOutcome) -> dict[int, list[str]]:
    return {q.row: q.reasons for q in messy.quarantined}


# --- clean batch ------------------------------------------------------------------------------


def test_clean_batch_is_all_accepted(clean: ValidationOutcome) -> None:
    assert clean.success is True
    assert clean.quarantined == []
    assert clean.rows_read == 6
    check_invariant(clean)
    assert clean.accepted["row"].tolist() == [1, 2, 3, 4, 5, 6]
    assert clean.accepted["value"].tolist() == [100.5, 250.0, 1500.0, 12.5, 42.0, -150.0]
    assert clean.accepted["period"].tolist() == [
        dt.date(2026, 1, 5),
        dt.date(2026, 1, 12),
        dt.date(2026, 1, 5),
        dt.date(2026, 1, 12),
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 16),
    ]
    assert clean.accepted["unit"].tolist() == ["GBP"] * 4 + ["people"] * 2


def test_accepted_dtypes(clean: ValidationOutcome, messy: ValidationOutcome) -> None:
    for accepted in (clean.accepted, messy.accepted):
        assert list(accepted.columns) == ["row", "metric", "period", "value", "unit"]
        assert accepted["row"].dtype == "int64"
        assert pd.api.types.is_string_dtype(accepted["metric"])
        assert pd.api.types.is_string_dtype(accepted["unit"])
        assert accepted["value"].dtype == "float64"
        assert accepted["period"].dtype == object
        assert all(type(p) is dt.date for p in accepted["period"])
        assert all(isinstance(m, str) for m in accepted["metric"])


# --- one batch with every kind of bad row -----------------------------------------------------


def test_only_clean_rows_are_accepted(messy: ValidationOutcome) -> None:
    assert messy.success is False
    assert messy.rows_read == len(MESSY)
    assert messy.accepted["row"].tolist() == ACCEPTED_MESSY
    assert messy.accepted["value"].tolist() == [100.5, 7.0]
    assert messy.accepted["period"].tolist() == [dt.date(2026, 1, 5), dt.date(2026, 4, 27)]


def test_invariant_holds(clean: ValidationOutcome, messy: ValidationOutcome) -> None:
    check_invariant(clean)
    check_invariant(messy)
    assert sorted(q.row for q in messy.quarantined) == sorted(set(MESSY["row"]) - set(ACCEPTED_MESSY))


def test_null_metric_period_value(reasons: dict[int, list[str]]) -> None:
    assert reasons[20] == ["metric: missing"]
    assert reasons[30] == ["period: missing"]
    assert reasons[40] == ["value: not a number (NaN)"]
    assert reasons[160] == ["metric: missing"]  # blank is missing
    assert reasons[170] == ["unit: missing"]


def test_text_in_value(reasons: dict[int, list[str]]) -> None:
    assert reasons[50] == ["value: 'abc' is not a number"]
    assert reasons[140] == ["value: 'inf' is not a number"]
    assert reasons[150] == ["value: 'NaN' is not a number"]
    assert reasons[190] == ["value: '1e999' is not a finite number"]
    assert reasons[210] == ["value: True is not a number"]
    assert reasons[240] == ["value: '\u0661\u0662' is not a number"]


def test_unparseable_and_mixed_format_dates(reasons: dict[int, list[str]]) -> None:
    assert reasons[60] == ["period: 'xx' is not an ISO date (YYYY-MM-DD)"]
    assert reasons[70] == ["period: '05/01/2026' is not an ISO date (YYYY-MM-DD)"]
    assert reasons[80] == ["period: '2026-1-5' is not an ISO date (YYYY-MM-DD)"]
    assert reasons[90] == ["period: '2026-02-30' is not an ISO date (YYYY-MM-DD)"]
    assert reasons[180] == ["period: 2026-04-06T10:30:00 is not an ISO date (YYYY-MM-DD)"]


def test_duplicate_metric_period_quarantines_every_copy(reasons: dict[int, list[str]]) -> None:
    duplicate = "(metric, period): duplicate of another row in this batch"
    assert reasons[100] == [duplicate]
    assert reasons[110] == [duplicate]
    assert not any(duplicate in r for row, r in reasons.items() if row not in (100, 110))


def test_future_period(reasons: dict[int, list[str]]) -> None:
    assert reasons[120] == ["period: 2027-01-04 is in the future (after 2026-11-23)"]
    assert reasons[200] == ["period: 9999-12-31 is in the future (after 2026-11-23)"]


def test_row_failing_several_checks_has_every_reason(reasons: dict[int, list[str]]) -> None:
    assert sorted(reasons[130]) == sorted(
        ["value: 'n/a' is not a number", "period: 2027-01-11 is in the future (after 2026-11-23)"]
    )
    assert sorted(reasons[220]) == sorted(["metric: missing", "period: missing", "value: missing", "unit: missing"])


def test_quarantined_record_is_the_row_verbatim_and_json_safe(messy: ValidationOutcome) -> None:
    records = {q.row: q.record for q in messy.quarantined}
    for q in messy.quarantined:
        assert isinstance(q, QuarantineEntry)
        json.dumps(q.record, allow_nan=False)
        assert set(q.record) == {"metric", "period", "value", "unit"}
    assert records[50] == {"metric": "ledger.it_opex", "period": "2026-02-02", "value": "abc", "unit": "GBP"}
    assert records[40]["value"] == "nan"  # JSON has no NaN
    assert records[110]["period"] == "2026-03-02"  # date object -> ISO string
    assert records[180]["period"] == "2026-04-06T10:30:00"
    assert records[210]["value"] is True
    assert records[220] == {"metric": None, "period": None, "value": None, "unit": None}


def test_statistics_has_each_expectation_with_counts(messy: ValidationOutcome, clean: ValidationOutcome) -> None:
    json.dumps(messy.statistics, allow_nan=False)
    counts = {(s["expectation"], str(s["column"])): s["unexpected_count"] for s in messy.statistics.values()}
    assert counts == {
        ("expect_column_values_to_not_be_null", "metric"): 3,  # rows 20, 160, 220
        ("expect_column_values_to_not_be_null", "period"): 7,  # 30, 60, 70, 80, 90, 180, 220
        ("expect_column_values_to_not_be_null", "value_text"): 2,  # 40, 220
        ("expect_column_values_to_not_be_null", "unit"): 2,  # 170, 220
        ("expect_column_values_to_match_regex", "value_text"): 6,  # 50, 130, 140, 150, 210, 240
        ("expect_column_values_to_be_between", "value"): 1,  # 190
        ("expect_compound_columns_to_be_unique", "['metric', 'period']"): 2,  # 100, 110
        ("expect_column_values_to_be_between", "period"): 3,  # 120, 130, 200
    }
    assert all(s["success"] is False for s in messy.statistics.values())
    assert len(clean.statistics) == len(messy.statistics) == len(default_expectations(as_of=AS_OF))
    assert all(s["success"] is True and s["unexpected_count"] == 0 for s in clean.statistics.values())
    for key, entry in messy.statistics.items():
        assert set(entry) == {"expectation", "column", "severity", "success", "unexpected_count"}
        assert key.startswith(entry["expectation"])


# --- edges -------------------------------------------------------------------------------------


def test_empty_batch() -> None:
    outcome = validate_batch(batch([]), as_of=AS_OF)
    assert outcome.rows_read == 0
    assert outcome.success is True
    assert outcome.quarantined == []
    assert outcome.accepted.empty
    assert list(outcome.accepted.columns) == COLUMNS
    check_invariant(outcome)


def test_an_expectation_that_errors_fails_the_whole_batch() -> None:
    import great_expectations.expectations as gxe

    broken = gxe.ExpectColumnValuesToNotBeNull(column="no_such_column")
    with pytest.raises(BenefitsError) as raised:
        validate_batch_with(CLEAN, [*default_expectations(as_of=AS_OF), broken])
    message = str(raised.value)
    assert "\n" not in message
    assert "expect_column_values_to_not_be_null on no_such_column" in message


def test_an_expectation_failing_without_rows_fails_the_whole_batch() -> None:
    import great_expectations.expectations as gxe

    with pytest.raises(BenefitsError, match="expect_table_row_count_to_be_between on batch"):
        validate_batch_with(CLEAN, [gxe.ExpectTableRowCountToBeBetween(min_value=100)])


def test_added_expectation_gets_its_reason_from_the_table_or_its_meta() -> None:
    import great_expectations.expectations as gxe

    extra = [
        gxe.ExpectColumnValuesToBeInSet(column="unit", value_set=["GBP"]),
        gxe.ExpectColumnValuesToMatchRegex(
            column="metric", regex=r"^[a-z]+\.[a-z_]+$", meta={"reason": "{field}: {raw} is not a metric name"}
        ),
    ]
    rows = batch([(1, "ledger.it_opex", "2026-01-05", 1, "GBP"), (2, "Bad Name", "2026-01-05", 2, "people")])
    expectations = [*default_expectations(as_of=AS_OF), *extra]
    for _ in range(2):  # the same expectation objects can serve two validations
        outcome = validate_batch_with(rows, expectations)
        check_invariant(outcome)
        assert outcome.accepted["row"].tolist() == [1]
        assert outcome.quarantined[0].reasons == [
            "unit: 'people' is not one of ['GBP']",
            "metric: 'Bad Name' is not a metric name",
        ]
        assert len(outcome.statistics) == len(expectations)


def test_batch_without_unique_row_numbers_or_columns_is_refused() -> None:
    with pytest.raises(BenefitsError, match="row"):
        validate_batch(batch([(1, "m.a", "2026-01-05", 1, "GBP"), (1, "m.b", "2026-01-05", 1, "GBP")]), as_of=AS_OF)
    with pytest.raises(BenefitsError, match="missing column"):
        validate_batch(batch([(1, "m.a", "2026-01-05", 1, "GBP")]).drop(columns="unit"), as_of=AS_OF)


def test_importing_the_module_does_not_import_great_expectations() -> None:
    code = "import sys, benefits.validation; sys.exit('great_expectations' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_a_number_too_long_for_python_int_is_judged_by_its_value_not_dropped_as_missing() -> None:
    # Over 4,300 digits int() refuses the text, and pandas read it as NaN, which the finite-number check skips.
    huge, zeros = "9" * 4400, "0" * 4400 + "5"
    rows = batch(
        [
            (1, "ledger.it_opex", "2026-01-05", "900", "GBP"),
            (2, "ledger.it_opex", "2026-01-12", huge, "GBP"),
            (3, "ledger.it_opex", "2026-01-19", "-" + huge, "GBP"),
            (4, "ledger.it_opex", "2026-01-26", zeros, "GBP"),  # leading zeros: it is 5
            (5, "crm.upsell_revenue", "2026-01-05", "10", "GBP"),
        ]
    )
    outcome = validate_batch(rows, as_of=AS_OF)
    check_invariant(outcome)
    assert outcome.accepted["row"].tolist() == [1, 4, 5]
    assert outcome.accepted["value"].tolist() == [900.0, 5.0, 10.0]
    assert (
        {q.row: q.reasons for q in outcome.quarantined}
        == {
            2: [f"value: '{huge[:40]}…' is not a finite number"],  # the reason repeats its first 40 characters
            3: [f"value: '-{huge[:39]}…' is not a finite number"],
        }
    )


def test_a_nan_value_is_said_to_be_not_a_number_and_a_missing_one_missing() -> None:
    """A connector's float NaN as a value (PostgreSQL's 'NaN', JSON's NaN, 0/0 in a source's formula) was
    quarantined as 'value: missing', sending people to look for an empty field. Now it says it is not a number,
    and its record keeps it as 'nan' (JSON has no NaN), so a retry says the same; None and a blank are
    missing as before. A NaN metric, period or unit (pandas' blank cell) is missing as before."""
    rows = batch(
        [
            (1, "ledger.it_opex", "2026-01-05", NAN, "GBP"),
            (2, "ledger.it_opex", "2026-01-12", np.float64("nan"), "GBP"),
            (3, "ledger.it_opex", "2026-01-19", None, "GBP"),
            (4, "ledger.it_opex", "2026-01-26", "  ", "GBP"),
            (5, NAN, "2026-02-02", 1, NAN),
        ]
    )
    outcome = validate_batch(rows, as_of=AS_OF)
    check_invariant(outcome)
    assert {q.row: q.reasons for q in outcome.quarantined} == {
        1: ["value: not a number (NaN)"],
        2: ["value: not a number (NaN)"],
        3: ["value: missing"],
        4: ["value: missing"],
        5: ["metric: missing", "unit: missing"],
    }
    records = {q.row: q.record for q in outcome.quarantined}
    assert records[1]["value"] == records[2]["value"] == "nan" and records[3]["value"] is None
    retried = validate_batch(batch([(1, *records[1].values())]), as_of=AS_OF)
    assert retried.quarantined[0].reasons == ["value: 'nan' is not a number"]
