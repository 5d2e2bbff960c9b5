"""The stand-in sources of the packages ``benefits plugins new`` writes: each kind's ``tests/conftest.py``.

A stand-in (a local HTTP server, a SQLite file, a CSV file) sets the ``${NAME}`` variables the
package's ``TEST_SETTINGS`` use, unless they are set already, so that the conformance kit passes as
generated and runs against a real source once they are. Each also offers the ``benefits_restate``
fixture of the kit's restatement test (:mod:`benefits.testing.restatement`). Placeholders as in
:mod:`benefits.plugins.scaffold`.
"""

from __future__ import annotations

SAMPLE = """\
#: Sample observations of a metric of benefits' demo register, which the kit validates against.
WEEKS = [("2026-01-05", 41250.0), ("2026-01-12", 40980.5), ("2026-01-19", 40410.0)]
"""

CONFTESTS = {
    "rest": '''\
"""A stand-in for the API, used unless __PREFIX___BASE_URL is set (to a sandbox, say)."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

'''
    + SAMPLE
    + '''TOKEN = "stand-in-token"
#: The API's items; `updated` is the date an item last changed, which `updated_since` filters on.
ITEMS: list[dict[str, Any]] = [
    {"id": n, "metric": "ledger.it_opex_weekly", "week": week, "value": value, "unit": "GBP", "updated": week}
    for n, (week, value) in enumerate(WEEKS)
]


class StandIn(BaseHTTPRequestHandler):
    """/v1/observations: a bearer token, two items a page, `updated_since` and `cursor` query parameters."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        if parts.path != "/v1/observations":
            self.reply(404, {"error": "not found"})
        elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self.reply(401, {"error": "invalid token"})
        else:
            chosen = [item for item in ITEMS if item["updated"] >= query.get("updated_since", "")]
            start = int(query.get("cursor", 0))
            more = start + 2 < len(chosen)
            page = {"data": chosen[start : start + 2], "meta": {"next_cursor": str(start + 2) if more else None}}
            self.reply(200, page)

    def reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="session", autouse=True)
def stand_in() -> Iterator[bool]:
    """Serve the stand-in API, unless the environment names a real one; True when standing in."""
    if os.environ.get("__PREFIX___BASE_URL"):
        yield False
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["__PREFIX___BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    os.environ["__PREFIX___TOKEN"] = TOKEN
    yield True
    server.shutdown()
    del os.environ["__PREFIX___BASE_URL"], os.environ["__PREFIX___TOKEN"]


@pytest.fixture
def benefits_restate(stand_in: bool) -> Iterator[Callable[[dict[str, Any]], None]]:
    """For the kit's restatement test: the API corrects the value of a record's week today."""
    if not stand_in:
        pytest.skip("restating needs the stand-in API")
    saved = [dict(item) for item in ITEMS]

    def restate(record: dict[str, Any]) -> None:
        item = next(item for item in ITEMS if item["week"] == record["period"])
        item.update(value=item["value"] + 1, updated=dt.date.today().isoformat())

    yield restate
    ITEMS[:] = saved
''',
    "sql": '''\
"""A stand-in database (a SQLite file), used unless __PREFIX___DATABASE_URL is set."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

'''
    + SAMPLE
    + '''

@pytest.fixture(scope="session", autouse=True)
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    """A SQLite file with the sample rows, unless the environment names a real database; its path when standing in."""
    if os.environ.get("__PREFIX___DATABASE_URL"):
        yield None
        return
    path = tmp_path_factory.mktemp("db") / "source.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE observations (metric TEXT, period TEXT, value REAL, unit TEXT, updated TEXT)")
        rows = [(week, value, week) for week, value in WEEKS]
        db.executemany("INSERT INTO observations VALUES ('ledger.it_opex_weekly', ?, ?, 'GBP', ?)", rows)
    os.environ["__PREFIX___DATABASE_URL"] = f"sqlite:///{path}"
    yield path
    del os.environ["__PREFIX___DATABASE_URL"]


@pytest.fixture
def benefits_restate(stand_in: Path | None) -> Iterator[Callable[[dict[str, Any]], None]]:
    """For the kit's restatement test: the database corrects the value of a record's period today."""
    if stand_in is None:
        pytest.skip("restating needs the stand-in database")
    path = stand_in

    def restate(record: dict[str, Any]) -> None:
        with sqlite3.connect(path) as db:
            change = "UPDATE observations SET value = value + 1, updated = ? WHERE period = ?"
            db.execute(change, (dt.date.today().isoformat(), record["period"]))

    yield restate
    with sqlite3.connect(path) as db:
        db.executemany("UPDATE observations SET value = ?, updated = ? WHERE period = ?", [(v, w, w) for w, v in WEEKS])
''',
    "file": '''\
"""A stand-in export (a CSV file), used unless __PREFIX___EXPORTS is set."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

'''
    + SAMPLE
    + '''

def write(path: Path, weeks: list[tuple[str, float]]) -> None:
    """The export as the source writes it."""
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["Metric", "Week", "Amount", "Currency"])
        writer.writerows(["ledger.it_opex_weekly", week, value, "GBP"] for week, value in weeks)


@pytest.fixture(scope="session", autouse=True)
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | None]:
    """A CSV export of the sample rows, unless the environment names real ones; its path when standing in."""
    if os.environ.get("__PREFIX___EXPORTS"):
        yield None
        return
    path = tmp_path_factory.mktemp("exports") / "ledger.csv"
    write(path, WEEKS)
    os.environ["__PREFIX___EXPORTS"] = str(path)
    yield path
    del os.environ["__PREFIX___EXPORTS"]


@pytest.fixture
def benefits_restate(stand_in: Path | None) -> Iterator[Callable[[dict[str, Any]], None]]:
    """For the kit's restatement test: the next export corrects the value of a record's week."""
    if stand_in is None:
        pytest.skip("restating needs the stand-in export")
    path = stand_in

    def restate(record: dict[str, Any]) -> None:
        write(path, [(week, value + 1 if week == record["period"] else value) for week, value in WEEKS])

    yield restate
    write(path, WEEKS)
''',
}
