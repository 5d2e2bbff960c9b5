"""Secrets in connector settings: ``${NAME}`` placeholders filled from the environment, and masking.

A setting such as ``url: postgresql+psycopg://reader:${LEDGER_PASSWORD}@db/ledger`` keeps the
secret out of connectors.yaml. Connectors expand placeholders only when they connect, keep the
settings themselves unexpanded, and pass every message they raise or log through :func:`mask`
so that an expanded value is never shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from benefits.plugins.connector import ConnectorError

#: A placeholder: ``${NAME}``, NAME being an environment variable name.
PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: What a masked value is replaced with.
MASK = "***"


def placeholders(text: str) -> list[str]:
    """The variable names ``text`` refers to, in order, each once."""
    return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def expand_env(text: str, where: str | None = None) -> str:
    """``text`` with each ``${NAME}`` replaced by the environment variable NAME.

    Raises ConnectorError naming the first variable that is not set (and ``where`` it is used,
    e.g. ``settings.url``); the message never contains a value. Text without placeholders is
    returned unchanged; a value is inserted as is, never expanded again.
    """
    for name in placeholders(text):
        if name not in os.environ:
            used = f" (used in {where})" if where else ""
            raise ConnectorError(f"environment variable {name} is not set{used}")
    return PLACEHOLDER.sub(lambda m: os.environ[m.group(1)], text)


def env_values(*texts: str | None) -> set[str]:
    """The values of the set environment variables these texts refer to: the strings to mask."""
    names = {name for text in texts if text for name in placeholders(text)}
    return {os.environ[name] for name in names if os.environ.get(name)}


def mask(message: str, secrets: Iterable[str | None]) -> str:
    """``message`` with each non-empty secret replaced by ``***``, also where it is percent-encoded."""
    forms = {form for s in secrets if s for form in (s, quote(s, safe=""), quote_plus(s, safe=""))}
    for secret in sorted(forms, key=len, reverse=True):
        message = message.replace(secret, MASK)
    return message
