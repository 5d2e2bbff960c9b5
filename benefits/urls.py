"""Database URLs as they are shown to people: every password masked as ``***``.

A URL can carry a secret in two places: its user-info (``user:PASSWORD@host``) and its query string
(``?password=...``: libpq reads ``password``, ``sslpassword`` and others from there, and SQLAlchemy
passes query items on to the driver). :func:`shown_url` masks both, wherever a URL reaches a message,
a finding of ``benefits doctor`` or a stored sync run; :func:`url_secrets` lists the values, for
masking them in a driver's own words too.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

#: What a masked value is replaced with (as :data:`benefits.plugins.secrets.MASK`).
MASK = "***"

#: A query parameter whose name holds one of these (lower case, ``-`` read as ``_``) carries a secret.
SECRET_PARAMETER_WORDS = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "access_key",
    "private_key",
    "credential",
)


def is_secret_parameter(name: str) -> bool:
    """True when a URL query parameter called ``name`` carries a secret (``password``, ``sslpassword``,
    ``token``, ``api_key``, ``client_secret``, ...)."""
    folded = name.lower().replace("-", "_")
    return folded == "key" or any(word in folded for word in SECRET_PARAMETER_WORDS)


def url_secrets(url: URL | str) -> frozenset[str]:
    """The non-empty secret values of ``url``: its password and those of its secret query parameters."""
    parsed = make_url(url)
    found = {str(parsed.password)} if parsed.password else set()
    for name, value in parsed.query.items():
        if is_secret_parameter(name):
            found.update(v for v in ((value,) if isinstance(value, str) else value) if v)
    return frozenset(found)


def shown_url(url: URL | str) -> str:
    """``url`` as it may be shown: its password and every secret query parameter's value replaced by ``***``."""
    parsed = make_url(url)
    hidden = {name: MASK for name in parsed.query if is_secret_parameter(name)}
    if hidden:
        parsed = parsed.update_query_dict(hidden)
    quoted = "%2A%2A%2A"  # how SQLAlchemy writes *** in a query string
    return parsed.render_as_string(hide_password=True).replace(f"={quoted}", f"={MASK}")
