"""The pytest plugin of the conformance kit: a report header and fixtures for a connector's own tests.

Loaded automatically by pytest through benefits' ``pytest11`` entry point (disable it with
``-p no:benefits``). Nothing heavy is imported until a fixture is used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from benefits.plugins.connector import Connector
    from benefits.register import Register


def pytest_report_header(config: pytest.Config) -> str:
    """Say which benefits the conformance tests run against."""
    from benefits import __version__

    return f"benefits {__version__} (connector conformance kit: benefits.testing)"


@pytest.fixture(scope="session")
def benefits_register() -> Register:
    """The demo register that ships with benefits, loaded once per session."""
    from benefits.testing.suite import load_test_register

    return load_test_register()


@pytest.fixture
def benefits_connector(benefits_register: Register) -> Callable[..., Connector]:
    """Build a connector as the sync would: ``benefits_connector(AcmeConnector, {"metric": "x"}, as_of=date)``.

    Keyword arguments: ``as_of`` (default today), ``register`` or ``register_path`` (default the
    demo register) and ``name`` (default ``"test"``). Invalid settings raise pydantic's ValidationError.
    """
    from benefits.testing.suite import build_connector

    def make(
        connector_cls: type[Connector],
        settings: Mapping[str, Any] | None = None,
        *,
        as_of: dt.date | None = None,
        register: Register | None = None,
        register_path: str | Path | None = None,
        name: str = "test",
    ) -> Connector:
        if register is None and register_path is None:
            register = benefits_register
        return build_connector(
            connector_cls, settings, register=register, register_path=register_path, as_of=as_of, name=name
        )

    return make
