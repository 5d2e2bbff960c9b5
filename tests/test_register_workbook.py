"""The register in and out of Excel: template, import (xlsx and CSV, every problem at once), export round trip."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner, Result

from benefits.cli import main
from benefits.errors import SHOWN_PROBLEMS
from benefits.register import load_register
from benefits.register_io.dates import parse_date
from benefits.register_io.layout import BENEFITS, SHEETS

ROWS = [  # two benefits of one initiative, then an initiative without benefits yet
    {
        "Programme": "growth", "Initiative": "crm", "Initiative name": "CRM modernisation",
        "Tactic": "Customer experience", "Initiative owner": "Priya Shah", "Investment": 1800000,
        "Benefit key": "crm-win-rate", "Benefit name": "Opportunity win rate", "Category": "Revenue",
        "Metric": "crm.win_rate_pct", "Unit": "%", "Direction": "Increase", "Measure": "level",
        "Baseline value": 22, "Baseline date": dt.datetime(2025, 9, 1), "Target value": 30,
        "Target date": "28/06/2027", "Profile": "S-curve", "Benefit owner": "Tom Okafor",
        "Lower bound": 0, "Upper bound": 100, "Value per unit": "40,000", "Cash releasing": "yes",
    },
    {
        "Programme": "growth", "Initiative": "crm", "Benefit key": "crm-savings", "Benefit name": "Licence savings",
        "Category": "cost_reduction", "Metric": "ledger.crm_licences", "Unit": "GBP", "Direction": "increase",
        "Measure": "cumulative", "Baseline value": 0, "Baseline date": "2025-09-01", "Target value": "£250,000",
        "Target date": "2026-12-31", "Profile": "points", "Benefit owner": "Priya Shah", "Starts after": "go-live",
    },
    {
        "Programme": "people", "Initiative": "skills", "Initiative name": "Skills academy", "Tactic": "innovation",
        "Initiative owner": "Ana Lima",
    },
]  # fmt: skip


def invoke(*args: str, config: Path) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "register", *args])


def fill(path: Path, sheet: str, rows: list[dict[str, object]]) -> None:
    """Write rows under a sheet's headers, by header."""
    book = openpyxl.load_workbook(path)
    headers = [cell.value for cell in book[sheet][1]]
    for row in rows:
        book[sheet].append([row.get(str(header)) for header in headers])
    book.save(path)


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    """The template, filled in as a PMO would."""
    path = tmp_path / "register.xlsx"
    result = invoke("template", "--out", str(path), config=tmp_path)
    assert result.exit_code == 0, result.output
    fill(path, "Benefits", ROWS)
    programmes = [{"Programme": "growth", "Programme name": "Customer Growth", "Outcome": "Revenue"},
                  {"Programme": "people", "Programme name": "People"}]  # fmt: skip
    fill(path, "Programmes", programmes)
    fill(path, "Milestones", [{"Initiative": "crm", "Milestone": "go-live", "Milestone name": "Live",
                               "Milestone date": dt.datetime(2025, 11, 3)}])  # fmt: skip
    points = [{"Benefit key": "crm-savings", "Date": "2026-03-31", "Planned value": 100000}]
    fill(path, "Profile points", points)
    fill(path, "Portfolio", [{"Portfolio name": "Our portfolio", "Currency": "GBP"}])
    return path


def test_the_template_documents_every_column_with_drop_downs(tmp_path: Path) -> None:
    path = tmp_path / "register.xlsx"
    assert invoke("template", "--out", str(path), config=tmp_path).exit_code == 0
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Instructions", *(sheet.name for sheet in SHEETS)]
    listed = {(row[0], row[1]) for row in book["Instructions"].iter_rows(values_only=True)}
    assert all((sheet.name, column.header) in listed for sheet in SHEETS for column in sheet.columns)
    benefits = book["Benefits"]
    assert [cell.value for cell in benefits[1]] == [column.header for column in BENEFITS.columns]
    assert benefits["Q1"].comment is not None and "after the baseline date" in benefits["Q1"].comment.text
    drop_downs = {v.formula1 for v in benefits.data_validations.dataValidation}
    assert '"revenue,cost_reduction,operational_efficiency,people_capability"' in drop_downs
    assert benefits.max_row == 1  # no example rows to delete


def test_template_fill_import_gives_a_portfolio_that_loads(tmp_path: Path, filled: Path) -> None:
    config = tmp_path / "config"
    result = invoke("import", str(filled), config=config)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"wrote {config}/portfolio.yaml: 2 programmes, 2 initiatives, 2 benefits; next: `benefits init` to load it\n"
        f"wrote {config}/connectors.yaml: a csv connector reading readings/*.csv"
        " (columns metric, period, value, unit)\n"
    )
    (config / "connectors.yaml").write_text("connectors: []\n")
    assert invoke("import", str(filled), "--force", config=config).exit_code == 0
    assert (config / "connectors.yaml").read_text() == "connectors: []\n"  # one already there is kept
    register = load_register(config)
    assert register.name == "Our portfolio"
    assert [(p.key, p.name) for p in register.programmes] == [("growth", "Customer Growth"), ("people", "People")]
    crm, skills = register.initiatives
    assert (crm.tactic, crm.milestones[0].date, skills.benefits) == ("customer_experience", dt.date(2025, 11, 3), [])
    win_rate, savings = crm.benefits
    assert win_rate.target.date == dt.date(2027, 6, 28)  # 28/06/2027: day first
    assert (win_rate.category, win_rate.profile, win_rate.value_per_unit) == ("revenue", "s_curve", 40000)
    assert win_rate.cash_releasing and win_rate.bounds is not None and win_rate.bounds.max == 100
    assert savings.target.value == 250000
    assert savings.profile != "linear" and not isinstance(savings.profile, str)
    assert [(p.date, p.value) for p in savings.profile.points] == [(dt.date(2026, 3, 31), 100000)]


def test_every_problem_is_reported_at_once_by_cell_and_nothing_is_written(tmp_path: Path, filled: Path) -> None:
    book = openpyxl.load_workbook(filled)
    sheet = book["Benefits"]
    sheet["Q2"] = dt.datetime(2025, 1, 1)  # target date before the baseline date, as an Excel date
    sheet["I3"] = "growth"  # not a category
    sheet["O3"] = "31/02/2026"  # no such date
    sheet["G3"] = "Licence Savings"  # not a key
    sheet["C3"] = "CRM"  # another name for the initiative named in C2
    sheet["B4"] = None  # no initiative
    book["Profile points"]["A2"] = "nothing"
    book.save(filled)
    config = tmp_path / "config"
    result = invoke("import", str(filled), config=config)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Benefits!Q2: target_date: must be after the baseline date 2025-09-01 (got '2025-01-01')",
        "Benefits!C3: initiative_name: differs from 'CRM modernisation' given for this initiative in Benefits!C2"
        " (got 'CRM')",
        "Benefits!G3: benefit_key: a key is lowercase letters, digits, - and _, starting with a letter or digit"
        " (got 'Licence Savings')",
        "Benefits!I3: category: must be one of revenue, cost_reduction, operational_efficiency, people_capability"
        " (got 'growth')",
        "Benefits!O3: baseline_date: no such date (read as day/month/year) (got '31/02/2026')",
        "Benefits!R3: profile: no rows for this benefit in the 'Profile points' sheet (got 'points')",
        "Benefits!B4: initiative: required: the key of the benefit's initiative",
        "Profile points!A2: benefit_key: no such benefit key on the Benefits sheet (got 'nothing')",
        f"error: {filled}: 8 problems; nothing written",
    ]
    assert not (config / "portfolio.yaml").exists()


UNSAVED = (
    "is a formula with no saved result: open and save the workbook in Excel (or LibreOffice) so its values are stored,"
    " or type the value"
)


def _formulas(path: Path, cells: dict[str, str]) -> None:
    """Write formulas into Benefits cells as a script does (openpyxl computes nothing: no saved value)."""
    book = openpyxl.load_workbook(path)
    for cell, formula in cells.items():
        book["Benefits"][cell] = formula
    book.save(path)


def _save_values(path: Path, values: dict[str, tuple[str, str]]) -> None:
    """Store each formula cell's value as Excel does when it saves: ``{"F2": ("1800000", "n")}``; a formula whose
    value is the empty text is saved with type ``str`` and an empty value."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for name, data in members.items():
        if name.startswith("xl/worksheets/sheet"):
            text = data.decode()
            for cell, (value, kind) in values.items():
                text = re.sub(
                    rf'<c r="{cell}"( s="\d+")?><f>(.*?)</f><v></v></c>',
                    rf'<c r="{cell}"\1 t="{kind}"><f>\2</f><v>{value}</v></c>',
                    text,
                )
            members[name] = text.encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_a_formula_without_a_saved_value_is_refused_by_cell_and_nothing_is_written(
    tmp_path: Path, filled: Path
) -> None:
    # investment and value per unit are optional (blank: no investment, 1 a unit), the target value is required
    _formulas(filled, {"F2": "=900000*2", "X2": "=20000*2", "P2": "=15*2", "F4": "=1+1"})
    config = tmp_path / "config"
    result = invoke("import", str(filled), config=config)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Benefits!F2: investment: {UNSAVED} (got '=900000*2')",
        f"Benefits!P2: target_value: {UNSAVED} (got '=15*2')",  # not "field required"
        f"Benefits!X2: value_per_unit: {UNSAVED} (got '=20000*2')",
        f"Benefits!F4: investment: {UNSAVED} (got '=1+1')",
        f"error: {filled}: 4 problems; nothing written",
    ]
    assert not config.exists()  # neither portfolio.yaml nor connectors.yaml


def test_a_formula_with_its_saved_value_is_read_as_that_value(tmp_path: Path, filled: Path) -> None:
    _formulas(filled, {"F2": "=900000*2", "X2": "=20000*2", "P2": "=15*2", "U2": '=IF(1,"","yes")'})
    _save_values(filled, {"F2": ("1800000", "n"), "X2": ("40000", "n"), "P2": ("30", "n"), "U2": ("", "str")})
    config = tmp_path / "config"
    result = invoke("import", str(filled), config=config)
    assert result.exit_code == 0, result.output
    crm = load_register(config).initiatives[0]
    win_rate = crm.benefits[0]
    assert crm.investment is not None and crm.investment.one_off[0].amount == 1800000
    assert win_rate.value_per_unit == 40000
    assert win_rate.target.value == 30 and not win_rate.cash_releasing  # the empty text stays blank


def test_a_csv_register_with_header_variants_and_month_first_dates(tmp_path: Path) -> None:
    csv = tmp_path / "register.csv"
    csv.write_text(
        "PROGRAMME;initiative key;Initiative Name;tactic;Initiative-Owner;Benefit;benefit_name;Category;Metric;"
        "Unit;Direction;Measure;Baseline Value;Baseline Date;Target Value;Target Date;Owner;Notes\n"
        "ops;lean;Lean ops;optimised processes;Ana;cycle-time;Cycle time;operational efficiency;ops.cycle_days;"
        "days;decrease;level;10;09/01/2025;6;12/31/2026;Ana;first wave\n",
        encoding="utf-8-sig",
    )
    out = tmp_path / "out" / "portfolio.yaml"
    result = invoke("import", str(csv), "--monthfirst", "--out", str(out), "--name", "Ops", config=tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stderr == "warning: register.csv:row 1: column 'Notes' is not part of the register: ignored\n"
    register = load_register(out.parent)
    (benefit,) = register.initiatives[0].benefits
    assert (register.name, benefit.baseline.date, benefit.target.date) == (
        "Ops",
        dt.date(2025, 9, 1),
        dt.date(2026, 12, 31),
    )
    assert [(p.key, p.name) for p in register.programmes] == [("ops", "ops")]  # no Programmes sheet: made from the keys


def test_csv_problems_name_the_row(tmp_path: Path) -> None:
    csv = tmp_path / "register.csv"
    header = ",".join(column.field for column in BENEFITS.columns if column.required)
    good = "g,i,Init,innovation,Ann,b1,Benefit,revenue,m.x,GBP,increase,cumulative,0,2026-01-01,10,2027-01-01,Ann"
    bad = "g,i,Init,innovation,Ann,b2,Benefit,revenue,m.x,EUR,increase,cumulative,0,2026-01-01,-5,2027-01-01,Ann"
    csv.write_text(f"{header}\n{good}\n{bad}\n")
    result = invoke("import", str(csv), "--out", str(tmp_path / "p.yaml"), config=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        "register.csv:row 3: unit: 'EUR' differs from 'GBP', the unit of m.x in benefit b1",
        "register.csv:row 3: target_value: must be above the baseline value 0 for direction increase (got '-5')",
    ]


def test_a_sheet_of_many_bad_rows_lists_the_first_problems_and_counts_the_rest(tmp_path: Path) -> None:
    """A CSV file of 150,000 rows, each with a problem, printed 150,000 lines; now the first SHOWN_PROBLEMS and
    one line saying how many more, with the same exit code, the same count on the error line and nothing written."""
    csv = tmp_path / "register.csv"
    header = ",".join(column.field for column in BENEFITS.columns if column.required)
    row = "g,i,Init,innovation,Ann,b{n},Benefit,revenue,m.{n},GBP,increase,cumulative,0,2026-01-01,-5,2027-01-01,Ann"
    rows = 1_000
    csv.write_text(header + "\n" + "\n".join(row.format(n=n) for n in range(rows)) + "\n")
    out = tmp_path / "p.yaml"
    result = invoke("import", str(csv), "--out", str(out), config=tmp_path)
    assert result.exit_code == 1
    problem = "target_value: must be above the baseline value 0 for direction increase (got '-5')"
    assert result.stderr.splitlines() == [
        *(f"register.csv:row {n}: {problem}" for n in range(2, 2 + SHOWN_PROBLEMS)),
        f"... and {rows - SHOWN_PROBLEMS} more problems",
        f"error: {csv}: {rows} problems; nothing written",
    ]
    assert not out.exists()
    csv.write_text(header + "\n" + "\n".join(row.format(n=n) for n in range(SHOWN_PROBLEMS + 1)) + "\n")
    result = invoke("import", str(csv), "--out", str(out), config=tmp_path)
    assert result.stderr.splitlines()[-2:] == [
        "... and 1 more problem",
        f"error: {csv}: {SHOWN_PROBLEMS + 1} problems; nothing written",
    ]
    help_text = " ".join(invoke("import", "--help", config=tmp_path).output.split())
    assert f"the first {SHOWN_PROBLEMS}, then how many more" in help_text


def test_a_csv_register_mixing_encodings_with_a_nul_or_a_huge_field_is_one_line_and_utf16_is_read(
    tmp_path: Path,
) -> None:
    """A UTF-8 file with one row pasted from a Windows-1252 file was read whole as Windows-1252, writing 'ZoÃ«' for
    'Zoë' into portfolio.yaml without a word; a NUL byte was written into a name; a field over the csv module's
    131,072 characters was a traceback (_csv.Error); a UTF-16 file (Excel's 'Unicode text') was read as
    Windows-1252, a NUL between every letter."""
    header = ",".join(column.field for column in BENEFITS.columns if column.required)
    row = (
        "g,{i},Init,innovation,{owner},{b},Benefit,revenue,m.{b},GBP,increase,cumulative,0,2026-01-01,10,2027-01-01,Ann"
    )
    first, second = row.format(i="i", owner="Zoë", b="b1"), row.format(i="j", owner="José", b="b2")
    out = tmp_path / "p.yaml"
    cases = {
        "mixed.csv": f"{header}\n{first}\n".encode() + f"{second}\n".encode("cp1252"),
        "nul.csv": f"{header}\n{first}\n".encode().replace(b"Init", b"In\x00it"),
        "huge.csv": f"{header}\n{first}\n".encode() + b"g,i," + b"x" * 10_000_000 + b"\n",
    }
    expected = {
        "mixed.csv": "line 3: byte 0xe9 is not UTF-8, while other lines are: the file mixes encodings (rows pasted "
        "from another file?); save it as CSV UTF-8 and import it again",
        "nul.csv": "line 2: a NUL byte, which no CSV text holds: save the register as CSV (UTF-8)",
        "huge.csv": "line 3: a field is longer than the 131,072 characters a CSV field may have; nothing was read",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        result = invoke("import", str(tmp_path / name), "--out", str(out), config=tmp_path)
        assert (result.exit_code, result.stdout) == (1, ""), result.output
        assert result.stderr == f"error: {tmp_path / name}: {expected[name]}\n"
        assert not out.exists()
    for name, data in {
        "utf16.csv": f"{header}\n{first}\n{second}\n".encode("utf-16"),
        "windows.csv": f"{header}\n{first}\n{second}\n".encode("cp1252"),
    }.items():
        (tmp_path / name).write_bytes(data)
        result = invoke("import", str(tmp_path / name), "--out", str(out), "--force", config=tmp_path)
        assert result.exit_code == 0, result.output
        register = yaml.safe_load(out.read_text(encoding="utf-8"))
        assert [i["owner"] for i in register["initiatives"]] == ["Zoë", "José"]


def test_a_number_cell_with_a_decimal_comma_is_refused_naming_the_row(tmp_path: Path) -> None:
    csv = tmp_path / "register.csv"
    header = ",".join(column.field for column in BENEFITS.columns if column.required)
    row = "g,i,Init,innovation,Ann,b1,Benefit,revenue,m.x,GBP,increase,cumulative,0,2026-01-01,{},2027-01-01,Ann"
    csv.write_text(f'{header},investment,value_per_unit\n{row.format("10")},"12,50","52,5"\n')
    result = invoke("import", str(csv), "--out", str(tmp_path / "p.yaml"), config=tmp_path)
    assert result.exit_code == 1  # 1250 and 525 before
    rule = "a thousands separator must come between groups of three digits (1,234,567.50); write decimals with a point"
    assert result.stderr.splitlines() == [
        f"register.csv:row 2: investment: must be a number: {rule} (12.50, not 12,50) (got '12,50')",
        f"register.csv:row 2: value_per_unit: must be a number: {rule} (12.50, not 12,50) (got '52,5')",
        f"error: {csv}: 2 problems; nothing written",
    ]
    assert not (tmp_path / "p.yaml").exists()
    grouped = row.format('"1,000"')
    csv.write_text(f'{header},investment,value_per_unit\n{grouped},"1 250",52.5\n')
    out = tmp_path / "ok" / "portfolio.yaml"
    assert invoke("import", str(csv), "--out", str(out), config=tmp_path).exit_code == 0
    register = load_register(out.parent)
    (benefit,) = register.initiatives[0].benefits
    assert (register.initiatives[0].investment.one_off_total(), benefit.value_per_unit) == (1250, 52.5)
    assert benefit.target.value == 1000


def test_export_of_the_demo_imports_back_to_the_same_register(tmp_path: Path) -> None:
    config = tmp_path / "config"
    runner = CliRunner()
    database = ["--config", str(config), "--database", f"sqlite:///{tmp_path}/b.db"]
    assert runner.invoke(main, [*database, "init", "--demo"]).exit_code == 0
    workbook = tmp_path / "demo.xlsx"
    result = invoke("export", "--out", str(workbook), config=config)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {workbook}: 10 initiatives, 30 benefits\n"
    again = tmp_path / "again"
    assert invoke("import", str(workbook), config=again).exit_code == 0
    assert load_register(again) == load_register(config)


def test_finance_settings_and_value_types_round_trip_and_phased_costs_are_refused(demo_config: Path) -> None:
    data = yaml.safe_load((demo_config / "portfolio.yaml").read_text())
    data.update(fiscal_year_start_month=1, discount_rate=0.05, appraisal_years=7, valuation_date="2025-04-01")
    data["initiatives"][0]["benefits"][1]["value_type"] = "amount"
    (demo_config / "portfolio.yaml").write_text(yaml.safe_dump(data))
    workbook = demo_config.parent / "demo.xlsx"
    assert invoke("export", "--out", str(workbook), config=demo_config).exit_code == 0
    again = demo_config.parent / "again"
    assert invoke("import", str(workbook), config=again).exit_code == 0
    assert load_register(again) == load_register(demo_config)
    data["initiatives"][0]["investment"] = {"one_off": [{"amount": 100, "date": "2025-06-01"}, {"amount": 200}]}
    (demo_config / "portfolio.yaml").write_text(yaml.safe_dump(data))
    result = invoke("export", "--out", str(workbook), "--force", config=demo_config)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: initiative crm-modernisation: its investment has costs by date")
    data["initiatives"][0]["investment"] = {"one_off": 1800000, "metric": "ledger.crm_spend"}  # spend from the ledger
    data["metrics"].append({"name": "ledger.crm_spend", "unit": "GBP"})
    (demo_config / "portfolio.yaml").write_text(yaml.safe_dump(data))
    result = invoke("export", "--out", str(workbook), "--force", config=demo_config)
    assert result.exit_code == 1 and "running costs or a spend metric, which the workbook's" in result.stderr


def test_an_existing_file_is_not_overwritten_without_force(tmp_path: Path, filled: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "portfolio.yaml").write_text("name: ours\n")
    result = invoke("import", str(filled), config=config)
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"error: {config}/portfolio.yaml already exists: add --force to overwrite it (or --out another path)\n"
    )
    assert (config / "portfolio.yaml").read_text() == "name: ours\n"
    assert invoke("import", str(filled), "--force", config=config).exit_code == 0
    assert load_register(config).name == "Our portfolio"
    assert invoke("template", "--out", str(filled), config=config).exit_code == 1


def _damaged(source: Path, target: Path, part: str, data: bytes | None = None) -> None:
    """A copy of workbook ``source`` whose sheet part is ``data`` (not well-formed XML), or whose deflated
    bytes of that part are flipped (data that does not decompress) when ``data`` is None."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for name in original.namelist():
            copy.writestr(name, data if name == part and data is not None else original.read(name))
    if data is None:
        with zipfile.ZipFile(target) as archive:
            info = archive.getinfo(part)
        raw = bytearray(target.read_bytes())
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
        for n in range(start + 10, start + min(60, info.compress_size)):
            raw[n] ^= 0xFF
        target.write_bytes(bytes(raw))


def test_a_password_protected_empty_or_damaged_workbook_is_one_line_naming_it(tmp_path: Path, filled: Path) -> None:
    """A password-protected workbook (an OLE compound file) said 'File is not a zip file'; a part that does not
    decompress (zlib.error) or is not well-formed XML (ParseError) was a traceback: openpyxl reads a sheet as its
    rows are asked for, after the workbook opened."""
    sheet = next(n for n in zipfile.ZipFile(filled).namelist() if n.startswith("xl/worksheets/sheet"))
    encrypted, empty = tmp_path / "encrypted.xlsx", tmp_path / "empty.xlsx"
    encrypted.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504) + b"EncryptedPackage" * 64)
    empty.write_bytes(b"")
    inflated, unclosed = tmp_path / "inflated.xlsx", tmp_path / "unclosed.xlsx"
    _damaged(filled, inflated, sheet)
    _damaged(filled, unclosed, sheet, b'<worksheet><sheetData><row><c r="A1"')
    expected = {
        encrypted: "a password-protected (encrypted) workbook or an Excel 97-2003 (.xls) file, which cannot be "
        "read: remove the password (Excel: File > Info > Protect Workbook) and save it as an Excel Workbook (.xlsx)",
        empty: "the file is empty (0 bytes), not an Excel workbook",
        inflated: "a damaged Excel workbook (Error -3 while decompressing data: ",
        unclosed: "a damaged Excel workbook (unclosed token: line 1, column 27): open it in Excel (or LibreOffice) "
        "and save it again, or export a fresh copy",
    }
    for path, message in expected.items():
        result = invoke("import", str(path), config=tmp_path)
        assert (result.exit_code, result.stdout) == (1, ""), result.output
        assert result.stderr.startswith(f"error: {path}: {message}") and result.stderr.count("\n") == 1
        assert not (tmp_path / "portfolio.yaml").exists()


def test_a_file_that_is_not_a_register_is_one_line(tmp_path: Path) -> None:
    odd = tmp_path / "register.xlsx"
    odd.write_text("not a workbook")
    result = invoke("import", str(odd), config=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {odd}: not a readable Excel workbook")
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.save(odd)
    result = invoke("import", str(odd), config=tmp_path)
    assert result.stderr == f"error: {odd}: no sheet named 'Benefits' (the workbook has 'Sheet1')\n"


@pytest.mark.parametrize(
    ("written", "dayfirst", "expected"),
    [
        ("2026-04-01", True, dt.date(2026, 4, 1)),
        ("2026/04/01", False, dt.date(2026, 4, 1)),
        ("2026-04-01 00:00:00", True, dt.date(2026, 4, 1)),
        ("01/04/2026", True, dt.date(2026, 4, 1)),
        ("01/04/2026", False, dt.date(2026, 1, 4)),
        ("1.4.2026", True, dt.date(2026, 4, 1)),
        ("1 Apr 2026", False, dt.date(2026, 4, 1)),
        ("April 1, 2026", True, dt.date(2026, 4, 1)),
        (dt.datetime(2026, 4, 1, 0, 0), True, dt.date(2026, 4, 1)),
    ],
)
def test_date_forms(written: object, dayfirst: bool, expected: dt.date) -> None:
    assert parse_date(written, dayfirst=dayfirst) == expected


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("01/04/26", "write the year in full"),
        ("30/02/2026", "no such date (read as day/month/year)"),
        ("soon", "not a date: write 2026-04-01 or 01/04/2026 (day first)"),
    ],
)
def test_a_date_that_is_not_one_says_what_to_write(written: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_date(written)


def test_title_rows_above_the_headers_a_typo_in_a_header_and_a_missing_column(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Register"  # another name for the Benefits sheet
    headers = [c.header for c in BENEFITS.columns if c.required and c.field != "target_date"] + ["Atribution"]
    sheet.append(["Benefits register, Q3 2026"])
    sheet.append([])
    sheet.append(headers)
    sheet.append([ROWS[0].get(header) for header in headers])
    path = tmp_path / "ours.xlsx"
    book.save(path)
    result = invoke("import", str(path), "--out", str(tmp_path / "p.yaml"), config=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "warning: Register!Q3: column 'Atribution' is not part of the register: ignored",
        "Register!A3: target_date: no column: add one headed 'Target date'",
        f"error: {path}: 1 problem; nothing written",
    ]
    sheet.cell(row=3, column=len(headers) + 1, value="Target date")
    sheet.cell(row=4, column=len(headers) + 1, value="2025-04-01")
    sheet["C4"] = None  # the initiative's name, on its only row
    book.save(path)
    result = invoke("import", str(path), "--out", str(tmp_path / "p.yaml"), config=tmp_path)
    assert result.stderr.splitlines()[1:] == [
        "Register!C4: initiative_name: field required",
        "Register!R4: target_date: must be after the baseline date 2025-09-01 (got '2025-04-01')",
        f"error: {path}: 2 problems; nothing written",
    ]


@pytest.mark.parametrize(
    ("column", "written", "message"),
    [
        ("baseline_value", "nan", "must be a finite number (got 'nan')"),
        ("target_value", "-inf", "must be a finite number (got '-inf')"),
        ("target_value", "1e400", "must be a finite number (got '1e400')"),
        ("value_per_unit", "inf", "must be a finite number (got 'inf')"),
        ("cadence_days", "nan", "must be a finite number (got 'nan')"),
        ("value_per_unit", "1e300", "must have at most 16 digits before the decimal point (got '1e300')"),
    ],
)
def test_a_cell_that_is_not_a_finite_number_names_its_row_and_column(
    tmp_path: Path, column: str, written: str, message: str
) -> None:
    values = {
        "programme": "g", "initiative": "i", "initiative_name": "Init", "tactic": "innovation",
        "initiative_owner": "Ann", "benefit_key": "b1", "benefit_name": "Benefit", "category": "revenue",
        "metric": "m.x", "unit": "GBP", "direction": "increase", "measure": "cumulative", "baseline_value": "0",
        "baseline_date": "2026-01-01", "target_value": "10", "target_date": "2027-01-01", "benefit_owner": "Ann",
        "value_per_unit": "1", "cadence_days": "7",
    }  # fmt: skip
    values[column] = written
    csv = tmp_path / "register.csv"
    csv.write_text(f"{','.join(values)}\n{','.join(values.values())}\n")
    result = invoke("import", str(csv), "--out", str(tmp_path / "p.yaml"), config=tmp_path)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"register.csv:row 2: {column}: {message}",
        f"error: {csv}: 1 problem; nothing written",
    ]
    assert not (tmp_path / "p.yaml").exists()


@pytest.mark.parametrize("name", ["reg.csv", "reg.XLS", "reg"])
def test_template_and_export_refuse_a_file_they_cannot_write_and_import_names_a_workbook_under_a_csv_name(
    demo_config: Path, name: str
) -> None:
    out = demo_config.parent / name
    suffix = out.suffix.lower() or "(no suffix)"
    for command in ("template", "export"):
        result = invoke(command, "--out", str(out), config=demo_config)
        assert result.exit_code == 1
        assert result.stderr == f"error: --out {out}: cannot write the register as {suffix!r}: use .xlsx\n"
        assert not out.exists()
    workbook = demo_config.parent / "reg.xlsx"
    assert invoke("export", "--out", str(workbook), config=demo_config).exit_code == 0
    renamed = workbook.rename(demo_config.parent / "reg.csv")
    result = invoke("import", str(renamed), "--out", str(demo_config.parent / "x.yaml"), config=demo_config)
    assert result.exit_code == 1
    said = "a zip archive, not CSV text: an .xlsx workbook saved under a .csv name? Rename it to .xlsx"
    assert result.stderr == f"error: {renamed}: {said}\n"
