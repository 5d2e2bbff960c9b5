"""``benefits plugins new NAME``: write a ready connector plugin package, as Datasette's plugin template does.

The package ``benefits-<name>/`` holds a pyproject.toml (build system, the ``benefits`` entry point),
one module with a settings class (secrets typed ``SecretStr``) and a connector built on the
framework's helpers (``rest``: :class:`benefits.plugins.http.RestConnector`; ``sql``: the built-in
sql connector; ``file``: the built-in csv connector), the one-line conformance test, a
``conftest.py`` with a stand-in source so that the kit passes as generated, a README and a CI
workflow. Placeholders in the templates are ``__DIST__``, ``__MODULE__``, ``__TYPE__``,
``__CLASS__`` and ``__PREFIX__``.
"""

from __future__ import annotations

import re
from pathlib import Path

from benefits.errors import BenefitsError

KINDS = ("rest", "sql", "file")
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

PYPROJECT = """\
[build-system]
requires = ["hatchling>=1.21"]
build-backend = "hatchling.build"

[project]
name = "__DIST__"
version = "0.1.0"
description = "A benefits connector plugin: the `__TYPE__` connector."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["benefits"]  # pin the plugin API you test against, e.g. "benefits>=0.1,<0.2"

[project.optional-dependencies]
test = ["pytest>=8"]

# This table makes the package a benefits plugin: `benefits plugins` lists it by this name.
[project.entry-points.benefits]
__TYPE__ = "__MODULE__"

[tool.hatch.build]
dev-mode-dirs = ["."]  # `pip install -e .` puts this folder on sys.path (no `editables` package needed)

[tool.hatch.build.targets.wheel]
packages = ["__MODULE__"]

[tool.pytest.ini_options]
testpaths = ["tests"]
"""

TEST = """\
from __MODULE__ import __CLASS__, TEST_SETTINGS
from benefits.testing import get_connector_tests

Test__CLASS__ = get_connector_tests(__CLASS__, TEST_SETTINGS)
"""

WORKFLOW = """\
name: test
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - run: pip install -e '.[test]'
      - run: pytest
"""

README = """\
# __DIST__

A [benefits](https://github.com/) connector plugin: the `__TYPE__` connector (__WHAT__).

```
pip install -e '.[test]'   # then `benefits plugins` lists: __TYPE__ 0.1.0  connectors: __TYPE__
pytest                     # the conformance kit, against the stand-in source in tests/conftest.py
```

In `config/connectors.yaml`:

```yaml
connectors:
  - name: __TYPE__
    type: __TYPE__
    settings:
__YAML__
```

`tests/conftest.py` stands in for the real source so that the kit passes as generated; set
__ENV__ in the environment (your CI's secrets) to run the same tests against a real one.
Then replace the stand-in's sample data with your source's and adapt the connector: see
docs/plugins.md in benefits.
"""

MODULES = {
    "rest": '''\
"""The `__TYPE__` connector: observations from a JSON REST API with a bearer token and cursor pages."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import SecretStr

from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector
from benefits.plugins.http import CursorPaginator, RestConnector, RestSettings

__version__ = "0.1.0"

#: What the conformance test (tests/test___MODULE__.py) syncs: `${NAME}` is filled from the environment.
TEST_SETTINGS = {"base_url": "${__PREFIX___BASE_URL}", "token": "${__PREFIX___TOKEN}"}


class __CLASS__Settings(RestSettings):
    """`base_url`, `timeout`, `retries` and `backoff` come from RestSettings."""

    token: SecretStr  # secret: masked in every error, log and stored sync run


class __CLASS__(RestConnector):
    """Weekly observations; only those updated since the bookmark are fetched (`updated_since`)."""

    type: ClassVar[str] = "__TYPE__"
    Settings = __CLASS__Settings
    settings: __CLASS__Settings
    path = "/v1/observations"
    records_path = "data"
    paginator = CursorPaginator("meta.next_cursor", param="cursor")

    def record(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"metric": item["metric"], "period": item["week"], "value": item["value"], "unit": item["unit"],
                "source_ref": f"__TYPE__:{item['id']}"}


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The `__TYPE__` connector."""
    return [__CLASS__]
''',
    "sql": '''\
"""The `__TYPE__` connector: observations from a database table, on the built-in sql connector."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector, SyncContext
from benefits.plugins.sql_query import SqlConnector, SqlSettings

__version__ = "0.1.0"

#: What the conformance test (tests/test___MODULE__.py) syncs: `${NAME}` is filled from the environment.
TEST_SETTINGS = {"url": "${__PREFIX___DATABASE_URL}"}

QUERY = "SELECT metric, period, value, unit FROM observations WHERE period >= :since ORDER BY period"


class __CLASS__Settings(BaseModel):
    """Where the database is; the query is the connector's."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, description="A SQLAlchemy URL, e.g. postgresql+psycopg://reader@db/erp.")
    password: SecretStr | None = None  # secret: masked in every error, log and stored sync run


class __CLASS__(SqlConnector):
    """Weekly observations; only periods from the bookmark on are read."""

    type: ClassVar[str] = "__TYPE__"
    Settings = __CLASS__Settings
    incremental = True

    def __init__(self, name: str, settings: __CLASS__Settings, context: SyncContext) -> None:
        since = (context.bookmark or dt.date.min).isoformat()
        query = SqlSettings(url=settings.url, password=settings.password, query=QUERY, params={"since": since})
        super().__init__(name, query, context)


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The `__TYPE__` connector."""
    return [__CLASS__]
''',
    "file": '''\
"""The `__TYPE__` connector: observations from exported CSV or Excel files, on the built-in csv connector."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from benefits.plugins import hookimpl
from benefits.plugins.connector import ColumnMapping, Connector, SyncContext
from benefits.plugins.csv_files import CsvConnector, CsvSettings

__version__ = "0.1.0"

#: What the conformance test (tests/test___MODULE__.py) syncs: `${NAME}` is filled from the environment.
TEST_SETTINGS = {"path": "${__PREFIX___EXPORTS}"}


class __CLASS__Settings(BaseModel):
    """Where the exports are; their layout is the connector's."""

    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, description="A file or a glob, e.g. exports/*.csv.")


class __CLASS__(CsvConnector):
    """One record per row of the exports: columns Metric, Week, Amount, Currency."""

    type: ClassVar[str] = "__TYPE__"
    Settings = __CLASS__Settings

    def __init__(self, name: str, settings: __CLASS__Settings, context: SyncContext) -> None:
        mapping = ColumnMapping(metric="Metric", period="Week", value="Amount", unit="Currency")
        super().__init__(name, CsvSettings(path=settings.path, mapping=mapping), context)


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The `__TYPE__` connector."""
    return [__CLASS__]
''',
}

SAMPLE = """\
#: Sample observations of a metric of benefits' demo register, which the kit validates against.
WEEKS = [("2026-01-05", 41250), ("2026-01-12", 40980.5), ("2026-01-19", 40410)]
"""

CONFTESTS = {
    "rest": '''\
"""A stand-in for the API, used unless __PREFIX___BASE_URL is set (to a sandbox, say)."""

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

'''
    + SAMPLE
    + '''TOKEN = "stand-in-token"
ITEMS = [{"id": n, "metric": "ledger.it_opex_weekly", "week": week, "value": value, "unit": "GBP"}
         for n, (week, value) in enumerate(WEEKS)]


class StandIn(BaseHTTPRequestHandler):
    """/v1/observations: a bearer token, two items a page, `updated_since` and `cursor` query parameters."""

    def do_GET(self):
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        if parts.path != "/v1/observations":
            return self.reply(404, {"error": "not found"})
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self.reply(401, {"error": "invalid token"})
        chosen = [item for item in ITEMS if item["week"] >= query.get("updated_since", "")]
        start = int(query.get("cursor", 0))
        more = start + 2 < len(chosen)
        self.reply(200, {"data": chosen[start:start + 2], "meta": {"next_cursor": str(start + 2) if more else None}})

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session", autouse=True)
def stand_in():
    if os.environ.get("__PREFIX___BASE_URL"):
        yield
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ["__PREFIX___BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    os.environ["__PREFIX___TOKEN"] = TOKEN
    yield
    server.shutdown()
    del os.environ["__PREFIX___BASE_URL"], os.environ["__PREFIX___TOKEN"]
''',
    "sql": '''\
"""A stand-in database (a SQLite file), used unless __PREFIX___DATABASE_URL is set."""

import os
import sqlite3

import pytest

'''
    + SAMPLE
    + """

@pytest.fixture(scope="session", autouse=True)
def stand_in(tmp_path_factory):
    if os.environ.get("__PREFIX___DATABASE_URL"):
        yield
        return
    path = tmp_path_factory.mktemp("db") / "source.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE observations (metric TEXT, period TEXT, value REAL, unit TEXT)")
        db.executemany("INSERT INTO observations VALUES ('ledger.it_opex_weekly', ?, ?, 'GBP')", WEEKS)
    os.environ["__PREFIX___DATABASE_URL"] = f"sqlite:///{path}"
    yield
    del os.environ["__PREFIX___DATABASE_URL"]
""",
    "file": '''\
"""A stand-in export (a CSV file), used unless __PREFIX___EXPORTS is set."""

import csv
import os

import pytest

'''
    + SAMPLE
    + """

@pytest.fixture(scope="session", autouse=True)
def stand_in(tmp_path_factory):
    if os.environ.get("__PREFIX___EXPORTS"):
        yield
        return
    path = tmp_path_factory.mktemp("exports") / "ledger.csv"
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["Metric", "Week", "Amount", "Currency"])
        writer.writerows(["ledger.it_opex_weekly", week, value, "GBP"] for week, value in WEEKS)
    os.environ["__PREFIX___EXPORTS"] = str(path)
    yield
    del os.environ["__PREFIX___EXPORTS"]
""",
}

USAGE = {
    "rest": (
        "a JSON REST API with a bearer token and cursor pages",
        "      base_url: https://api.example.com\n      token: ${__PREFIX___TOKEN}",
        "`__PREFIX___BASE_URL` and `__PREFIX___TOKEN`",
    ),
    "sql": (
        "a database table read with SQL",
        "      url: postgresql+psycopg://reader@db.internal/erp\n      password: ${__PREFIX___PASSWORD}",
        "`__PREFIX___DATABASE_URL`",
    ),
    "file": ("exported CSV or Excel files", "      path: exports/*.csv", "`__PREFIX___EXPORTS`"),
}


def package_files(name: str, kind: str) -> dict[str, str]:
    """The files of the package for connector type ``name`` of ``kind``, by path within the package folder."""
    if not NAME.match(name):
        raise BenefitsError(
            f"plugin name {name!r}: use lowercase letters and digits, words joined by '-' (e.g. skillscloud)"
        )
    if kind not in KINDS:
        raise BenefitsError(f"--kind {kind!r}: choose one of {', '.join(KINDS)}")
    module = f"benefits_{name.replace('-', '_')}"
    what, yaml, env = USAGE[kind]
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README.replace("__WHAT__", what).replace("__YAML__", yaml).replace("__ENV__", env),
        f"{module}/__init__.py": MODULES[kind],
        f"tests/test_{module}.py": TEST,
        "tests/conftest.py": CONFTESTS[kind],
        ".github/workflows/test.yml": WORKFLOW,
    }
    words = {
        "__DIST__": f"benefits-{name}",
        "__MODULE__": module,
        "__TYPE__": name,
        "__CLASS__": "".join(part.capitalize() for part in name.split("-")) + "Connector",
        "__PREFIX__": name.replace("-", "_").upper(),
    }
    for token, word in words.items():
        files = {path.replace(token, word): text.replace(token, word) for path, text in files.items()}
    return files


def write_package(name: str, kind: str, directory: Path) -> Path:
    """Write the package into ``directory/benefits-<name>`` (which must not exist) and return that folder."""
    files = package_files(name, kind)
    root = directory / f"benefits-{name}"
    if root.exists():
        raise BenefitsError(f"{root} already exists: choose another name or directory")
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root
