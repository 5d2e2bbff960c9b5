"""Plugin system: hook specifications, the plugin manager and the built-in connectors."""

from benefits.plugins.hookspecs import PLUGIN_API_VERSION, hookimpl

__all__ = ["PLUGIN_API_VERSION", "hookimpl"]
