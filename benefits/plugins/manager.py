"""The plugin manager: built-in plugins, installed entry points and the connector registry."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from dataclasses import dataclass
from functools import cache

import pluggy

from benefits.errors import ConfigError
from benefits.plugins import hookspecs
from benefits.plugins.api_version import DECLARATION, ApiCheck, check_plugin, check_unimportable
from benefits.plugins.connector import Connector

DEFAULT_PLUGINS = (
    "benefits.plugins.demo",
    "benefits.plugins.csv_files",
    "benefits.plugins.sql_query",
    "benefits.plugins.http_json",
)


@cache
def plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager with built-in plugins and installed entry points loaded.

    ``BENEFITS_LOAD_PLUGINS`` (comma-separated names) restricts which installed plugins load;
    set it to an empty string to load none. An installed plugin that targets another major version
    of the plugin API (:func:`api_checks`) is blocked, so pluggy never registers it.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)
    for check in api_checks():
        if not check.loaded:
            manager.set_blocked(check.plugin)
    names = _allowed()
    if names is None:
        manager.load_setuptools_entrypoints(hookspecs.PROJECT)
    else:
        for name in names:
            manager.load_setuptools_entrypoints(hookspecs.PROJECT, name=name)
    manager.check_pending()
    return manager


@cache
def api_checks() -> tuple[ApiCheck, ...]:
    """The plugin API verdict on each installed plugin that ``BENEFITS_LOAD_PLUGINS`` lets load, by entry point.

    Loads each entry point (importing its module), as pluggy then does for those it registers; one
    that cannot be imported is refused too.
    """
    names = _allowed()
    checks: dict[str, ApiCheck] = {}
    for dist in importlib.metadata.distributions():
        for entry_point in dist.entry_points:
            if entry_point.group != hookspecs.PROJECT or entry_point.name in checks:
                continue
            if names is None or entry_point.name in names:
                try:
                    plugin = entry_point.load()
                except Exception as exc:  # noqa: BLE001 - a plugin that cannot be imported is refused in one line
                    checks[entry_point.name] = check_unimportable(entry_point.name, entry_point.value, dist, exc)
                else:
                    checks[entry_point.name] = check_plugin(entry_point.name, plugin, dist)
    return tuple(checks.values())


def plugin_problems() -> list[str]:
    """One line per installed plugin not loaded, or loaded with a warning, for its plugin API version."""
    return [check.problem for check in api_checks() if check.problem]


def _allowed() -> list[str] | None:
    """The entry-point names ``BENEFITS_LOAD_PLUGINS`` names, None when it is not set (load every plugin)."""
    allowed = os.environ.get("BENEFITS_LOAD_PLUGINS")
    return None if allowed is None else [n for n in (n.strip() for n in allowed.split(",")) if n]


def connector_types() -> dict[str, type[Connector]]:
    """Every connector class offered by a loaded plugin, by type name."""
    types: dict[str, type[Connector]] = {}
    for classes in plugin_manager().hook.register_connectors():
        for cls in classes:
            types[cls.type] = cls
    return types


def connector_class(type_name: str) -> type[Connector]:
    """The connector class for ``type_name``, or a ConfigError listing the known types."""
    types = connector_types()
    if type_name not in types:
        known = ", ".join(sorted(types)) or "none"
        refused = "".join(f"; {check.problem}" for check in api_checks() if not check.loaded)
        raise ConfigError(f"unknown connector type {type_name!r} (installed: {known}){refused}")
    return types[type_name]


@dataclass(frozen=True)
class PluginInfo:
    """What `benefits plugins` shows for one plugin."""

    name: str
    version: str
    connectors: list[str]
    hooks: list[str]
    plugin_api: str | None = hookspecs.PLUGIN_API_VERSION
    """The plugin API version the plugin declares (a built-in one: this benefits'); None when it declares none."""


def plugins() -> list[PluginInfo]:
    """Name, version, connector types, implemented hooks and plugin API version of every loaded plugin."""
    manager = plugin_manager()
    distributions = {id(plugin): dist for plugin, dist in manager.list_plugin_distinfo()}
    infos = []
    for name, plugin in manager.list_name_plugin():
        if manager.is_blocked(name):  # a plugin for another plugin API: api_checks() says why
            continue
        dist = distributions.get(id(plugin))
        hooks = sorted(h.name for h in manager.get_hookcallers(plugin) or [])
        classes = plugin.register_connectors() if hasattr(plugin, "register_connectors") else []
        version = dist.version if dist else _builtin_version()
        api = getattr(plugin, DECLARATION, None) if dist else hookspecs.PLUGIN_API_VERSION
        infos.append(PluginInfo(name, version, sorted(c.type for c in classes), hooks, api))
    return infos


def _builtin_version() -> str:
    from benefits import __version__

    return __version__
