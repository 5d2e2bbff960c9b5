"""The plugin manager: built-in plugins, installed entry points and the connector registry."""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import cast

import pluggy

from benefits.errors import ConfigError, shorten
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


FIX_PLUGIN = "fix or uninstall it, or leave it out with BENEFITS_LOAD_PLUGINS"


def answers(hook: str, **kwargs: object) -> tuple[dict[str, object], dict[str, str]]:
    """Each loaded plugin's answer to ``hook`` by plugin name, in the order pluggy's own call gives them, and
    per plugin whose implementation raised, one line naming it: a broken plugin is said in one line, never a
    traceback, and does not stop the others from answering."""
    found: dict[str, object] = {}
    problems: dict[str, str] = {}
    for impl in reversed(getattr(plugin_manager().hook, hook).get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:  # a wrapper around the others' answers gives none of its own
            continue
        try:
            found[impl.plugin_name] = impl.function(**{name: kwargs[name] for name in impl.argnames})
        except Exception as exc:  # noqa: BLE001 - whatever a plugin raises is said in one line naming it
            reason = shorten(" ".join(f"{type(exc).__name__}: {exc}".split()), 200)
            problems[impl.plugin_name] = f"plugin {impl.plugin_name}: {hook}() raised {reason}: {FIX_PLUGIN}"
    return found, problems


def offered_connectors() -> tuple[dict[str, list[type[Connector]]], dict[str, str]]:
    """Per loaded plugin, the connector classes it offers, and per plugin whose ``register_connectors`` raised
    or returned something other than a list of Connector classes, each with a ``type`` name, one line saying
    so (that plugin offers none)."""
    offered: dict[str, list[type[Connector]]] = {}
    found, problems = answers("register_connectors")
    for name, classes in found.items():
        wrong = _not_connectors(classes)
        if wrong is None:
            offered[name] = list(cast("Iterable[type[Connector]]", classes))
        else:
            problems[name] = f"plugin {name}: register_connectors() returned {wrong}: {FIX_PLUGIN}"
    return offered, problems


def _not_connectors(classes: object) -> str | None:
    """What is wrong with a ``register_connectors`` answer (``None`` when it is a list of connector classes)."""
    if not isinstance(classes, list | tuple):
        return f"{type(classes).__name__}, not a list of connector classes"
    for cls in classes:
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            return f"{shorten(repr(cls))}, which is not a subclass of benefits.plugins.connector.Connector"
        if not isinstance(getattr(cls, "type", None), str) or not cls.type:
            return f"the class {cls.__name__}, which has no `type` name"
    return None


@dataclass(frozen=True)
class SharedType:
    """A connector type that two loaded plugins offer, as different classes."""

    plugins: tuple[str, ...]
    """The plugins offering it, in the order ``benefits plugins`` lists them."""
    problem: str
    """One line naming each plugin and its class, and what to do."""


def shared_types(offered: Mapping[str, list[type[Connector]]]) -> dict[str, SharedType]:
    """Per connector type that two of the ``offered`` (:func:`offered_connectors`) offer as different classes, the
    plugins and one line naming each with its class: a ``connectors.yaml`` entry of that type is refused
    (:func:`connector_class`), never given whichever class the order of pluggy's calls left last."""
    offerers: dict[str, dict[type[Connector], str]] = {}
    for name, _ in plugin_manager().list_name_plugin():
        for cls in offered.get(name, []):
            offerers.setdefault(cls.type, {}).setdefault(cls, name)
    shared = {}
    for type_name, found in offerers.items():
        if len(found) > 1:
            each = " and by ".join(
                f"plugin {name} ({cls.__module__}.{cls.__qualname__})" for cls, name in found.items()
            )
            shared[type_name] = SharedType(
                tuple(dict.fromkeys(found.values())),
                f"connector type {type_name!r} is offered by {each}: an entry of that type in connectors.yaml is"
                " refused; uninstall or change one of them, or leave an installed one out with BENEFITS_LOAD_PLUGINS",
            )
    return shared


def connector_types() -> dict[str, type[Connector]]:
    """Every connector class offered by a loaded plugin, by type name (a plugin that could not say which is left
    out: :func:`connector_class` names it; so is a type two plugins offer: :func:`shared_types`)."""
    offered = offered_connectors()[0]
    shared = shared_types(offered)
    return {cls.type: cls for classes in offered.values() for cls in classes if cls.type not in shared}


def connector_class(type_name: str) -> type[Connector]:
    """The connector class for ``type_name``, or a ConfigError listing the known types (and the plugins that
    were not loaded, or could not say which types they offer), or naming the plugins that both offer it."""
    offered, problems = offered_connectors()
    shared = shared_types(offered)
    if type_name in shared:
        raise ConfigError(shared[type_name].problem)
    types = {cls.type: cls for classes in offered.values() for cls in classes}
    if type_name not in types:
        known = ", ".join(sorted(types)) or "none"
        refused = "".join(f"; {check.problem}" for check in api_checks() if not check.loaded)
        broken = "".join(f"; {problem}" for problem in problems.values())
        raise ConfigError(f"unknown connector type {type_name!r} (installed: {known}){refused}{broken}")
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
    """Name, version, connector types, implemented hooks and plugin API version of every loaded plugin (one whose
    ``register_connectors`` failed offers none here; :func:`offered_connectors` says why)."""
    manager = plugin_manager()
    distributions = {id(plugin): dist for plugin, dist in manager.list_plugin_distinfo()}
    offered = offered_connectors()[0]
    infos = []
    for name, plugin in manager.list_name_plugin():
        if manager.is_blocked(name):  # a plugin for another plugin API: api_checks() says why
            continue
        dist = distributions.get(id(plugin))
        hooks = sorted(h.name for h in manager.get_hookcallers(plugin) or [])
        classes = offered.get(name, [])
        version = dist.version if dist else _builtin_version()
        api = getattr(plugin, DECLARATION, None) if dist else hookspecs.PLUGIN_API_VERSION
        infos.append(PluginInfo(name, version, sorted(c.type for c in classes), hooks, api))
    return infos


def _builtin_version() -> str:
    from benefits import __version__

    return __version__
