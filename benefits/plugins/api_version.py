"""The plugin API version an installed plugin declares, and whether the plugin manager loads it.

A plugin declares the plugin API it was written for in the module its entry point names:
``BENEFITS_PLUGIN_API = "1.0"`` (text, ``MAJOR.MINOR``). The manager checks it before
registering the plugin with pluggy:

- the same major version as :data:`~benefits.plugins.hookspecs.PLUGIN_API_VERSION`: loaded (a
  newer minor version than this benefits offers is loaded with a warning, since a hook or
  argument it needs may be missing);
- another major version, or a declaration that is not ``MAJOR.MINOR`` text: not loaded;
- no declaration (a plugin written before the plugin API was versioned): loaded with a warning;
- a module that cannot be imported: not loaded (:func:`check_unimportable`).

Each verdict that is not a plain "loaded" carries one line naming the plugin, its distribution and
both versions, which ``benefits plugins`` and ``benefits sync`` show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import Distribution
from typing import Any

from benefits import __version__
from benefits.plugins.hookspecs import PLUGIN_API_VERSION

#: The module attribute a plugin declares its plugin API version with.
DECLARATION = "BENEFITS_PLUGIN_API"
_VERSION = re.compile(r"^(\d+)\.(\d+)$")


@dataclass(frozen=True)
class ApiCheck:
    """The verdict on one installed plugin's declared plugin API version."""

    plugin: str
    """The plugin's entry-point name."""
    declared: str | None
    """What it declares (as text), None when it declares nothing."""
    loaded: bool
    problem: str | None = None
    """One line saying what is wrong and what to do; None when the plugin targets this API."""


def check_plugin(name: str, plugin: Any, dist: Distribution | None) -> ApiCheck:
    """The verdict on ``plugin`` (the loaded entry-point object) named ``name`` from ``dist``."""
    declared = getattr(plugin, DECLARATION, None)
    who = f"plugin {name} ({_distribution(dist)})"
    offered = f"benefits {__version__} offers plugin API {PLUGIN_API_VERSION}"
    if declared is None:
        module = getattr(plugin, "__name__", name)
        return ApiCheck(
            name,
            None,
            True,
            f"{who} declares no plugin API version: loaded as if it targets {PLUGIN_API_VERSION} "
            f'({offered}); add `{DECLARATION} = "{PLUGIN_API_VERSION}"` to its module {module}',
        )
    parsed = parse_version(declared)
    if parsed is None:
        return ApiCheck(
            name,
            str(declared),
            False,
            f'{who} not loaded: its {DECLARATION} is {declared!r}, not MAJOR.MINOR text such as "{PLUGIN_API_VERSION}"',
        )
    major, minor = parsed
    current_major, current_minor = supported()
    if major != current_major:
        return ApiCheck(
            name,
            declared,
            False,
            f"{who} not loaded: it targets plugin API {declared}, {offered}; "
            f"install a release of it made for plugin API {current_major}.x"
            + (" (or upgrade benefits)" if major > current_major else ""),
        )
    if minor > current_minor:
        return ApiCheck(
            name,
            declared,
            True,
            f"{who} targets plugin API {declared}, {offered}: loaded, but a hook or argument it relies on may be "
            "missing; upgrade benefits",
        )
    return ApiCheck(name, declared, True)


def check_unimportable(name: str, target: str, dist: Distribution | None, exc: Exception) -> ApiCheck:
    """The verdict on a plugin whose entry point cannot be imported (it may be written for another
    plugin API, or lack a dependency): not loaded, rather than stopping every command."""
    said = (str(exc).strip().splitlines() or [""])[0]
    return ApiCheck(
        name,
        None,
        False,
        f"plugin {name} ({_distribution(dist)}) not loaded: importing {target} failed: {type(exc).__name__}: {said}",
    )


def parse_version(value: Any) -> tuple[int, int] | None:
    """``(major, minor)`` of ``"MAJOR.MINOR"`` text, None for anything else (a float such as 1.0 included)."""
    match = _VERSION.match(value) if isinstance(value, str) else None
    return (int(match.group(1)), int(match.group(2))) if match else None


def supported() -> tuple[int, int]:
    """``(major, minor)`` of the plugin API this benefits offers."""
    major, minor = PLUGIN_API_VERSION.split(".")
    return int(major), int(minor)


def _distribution(dist: Distribution | None) -> str:
    if dist is None:
        return "no distribution"
    return f"{dist.metadata['Name']} {dist.version}"
