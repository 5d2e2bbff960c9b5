"""Hook specifications: the whole plugin API of benefits, in one file.

The pluggy project name and the entry-point group are both ``benefits``. Hooks are called
with keyword arguments only, so an implementation may accept fewer arguments than declared.
Every hook here is documented in docs/plugins.md (a test keeps the two in step), and
:data:`PLUGIN_API_VERSION` versions them as a whole.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

    from benefits.plugins.connector import Connector
    from benefits.register import Register

PROJECT = "benefits"

PLUGIN_API_VERSION = "1.0"
"""The version of this plugin API, ``MAJOR.MINOR``. A minor version only adds (hooks, optional
arguments, helpers); a major version may remove what an earlier one deprecated. A plugin declares
the version it was written for as ``BENEFITS_PLUGIN_API = "1.0"`` in the module its entry point
names; the plugin manager does not load a plugin written for another major version."""

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
