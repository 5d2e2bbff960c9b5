"""The steering pack: one self-contained HTML file that opens offline with its charts drawn."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from benefits.claims.money import display
from benefits.cli import main

from . import dashboard_data as dd
from .test_dashboard_browser import CHROMIUM, CHROMIUM_ARGS

XSS = "<script>alert(1)</script>"


def _table(html: str, table_id: str) -> str:
    """The pack's ``<table id=...>`` element, as HTML."""
    found = re.search(rf'<table id="{table_id}">.*?</table>', html, re.S)
    assert found, f"no table {table_id!r} in the pack"
    return found.group(0)


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("report")
    hostile = dd.REGISTER_YAML.replace("owner: Finance operations", f"owner: '{XSS}'")
    url = dd.build_store(directory, hostile)
    out = directory / "out" / "pack.html"
    result = CliRunner().invoke(
        main,
        [
            "--config",
            str(directory / "config"),
            "--database",
            url,
            "report",
            "--out",
            str(out),
            "--as-of",
            dd.AS_OF.isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"steering pack written to {out} (")
    return out


def test_pack_has_summary_changes_and_the_benefits_needing_attention(pack: Path) -> None:
    html = pack.read_text(encoding="utf-8")
    assert "Dashboard fixture portfolio · as of 2025-07-07 · 3 benefits · money in GBP" in html
    assert "£317,500" in html and "£245,000" in html and "77% of planned" in html
    changes = _table(html, "changes")
    assert "Lower IT running cost" in changes and "<td>On track</td><td>At risk</td>" in changes
    attention = _table(html, "attention")
    names = re.findall(r"<tr><td>([^<]+)</td>", attention)
    assert names == ["Upsell revenue", "Lower IT running cost"]  # off track first, then at risk
    assert "Sales" in attention and "Tom Reed" in attention  # benefit and initiative owners
    assert "Faster ticket handling" not in attention


def test_pack_tables_give_cash_apart_from_the_run_rate_as_status_does(pack: Path) -> None:
    html = pack.read_text(encoding="utf-8")
    directory = pack.parent.parent
    args = ["--config", str(directory / "config"), "--database", f"sqlite:///{directory / 'store.db'}"]
    status = CliRunner().invoke(main, [*args, "status", "--as-of", dd.AS_OF.isoformat(), "--format", "json"])
    rows = {row["benefit"]: row for row in json.loads(status.stdout)}
    opex, upsell = rows["it-opex"], rows["upsell-revenue"]  # a run-rate and an amount

    def pounds(text: str) -> str:
        return display(Decimal(text), "GBP")

    categories = _table(html, "categories")
    assert "Cash realised to date" in categories and "Run-rate now (annualised)" in categories
    cost = re.search(r"<tr><td>Cost reduction</td>(.*?)</tr>", categories)
    assert cost, categories
    # the category's cash banked and planned to date, and its run-rate apart: never the annual rate as cash
    assert re.findall(r">([^<]*)</td>", cost.group(1)) == [
        "1",
        pounds(opex["cash_to_date"]),
        pounds(opex["planned_cash_to_date"]),
        f"{pounds(opex['run_rate'])} a year",
    ]
    assert pounds(opex["cash_to_date"]) != f"£{round(opex['realised_value']):,}"  # the two differ here
    revenue = re.search(r"<tr><td>Revenue</td>(.*?)</tr>", categories)
    assert revenue and revenue.group(1).endswith('<td class="num">—</td>')  # an amount has no run-rate
    attention = _table(html, "attention")
    cash = f"{pounds(opex['cash_to_date'])} of {pounds(opex['planned_cash_to_date'])}"
    assert f"<td>{cash}</td><td>{pounds(opex['run_rate'])} a year</td>" in attention
    assert (
        f"<td>{pounds(upsell['cash_to_date'])} of {pounds(upsell['planned_cash_to_date'])}</td><td>—</td>" in attention
    )
    assert "count a run-rate benefit at its annual rate" in html  # the headline cards say what they count


def test_pack_is_self_contained_and_escapes_source_text(pack: Path) -> None:
    html = pack.read_text(encoding="utf-8")
    assert not re.findall(r"""<(?:script|link|img|iframe)[^>]+(?:src|href)=["']?https?:""", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and XSS not in html
    assert html.count("Plotly.newPlot") == 3  # initiatives, statuses, the fan chart


@pytest.mark.browser
def test_pack_opens_offline_in_chromium_with_its_charts_drawn(pack: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(offline=True)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("dialog", lambda d: (problems.append(d.message), d.dismiss()))
        page.on("request", lambda r: r.url.startswith(("file:", "data:", "blob:")) or problems.append(r.url))
        page.goto(pack.as_uri())
        page.wait_for_selector("#chart-0 .cartesianlayer .trace.bars .point", state="attached")
        page.wait_for_selector("#chart-1 .cartesianlayer .trace.bars .point", state="attached")
        page.wait_for_selector("#chart-fan .cartesianlayer .trace.scatter", state="attached")
        assert page.locator("#chart-0 .trace.bars .point").count() == 4
        assert page.locator("#chart-fan .trace.scatter").count() == 4  # P90, P10 (the band), P50, planned
        assert page.get_by_text(XSS).count() >= 1
        Path("test-artifacts").mkdir(exist_ok=True)
        page.screenshot(path="test-artifacts/steering-pack.png", full_page=True)
        browser.close()
    assert problems == []


LEDGER_CSV = """metric,period,value,unit
ledger.shared_costs,2026-02-02,950.0,GBP
ledger.shared_costs,2026-03-02,900.0,GBP
ledger.shared_costs,2026-06-01,800.0,GBP
ops.overtime_hours_saved,2026-02-02,100.0,hours
ops.overtime_hours_saved,2026-03-02,150.0,hours
crm.service_revenue,2026-02-02,5000.0,GBP
"""


def test_the_evidence_and_steering_packs_say_where_each_number_came_from(tmp_path: Path) -> None:
    """A real csv sync (source_ref file:line per row), claims, then both packs: every evidence reading and every
    realised value the steering pack states names its file and line and its sync run."""
    from .test_claims_reconciliation import SHARED

    config, ledger = tmp_path / "config", tmp_path / "ledger.csv"
    config.mkdir()
    (config / "portfolio.yaml").write_text((SHARED / "portfolio.yaml").read_text())
    (config / "connectors.yaml").write_text(
        f"connectors:\n  - {{name: ledger, type: csv, settings: {{path: {ledger}}}}}\n"
    )
    ledger.write_text(LEDGER_CSV)
    (tmp_path / "claims.csv").write_text(
        "benefit,period,claimed_value,class\nshared-savings,2026-03-31,3000.00,\novertime-avoided,2026-03-31,125,\n"
    )
    base = ["--config", str(config), "--database", f"sqlite:///{tmp_path / 'benefits.db'}"]
    for command in (
        ["init"],
        ["sync", "--as-of", "2026-06-29"],
        ["claims", "import", str(tmp_path / "claims.csv")],
        ["claims", "export", "shared-services", "--out", str(tmp_path / "evidence")],
        ["report", "--out", str(tmp_path / "pack.html"), "--as-of", "2026-06-29"],
    ):
        result = CliRunner().invoke(main, base + command)
        assert result.exit_code == 0, result.output

    rows = list(csv.DictReader((tmp_path / "evidence" / "shared-services-evidence.csv").open(encoding="utf-8")))
    evidence = [(r["benefit"], r["observation_period"], r["observation_source_ref"], r["sync_run_id"]) for r in rows]
    assert evidence == [  # the line of the file each figure rests on (the header is line 1), and its sync run
        ("shared-savings", "2026-03-02", f"{ledger}:3", "1"),  # a level metric: the latest reading
        ("overtime-avoided", "2026-02-02", f"{ledger}:5", "1"),  # cumulative: every reading to the claim's period
        ("overtime-avoided", "2026-03-02", f"{ledger}:6", "1"),
    ]
    page = (tmp_path / "evidence" / "shared-services-evidence.html").read_text(encoding="utf-8")
    assert "<th>Where in the source</th>" in page and f"<td>{ledger}:3</td>" in page

    appendix = _table((tmp_path / "pack.html").read_text(encoding="utf-8"), "lineage")
    flagged = re.findall(
        r"<tr><td>([^<]+)</td><td>[^<]+</td><td>([^<]+)</td><td[^>]*>[^<]+</td><td>([^<]+)</td>"
        r"<td>([^<]+)</td><td>(\d+),",
        appendix,
    )
    assert ("Overtime hours avoided", "2026-03-02", "ledger", f"{ledger}:6", "1") in flagged  # stale: needs a decision
    assert ("New service revenue", "2026-02-02", "ledger", f"{ledger}:7", "1") in flagged
