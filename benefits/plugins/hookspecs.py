"""Hook specifications: the whole plugin API of benefits, in one file.

The pluggy project name and the entry-point group are both ``benefits``. Hooks are called
with keyword arguments only, so an implementation may accept fewer arguments than declared.
Every hook here is documented in docs/plugins.md (a test keeps the two in step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

    from benefits.plugins.connector import Connector
    from benefits.register import Register

PROJECT = "benefits"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_connectors() -> list[type[Connector]]:
    """Return the connector classes this plugin adds; each class has a unique ``type`` name."""
    raise NotImplementedError


@hookspec
def register_expectations(register: Register) -> list[Expectation]:
    """Return extra row-level GX expectations (on the typed batch frame) that every batch must meet."""
    raise NotImplementedError
