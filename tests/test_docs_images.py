"""Every image README.md and docs/*.md show exists in the repository, and stays small.

The screenshots in docs/images/ are written from the demo portfolio by scripts/walkthrough_screenshots.py
(docs/walkthrough.md says how); a slow browser test runs it into a temporary folder."""

from __future__ import annotations

import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img[^>]*\ssrc=\"([^\"]+)\"")
MAX_BYTES = 250_000


def _images(page: Path) -> list[str]:
    return [a or b for a, b in IMAGE.findall(page.read_text(encoding="utf-8")) if "://" not in (a or b)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_image_a_page_shows_exists_and_is_small(page: Path) -> None:
    for image in _images(page):
        path = (page.parent / image).resolve()
        assert path.is_file(), f"{page.relative_to(ROOT)}: no image {image}"
        assert path.stat().st_size < MAX_BYTES, f"{page.relative_to(ROOT)}: {image} is over {MAX_BYTES} bytes"


def test_the_walkthrough_shows_the_screenshots() -> None:
    assert len(_images(ROOT / "docs" / "walkthrough.md")) >= 3


@pytest.mark.slow
@pytest.mark.browser
def test_the_script_regenerates_every_screenshot_the_walkthrough_shows(tmp_path: Path) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{chromium} is missing (CI must provide it: apt-get install chromium chromium-driver)")
        pytest.skip("chromium not installed: apt-get install chromium chromium-driver")
    script = ROOT / "scripts" / "walkthrough_screenshots.py"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shown = {Path(image).name for image in _images(ROOT / "docs" / "walkthrough.md")}
    assert shown and {path.name for path in tmp_path.iterdir()} == shown
    for name in shown:
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < MAX_BYTES, name
        width, height = struct.unpack(">II", data[16:24])  # the PNG's IHDR
        assert 600 <= width <= 1100 and height >= 300, (name, width, height)
        assert f"{name}: " in done.stdout  # its size is said
