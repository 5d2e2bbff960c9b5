"""The steering pack as PDF (printed by the real headless Chromium) and as PowerPoint, chosen by --out's suffix."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pptx import Presentation

from benefits.cli import main

from . import dashboard_data as dd
from .test_dashboard_browser import CHROMIUM


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The dashboard fixture's store: its config folder and database URL."""
    directory = tmp_path_factory.mktemp("pack")
    return directory, dd.build_store(directory)


def _report(store: tuple[Path, str], out: Path, *options: str) -> Result:
    directory, url = store
    arguments = ["--config", str(directory / "config"), "--database", url, "report", "--out", str(out)]
    return CliRunner().invoke(main, [*arguments, *options, "--as-of", dd.AS_OF.isoformat()])


def test_the_html_pack_leads_with_what_changed_and_what_needs_a_decision(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    result = _report(store, tmp_path / "pack.html")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "pack.html").read_text(encoding="utf-8")
    headings = re.findall(r"<h2>([^<]+)</h2>", html)
    assert headings == [
        "What changed: re-baselined benefits and status changes since the previous forecast run",
        "What needs a decision: off track, at risk and stale data",
        "Portfolio summary",
        "The business case",
        "Appendix: where the numbers come from",
    ]
    assert "@page { size: A4 landscape" in html


@pytest.mark.browser
def test_pdf_pack_is_printed_by_headless_chromium(store: tuple[Path, str], tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (CI must provide it: apt-get install chromium)")
        pytest.skip("chromium not installed")
    out = tmp_path / "out" / "pack.pdf"
    result = _report(store, out, "--chromium", str(CHROMIUM))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"steering pack written to {out} (")
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page\b", pdf))
    assert pages >= 2  # the tables and two charts do not fit one A4 page
    assert re.search(rb"/Count\s+%d\b" % pages, pdf)
    assert f"/Title (Benefits steering pack {dd.AS_OF.isoformat()})".encode() in pdf


def test_pdf_pack_without_chromium_fails_in_one_line_naming_the_option(store: tuple[Path, str], tmp_path: Path) -> None:
    result = _report(store, tmp_path / "pack.pdf", "--chromium", str(tmp_path / "no-such-chromium"))
    assert result.exit_code == 1
    assert result.output == (
        f"error: Chromium not found at {tmp_path / 'no-such-chromium'}: install it (apt-get install chromium) "
        "or point --chromium or BENEFITS_CHROMIUM at its executable\n"
    )
    assert not (tmp_path / "pack.pdf").exists()


def test_an_unknown_suffix_is_refused_in_one_line(store: tuple[Path, str], tmp_path: Path) -> None:
    result = _report(store, tmp_path / "pack.docx")
    assert result.exit_code == 1
    assert result.output == (
        f"error: --out {tmp_path / 'pack.docx'}: unknown pack format '.docx'; use .html, .pdf, .pptx\n"
    )


def test_pptx_pack_has_the_summary_chart_at_risk_and_one_slide_per_off_track_benefit(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    out = tmp_path / "pack.pptx"
    result = _report(store, out)
    assert result.exit_code == 0, result.output
    slides = list(Presentation(str(out)).slides)
    titles = [slide.shapes.title.text for slide in slides]
    assert titles == [
        "Benefits steering pack",
        "What changed and what needs a decision",
        "Portfolio summary",
        "Cash planned vs realised to date by initiative (GBP)",
        "Business case",
        "Portfolio cash by fiscal year end: P10, P50, P90 (GBP)",
        "At risk",
        "Off track: Upsell revenue",
    ]
    texts = [_text(slide) for slide in slides]
    assert "Dashboard fixture portfolio · as of 2025-07-07 · 3 benefits · money in GBP" in texts[0]
    assert "1 benefit changed status" in texts[1] and "Lower IT running cost (Cloud & data platform)" in texts[1]
    assert "On track → At risk" in texts[1] and "2 benefits, 1 off track, 1 at risk" in texts[1]
    assert "£317,500" in texts[2] and "£245,000 (77% of planned)" in texts[2]
    chart = next(shape.chart for shape in slides[3].shapes if shape.has_chart)
    assert [s.name for s in chart.plots[0].series] == ["Cash planned to date", "Cash realised to date"]
    assert len(list(chart.plots[0].categories)) == 2  # the fixture's two initiatives
    assert "Lower IT running cost" in texts[6] and "Finance operations" in texts[6] and "27%" in texts[6]
    assert "short of the £400,000 target" in texts[6]  # why, from the forecast
    assert "Upsell revenue" not in texts[6] and "Faster ticket handling" not in "".join(texts)
    assert "Sales" in texts[7] and "8%" in texts[7] and "short of the £520,000 target" in texts[7]
    # cash apart from the run-rate: the category table and the at-risk run-rate benefit have both, the
    # off-track amount only its cash
    assert "Cash realised to date" in texts[2] and "Run-rate now (annualised)" in texts[2]
    assert "Cash realised of planned" in texts[6] and " a year" in texts[6]
    assert "Cash realised to date" in texts[7] and "Run-rate now" not in texts[7]


def _text(slide: object) -> str:
    """Every text on a slide, its tables' cells included, one per line."""
    parts: list[str] = []
    for shape in slide.shapes:  # type: ignore[attr-defined]
        if shape.has_text_frame:
            parts.append(shape.text_frame.text)
        if shape.has_table:
            parts.extend(cell.text for row in shape.table.rows for cell in row.cells)
    return "\n".join(parts)


def test_pptx_pack_of_the_demo_portfolio_pages_its_at_risk_benefits(tmp_path: Path) -> None:
    url = dd.build_demo_store(tmp_path, dd.AS_OF)  # every one of the 30 benefits at risk
    out = tmp_path / "demo.pptx"
    arguments = ["--config", str(dd.CONFIG), "--database", url, "report", "--out", str(out)]
    result = CliRunner().invoke(main, [*arguments, "--as-of", dd.AS_OF.isoformat()])
    assert result.exit_code == 0, result.output
    slides = list(Presentation(str(out)).slides)
    assert [slide.shapes.title.text for slide in slides] == [
        "Benefits steering pack",
        "What changed and what needs a decision",
        "Portfolio summary",
        "Cash planned vs realised to date by initiative (GBP)",
        "Business case (1 of 2)",  # the portfolio and ten initiatives, nine to a slide
        "Business case (2 of 2)",
        "Portfolio cash by fiscal year end: P10, P50, P90 (GBP)",
        *(f"At risk ({n} of 5)" for n in range(1, 6)),  # 30 benefits, 7 to a slide
    ]
    texts = [_text(slide) for slide in slides]
    assert "Demo transformation portfolio · as of 2025-07-07 · 30 benefits" in texts[0]
    assert "Needing a decision: 30 benefits, 0 off track, 30 at risk, 0 with stale data" in texts[1]
    assert "… and 22 more" in texts[1]
    chart = next(shape.chart for shape in slides[3].shapes if shape.has_chart)
    assert "CRM modernisation" in list(chart.plots[0].categories)
    assert sum(text.count("demo forecast") for text in texts[4:]) == 30


def test_a_portfolio_without_benefits_still_gets_its_pptx_pack(tmp_path: Path) -> None:
    """No initiative with a value and no fiscal year to draw: the chart slides say so (python-pptx
    refuses a chart without categories)."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "portfolio.yaml").write_text(
        "name: Tiny\ncurrency: GBP\nprogrammes:\n  - {key: p1, name: P1}\n"
        "initiatives:\n  - {key: i1, name: I1, programme: p1, tactic: optimised_processes, owner: Ann, benefits: []}\n"
    )
    url = f"sqlite:///{tmp_path / 'tiny.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "--database", url, "init"]).exit_code == 0
    out = tmp_path / "pack.pptx"
    result = runner.invoke(main, ["--config", str(config), "--database", url, "report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    texts = [
        shape.text_frame.text
        for slide in Presentation(str(out)).slides
        for shape in slide.shapes
        if shape.has_text_frame
    ]
    assert "No initiative has a benefit with a value yet." in texts


def _printing(store: tuple[Path, str], work: Path, out: Path) -> tuple[subprocess.Popen[str], Path]:
    """`benefits report --out out` in a process of its own (temporary files in ``work``), once its Chromium is
    printing; and the print's work folder."""
    directory, url = store
    env = {**os.environ, "TMPDIR": str(work), "GX_ANALYTICS_ENABLED": "false"}
    command = [sys.executable, "-c", "from benefits.cli import main; main()", "--config", str(directory / "config")]
    command += ["--database", url, "report", "--out", str(out), "--chromium", str(CHROMIUM)]
    command += ["--as-of", dd.AS_OF.isoformat()]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _chromium_of(work) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _chromium_of(work), process.communicate()
    (folder,) = work.glob("benefits-pack-*")
    return process, folder


def _chromium_of(work: Path) -> list[int]:
    """The processes whose command line names a folder in ``work`` (Chromium and its helpers)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(work).encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.browser
@pytest.mark.slow
def test_a_report_stopped_or_killed_mid_print_leaves_no_chromium_and_no_work_folder(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed")
    out = tmp_path / "pack.pdf"
    work = Path(tempfile.mkdtemp(prefix="bp-", dir="/tmp"))  # short: Chromium's sockets in its profile need it
    process, folder = _printing(store, work, out)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert (process.returncode, stderr) == (
        1,
        "error: stopped (SIGTERM) while Chromium printed the pack: nothing was written\n",
    )  # Python's default ended it on the spot: Chromium printed on, and the folder (the pack's page) stayed
    assert _chromium_of(work) == [] and not folder.exists() and not out.exists()

    process, folder = _printing(store, work, out)
    process.kill()
    process.communicate(timeout=30)
    deadline = time.monotonic() + 2
    while _chromium_of(work) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _chromium_of(work) == []  # the kernel killed it with its parent: it printed on before
    assert folder.exists() and not out.exists()  # nothing can remove it as its process is killed outright...
    tempfile.tempdir = None  # the next print reads TMPDIR again
    try:
        os.environ["TMPDIR"] = str(work)
        result = _report(store, out, "--chromium", str(CHROMIUM))
    finally:
        del os.environ["TMPDIR"]
        tempfile.tempdir = None
        shutil.rmtree(work)
    assert result.exit_code == 0, result.output
    assert not folder.exists()  # ...but the next print removes it
