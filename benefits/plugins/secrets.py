"""Secrets in connector settings: ``${NAME}`` placeholders filled from the environment, and masking.

A setting such as ``password: ${LEDGER_PASSWORD}`` keeps the secret out of connectors.yaml. The
framework fills every placeholder of every connector's settings (:func:`expand_settings`) before
the connector's ``Settings`` are validated. A ``Settings`` model declares which settings are secret
by typing them pydantic ``SecretStr``; their values are the connector's ``secrets``
(:func:`settings_secrets`), masked (:func:`mask`) in every message a connector's ``check``,
``discover``, ``records`` or ``claims`` raises (:func:`guard`) and in what it logs through
:meth:`Connector.log`, so that a value never reaches an error line, a log, ``sync_runs.error`` or
the console. A model that declares no ``SecretStr`` at all (a connector written before secrets
were declared) keeps the earlier rule: every value filled in from ``${NAME}`` is a secret.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, SecretStr, ValidationError

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


def expand_settings(
    settings: Any, where: str = "settings", environ: Mapping[str, str] | None = None
) -> tuple[Any, frozenset[str]]:
    """``settings`` with each ``${NAME}`` in any string (nested in dicts and lists) filled from the environment.

    ``environ`` replaces ``os.environ`` (the conformance kit's ``env`` option). Returns the
    filled-in copy and the non-empty values inserted. A value is inserted as is, never expanded
    again; ``$NAME`` without braces is left alone. Raises ConfigError ``<where>.<field>:
    environment variable NAME is not set`` for the first missing variable; the message never holds
    a value.
    """
    found: set[str] = set()
    env = os.environ if environ is None else environ

    def fill(value: Any, path: str) -> Any:
        if isinstance(value, str):
            for name in placeholders(value):
                if name not in env:
                    raise ConfigError(f"{path}: environment variable {name} is not set")
                if env[name]:
                    found.add(env[name])
            return PLACEHOLDER.sub(lambda m: env[m.group(1)], value)
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


def declares_secrets(model: type[BaseModel]) -> bool:
    """True when ``model`` has a ``SecretStr`` field, directly or in a nested model, list or dict."""
    return any(_mentions_secret(field.annotation, set()) for field in model.model_fields.values())


def _mentions_secret(annotation: Any, seen: set[type]) -> bool:
    if annotation is SecretStr:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return False
        seen.add(annotation)
        return any(_mentions_secret(field.annotation, seen) for field in annotation.model_fields.values())
    return any(_mentions_secret(arg, seen) for arg in typing.get_args(annotation))


def secret_values(value: Any) -> frozenset[str]:
    """Every non-empty ``SecretStr`` value in validated settings (nested models, lists, tuples and dicts too)."""
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        return frozenset({secret} if secret else ())
    if isinstance(value, BaseModel):
        return frozenset().union(*(secret_values(getattr(value, name)) for name in type(value).model_fields))
    if isinstance(value, dict):
        return frozenset().union(*(secret_values(item) for item in value.values()))
    if isinstance(value, list | tuple | set | frozenset):
        return frozenset().union(*(secret_values(item) for item in value))
    return frozenset()


def settings_secrets(settings: BaseModel, filled: Iterable[str]) -> frozenset[str]:
    """The values to mask for these validated settings: their ``SecretStr`` values when the model declares
    any; otherwise, for a connector that declares none, every non-empty value ``filled`` in from ``${NAME}``."""
    if declares_secrets(type(settings)):
        return secret_values(settings)
    return frozenset(s for s in filled if s)


def guard(connector: C, secrets: Iterable[str]) -> C:
    """Give ``connector`` its secrets and mask them in whatever its check, discover, records and claims raise.

    ``secrets`` are the values filled in from ``${NAME}``; which of them (and which other values)
    are secret is the connector's ``Settings``' choice (:func:`settings_secrets`). An exception whose
    message holds a secret is replaced by a ConnectorError with the message masked (and no chained
    cause, which could hold it too); any other exception passes unchanged.
    """
    connector.secrets = connector.secrets | settings_secrets(connector.settings, secrets)
    if not connector.secrets:
        return connector
    for name in ("check", "discover"):
        setattr(connector, name, _masking(connector, getattr(connector, name)))
    for name in ("records", "claims"):
        setattr(connector, name, _masking_generator(connector, getattr(connector, name)))
    return connector


class MaskingLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger adapter that formats each message with its arguments, then masks the connector's secrets."""

    def __init__(self, logger: logging.Logger, connector: Connector) -> None:
        super().__init__(logger, {"connector": connector.name})
        self.connector = connector

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        """Log ``msg % args`` with every secret replaced by ``***``."""
        if self.isEnabledFor(level):
            text = str(msg) % args if args else str(msg)
            kwargs.setdefault("extra", self.extra)
            self.logger.log(level, self.connector.mask(text), **kwargs)


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
