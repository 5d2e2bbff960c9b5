"""Plugin system: hook specifications, the plugin manager and the built-in connectors."""

from benefits.plugins.hookspecs import hookimpl

__all__ = ["hookimpl"]
