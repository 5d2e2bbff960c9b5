"""The values libpq accepts for the PostgreSQL connection settings whose values are a fixed choice or a number.

libpq refuses a bad value only when it connects (``invalid sslmode value: "bogus"``), which the commands would
report as a server that cannot be reached; :func:`value_problem` says what is wrong before any connection, so
that a mistyped setting is a configuration error naming the setting. The lists are libpq's own (PostgreSQL 18,
https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS), and a setting left out here
(a file name, a host, ``require_auth``, the protocol versions) is still checked by libpq when it connects.
"""

from __future__ import annotations

import re

from benefits.errors import shorten

CHOICES: dict[str, tuple[str, ...]] = {
    "sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "gssencmode": ("disable", "prefer", "require"),
    "channel_binding": ("disable", "prefer", "require"),
    "sslcertmode": ("disable", "allow", "require"),
    "sslnegotiation": ("postgres", "direct"),
    "target_session_attrs": ("any", "read-write", "read-only", "primary", "standby", "prefer-standby"),
    "load_balance_hosts": ("disable", "random"),
}
"""Settings whose value is one of a few words, written exactly so (libpq compares them case for case)."""

TLS_VERSIONS: dict[str, tuple[str, ...]] = {
    "ssl_min_protocol_version": ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "ssl_max_protocol_version": ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
}
"""Settings naming a TLS version, in any case; empty means no limit."""

WHOLE_NUMBERS = ("keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout")
"""Settings whose value is a whole number (libpq reads a C int: spaces around it and a sign are allowed)."""

ENVIRONMENT = {
    "sslmode": "PGSSLMODE",
    "gssencmode": "PGGSSENCMODE",
    "channel_binding": "PGCHANNELBINDING",
    "sslcertmode": "PGSSLCERTMODE",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "port": "PGPORT",
}
"""The environment variable libpq reads for each checked setting that the URL does not give."""

_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)
_C_INT = range(-(2**31), 2**31)
_PORTS = range(1, 65536)


def value_problem(name: str, value: str) -> str | None:
    """What is wrong with ``value`` for the libpq setting ``name`` (``must be one of ... (got 'bogus')``), or None
    when libpq accepts it or when its value is not one this module checks."""
    if name in CHOICES:
        return _choice(value, CHOICES[name], exact=True)
    if name in TLS_VERSIONS:
        return None if not value else _choice(value, TLS_VERSIONS[name], exact=False)
    if name in WHOLE_NUMBERS:
        return None if _within(value, _C_INT) else f"is not a whole number (got {shorten(value)!r})"
    if name == "port":
        return _port(value)
    return None


def _choice(value: str, choices: tuple[str, ...], *, exact: bool) -> str | None:
    found = value if exact else value.lower()
    if found in (choices if exact else [choice.lower() for choice in choices]):
        return None
    return f"must be one of {', '.join(choices)} (got {shorten(value)!r})"


def _within(value: str, numbers: range) -> bool:
    """Whether libpq reads a whole number in ``value`` and it is one of ``numbers``."""
    return _INTEGER.fullmatch(value) is not None and int(value) in numbers


def _port(value: str) -> str | None:
    """A port, or a comma-separated list of them (one per host); an empty one is the default, 5432."""
    for port in value.split(","):
        if port.strip() and not _within(port, _PORTS):
            return f"is not a port number from 1 to 65535 (got {shorten(value)!r})"
    return None
