"""docs/walkthrough.md end to end: an Excel register of 8 benefits and a CSV of readings, then the two
commands (`benefits register import`, `benefits run --pack --digest`) as a new user runs them, with
a real local SMTP server receiving the digests."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner

from benefits.cli import main
from tests.test_dashboard_browser import CHROMIUM
from tests.test_digest import _free_port, _Mailbox

BENEFITS = Path(sys.executable).parent / "benefits"
AS_OF = "2026-06-01"
OWNERS = ("Priya Shah", "Tom Okafor")


def _benefit(n: int) -> dict[str, object]:
    """The n-th of 8 benefits: a monthly metric rising from 10 to 20 over two years, half of them per owner."""
    return {
        "Programme": "growth" if n < 4 else "ops",
        "Initiative": f"init-{n // 2}",
        "Initiative name": f"Initiative {n // 2}",
        "Tactic": "Customer experience",
        "Initiative owner": OWNERS[(n // 2) % 2],
        "Benefit key": f"benefit-{n}",
        "Benefit name": f"Benefit {n}",
        "Category": "operational_efficiency",
        "Metric": f"ops.metric_{n}",
        "Unit": "count",
        "Direction": "increase",
        "Measure": "level",
        "Baseline value": 10,
        "Baseline date": dt.datetime(2025, 6, 1),
        "Target value": 20,
        "Target date": "2027-06-01",
        "Benefit owner": OWNERS[n % 2],
    }


def _readings(folder: Path) -> None:
    """Monthly readings from June 2025: a year of them for the even benefits (on plan), eight months for the
    odd ones (stale by June 2026), and one unreadable value for benefit-0 (held in quarantine)."""
    folder.mkdir()
    lines = ["metric,period,value,unit", "ops.metric_0,2025-06-15,n/a,count"]
    for n in range(8):
        for month in range(12 if n % 2 == 0 else 8):
            period = dt.date(2025 + (5 + month) // 12, (5 + month) % 12 + 1, 1)
            lines.append(f"ops.metric_{n},{period},{10 + month * 10 / 24:.2f},count")
    (folder / "readings.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def smtp() -> Iterator[tuple[_Mailbox, int]]:
    """A real SMTP server on 127.0.0.1 (no login)."""
    mailbox, port = _Mailbox(), _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


def _benefits(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GX_ANALYTICS_ENABLED": "false", "BENEFITS_CHROMIUM": str(CHROMIUM)}
    for name in ("BENEFITS_CONFIG", "BENEFITS_DATABASE_URL"):
        env.pop(name, None)
    return subprocess.run([str(BENEFITS), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_from_an_excel_register_to_a_sent_pack_in_two_commands(tmp_path: Path, smtp: tuple[_Mailbox, int]) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing (CI must provide it: apt-get install chromium)")
        pytest.skip("chromium not installed")
    mailbox, port = smtp
    assert _benefits("register", "template", "--out", "register.xlsx", cwd=tmp_path).returncode == 0
    book = openpyxl.load_workbook(tmp_path / "register.xlsx")
    headers = [cell.value for cell in book["Benefits"][1]]
    for n in range(8):
        book["Benefits"].append([_benefit(n).get(str(header)) for header in headers])
    book.save(tmp_path / "register.xlsx")
    _readings(tmp_path / "readings")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "notify.yaml").write_text(
        f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  from: pmo@example.com\n  security: none\n"
        "owners:\n  Priya Shah: priya@example.com\n  Tom Okafor: tom@example.com\n"
    )

    started = time.perf_counter()
    imported = _benefits("register", "import", "register.xlsx", cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    ran = _benefits("run", "--pack", "pack.pdf", "--digest", "--as-of", AS_OF, cwd=tmp_path)
    elapsed = time.perf_counter() - started
    print(f"\nthe two commands took {elapsed:.1f} s")

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "8 benefits" in imported.stdout
    assert "wrote config/connectors.yaml" in imported.stdout
    assert "sync readings: 81 rows read, 80 accepted" in ran.stdout
    assert (tmp_path / "pack.pdf").read_bytes().startswith(b"%PDF")
    assert sorted(to for recipients, _ in mailbox.messages for to in recipients) == [
        "priya@example.com",
        "tom@example.com",
    ]


def test_run_refuses_a_pack_format_before_any_work(tmp_path: Path) -> None:
    database = tmp_path / "benefits.db"
    arguments = ["--config", str(tmp_path), "--database", f"sqlite:///{database}", "run", "--pack", "pack.docx"]
    result = CliRunner().invoke(main, arguments)
    assert (result.exit_code, result.output) == (
        1,
        "error: --pack pack.docx: unknown pack format '.docx'; use .html, .pdf, .pptx\n",
    )
    assert not database.exists()
