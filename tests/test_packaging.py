"""The wheel installs only `benefits` at the top level of site-packages; the Dash app ships inside it.

The top-level ``dashboards/`` folder of the checkout is the subpackage ``benefits.dashboards``
(``benefits/dashboards`` links to it). These tests build the real wheel offline (hatchling, no
isolation), read its names, and run the dashboard from the unpacked wheel alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from benefits.store import db, migrate

ROOT = Path(__file__).resolve().parent.parent
APP_FROM_WHEEL = """
import json, sys
import benefits
from benefits.dashboards.app import create_app

client = create_app(sys.argv[1]).server.test_client()
index = client.get("/")
bundle = client.get("/assets/plotly-partial.min.js")
print(json.dumps({"benefits": benefits.__file__, "index": index.status_code, "page": index.get_data(as_text=True),
                  "bundle": bundle.status_code, "bundle_bytes": len(bundle.get_data()),
                  "top_level_dashboards": "dashboards" in sys.modules}))
"""


def _build(target: str, source: Path, out: Path) -> Path:
    """Build ``target`` (wheel or sdist) of the project at ``source`` with the installed hatchling, offline."""
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "--target", target, "--directory", str(out)],
        cwd=source,
        check=True,
        capture_output=True,
        timeout=120,
    )
    (built,) = out.glob("benefits-*.whl" if target == "wheel" else "benefits-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from this checkout."""
    return _build("wheel", ROOT, tmp_path_factory.mktemp("wheel"))


def _check_top_level(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"benefits"}
    assert "benefits/dashboards/app.py" in names
    assert "benefits/dashboards/pages/portfolio.py" in names
    assert "benefits/dashboards/assets/plotly-partial.min.js" in names
    assert not [n for n in names if "plotly-bundle" in n or "__pycache__" in n]


def test_the_wheel_installs_only_benefits_at_the_top_level(wheel: Path) -> None:
    _check_top_level(wheel)


def test_a_wheel_built_from_the_sdist_is_the_same_shape(tmp_path: Path) -> None:
    """``python -m build`` builds the sdist first, then the wheel from it: the link is a folder there."""
    sdist = _build("sdist", ROOT, tmp_path)
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path / "src", filter="data")
    (unpacked,) = (tmp_path / "src").iterdir()
    _check_top_level(_build("wheel", unpacked, tmp_path / "out"))


def test_the_dashboard_runs_from_the_unpacked_wheel_and_serves_the_partial_plotly_bundle(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "GX_ANALYTICS_ENABLED": "false"}
    url = f"sqlite:///{tmp_path / 'benefits.db'}"
    migrate.upgrade(db.make_engine(url))  # an empty store: the app never creates one
    done = subprocess.run(
        [sys.executable, "-c", APP_FROM_WHEEL, url],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(report["benefits"]).is_relative_to(site)  # the wheel's copy, not this checkout
    assert report["index"] == 200 and "/assets/plotly-partial.min.js" in report["page"]
    assert report["bundle"] == 200 and report["bundle_bytes"] > 1_000_000
    assert not report["top_level_dashboards"]


def test_in_the_checkout_the_dashboard_package_is_the_top_level_dashboards_folder() -> None:
    import benefits.dashboards

    assert Path(benefits.dashboards.__file__).resolve().parent == ROOT / "dashboards"
