"""The built-in csv connector on real files: CSV, globs, .xlsx, byte-order marks, delimiters, errors, a CLI sync."""

from __future__ import annotations

import codecs
import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError
from sqlalchemy import create_engine, text

from benefits.cli import main
from benefits.plugins.connector import ConnectorError, MetricInfo, SyncContext
from benefits.plugins.csv_files import CsvConnector
from benefits.plugins.manager import connector_types
from benefits.register import load_register

from .conftest import DEMO_CONFIG

AS_OF = dt.date(2026, 11, 23)
HEADER = "metric,period,value,unit\n"


@pytest.fixture(scope="module")
def context() -> SyncContext:
    return SyncContext(register=load_register(DEMO_CONFIG), as_of=AS_OF)


def connector(context: SyncContext, **settings: Any) -> CsvConnector:
    return CsvConnector("files", CsvConnector.Settings.model_validate(settings), context)


def write(path: Path, content: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding=encoding, newline="")
    return path


def core(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["metric"], r["period"], r["value"], r["unit"]) for r in records]


def test_csv_is_a_built_in_connector_type() -> None:
    assert connector_types()["csv"] is CsvConnector


def test_plain_csv_yields_rows_verbatim_as_text_with_their_source(tmp_path: Path, context: SyncContext) -> None:
    path = write(
        tmp_path / "opex.csv",
        HEADER
        + "ledger.it_opex_weekly,2026-11-09,41250.50,GBP\n"
        + "\n"  # a blank line is not a record
        + 'ledger.it_opex_weekly,2026-11-16," 1e3 ",GBP\n'
        + "hr.certified_staff,2026-11-16,n/a,people\n",
    )
    records = list(connector(context, path=str(path)).records())
    assert core(records) == [
        ("ledger.it_opex_weekly", "2026-11-09", "41250.50", "GBP"),
        ("ledger.it_opex_weekly", "2026-11-16", " 1e3 ", "GBP"),
        ("hr.certified_staff", "2026-11-16", "n/a", "people"),
    ]
    assert [r["source_ref"] for r in records] == [f"{path}:2", f"{path}:4", f"{path}:5"]
    assert connector(context, path=str(path)).discover() == [
        MetricInfo("ledger.it_opex_weekly", "GBP"),
        MetricInfo("hr.certified_staff", "people"),
    ]


def test_source_ref_is_the_line_a_multiline_record_starts_on(tmp_path: Path, context: SyncContext) -> None:
    path = write(
        tmp_path / "notes.csv",
        "metric,period,value,unit,note\n" + 'a.b,2026-11-09,1,GBP,"two\nlines"\n' + "a.b,2026-11-16,2,GBP,one\n",
    )
    assert [r["source_ref"] for r in connector(context, path=str(path)).records()] == [f"{path}:2", f"{path}:4"]


def test_a_glob_reads_every_matching_file_in_name_order_relative_to_the_current_directory(
    tmp_path: Path, context: SyncContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "exports" / "2026-11.csv", HEADER + "m.x,2026-11-02,3,GBP\n")
    write(tmp_path / "exports" / "2026-10.csv", HEADER + "m.x,2026-10-05,1,GBP\nm.x,2026-10-12,2,GBP\n")
    write(tmp_path / "exports" / "notes.txt", "not a match\n")
    monkeypatch.chdir(tmp_path)
    records = list(connector(context, path="exports/*.csv").records())
    assert [r["value"] for r in records] == ["1", "2", "3"]
    assert records[0]["source_ref"] == "exports/2026-10.csv:2"
    assert records[2]["source_ref"] == "exports/2026-11.csv:2"
    recursive = connector(context, path=str(tmp_path / "**" / "2026-1?.csv"))
    assert len(list(recursive.records())) == 3


def test_xlsx_sheet_is_read_with_numbers_and_dates_as_text(tmp_path: Path, context: SyncContext) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    cover = book.active
    cover.title = "Cover"
    cover.append(["Monthly ledger export"])
    data = book.create_sheet("Ledger")
    data.append(["Account", "Week", "Amount"])
    data.append(["ledger.it_opex_weekly", dt.date(2026, 11, 9), 41250.5])
    data.append([])
    data.append(["ledger.it_opex_weekly", dt.datetime(2026, 11, 16), 40000])
    data.append(["ledger.it_opex_weekly", "2026-11-23", "n/a"])
    path = tmp_path / "ledger.xlsx"
    book.save(path)

    settings = {
        "path": str(path),
        "sheet": "Ledger",
        "unit": "GBP",
        "mapping": {"metric": "Account", "period": "Week", "value": "Amount"},
    }
    records = list(connector(context, **settings).records())
    assert core(records) == [
        ("ledger.it_opex_weekly", "2026-11-09", "41250.5", "GBP"),
        ("ledger.it_opex_weekly", "2026-11-16", "40000", "GBP"),
        ("ledger.it_opex_weekly", "2026-11-23", "n/a", "GBP"),
    ]
    assert [r["source_ref"] for r in records] == [f"{path}:2", f"{path}:4", f"{path}:5"]

    first_sheet = connector(context, **{**settings, "sheet": None})
    with pytest.raises(
        ConnectorError, match=r"ledger\.xlsx: no column 'Account' in header \(found: Monthly ledger export\)"
    ):
        first_sheet.check()
    with pytest.raises(ConnectorError, match=r"ledger\.xlsx: no sheet 'Budget' \(found: Cover, Ledger\)"):
        connector(context, **{**settings, "sheet": "Budget"}).check()


def test_a_password_protected_empty_or_damaged_xlsx_in_a_glob_is_held_by_name_and_the_rest_load(
    tmp_path: Path, context: SyncContext
) -> None:
    """One bad workbook in a glob failed the whole connector in words of Python ('BadZipFile: File is not a zip
    file', 'error: Error -3 while decompressing data', 'ParseError: unclosed token'), naming no file: openpyxl's
    exceptions other than a few were not caught, and a damaged sheet raises only as its rows are read."""
    import zipfile

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.active.append(["metric", "period", "value", "unit"])
    for week in range(1, 200):  # a sheet of some size, so that damage in its middle is met while reading rows
        book.active.append(
            ["hr.certified_staff", (dt.date(2023, 1, 2) + dt.timedelta(weeks=week)).isoformat(), 12, "people"]
        )
    good = tmp_path / "exports" / "e-good.xlsx"
    good.parent.mkdir()
    book.save(good)
    (tmp_path / "exports" / "a-encrypted.xlsx").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(1000))
    (tmp_path / "exports" / "b-empty.xlsx").write_bytes(b"")
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    raw = bytearray(good.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.compress_size // 2
    raw[start : start + 40] = bytes(b ^ 0xFF for b in raw[start : start + 40])
    (tmp_path / "exports" / "c-damaged.xlsx").write_bytes(bytes(raw))
    with zipfile.ZipFile(good) as original, zipfile.ZipFile(tmp_path / "exports" / "d-not-xml.xlsx", "w") as copy:
        for name in original.namelist():
            sheet = name == "xl/worksheets/sheet1.xml"
            copy.writestr(name, b'<worksheet><sheetData><row><c r="A1"' if sheet else original.read(name))

    records = list(connector(context, path=str(tmp_path / "exports" / "*.xlsx")).records())
    held = {Path(r["source_ref"]).name: r["unreadable"] for r in records if "unreadable" in r}
    assert len([r for r in records if "unreadable" not in r]) >= 199  # every row of the good file
    folder = tmp_path / "exports"
    assert held == {
        "a-encrypted.xlsx": f"{folder / 'a-encrypted.xlsx'}: a password-protected (encrypted) workbook or an Excel "
        "97-2003 (.xls) file, which cannot be read: remove the password (Excel: File > Info > Protect Workbook) and "
        "save it as an Excel Workbook (.xlsx)",
        "b-empty.xlsx": f"{folder / 'b-empty.xlsx'}: the file is empty (0 bytes), not an Excel workbook",
        "c-damaged.xlsx": held["c-damaged.xlsx"],
        "d-not-xml.xlsx": f"{folder / 'd-not-xml.xlsx'}: a damaged Excel workbook (unclosed token: line 1, column "
        "27): open it in Excel (or LibreOffice) and save it again, or export a fresh copy",
    }
    assert held["c-damaged.xlsx"].startswith(f"{folder / 'c-damaged.xlsx'}: a damaged Excel workbook (")
    with pytest.raises(ConnectorError, match=r"c-damaged\.xlsx: a damaged Excel workbook \("):
        list(connector(context, path=str(tmp_path / "exports" / "c-*.xlsx")).records())


def test_a_byte_order_mark_is_not_part_of_the_first_column_name(tmp_path: Path, context: SyncContext) -> None:
    path = write(tmp_path / "excel-export.csv", HEADER + "m.x,2026-11-16,7,GBP\n", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    source = connector(context, path=str(path))
    source.check()
    assert core(list(source.records())) == [("m.x", "2026-11-16", "7", "GBP")]


def test_semicolon_delimited_file_with_mapped_columns_and_a_constant_unit(tmp_path: Path, context: SyncContext) -> None:
    path = write(
        tmp_path / "hr.csv", "KPI;Date;Value\nhr.certified_staff;2026-11-09;118\nhr.certified_staff;2026-11-16;1,5\n"
    )
    source = connector(
        context,
        path=str(path),
        delimiter=";",
        unit="people",
        mapping={"metric": "KPI", "period": "Date", "value": "Value"},
    )
    assert core(list(source.records())) == [
        ("hr.certified_staff", "2026-11-09", "118", "people"),
        ("hr.certified_staff", "2026-11-16", "1,5", "people"),
    ]
    assert source.discover() == [MetricInfo("hr.certified_staff", "people")]


def test_a_constant_metric_applies_only_to_files_without_a_metric_column(tmp_path: Path, context: SyncContext) -> None:
    write(tmp_path / "a.csv", "period,value,unit\n2026-11-16,1,GBP\n")
    write(tmp_path / "b.csv", HEADER + "other.metric,2026-11-16,2,GBP\n")
    records = list(connector(context, path=str(tmp_path / "*.csv"), metric="ledger.it_opex_weekly").records())
    assert [r["metric"] for r in records] == ["ledger.it_opex_weekly", "other.metric"]


def test_a_missing_column_names_the_file_the_column_and_what_the_header_has(
    tmp_path: Path, context: SyncContext
) -> None:
    path = write(tmp_path / "ledger.csv", "a,b,c\n1,2,3\n")
    source = connector(context, path=str(path), mapping={"metric": "a", "period": "b", "value": "amount"}, unit="GBP")
    with pytest.raises(ConnectorError) as raised:
        source.check()
    assert str(raised.value).startswith(f"{path}: no column 'amount' in header (found: a, b, c); set `mapping.value`")
    with pytest.raises(ConnectorError, match="no column 'amount'"):
        list(source.records())
    with pytest.raises(ConnectorError, match=r"no column 'unit' in header \(found: a, b, c\); .* or a constant `unit`"):
        connector(context, path=str(path), mapping={"metric": "a", "period": "b", "value": "c"}).check()


def test_no_matching_file_is_a_clear_error(
    tmp_path: Path, context: SyncContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    pattern = str(tmp_path / "missing" / "*.csv")
    with pytest.raises(ConnectorError, match=f"^no file matches {re.escape(pattern)}$"):
        connector(context, path=pattern).check()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConnectorError, match=r"^no file matches exports/\*\.csv \(relative to .+\)$"):
        list(connector(context, path="exports/*.csv").records())


def test_an_empty_file_is_a_clear_error(tmp_path: Path, context: SyncContext) -> None:
    empty = write(tmp_path / "empty.csv", "\n\n")
    with pytest.raises(ConnectorError, match="empty.csv: no header row"):
        connector(context, path=str(empty)).check()


def test_a_cell_in_another_encoding_holds_its_line_and_names_the_setting(tmp_path: Path, context: SyncContext) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        (HEADER.strip() + ",note\n" + "m.x,2026-11-09,6,GBP,Café\n" + "m.x,2026-11-16,7,\xa3,\n").encode("cp1252")
    )
    records = list(connector(context, path=str(latin)).records())
    assert core(records[:1]) == [("m.x", "2026-11-09", "6", "GBP")]  # the note is not read: its é harms nothing
    assert records[1] == {
        "metric": "m.x",
        "period": "2026-11-16",
        "value": "7",
        "unit": "\\xa3",
        "unreadable": f"{latin}: line 3: unit: '\\xa3' has bytes that are not utf-8-sig text (0xa3); set `encoding` "
        "to the file's encoding (e.g. cp1252 for a file saved by Excel on Windows)",
        "text": "m.x,2026-11-16,7,\\xa3,",
        "source_ref": f"{latin}:3",
    }
    assert core(list(connector(context, path=str(latin), encoding="cp1252").records())) == [
        ("m.x", "2026-11-09", "6", "GBP"),
        ("m.x", "2026-11-16", "7", "£"),
    ]
    header = tmp_path / "header.csv"
    header.write_bytes("métrique,période,valeur,unité\n".encode("cp1252"))
    with pytest.raises(ConnectorError, match=r"header.csv: the header has bytes that are not utf-8-sig text \(0xe9\)"):
        connector(context, path=str(header)).check()


def test_a_utf16_byte_order_mark_says_the_encoding(tmp_path: Path, context: SyncContext) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + (HEADER + "m.x,2026-11-16,7,£\r\n").encode("utf-16-le"))
    assert core(list(connector(context, path=str(path)).records())) == [("m.x", "2026-11-16", "7", "£")]
    without = tmp_path / "no-mark.csv"
    without.write_bytes((HEADER + "m.x,2026-11-16,7,GBP\n").encode("utf-16-le"))
    with pytest.raises(ConnectorError, match=r"no-mark.csv: the header has NUL bytes.*set `encoding` to utf-16-le"):
        connector(context, path=str(without)).check()
    assert core(list(connector(context, path=str(without), encoding="utf-16-le").records())) == [
        ("m.x", "2026-11-16", "7", "GBP")
    ]


@pytest.mark.parametrize(
    ("content", "held"),
    [
        (  # the file ends inside a quote: every line from it is one row, kept as text
            'm.x,2026-11-09,1,GBP\nm.x,2026-11-16,"2,GBP\nm.x,2026-11-23,3,GBP\n',
            (3, "lines 3-4: a quote opened on line 3 is never closed (the file ends inside it); close it"),
        ),
        (
            'm.x,2026-11-09,1,GBP\nm.x,2026-11-16,"2"0,GBP\nm.x,2026-11-23,3,GBP\n',
            (3, 'line 3: text after the closing quote of a field (a quote inside a quoted field is written "")'),
        ),
        (
            "m.x,2026-11-09,1,GBP\nm.x,2026-11-16,2,000,GBP\nm.x,2026-11-23,3,GBP,,\n",
            (
                3,
                "line 3: 5 cells, but the header has 4: which cell is which column is unknown (a value with the "
                "delimiter in it, not quoted?)",
            ),
        ),
        (
            "m.x,2026-11-09,1,GBP\nm.x,2026-11-16,2\x00,GBP\nm.x,2026-11-23,3,GBP\n",
            (3, "line 3: value: '2\\x00' has a NUL byte, which text never has (a damaged line?)"),
        ),
    ],
)
def test_a_line_that_cannot_be_read_is_held_with_its_text_and_the_rest_load(
    tmp_path: Path, context: SyncContext, content: str, held: tuple[int, str]
) -> None:
    path = write(tmp_path / "x.csv", HEADER + content)
    records = list(connector(context, path=str(path)).records())
    unreadable = [r for r in records if r.get("unreadable")]
    assert [(r["source_ref"], r["unreadable"]) for r in unreadable] == [(f"{path}:{held[0]}", f"{path}: {held[1]}")]
    assert unreadable[0]["text"].splitlines()[0] == content.replace("\x00", "\\x00").splitlines()[1]
    assert [r["value"] for r in records if not r.get("unreadable")][:1] == ["1"]
    assert connector(context, path=str(path)).discover() == [MetricInfo("m.x", "GBP")]


def test_a_header_repeated_by_joining_files_is_no_row(tmp_path: Path, context: SyncContext) -> None:
    one = HEADER + "m.x,2026-11-09,1,GBP\n"
    joined = write(tmp_path / "joined.csv", one + "\ufeff" + one.replace("11-09,1", "11-16,2"))  # cat a.csv b.csv
    records = list(connector(context, path=str(joined)).records())
    assert [(r["value"], r["source_ref"]) for r in records] == [("1", f"{joined}:2"), ("2", f"{joined}:4")]


def test_a_header_that_cannot_be_mapped_says_what_would_fix_it(tmp_path: Path, context: SyncContext) -> None:
    twice = write(tmp_path / "twice.csv", "metric,period,value,value,unit,note,note\nm.x,2026-11-16,1,2,GBP,a,b\n")
    with pytest.raises(ConnectorError, match=r"column 'value' is in the header 2 times \(columns 3, 4\)"):
        connector(context, path=str(twice)).check()
    capitals = write(tmp_path / "capitals.csv", "Metric,Period,Value,Unit\nm.x,2026-11-16,1,GBP\n")
    with pytest.raises(ConnectorError, match=r"set `mapping.metric` to 'Metric' \(column names must match exactly"):
        connector(context, path=str(capitals)).check()
    tabs = write(tmp_path / "tabs.csv", "metric\tperiod\tvalue\tunit\nm.x\t2026-11-16\t1\tGBP\n")
    with pytest.raises(ConnectorError, match=r"\(found: metric\\tperiod\\tvalue\\tunit\); .* `delimiter` to '\\t'"):
        connector(context, path=str(tabs)).check()
    excel = write(tmp_path / "excel.csv", "sep=;\r\nmetric;period;value;unit\r\nm.x;2026-11-16;1;GBP\r\n")
    assert [(r["value"], r["source_ref"]) for r in connector(context, path=str(excel)).records()] == [
        ("1", f"{excel}:3")
    ]  # Excel's first line says the delimiter
    assert core(list(connector(context, path=str(tabs), delimiter="\t").records())) == [
        ("m.x", "2026-11-16", "1", "GBP")
    ]


@pytest.mark.parametrize(
    ("head", "says"),
    [
        (b"PK\x03\x04", "a zip archive, not CSV text: an .xlsx workbook saved under a .csv name? Rename it to .xlsx"),
        (b"\xd0\xcf\x11\xe0", "an .xls workbook, not CSV text"),
        (b"\x1f\x8b\x08\x00\x00", "the header has NUL bytes"),
    ],
)
def test_a_binary_file_named_csv_is_named_as_such(tmp_path: Path, context: SyncContext, head: bytes, says: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(head + bytes(range(256)))
    with pytest.raises(ConnectorError, match=re.escape(f"{path}: {says}")):
        list(connector(context, path=str(path)).records())
    text = write(tmp_path / "export.xls", HEADER)  # even when it is text (a web "Excel export"): save it as CSV
    with pytest.raises(
        ConnectorError, match=r"export.xls: .xls files are not supported; save the sheet as .xlsx or CSV"
    ):
        list(connector(context, path=str(text)).records())


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"path": "x.csv", "pth": "y.csv"}, "pth"),
        ({}, "path"),
        ({"path": "x.csv", "delimiter": ";;"}, "delimiter"),
        ({"path": "x.csv", "encoding": "utf-9"}, "encoding"),
        ({"path": "x.csv", "encoding": "base64"}, "encoding"),
        ({"path": "x.csv", "mapping": {"amount": "value"}}, "mapping.amount"),
        ({"path": "x.csv", "number_format": {"decimal": ";"}}, "number_format.decimal"),
        ({"path": "x.csv", "number_format": {"decimal": ",", "thousands": ","}}, "number_format.thousands"),
        ({"path": "x.csv", "number_format": {"thousands": "x"}}, "number_format.thousands"),
    ],
)
def test_bad_settings_are_rejected_before_anything_runs(settings: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        CsvConnector.Settings.model_validate(settings)
    assert ".".join(str(p) for p in raised.value.errors()[0]["loc"]) == field


def test_cli_sync_stores_good_rows_and_quarantines_bad_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copyfile(DEMO_CONFIG / "portfolio.yaml", config / "portfolio.yaml")
    connectors = {"connectors": [{"name": "ledger-files", "type": "csv", "settings": {"path": "exports/*.csv"}}]}
    (config / "connectors.yaml").write_text(yaml.safe_dump(connectors))
    write(
        tmp_path / "exports" / "2026-10.csv",
        HEADER + "ledger.it_opex_weekly,2026-10-26,41250.00,GBP\n" + "ledger.it_opex_weekly,2026-11-02,n/a,GBP\n",
    )  # line 3: text value
    write(
        tmp_path / "exports" / "2026-11.csv",
        HEADER
        + "ledger.it_opex_weekly,2026-11-09,40980.50,GBP\n"
        + "ledger.it_opex_weekly,2026-11-16,40410.00,GBP\n"
        + "ledger.it_opex_weekly,2026-12-07,39000.00,GBP\n",
    )  # line 4: after the sync date
    database = f"sqlite:///{tmp_path / 'benefits.db'}"
    monkeypatch.chdir(tmp_path)  # the connector's relative path is resolved here
    runner = CliRunner()

    init = runner.invoke(main, ["--config", str(config), "--database", database, "init"])
    assert init.exit_code == 0, init.output
    sync = runner.invoke(main, ["--config", str(config), "--database", database, "sync", "--as-of", "2026-11-23"])
    assert sync.exit_code == 0, sync.output
    assert re.search(r"sync ledger-files: 5 rows read, 3 accepted\b.*, 2 quarantined", sync.output), sync.output

    engine = create_engine(database)
    with engine.connect() as connection:
        run = connection.execute(
            text("SELECT connector_type, status, rows_read, rows_accepted, rows_quarantined FROM sync_runs")
        ).one()
        stored = connection.execute(
            text("SELECT period, value FROM observations WHERE source = 'ledger-files' ORDER BY period")
        ).all()
        quarantined = connection.execute(text("SELECT row_number, reasons FROM quarantine ORDER BY row_number")).all()
    engine.dispose()
    assert run.connector_type == "csv" and run.status == "succeeded"
    assert run.rows_read == run.rows_accepted + run.rows_quarantined == 5
    assert [(str(p), v) for p, v in stored] == [
        ("2026-10-26", 41250.0),
        ("2026-11-09", 40980.5),
        ("2026-11-16", 40410.0),
    ]
    assert [row for row, _ in quarantined] == [2, 5]
    reasons = " | ".join(str(r) for _, r in quarantined)
    assert "'n/a' is not a number" in reasons and "is in the future" in reasons


@pytest.mark.parametrize(
    ("number_format", "written", "read"),
    [
        (
            {"thousands": ","},
            ["315,602", "1,234.50", "-1,000,000", "12,5", "1,23", "7"],
            ["315602", "1234.50", "-1000000", "12,5", "1,23", "7"],
        ),
        (
            {"decimal": ",", "thousands": "."},
            ["1.234,50", "315.602", "12,5", "1,234.50"],
            ["1234.50", "315602", "12.5", "1,234.50"],
        ),
        ({"decimal": ","}, ["12,5", "1.234,5"], ["12.5", "1.234,5"]),
        ({"thousands": " "}, ["315 602", "90 10"], ["315602", "90 10"]),
    ],
)
def test_number_format_reads_values_with_the_declared_marks_and_leaves_the_rest_verbatim(
    tmp_path: Path, context: SyncContext, number_format: dict[str, str], written: list[str], read: list[str]
) -> None:
    rows = "".join(f'hr.certified_staff,2026-11-{9 + n:02d},"{v}",people\n' for n, v in enumerate(written))
    path = write(tmp_path / "staff.csv", HEADER + rows)
    values = [r["value"] for r in connector(context, path=str(path), number_format=number_format).records()]
    assert values == read  # what does not match the declared format stays verbatim, for validation to reject


def test_an_xlsx_number_cell_is_never_reformatted(tmp_path: Path, context: SyncContext) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["metric", "period", "value", "unit"])
    sheet.append(["hr.certified_staff", "2026-11-09", 1.234, "people"])
    sheet.append(["hr.certified_staff", "2026-11-16", "1.234,5", "people"])
    book.save(tmp_path / "staff.xlsx")
    source = connector(context, path=str(tmp_path / "staff.xlsx"), number_format={"decimal": ",", "thousands": "."})
    assert [r["value"] for r in source.records()] == ["1.234", "1234.5"]


def test_one_unreadable_file_or_line_in_a_glob_is_its_own_failure_and_the_rest_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copyfile(DEMO_CONFIG / "portfolio.yaml", config / "portfolio.yaml")
    connectors = {
        "connectors": [
            {"name": "staff", "type": "csv", "settings": {"path": "exports/*.csv", "number_format": {"thousands": ","}}}
        ]
    }
    (config / "connectors.yaml").write_text(yaml.safe_dump(connectors))
    write(tmp_path / "exports" / "a-empty.csv", "")
    write(
        tmp_path / "exports" / "b-huge.csv",
        HEADER
        + "hr.certified_staff,2026-11-02,12,people\n"
        + f"hr.certified_staff,2026-11-09,{'9' * 200_000},people\n"
        + "hr.certified_staff,2026-11-16,14,people\n",
    )
    write(tmp_path / "exports" / "c-good.csv", HEADER + '  hr.certified_staff  ,2026-11-23,"1,315",people\n')
    monkeypatch.chdir(tmp_path)
    database = f"sqlite:///{tmp_path / 'benefits.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "--database", database, "init"]).exit_code == 0
    sync = runner.invoke(main, ["--config", str(config), "--database", database, "sync", "--as-of", "2026-11-23"])
    assert sync.exit_code == 0, sync.output
    assert sync.stdout.splitlines() == [
        "sync staff: 5 rows read, 3 accepted (3 new, 0 restated, 0 unchanged, 0 with warnings), 2 quarantined",
        "sync staff: not read: exports/b-huge.csv: line 3: a field is longer than the 131,072 characters a CSV field "
        "may have; the row is skipped (held in quarantine)",
        "sync staff: not read: exports/a-empty.csv: no header row (the file is empty) (held in quarantine)",
        "sync staff: quarantined: exports/b-huge.csv: line …: a field is longer than the 131,072 characters a CSV "
        "field may have; the row is skipped (1), exports/a-empty.csv: no header row (the file is empty) (1); "
        "`benefits quarantine list --run 1` shows them",
    ]
    engine = create_engine(database)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT metric, period, value, source_ref FROM observations ORDER BY period")
        ).all()
        held = connection.execute(text("SELECT source_ref, reasons FROM quarantine ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in stored] == [  # the metric is trimmed; 1,315 read with the declared thousands mark
        ("hr.certified_staff", "2026-11-02", 12.0, "exports/b-huge.csv:2"),
        ("hr.certified_staff", "2026-11-16", 14.0, "exports/b-huge.csv:4"),
        ("hr.certified_staff", "2026-11-23", 1315.0, "exports/c-good.csv:2"),
    ]
    assert [r[0] for r in held] == ["exports/b-huge.csv:3", "exports/a-empty.csv"]
    assert "no header row (the file is empty)" in held[1][1]


def test_a_glob_whose_every_file_is_unreadable_fails_with_the_first_reason(
    tmp_path: Path, context: SyncContext
) -> None:
    write(tmp_path / "a.csv", "")
    write(tmp_path / "b.csv", "\n")
    with pytest.raises(
        ConnectorError, match=r"a.csv: no header row \(the file is empty\) \(and 1 more files cannot be read\)$"
    ):
        list(connector(context, path=str(tmp_path / "*.csv")).records())


def test_a_value_with_thousands_marks_says_which_setting_would_read_it(tmp_path: Path, context: SyncContext) -> None:
    from benefits.validation import batch_frame, validate_batch

    path = write(
        tmp_path / "staff.csv",
        HEADER + 'hr.certified_staff,2026-11-09,"315,602",people\n' + "hr.certified_staff,2026-11-16,n/a,people\n",
    )
    outcome = validate_batch(batch_frame(connector(context, path=str(path)).records()), as_of=AS_OF)
    reasons = {q.row: q.reasons for q in outcome.quarantined}
    assert reasons[1] == [
        "value: '315,602' is not a number (it has thousands or decimal marks: declare them with "
        "`number_format` in the connector's settings (csv, sql, http), e.g. {thousands: ','} or "
        "{decimal: ',', thousands: '.'})"
    ]
    assert reasons[2] == ["value: 'n/a' is not a number"]


def test_a_pipe_matched_by_the_glob_is_named_not_opened(tmp_path: Path, context: SyncContext) -> None:
    import os

    os.mkfifo(tmp_path / "a-pipe.csv")  # opening it would wait for a writer forever
    with pytest.raises(ConnectorError, match=r"a-pipe.csv: not a regular file \(a pipe, socket or device\)"):
        list(connector(context, path=str(tmp_path / "a-pipe.csv")).records())
    write(tmp_path / "b.csv", HEADER + "hr.certified_staff,2026-11-09,12,people\n")
    records = list(connector(context, path=str(tmp_path / "*.csv")).records())
    assert [r.get("value") for r in records] == ["12", None]
    assert records[1] == {
        "source_ref": str(tmp_path / "a-pipe.csv"),
        "unreadable": (
            f"{tmp_path / 'a-pipe.csv'}: not a regular file (a pipe, socket or device); `path` must match files"
        ),
    }


def test_a_broken_symbolic_link_and_a_loop_of_them_are_named_as_such(tmp_path: Path, context: SyncContext) -> None:
    import os

    os.symlink(tmp_path / "nowhere.csv", tmp_path / "a-dangling.csv")
    os.symlink("a-loop2.csv", tmp_path / "a-loop1.csv")
    os.symlink("a-loop1.csv", tmp_path / "a-loop2.csv")
    write(tmp_path / "b.csv", HEADER + "hr.certified_staff,2026-11-09,12,people\n")
    records = list(connector(context, path=str(tmp_path / "*.csv")).records())
    assert [r.get("value") for r in records] == ["12", None, None, None]  # the readable file loads
    assert [r["unreadable"] for r in records[1:]] == [
        f"{tmp_path / 'a-dangling.csv'}: a broken symbolic link (to {tmp_path / 'nowhere.csv'}, which does not exist);"
        " fix or remove it",
        f"{tmp_path / 'a-loop1.csv'}: a symbolic link loop (its links lead back to each other, never to a file);"
        " fix or remove it",
        f"{tmp_path / 'a-loop2.csv'}: a symbolic link loop (its links lead back to each other, never to a file);"
        " fix or remove it",
    ]
