"""The dashboard's pages come with its app: ``create_app`` registers every page itself, every time.

Dash Pages registers a page when its module runs, and only once an app exists; a page module
imported before any app (by a test, say) fails. These tests start a fresh interpreter, so no
earlier app or import can have registered a page for them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benefits.store import db, migrate

PAGES = Path(__file__).resolve().parent.parent / "dashboards" / "pages"
TWO_APPS = """
import json, sys
import dash
from benefits.dashboards.app import create_app

seen = []
for _ in range(2):
    client = create_app(sys.argv[1]).server.test_client()
    paths = {page["module"]: page["path"] for page in dash.page_registry.values()}
    answers = {path: client.get(path).status_code for path in [*paths.values(), "/nowhere"] if path != "/404"}
    seen.append({"paths": paths, "answers": answers})
print(json.dumps(seen))
"""


def test_each_app_registers_every_page_in_a_fresh_process(sqlite_url: str) -> None:
    migrate.upgrade(db.make_engine(sqlite_url))  # an empty store: the app never creates one
    done = subprocess.run(
        [sys.executable, "-c", TWO_APPS, sqlite_url], capture_output=True, text=True, check=True, timeout=120
    )
    first, second = json.loads(done.stdout)
    page_files = {f"benefits.dashboards.pages.{p.stem}" for p in PAGES.glob("*.py") if not p.name.startswith("_")}
    assert set(first["paths"]) == page_files and first == second
    assert first["paths"]["benefits.dashboards.pages.finance"] == "/finance"
    assert first["answers"].pop("/nowhere") == 404
    assert set(first["answers"].values()) == {200}
