"""``benefits plugins new NAME``: write a ready connector plugin package, as Datasette's plugin template does.

The package ``benefits-<name>/`` holds a pyproject.toml (build system, the ``benefits`` entry point),
one module with a settings class (secrets typed ``SecretStr``) and a connector built on the
framework's helpers (``rest``: :class:`benefits.plugins.http.RestConnector`; ``sql``: the built-in
sql connector; ``file``: the built-in csv connector), the one-line conformance test, a
``conftest.py`` with a stand-in source so that the kit passes as generated, a README and a CI
workflow. The module declares the plugin API it is written for (``BENEFITS_PLUGIN_API``), the
pyproject pins the first benefits release that offers it, and the package passes ``ruff check``
and ``mypy --strict`` as generated. Placeholders in the templates are ``__DIST__``, ``__MODULE__``,
``__TYPE__``, ``__CLASS__``, ``__PREFIX__``, ``__API__`` and ``__SINCE__``.
"""

from __future__ import annotations

import re
from pathlib import Path

from benefits import __version__
from benefits.errors import BenefitsError
from benefits.plugins.hookspecs import PLUGIN_API_VERSION
from benefits.plugins.stand_ins import CONFTESTS

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
# The first benefits release that offers plugin API __API__ (BENEFITS_PLUGIN_API in the module); no upper
# bound: benefits refuses, in one line, a plugin written for another major version of the plugin API.
dependencies = ["benefits>=__SINCE__"]

[project.optional-dependencies]
test = ["pytest>=8", "mypy>=1.10", "ruff>=0.5"]

# This table makes the package a benefits plugin: `benefits plugins` lists it by this name.
[project.entry-points.benefits]
__TYPE__ = "__MODULE__"

[tool.hatch.build]
dev-mode-dirs = ["."]  # `pip install -e .` puts this folder on sys.path (no `editables` package needed)

[tool.hatch.build.targets.wheel]
packages = ["__MODULE__"]

[tool.pytest.ini_options]
testpaths = ["tests"]

[tool.ruff]
line-length = 120

[tool.ruff.lint]
select = ["E", "F", "I", "UP", "B"]

[tool.mypy]
strict = true
plugins = ["pydantic.mypy"]
"""

TEST = """\
from benefits.testing import get_connector_tests

from __MODULE__ import TEST_SETTINGS, __CLASS__

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
      - run: ruff check . && ruff format --check . && mypy .
      - run: pytest
"""

README = """\
# __DIST__

A [benefits](https://github.com/) connector plugin: the `__TYPE__` connector (__WHAT__), written for
benefits' plugin API __API__ (`BENEFITS_PLUGIN_API` in `__MODULE__/__init__.py`).

```
pip install -e '.[test]'   # then `benefits plugins` lists: __TYPE__ 0.1.0  plugin API __API__  connectors: __TYPE__ ...
ruff check . && mypy .     # lint and types, as CI runs them
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

from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector
from benefits.plugins.http import CursorPaginator, RestConnector, RestSettings
from pydantic import SecretStr

__version__ = "0.1.0"
BENEFITS_PLUGIN_API = "__API__"  # the plugin API this plugin is written for: `benefits plugins` shows it

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
        return {
            "metric": item["metric"],
            "period": item["week"],
            "value": item["value"],
            "unit": item["unit"],
            "source_ref": f"__TYPE__:{item['id']}",
        }


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

from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector, SyncContext
from benefits.plugins.sql_query import SqlConnector, SqlSettings
from pydantic import BaseModel, ConfigDict, Field, SecretStr

__version__ = "0.1.0"
BENEFITS_PLUGIN_API = "__API__"  # the plugin API this plugin is written for: `benefits plugins` shows it

#: What the conformance test (tests/test___MODULE__.py) syncs: `${NAME}` is filled from the environment.
TEST_SETTINGS = {"url": "${__PREFIX___DATABASE_URL}"}

#: Rows updated since the bookmark, so that a restated old period is read again.
QUERY = "SELECT metric, period, value, unit FROM observations WHERE updated >= :since ORDER BY period"


class __CLASS__Settings(BaseModel):
    """Where the database is; the query is the connector's."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, description="A SQLAlchemy URL, e.g. postgresql+psycopg://reader@db/erp.")
    password: SecretStr | None = None  # secret: masked in every error, log and stored sync run


class __CLASS__(SqlConnector):
    """Weekly observations; only rows updated since the bookmark are read."""

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

from benefits.plugins import hookimpl
from benefits.plugins.connector import ColumnMapping, Connector, SyncContext
from benefits.plugins.csv_files import CsvConnector, CsvSettings
from pydantic import BaseModel, ConfigDict, Field

__version__ = "0.1.0"
BENEFITS_PLUGIN_API = "__API__"  # the plugin API this plugin is written for: `benefits plugins` shows it

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
        "__API__": PLUGIN_API_VERSION,
        "__SINCE__": ".".join(__version__.split(".")[:2]),
    }
    for token, word in words.items():
        files = {path.replace(token, word): text.replace(token, word) for path, text in files.items()}
    return files


def write_package(name: str, kind: str, directory: Path) -> Path:
    """Write the package into ``directory/benefits-<name>`` (which must not exist) and return that folder; when a
    file cannot be written, BenefitsError in one line and no folder is left (:func:`benefits.files.write_files`)."""
    from benefits.files import write_files

    files = package_files(name, kind)
    root = directory / f"benefits-{name}"
    if root.exists():
        raise BenefitsError(f"{root} already exists: choose another name or directory")
    write_files({root / path: text.encode("utf-8") for path, text in files.items()})
    return root
