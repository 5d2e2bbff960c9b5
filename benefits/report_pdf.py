"""The steering pack as PDF: the HTML pack (``benefits.report``) printed by headless Chromium.

Chromium runs once per pack, with its own throw-away profile, no network (background services off
and every host name resolving nowhere: the pack embeds everything it draws) and no page header or
footer. Its executable is the one named by ``--chromium`` or ``BENEFITS_CHROMIUM``, else the first
of :data:`CANDIDATES` on the ``PATH``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from benefits.errors import BenefitsError
from benefits.files import write_bytes
from benefits.processes import die_with_parent

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
    not at all (:mod:`benefits.files`).

    Chromium never outlives the print: it runs in a process group of its own, killed whole when the print fails,
    times out or is stopped (Ctrl+C, SIGTERM), and its main process is killed by the kernel when this process
    dies, even by SIGKILL (:func:`benefits.processes.die_with_parent`). The work folder (the page, Chromium's
    profile) is removed; one left by a process killed outright is removed by the next print."""
    _remove_left_behind()
    with tempfile.TemporaryDirectory(prefix=f"{_WORK_PREFIX}{os.getpid()}-") as folder, _sigterm_raises():
        page, pdf = Path(folder) / "pack.html", Path(folder) / "pack.pdf"
        page.write_text(html, encoding="utf-8")
        command = [
            str(chromium),
            *CHROMIUM_ARGS,
            f"--user-data-dir={Path(folder) / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ]
        returncode, stderr = _run(command, chromium, timeout)
        if returncode != 0 or not pdf.is_file() or pdf.read_bytes()[:5] != b"%PDF-":
            raise BenefitsError(
                f"Chromium ({chromium}) did not print the pack (exit code {returncode}): {_last_line(stderr)}"
            )
        write_bytes(out, pdf.read_bytes())


_WORK_PREFIX = "benefits-pack-"


class _Stopped(BenefitsError):
    """SIGTERM arrived while Chromium printed."""


def _run(command: list[str], chromium: Path, timeout: float) -> tuple[int, str]:
    """Chromium's exit code and error output; its whole process group killed unless it ended by itself."""
    parent = os.getpid()
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            preexec_fn=lambda: die_with_parent(parent),  # Linux: killed by the kernel if this process dies
        )
    except OSError as exc:
        raise BenefitsError(f"Chromium ({chromium}) could not be started: {exc.strerror or exc}") from None
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise BenefitsError(f"Chromium ({chromium}) did not print the pack within {timeout:.0f} s") from None
    except BaseException:
        _kill_group(process)
        raise
    _kill_group(process)  # its helpers (zygote, renderer), should one have stayed behind
    return process.returncode, stderr


def _kill_group(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=5)


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """In the main thread, SIGTERM raises while Chromium prints, so that it is killed and the work folder removed
    (Python's default would end the process on the spot, leaving both)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise _Stopped("stopped (SIGTERM) while Chromium printed the pack: nothing was written")

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _remove_left_behind() -> None:
    """Remove the work folders of prints whose process is gone (killed outright, SIGKILL)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_WORK_PREFIX}*-*"):
        pid = folder.name.removeprefix(_WORK_PREFIX).partition("-")[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _last_line(stderr: str) -> str:
    """Chromium's last line of output, which says why it stopped (its earlier lines are start-up noise)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
