"""The plugin manager: built-in plugins, installed entry points and the connector registry."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from functools import cache

import pluggy

from benefits.errors import ConfigError
from benefits.plugins import hookspecs
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
    set it to an empty string to load none.
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        manager.register(importlib.import_module(module_name), name=module_name)
    allowed = os.environ.get("BENEFITS_LOAD_PLUGINS")
    if allowed is None:
        manager.load_setuptools_entrypoints(hookspecs.PROJECT)
    else:
        for name in filter(None, (n.strip() for n in allowed.split(","))):
            manager.load_setuptools_entrypoints(hookspecs.PROJECT, name=name)
    manager.check_pending()
    return manager


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
        raise ConfigError(f"unknown connector type {type_name!r} (installed: {known})")
    return types[type_name]


@dataclass(frozen=True)
class PluginInfo:
    """What `benefits plugins` shows for one plugin."""

    name: str
    version: str
    connectors: list[str]
    hooks: list[str]


def plugins() -> list[PluginInfo]:
    """Name, version, connector types and implemented hooks of every loaded plugin."""
    manager = plugin_manager()
    distributions = {id(plugin): dist for plugin, dist in manager.list_plugin_distinfo()}
    infos = []
    for name, plugin in manager.list_name_plugin():
        dist = distributions.get(id(plugin))
        hooks = sorted(h.name for h in manager.get_hookcallers(plugin) or [])
        classes = plugin.register_connectors() if hasattr(plugin, "register_connectors") else []
        version = dist.version if dist else _builtin_version()
        infos.append(PluginInfo(name, version, sorted(c.type for c in classes), hooks))
    return infos


def _builtin_version() -> str:
    from benefits import __version__

    return __version__
