"""The steering pack as PDF: the HTML pack (``benefits.report``) printed by headless Chromium.

Chromium runs once per pack, with its own throw-away profile, no network (background services off
and every host name resolving nowhere: the pack embeds everything it draws) and no page header or
footer. Its executable is the one named by ``--chromium`` or ``BENEFITS_CHROMIUM``, else the first
of :data:`CANDIDATES` on the ``PATH``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from benefits.errors import BenefitsError
from benefits.files import write_bytes

CHROMIUM_ENV = "BENEFITS_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: How the project starts Chromium everywhere (the pack, the browser tests, bench/dashboard.py):
#: headless, no sandbox or GPU, and nothing that would reach the internet.
HEADLESS_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
CHROMIUM_ARGS = (
    *HEADLESS_ARGS,
    "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing is fetched, even if a page asked
    "--no-pdf-header-footer",
    "--window-size=1060,1000",  # charts are drawn at this width (less the page padding): A4 landscape's 1,032 px
)
TIMEOUT_SECONDS = 300.0
_HINT = f"install it (apt-get install chromium) or point --chromium or {CHROMIUM_ENV} at its executable"


def find_chromium(explicit: str | None = None) -> Path:
    """The Chromium executable: ``explicit`` (the option or environment variable) or one on the PATH."""
    if explicit:
        found = shutil.which(explicit)
        if found is None:
            raise BenefitsError(f"Chromium not found at {explicit}: {_HINT}")
        return Path(found)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BenefitsError(f"Chromium not found on the PATH ({', '.join(CANDIDATES)}): {_HINT}")


def print_pdf(html: str, out: Path, chromium: Path, timeout: float = TIMEOUT_SECONDS) -> None:
    """Write ``html`` (a self-contained page) to ``out`` as PDF, printed by ``chromium``; ``out`` is written whole or
    not at all (:mod:`benefits.files`)."""
    with tempfile.TemporaryDirectory(prefix="benefits-pack-") as folder:
        page, pdf = Path(folder) / "pack.html", Path(folder) / "pack.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            str(chromium),
            *CHROMIUM_ARGS,
            f"--user-data-dir={Path(folder) / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise BenefitsError(f"Chromium ({chromium}) did not print the pack within {timeout:.0f} s") from None
        except OSError as exc:
            raise BenefitsError(f"Chromium ({chromium}) could not be started: {exc.strerror or exc}") from None
        if done.returncode != 0 or not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
            raise BenefitsError(
                f"Chromium ({chromium}) did not print the pack (exit code {done.returncode}): {_last_line(done.stderr)}"
            )
        write_bytes(out, pdf.read_bytes())


def _last_line(stderr: str) -> str:
    """Chromium's last line of output, which says why it stopped (its earlier lines are start-up noise)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
