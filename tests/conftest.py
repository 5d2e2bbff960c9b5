"""Shared fixtures: a real SQLite file and a real PostgreSQL database per test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

ROOT = Path(__file__).resolve().parents[1]
DEMO_CONFIG = ROOT / "config"
POSTGRES_URL = os.environ.get("BENEFITS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _unavailable(reason: str) -> None:
    """Fail in CI (services must be there), skip elsewhere, saying why."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(f"{reason}; skipped outside CI")


def postgres_admin() -> Engine:
    """An engine on the server's admin database that runs each statement on its own (CREATE/DROP DATABASE) and
    opens a new connection each time: tests/test_faults.py restarts the server in CI, which ends pooled ones."""
    return create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on the real server, dropped afterwards."""
    admin = postgres_admin()
    name = f"benefits_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means the server is not usable
        _unavailable(f"PostgreSQL at {POSTGRES_URL} is not reachable: {str(exc).splitlines()[0]}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A new SQLite file."""
    return f"sqlite:///{tmp_path / 'benefits.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test against a SQLite file and against the real PostgreSQL server (emptied after)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'benefits.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = create_engine(url)
    _drop_everything(engine)
    engine.dispose()


def _drop_everything(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def demo_config(tmp_path: Path) -> Path:
    """A writable copy of the demo configuration."""
    target = tmp_path / "config"
    target.mkdir()
    for source in DEMO_CONFIG.glob("*.yaml"):
        (target / source.name).write_text(source.read_text())
    return target
