"""Every image README.md and docs/*.md show exists in the repository, and stays small.

The screenshots in docs/images/ are written by the browser tests (docs/walkthrough.md says which);
copy a fresh one from test-artifacts/ to refresh it."""

from __future__ import annotations

import re
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
