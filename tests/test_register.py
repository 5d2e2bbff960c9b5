"""The register: the demo portfolio loads, and every bad file gives one line naming file and field."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from benefits.cli import main
from benefits.errors import SHOWN_PROBLEMS, ConfigError
from benefits.register import Category, Tactic, load_register

from .conftest import DEMO_CONFIG


def test_demo_portfolio_covers_programmes_tactics_and_categories() -> None:
    register = load_register(DEMO_CONFIG)
    benefits = [b for _, b in register.benefits()]
    assert len(register.programmes) >= 3
    assert len(register.initiatives) >= 10
    assert len(benefits) >= 30
    assert {i.tactic for i in register.initiatives} == set(Tactic)
    assert set(Counter(b.category for b in benefits)) == set(Category)
    assert any(b.dis_benefit for b in benefits)
    assert any(b.starts_after for b in benefits)
    assert {b.measure.value for b in benefits} == {"cumulative", "level"}
    assert {"linear", "s_curve"} <= {b.profile for b in benefits if isinstance(b.profile, str)}
    assert any(not isinstance(b.profile, str) for b in benefits)
    assert [m.name for m in register.unused_metrics()] == ["hr.headcount"]


def _broken(tmp_path: Path, edit: Callable[[dict[str, Any]], object]) -> Path:
    data = yaml.safe_load((DEMO_CONFIG / "portfolio.yaml").read_text())
    edit(data)
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "portfolio.yaml").write_text(yaml.safe_dump(data))
    return folder


def _set_target_date_before_baseline(data: dict) -> None:
    data["initiatives"][3]["benefits"][0]["target"]["date"] = "2020-01-06"


CASES = [
    (
        _set_target_date_before_baseline,
        "initiatives[3].benefits[0] (ai-first-contact-resolution): target.date:"
        " must be after the baseline date 2026-01-05 (got '2020-01-06')",
    ),
    (
        lambda d: d["initiatives"][0].update(programme="nope"),
        "initiatives[0] (crm-modernisation): programme: unknown programme 'nope'",
    ),
    (
        lambda d: d["initiatives"][1].update(tactic="synergy"),
        "initiatives[1] (pricing-analytics): tactic: input should be",
    ),
    (
        lambda d: d["initiatives"][2]["benefits"][1].pop("metric"),
        "initiatives[2].benefits[1] (digital-app-revenue): metric: field required",
    ),
    (
        lambda d: d["initiatives"][0]["benefits"][2]["target"].update(value=20),
        "initiatives[0].benefits[2] (crm-handling-time): target.value: must be below the baseline value 12.5"
        " for direction decrease (got '20')",
    ),
    (
        lambda d: d["initiatives"][0]["benefits"][0].update(starts_after="launch"),
        "initiatives[0].benefits[0] (crm-upsell-revenue): starts_after: unknown milestone 'launch'",
    ),
    (
        lambda d: d["initiatives"][0]["benefits"][1].update(attribution=1.5),
        "initiatives[0].benefits[1] (crm-win-rate): attribution: input should be less than or equal to 1 (got '1.5')",
    ),
    (
        lambda d: d["initiatives"][4]["benefits"][0].update(key="crm-win-rate"),
        "initiatives[4].benefits[0] (crm-win-rate): key: duplicate benefit key 'crm-win-rate'",
    ),
    (
        lambda d: d["initiatives"][1]["benefits"][0]["profile"]["points"][0].update(date="2030-01-07"),
        "initiatives[1].benefits[0] (pricing-margin-uplift): profile.points[0].date: must lie between the baseline and"
        " target dates (got '2030-01-07')",
    ),
    (
        lambda d: d["metrics"].append({"name": "hr.headcount", "unit": "FTE"}),
        "metrics[1] (hr.headcount): name: duplicate metric 'hr.headcount'",
    ),
    (
        lambda d: d["metrics"].append({"name": "crm.upsell_revenue", "unit": "EUR"}),
        "initiatives[0].benefits[0] (crm-upsell-revenue): unit: 'GBP' differs from 'EUR',"
        " the unit of crm.upsell_revenue in metrics[1]",
    ),
    (
        lambda d: d["metrics"].append({"name": "ops.queue", "unit": "calls", "bounds": {"min": 5, "max": 1}}),
        "metrics[1] (ops.queue): bounds.max: must be greater than bounds.min (5) (got '1')",
    ),
    (lambda d: d["metrics"].append({"name": "ops.queue"}), "metrics[1] (ops.queue): unit: field required"),
]


@pytest.mark.parametrize(("edit", "expected"), CASES)
def test_bad_register_names_file_and_field(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], expected: str
) -> None:
    folder = _broken(tmp_path, edit)
    with pytest.raises(ConfigError) as caught:
        load_register(folder)
    first = str(caught.value).splitlines()[0]
    assert first.startswith(f"{folder / 'portfolio.yaml'}: {expected}")


def test_cli_reports_bad_register_in_one_line_with_exit_code_2(tmp_path: Path) -> None:
    folder = _broken(tmp_path, _set_target_date_before_baseline)
    result = CliRunner().invoke(main, ["--config", str(folder), "--database", f"sqlite:///{tmp_path}/b.db", "init"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {folder}/portfolio.yaml: initiatives[3].benefits[0] (ai-first-contact-resolution): target.date:"
        " must be after the baseline date 2026-01-05 (got '2020-01-06')\n"
    )
    assert "Traceback" not in result.output


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    (tmp_path / "portfolio.yaml").write_text("name: x\nprogrammes: [\n  - key: a\n")
    with pytest.raises(ConfigError, match=r"portfolio.yaml: line \d+, column \d+: invalid YAML"):
        load_register(tmp_path)


def test_missing_register_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"portfolio.yaml: file not found \(run `benefits init --demo`"):
        load_register(tmp_path)


def test_every_problem_is_listed_one_a_line_with_its_benefit_key_and_value(tmp_path: Path) -> None:
    def three_problems(data: dict[str, Any]) -> None:
        data["initiatives"][0]["benefits"][1]["category"] = "growth"  # a structure problem (pydantic)
        data["initiatives"][0]["benefits"][2]["target"]["value"] = 20  # a rule across fields, same pass
        data["initiatives"][1]["benefits"][0]["owner"] = ""

    folder = _broken(tmp_path, three_problems)
    with pytest.raises(ConfigError) as caught:
        load_register(folder)
    lines = str(caught.value).splitlines()
    path = folder / "portfolio.yaml"
    assert len(lines) == 3
    assert lines[0].startswith(f"{path}: initiatives[0].benefits[1] (crm-win-rate): category: input should be")
    assert lines[0].endswith("(got 'growth')")
    assert lines[1].startswith(f"{path}: initiatives[1].benefits[0] (pricing-margin-uplift): owner: string should")
    assert lines[2] == (
        f"{path}: initiatives[0].benefits[2] (crm-handling-time): target.value: must be below the baseline value 12.5"
        " for direction decrease (got '20')"
    )


def test_cli_prefixes_every_problem_line_with_error(tmp_path: Path) -> None:
    def two_problems(data: dict[str, Any]) -> None:
        data["initiatives"][0]["programme"] = "nope"
        data["initiatives"][1]["programme"] = "nada"

    folder = _broken(tmp_path, two_problems)
    result = CliRunner().invoke(main, ["--config", str(folder), "--database", f"sqlite:///{tmp_path}/b.db", "init"])
    assert result.exit_code == 2
    prefixes = [line.split(": initiatives")[0] for line in result.stderr.splitlines()]
    assert prefixes == [f"error: {folder}/portfolio.yaml"] * 2


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("28/06/2027", "dates are written YYYY-MM-DD: did you mean 2027-06-28? (got '28/06/2027')"),
        ("06/28/2027", "dates are written YYYY-MM-DD: did you mean 2027-06-28? (got '06/28/2027')"),
        ("01/04/2027", "dates are written YYYY-MM-DD: 2027-04-01 (day first) or 2027-01-04 (month first)?"),
        ("next spring", "dates are written YYYY-MM-DD, e.g. 2026-04-01 (got 'next spring')"),
    ],
)
def test_a_date_in_another_form_is_explained(tmp_path: Path, written: str, hint: str) -> None:
    folder = _broken(tmp_path, lambda d: d["initiatives"][0]["benefits"][1]["target"].update(date=written))
    with pytest.raises(ConfigError) as caught:
        load_register(folder)
    assert str(caught.value).startswith(
        f"{folder / 'portfolio.yaml'}: initiatives[0].benefits[1] (crm-win-rate): target.date: {hint}"
    )


def _benefit(data: dict[str, Any]) -> dict[str, Any]:
    """The demo's benefit ``crm-win-rate`` (initiatives[0].benefits[1]), to edit."""
    benefit: dict[str, Any] = data["initiatives"][0]["benefits"][1]
    return benefit


WHERE = "initiatives[0].benefits[1] (crm-win-rate)"
NOT_FINITE = "must be a finite number, with at most 16 digits before the decimal point"


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: _benefit(d)["target"].update(value=float("nan")), f"target.value: {NOT_FINITE} (got 'nan')"),
        (lambda d: _benefit(d)["baseline"].update(value=float("nan")), f"baseline.value: {NOT_FINITE} (got 'nan')"),
        (lambda d: _benefit(d)["target"].update(value=float("inf")), f"target.value: {NOT_FINITE} (got 'inf')"),
        (lambda d: _benefit(d)["target"].update(value="1e400"), f"target.value: {NOT_FINITE} (got '1e400')"),
        (lambda d: _benefit(d).update(value_per_unit=float("inf")), f"value_per_unit: {NOT_FINITE} (got 'inf')"),
        (
            lambda d: _benefit(d).update(value_per_unit=1e300),
            "value_per_unit: must have at most 16 digits before the decimal point (got '1e+300')",
        ),
        (lambda d: _benefit(d).update(bounds={"min": float("nan")}), f"bounds.min: {NOT_FINITE} (got 'nan')"),
        (lambda d: _benefit(d).update(bounds={"max": float("-inf")}), f"bounds.max: {NOT_FINITE} (got '-inf')"),
        (lambda d: _benefit(d).update(stale_tolerance=float("inf")), f"stale_tolerance: {NOT_FINITE} (got 'inf')"),
        (
            lambda d: _benefit(d).update(value_per_unit=2e15),
            "target.value: is worth 1.6e+16 in money at value_per_unit 2e+15:"
            " money has at most 16 digits before the decimal point (got '30')",
        ),
    ],
)
def test_a_number_that_is_not_finite_or_too_large_for_money_names_its_field(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], expected: str
) -> None:
    folder = _broken(tmp_path, edit)
    with pytest.raises(ConfigError) as caught:
        load_register(folder)
    assert f"{folder / 'portfolio.yaml'}: {WHERE}: {expected}" in str(caught.value).splitlines()


INVESTMENT = "initiatives[0] (crm-modernisation): investment.one_off[0].amount"
HUGE = "1" + "0" * 39 + "…"  # the first 40 characters of a 300-digit number, and an ellipsis


@pytest.mark.parametrize(
    ("investment", "expected"),
    [
        ("1e300", f"{HUGE} is out of range: at most 16 digits before the decimal point (got '1e300')"),
        (1e300, f"{HUGE} is out of range: at most 16 digits before the decimal point (got '1e+300')"),
        ("9" * 400, f"{'9' * 40}… is out of range: at most 16 digits before the decimal point (got '{'9' * 40}…')"),
        ("9" * 400 + "x", f"'{'9' * 40}…' is not an amount of money"),
    ],
)
def test_a_huge_investment_is_refused_and_its_number_is_shortened_in_the_message(
    tmp_path: Path, investment: object, expected: str
) -> None:
    """``investment: 1e300`` was repeated as a 300-digit number, and ``investment: 1.0e+300`` was accepted."""
    folder = _broken(tmp_path, lambda d: d["initiatives"][0].update(investment=investment))
    with pytest.raises(ConfigError) as caught:
        load_register(folder)
    assert str(caught.value).splitlines() == [f"{folder / 'portfolio.yaml'}: {INVESTMENT}: {expected}"]


def test_a_long_value_is_repeated_shortened(tmp_path: Path) -> None:
    folder = _broken(tmp_path, lambda d: _benefit(d).update(value_per_unit="9" * 400 + "x"))
    with pytest.raises(ConfigError) as caught:
        load_register(folder)
    assert str(caught.value).endswith(
        f"value_per_unit: input should be a valid number, unable to parse string as a number (got '{'9' * 40}…')"
    )


def test_nan_in_a_profile_point_is_refused(tmp_path: Path) -> None:
    def planned(data: dict[str, Any]) -> None:
        _benefit(data)["profile"] = {"points": [{"date": "2026-06-01", "value": float("nan")}]}

    folder = _broken(tmp_path, planned)
    with pytest.raises(ConfigError) as caught:
        load_register(folder)
    assert f"{WHERE}: profile.points[0].value: {NOT_FINITE} (got 'nan')" in str(caught.value)


def test_init_with_a_nan_target_is_one_line_with_exit_code_2_and_stores_nothing(tmp_path: Path) -> None:
    folder = _broken(tmp_path, lambda d: _benefit(d)["target"].update(value=float("nan")))
    database = tmp_path / "b.db"
    result = CliRunner().invoke(main, ["--config", str(folder), "--database", f"sqlite:///{database}", "init"])
    assert result.exit_code == 2
    assert result.stderr == f"error: {folder / 'portfolio.yaml'}: {WHERE}: target.value: {NOT_FINITE} (got 'nan')\n"


def test_a_nul_character_in_a_name_is_refused_by_field_with_exit_code_2_before_any_database(tmp_path: Path) -> None:
    """YAML's "\\0" passed the checks: SQLite stored the name with a NUL in it, and PostgreSQL refused the whole
    init with 'database error: PostgreSQL text fields cannot contain NUL (0x00) bytes', naming no file or field."""

    def nul(data: dict[str, Any]) -> None:
        data["initiatives"][0]["name"] = "CRM\x00modernisation"
        _benefit(data)["owner"] = "Tom\x00"

    folder = _broken(tmp_path, nul)
    database = tmp_path / "b.db"
    result = CliRunner().invoke(main, ["--config", str(folder), "--database", f"sqlite:///{database}", "init"])
    assert (result.exit_code, result.stdout) == (2, "")
    path = folder / "portfolio.yaml"
    assert result.stderr.splitlines() == [
        f"error: {path}: {WHERE}: owner: holds a NUL character (\\0), which no text may hold: remove it "
        "(got 'Tom\\x00')",
        f"error: {path}: initiatives[0] (crm-modernisation): name: holds a NUL character (\\0), which no text may "
        "hold: remove it (got 'CRM\\x00modernisation')",
    ]
    assert not database.exists()


@pytest.mark.parametrize("text", ["", "---\n", "# nothing yet\n"])
def test_an_empty_register_says_it_is_empty(tmp_path: Path, text: str) -> None:
    (tmp_path / "portfolio.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_register(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'portfolio.yaml'}: the file is empty: declare the portfolio"
        " (run `benefits init --demo` for an example)"
    )


def test_a_register_that_is_a_list_says_so_without_a_class_name(tmp_path: Path) -> None:
    (tmp_path / "portfolio.yaml").write_text("- name: x\n")
    with pytest.raises(ConfigError) as caught:
        load_register(tmp_path)
    assert (
        str(caught.value)
        == f"{tmp_path / 'portfolio.yaml'}: (top level): should be a mapping (key: value lines), not a list"
    )


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (20250901, "a date is written YYYY-MM-DD, not as a number: did you mean 2025-09-01? (got '20250901')"),
        (0, "a date is written YYYY-MM-DD, not as a number (got '0')"),
        (86400, "a date is written YYYY-MM-DD, not as a number (got '86400')"),
    ],
)
def test_a_date_written_as_a_number_is_not_read_as_a_timestamp(tmp_path: Path, written: int, message: str) -> None:
    folder = _broken(tmp_path, lambda d: _benefit(d)["baseline"].update(date=written))
    with pytest.raises(ConfigError) as caught:
        load_register(folder)
    assert f"{folder / 'portfolio.yaml'}: {WHERE}: baseline.date: {message}" in str(caught.value).splitlines()


def test_a_portfolio_with_thousands_of_problems_lists_the_first_and_counts_the_rest(tmp_path: Path) -> None:
    """A portfolio.yaml of 3,000 benefits each with a bad target printed 3,000 `error:` lines; now the first
    SHOWN_PROBLEMS, as `register import` lists them, then one line saying how many more; still exit 2."""

    def many_problems(data: dict[str, Any]) -> None:
        benefit = data["initiatives"][0]["benefits"][0]
        data["initiatives"][0]["benefits"] = [
            {**benefit, "key": f"b{n}", "target": {**benefit["target"], "value": "abc"}} for n in range(3_000)
        ]

    folder = _broken(tmp_path, many_problems)
    result = CliRunner().invoke(main, ["--config", str(folder), "--database", f"sqlite:///{tmp_path}/b.db", "init"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == SHOWN_PROBLEMS + 1
    assert lines[0].startswith(f"error: {folder}/portfolio.yaml: initiatives[0].benefits[0] (b0): target.value: ")
    assert lines[-2].startswith(f"error: {folder}/portfolio.yaml: initiatives[0].benefits[{SHOWN_PROBLEMS - 1}] ")
    assert lines[-1] == f"error: ... and {3_000 - SHOWN_PROBLEMS} more problems"
