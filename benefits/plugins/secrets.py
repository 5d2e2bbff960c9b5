"""Secrets in connector settings: ``${NAME}`` placeholders filled from the environment, and masking.

A setting such as ``password: ${LEDGER_PASSWORD}`` keeps the secret out of connectors.yaml. The
framework fills every placeholder of every connector's settings (:func:`expand_settings`) before
the connector's ``Settings`` are validated, gives the connector the filled-in values as
``connector.secrets``, and masks them (:func:`mask`) in every message a connector's ``check``,
``discover`` or ``records`` raises (:func:`guard`), so that a value never reaches an error line,
a log, ``sync_runs.error`` or the console.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

from pydantic import ValidationError

from benefits.errors import ConfigError
from benefits.plugins.connector import Connector, ConnectorError

#: A placeholder: ``${NAME}``, NAME being an environment variable name.
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: What a masked value is replaced with.
MASK = "***"

C = TypeVar("C", bound=Connector)


def placeholders(text: str) -> list[str]:
    """The variable names ``text`` refers to, in order, each once."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def expand_settings(settings: Any, where: str = "settings") -> tuple[Any, frozenset[str]]:
    """``settings`` with each ``${NAME}`` in any string (nested in dicts and lists) filled from the environment.

    Returns the filled-in copy and the non-empty values inserted (the secrets to mask). A value is
    inserted as is, never expanded again; ``$NAME`` without braces is left alone. Raises
    ConfigError ``<where>.<field>: environment variable NAME is not set`` for the first missing
    variable; the message never holds a value.
    """
    found: set[str] = set()

    def fill(value: Any, path: str) -> Any:
        if isinstance(value, str):
            for name in placeholders(value):
                if name not in os.environ:
                    raise ConfigError(f"{path}: environment variable {name} is not set")
                if os.environ[name]:
                    found.add(os.environ[name])
            return PLACEHOLDER.sub(lambda m: os.environ[m.group(1)], value)
        if isinstance(value, dict):
            return {key: fill(item, f"{path}.{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item, f"{path}[{n}]") for n, item in enumerate(value)]
        return value

    expanded = fill(settings, where)
    return expanded, frozenset(found)


def settings_error(exc: ValidationError, settings: Any, secrets: Iterable[str]) -> str:
    """``settings.<field>: <problem>`` for the first error of validating expanded ``settings``, without a secret.

    A field whose written value holds ``${NAME}`` gets no detail beyond pydantic's error type, since
    a validator's message may quote the value (or, once it broke the field's syntax, a piece of it).
    """
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    written: Any = settings
    for part in first["loc"]:
        written = written.get(part) if isinstance(written, dict) else None
    names = placeholders(written) if isinstance(written, str) else []
    if names:
        filled = ", ".join(f"${{{name}}}" for name in names)
        return f"settings.{where}: not valid once {filled} is filled in from the environment ({first['type']})"
    return f"settings.{where}: {mask(first['msg'][:1].lower() + first['msg'][1:], secrets)}"


def mask(message: str, secrets: Iterable[str | None]) -> str:
    """``message`` with each non-empty secret replaced by ``***``, also where it is percent-encoded."""
    forms = {form for s in secrets if s for form in (s, quote(s, safe=""), quote_plus(s, safe=""))}
    for secret in sorted(forms, key=len, reverse=True):
        message = message.replace(secret, MASK)
    return message


def guard(connector: C, secrets: Iterable[str]) -> C:
    """Give ``connector`` its secrets and mask them in whatever its check, discover, records and claims raise.

    An exception whose message holds a secret is replaced by a ConnectorError with the message
    masked (and no chained cause, which could hold it too); any other exception passes unchanged.
    """
    connector.secrets = connector.secrets | frozenset(s for s in secrets if s)
    if not connector.secrets:
        return connector
    for name in ("check", "discover"):
        setattr(connector, name, _masking(connector, getattr(connector, name)))
    for name in ("records", "claims"):
        setattr(connector, name, _masking_generator(connector, getattr(connector, name)))
    return connector


def _masking_generator(connector: Connector, method: Callable[[], Iterator[Any]]) -> Callable[[], Iterator[Any]]:
    @functools.wraps(method)
    def generate() -> Iterator[Any]:
        with _masked_errors(connector):
            yield from method()

    return generate


def _masking(connector: Connector, method: Callable[[], Any]) -> Callable[[], Any]:
    @functools.wraps(method)
    def call() -> Any:
        with _masked_errors(connector):
            return method()

    return call


@contextmanager
def _masked_errors(connector: Connector) -> Iterator[None]:
    """Re-raise an exception whose message shows one of the connector's secrets, masked."""
    try:
        yield
    except Exception as exc:
        text = str(exc)
        masked = mask(text, connector.secrets)
        if masked == text:
            raise
        raise ConnectorError(masked if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {masked}") from None
