"""The register-derived checks (known metric, unit, bounds, window, jump), validation.yaml and the
``register_expectations`` hook, with real Great Expectations runs against the demo register."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from benefits.errors import BenefitsWarning, ConfigError
from benefits.plugins import hookimpl
from benefits.plugins.manager import plugin_manager
from benefits.register import Register, load_register
from benefits.validation import (
    ValidationConfig,
    ValidationOutcome,
    ValidationRules,
    batch_frame,
    default_expectations,
    load_rules,
    load_validation_config,
    validate_batch,
)

from .conftest import DEMO_CONFIG

AS_OF = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def register() -> Register:
    return load_register(DEMO_CONFIG)


@pytest.fixture(scope="module")
def rules(register: Register) -> ValidationRules:
    return ValidationRules.from_register(register, load_validation_config(DEMO_CONFIG))


def rec(metric: str, period: str, value: object, unit: str, **more: object) -> dict[str, object]:
    return {"metric": metric, "period": period, "value": value, "unit": unit, **more}


# Rows 1-10 are clean weekly values (the series the jump check judges); the rest break one rule each.
SERIES = [
    rec("ops.cost_per_order", (dt.date(2026, 1, 5) + dt.timedelta(weeks=w)).isoformat(), 14.0 - w / 100, "GBP")
    for w in range(10)
]
BROKEN = [
    rec("ledger.no_such_metric", "2026-03-02", 5, "GBP", source_ref="x.csv:12"),  # 11: unknown metric
    rec("hr.certified_staff", "2026-03-02", 130, "headcount"),  # 12: wrong unit
    rec("hr.attrition_pct", "2026-03-02", 140, "%"),  # 13: above the register's bound (max 100)
    rec("ledger.it_opex_weekly", "2026-03-02", -5, "GBP"),  # 14: a negative cost (validation.yaml: min 0)
    rec("hr.certified_staff", "2026-03-09", -1, "people"),  # 15: below the unit's bound (people >= 0)
    rec("crm.upsell_revenue", "2026-03-02", 2e12, "GBP"),  # 16: above the default bound (1e12)
    rec("hr.engagement_score", "2023-06-05", 64, "points"),  # 17: long before the baseline (2025-06-02)
    rec("hr.engagement_score", "2024-06-03", 64, "points"),  # 18: within the window (366 days)
]


@pytest.fixture(scope="module")
def outcome(rules: ValidationRules) -> ValidationOutcome:
    return validate_batch(batch_frame(SERIES + BROKEN), as_of=AS_OF, rules=rules)


@pytest.fixture(scope="module")
def reasons(outcome: ValidationOutcome) -> dict[int, list[str]]:
    return {q.row: q.reasons for q in outcome.quarantined}


def test_clean_rows_pass_every_rule(outcome: ValidationOutcome) -> None:
    assert outcome.accepted["row"].tolist() == [*range(1, 11), 18]
    assert outcome.rows_read == len(outcome.accepted) + len(outcome.quarantined)


def test_metric_must_be_known_to_the_register(reasons: dict[int, list[str]], outcome: ValidationOutcome) -> None:
    assert reasons[11] == [
        "metric: 'ledger.no_such_metric' is not a metric of the register"
        " (no benefit measures it and portfolio.yaml's metrics: does not declare it)"
    ]
    record = next(q.record for q in outcome.quarantined if q.row == 11)
    assert record["source_ref"] == "x.csv:12"


def test_unit_must_be_the_declared_unit(reasons: dict[int, list[str]]) -> None:
    assert reasons[12] == ["unit: 'headcount' is not 'people', the unit of hr.certified_staff"]


def test_a_long_value_in_a_reason_from_the_typed_row_is_shortened(rules: ValidationRules) -> None:
    """A value a reason repeats through ``{at.<column>}`` (the unit check's ``'{at.unit}'``) was repeated whole:
    a 5,000-character unit made a 5,000-character reason. It is shortened like ``{raw}``: its first 40
    characters and an ellipsis; a hint made by the framework (``{at.metric_hint}``) is kept whole."""
    batch = batch_frame(
        [
            rec("hr.certified_staff", "2026-03-02", 130, "x" * 5000),
            rec("HR.Certified_Staff", "2026-03-09", 130, "people"),
        ]
    )
    outcome = validate_batch(batch, as_of=AS_OF, rules=rules)
    reasons = {q.row: q.reasons for q in outcome.quarantined}
    assert reasons[1] == [f"unit: '{'x' * 40}…' is not 'people', the unit of hr.certified_staff"]
    assert reasons[2] == [
        "metric: 'HR.Certified_Staff' is not a metric of the register"
        " (no benefit measures it and portfolio.yaml's metrics: does not declare it)"
        ": the register has 'hr.certified_staff' (a metric's name must match exactly, case included)"
    ]
    assert outcome.quarantined[0].record["unit"] == "x" * 5000


def test_bounds_come_from_metric_register_unit_then_default(reasons: dict[int, list[str]]) -> None:
    assert reasons[13] == ["value: 140 is above 100, the maximum for hr.attrition_pct"]
    assert reasons[14] == ["value: -5 is below 0, the minimum for ledger.it_opex_weekly"]
    assert reasons[15] == ["value: -1 is below 0, the minimum for hr.certified_staff"]
    assert reasons[16] == ["value: 2000000000000 is above 1000000000000, the maximum for crm.upsell_revenue"]


def test_period_long_before_the_baseline_is_rejected(reasons: dict[int, list[str]]) -> None:
    assert reasons[17] == [
        "period: 2023-06-05 is before 2024-06-01, 366 days before the baseline of hr.engagement_score"
    ]
    assert 18 not in reasons


def test_statistics_list_every_rule_with_its_severity(outcome: ValidationOutcome, rules: ValidationRules) -> None:
    assert len(outcome.statistics) == len(default_expectations(as_of=AS_OF, rules=rules))
    by_key = {k: (v["severity"], v["unexpected_count"]) for k, v in outcome.statistics.items()}
    assert by_key["expect_column_values_to_be_in_set(metric)"] == ("critical", 1)
    assert by_key["expect_column_pair_values_to_be_equal(unit, declared_unit)"] == ("critical", 1)
    assert by_key["expect_column_pair_values_a_to_be_greater_than_b(value, min_value)"] == ("critical", 2)
    assert by_key["expect_column_pair_values_a_to_be_greater_than_b(max_value, value)"] == ("critical", 2)
    assert by_key["expect_column_pair_values_a_to_be_greater_than_b(period, earliest_period)"] == ("critical", 1)
    assert by_key["expect_column_values_to_be_between(jump_score)"] == ("warning", 0)


def test_a_jump_is_a_warning_and_the_row_is_accepted(rules: ValidationRules) -> None:
    values = [50.0 + (w % 2) for w in range(12)]
    values[9] = 95.0  # a step far outside the usual week-on-week change
    rows = [
        rec("hr.attrition_pct", (dt.date(2026, 1, 5) + dt.timedelta(weeks=w)).isoformat(), v, "%")
        for w, v in enumerate(values)
    ]
    outcome = validate_batch(batch_frame(rows), as_of=AS_OF, rules=rules)
    assert outcome.success and len(outcome.accepted) == 12
    assert [(w.row, w.reasons) for w in outcome.warnings] == [
        (10, ["value: 95 changes by 45 since 2026-03-02 (50), far outside the usual change of hr.attrition_pct"]),
        (11, ["value: 50 changes by -45 since 2026-03-09 (95), far outside the usual change of hr.attrition_pct"]),
    ]
    assert outcome.warnings[0].record == {
        "metric": "hr.attrition_pct",
        "period": "2026-03-09",
        "value": 95.0,
        "unit": "%",
    }


def test_a_short_series_is_not_judged_for_jumps(rules: ValidationRules) -> None:
    rows = [rec("hr.attrition_pct", "2026-01-05", 10, "%"), rec("hr.attrition_pct", "2026-01-12", 90, "%")]
    assert validate_batch(batch_frame(rows), as_of=AS_OF, rules=rules).warnings == []


def test_the_demo_register_passes_its_own_rules(register: Register, rules: ValidationRules) -> None:
    """Every benefit's baseline, as an observation of its metric, passes every register rule."""
    rows = [rec(b.metric, b.baseline.date.isoformat(), b.baseline.value, b.unit) for _, b in register.benefits()]
    rows = list({(r["metric"], r["period"]): r for r in rows}.values())
    outcome = validate_batch(batch_frame(rows), as_of=AS_OF, rules=rules)
    assert outcome.quarantined == []


def test_validation_config_errors_name_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "validation.yaml").write_text("bounds:\n  units:\n    '%': {min: 100, max: 0}\n")
    with pytest.raises(ConfigError) as raised:
        load_validation_config(tmp_path)
    assert str(raised.value) == f"{tmp_path / 'validation.yaml'}: bounds.units.%: min 100 is above max 0"
    (tmp_path / "validation.yaml").write_text("window_before_baseline_days: -1\n")
    with pytest.raises(ConfigError, match=r"validation.yaml: window_before_baseline_days: input should be greater"):
        load_validation_config(tmp_path)
    (tmp_path / "validation.yaml").write_text("jump: {max_scor: 3}\n")
    with pytest.raises(ConfigError, match=r"validation.yaml: jump.max_scor: extra inputs are not permitted"):
        load_validation_config(tmp_path)
    (tmp_path / "validation.yaml").unlink()
    assert load_validation_config(tmp_path) == ValidationConfig()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("jump: {max_score: .inf}", "jump.max_score: input should be a finite number"),
        ("jump: {max_score: .nan}", "jump.max_score: input should be a finite number"),
        ("bounds: {units: {'%': {min: .nan, max: 100}}}", "bounds.units.%.min: input should be a finite number"),
        ("bounds: {metrics: {ops.queue: {max: .inf}}}", "bounds.metrics.ops.queue.max: input should be a finite"),
        ("bounds: {default: {min: -1e400}}", "bounds.default.min: input should be a finite number"),
        ("bounds: {default: {max: 1e300}}", "bounds.default.max: must have at most 16 digits before the decimal point"),
        ("window_before_baseline_days: 99999999999999999999", "window_before_baseline_days: input should be less"),
        ("jump: {min_changes: 99999999999999999999}", "jump.min_changes: input should be less than or equal"),
    ],
)
def test_a_number_of_validation_yaml_that_cannot_be_used_is_named_in_one_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    """.nan and .inf were accepted (a NaN bound checks nothing); a huge window overflowed the sync with a traceback."""
    (tmp_path / "validation.yaml").write_text(text + "\n")
    with pytest.raises(ConfigError) as raised:
        load_validation_config(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / 'validation.yaml'}: {problem}")
    assert "\n" not in str(raised.value)


@pytest.fixture
def whole_people_plugin() -> Iterator[None]:
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    def register_expectations(register: Register) -> list[object]:
        return [
            gxe.ExpectColumnValuesToMatchRegex(
                column="value_text",
                regex=r"^[0-9]+$",
                row_condition=Column("unit") == "people",
                meta={"reason": "value: {raw} is not a whole number of people"},
            )
        ]

    plugin_manager().register(SimpleNamespace(register_expectations=hookimpl(register_expectations)), name="people")
    yield
    plugin_manager().unregister(name="people")


def test_hook_register_expectations(register: Register, whole_people_plugin: None) -> None:
    rules = load_rules(DEMO_CONFIG, register)
    rows = [
        rec("hr.certified_staff", "2026-03-02", "130", "people"),
        rec("hr.certified_staff", "2026-03-09", "130.5", "people"),
        rec("hr.attrition_pct", "2026-03-09", "13.5", "%"),
    ]
    outcome = validate_batch(batch_frame(rows), as_of=AS_OF, rules=rules)
    assert {q.row: q.reasons for q in outcome.quarantined} == {2: ["value: '130.5' is not a whole number of people"]}
    assert "expect_column_values_to_match_regex(value_text)#2" in outcome.statistics


def test_bounds_of_a_metric_the_register_does_not_know_warn_naming_it(
    demo_config: Path, tmp_path: Path, register: Register
) -> None:
    """A misspelt metric in validation.yaml's bounds (crm.win_rate_pc for crm.win_rate_pct) was ignored without a
    word: the bound the user wrote never checked a row. Now every sync (and retry) warns naming the file and the
    name; the sync still runs."""
    (demo_config / "validation.yaml").write_text(
        "bounds:\n  metrics:\n    crm.win_rate_pc: {max: 50}\n    crm.win_rate_pct: {max: 60}\n"
    )
    said = (
        f"{demo_config / 'validation.yaml'}: bounds.metrics: 'crm.win_rate_pc' is not a metric of the register (no "
        "benefit measures it and portfolio.yaml's metrics: does not declare it), so its bounds check nothing: "
        "correct the name or remove them"
    )
    with pytest.warns(BenefitsWarning) as warned:
        load_rules(demo_config, register)
    assert [str(w.message) for w in warned] == [said]
    from click.testing import CliRunner

    from benefits.cli import main

    args = ["--config", str(demo_config), "--database", f"sqlite:///{tmp_path / 'b.db'}"]
    assert CliRunner().invoke(main, [*args, "init"]).exit_code == 0
    synced = CliRunner().invoke(main, [*args, "sync", "--as-of", "2026-11-23"])
    assert synced.exit_code == 0 and synced.stderr == f"warning: {said}\n", synced.output
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_rules(DEMO_CONFIG, register)  # the demo's bounds name only metrics of its register


def _failing_expectations(register: Register) -> list[object]:
    raise RuntimeError("rules service unreachable")


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (_failing_expectations, "register_expectations() raised RuntimeError: rules service unreachable"),
        (lambda register: ["value > 0"], "register_expectations() returned ['value > 0'], not a list of Great "),
        (lambda register: "value > 0", "register_expectations() returned 'value > 0', not a list of Great "),
    ],
)
def test_a_plugin_whose_register_expectations_fails_stops_the_sync_in_one_line_naming_it(
    demo_config: Path, tmp_path: Path, answer: object, said: str
) -> None:
    """A plugin whose register_expectations raised ended `sync` and `quarantine retry` in a traceback; one that
    answered text failed every connector with "AttributeError: 'str' object has no attribute 'copy'" (and `retry`
    in a traceback). Its checks cannot be left out, so nothing syncs: one line naming the plugin, exit 2."""
    from click.testing import CliRunner

    from benefits.cli import main

    url = f"sqlite:///{tmp_path / 'b.db'}"
    args = ["--config", str(demo_config), "--database", url]
    assert CliRunner().invoke(main, [*args, "init"]).exit_code == 0
    assert "quarantined" in CliRunner().invoke(main, [*args, "sync", "--as-of", "2026-11-23"]).stdout  # rows held
    runs = CliRunner().invoke(main, [*args, "quarantine", "list", "--format", "json"]).stdout
    plugin_manager().register(SimpleNamespace(register_expectations=hookimpl(answer)), name="vendor-rules")
    try:
        for command in (["sync", "--as-of", "2026-11-23"], ["quarantine", "retry", "--all"]):
            result = CliRunner().invoke(main, [*args, *command])
            assert (result.exit_code, result.stdout) == (2, ""), result.output
            assert result.stderr.startswith(f"error: plugin vendor-rules: {said}") and result.stderr.count("\n") == 1
            assert result.stderr.endswith(": fix or uninstall it, or leave it out with BENEFITS_LOAD_PLUGINS\n")
    finally:
        plugin_manager().unregister(name="vendor-rules")
    assert CliRunner().invoke(main, [*args, "quarantine", "list", "--format", "json"]).stdout == runs  # still held


def test_batch_frame_keeps_every_key_and_numbers_rows() -> None:
    frame = batch_frame(
        [rec("m", "2026-01-05", 1, "GBP", source_ref="a.csv:2"), {"metric": "m", "note": "x"}], first_row=7
    )
    assert frame["row"].tolist() == [7, 8]
    assert list(frame.columns) == ["row", "metric", "period", "value", "unit", "source_ref", "note"]
    assert frame["note"].tolist() == [None, "x"]
    assert pd.isna(frame["period"].iloc[1]) and frame["source_ref"].iloc[1] is None
