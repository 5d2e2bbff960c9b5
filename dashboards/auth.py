"""Who is using the dashboard, and what their role lets them do: the Flask side of signing in.

Users, roles and password hashes are ``benefits.users``. Three ways to know the user, chosen when
the app is created:

- **users file** (``AuthSettings(users_file=...)``): a YAML file of users with a role and a
  password hash (``benefits users add NAME --role R``); the browser sends HTTP Basic credentials.
  Put TLS in front of it (a reverse proxy) on any shared network.
- **trusted header** (``AuthSettings(user_header="X-Forwarded-User")``): a reverse proxy that has
  authenticated the user sends its name in that header, and its role in ``role_header`` or, if
  there is none, the role comes from the users file (passwords are then not needed). Only safe when
  the proxy is the only way to reach the app.
- **open** (no settings): everybody is the local user ``local`` with role ``admin``; allowed on a
  loopback address only (``check_exposure``).

Every request is checked, the pages and ``/_dash-update-component`` alike. Inside a callback or a
page layout, ``current_user()`` is the requester and ``require_role("finance")`` answers HTTP 403
when the requester lacks the role.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from pathlib import Path

import flask
from werkzeug.exceptions import Forbidden

from benefits.errors import ConfigError
from benefits.users import LOCAL_USER, ROLES, User, load_users, password_matches

_REALM = 'Basic realm="benefits", charset="UTF-8"'


@dataclass(frozen=True)
class AuthSettings:
    """How the dashboard knows its users; all empty means open (loopback only)."""

    users_file: Path | None = None
    user_header: str | None = None
    role_header: str | None = None

    @property
    def mode(self) -> str:
        """``header``, ``users`` or ``open``."""
        if self.user_header:
            return "header"
        return "users" if self.users_file else "open"


class RoleRequired(Forbidden):
    """The current user lacks the role an action needs (HTTP 403)."""

    def __init__(self, user: User, roles: tuple[str, ...]) -> None:
        needed = " or ".join(roles)
        super().__init__(f"{user.name} has role {user.role}; this needs role {needed}")


def current_user() -> User:
    """The user of the current request (inside a Dash callback, page layout or Flask view)."""
    if not flask.has_request_context():
        raise RuntimeError("current_user() is only known while the dashboard answers a request")
    user = flask.g.get("benefits_user")
    if user is None:
        raise RuntimeError("the dashboard was created without authentication: use benefits.dashboards.app.create_app()")
    return user


def require_role(*roles: str) -> User:
    """The current user, if they hold one of ``roles`` (admin holds all); else HTTP 403."""
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise ValueError(f"roles must be among {', '.join(ROLES)}, not {roles!r}")
    user = current_user()
    if not user.has_role(*roles):
        raise RoleRequired(user, roles)
    return user


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, settings: AuthSettings) -> str | None:
    """Refuse an open dashboard on a shared address; a warning (or None) otherwise."""
    if settings.mode != "open":
        return None
    if not is_loopback(host):
        raise ConfigError(
            f"refusing to serve the dashboard on {host} without authentication: "
            "pass --users FILE (see `benefits users add`) or --auth-header NAME behind a trusted proxy"
        )
    return (f"warning: the dashboard on {host} is open (no authentication); "
            "anyone on this machine acts as admin")


# -- the request check ------------------------------------------------------------------------


class Gate:
    """Finds the user of each request of one app, or answers 401/403 before Dash sees it."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self.users = load_users(settings.users_file) if settings.users_file else {}
        if settings.mode == "users" and not any(u.password_hash for u in self.users.values()):
            raise ConfigError(f"{settings.users_file}: no user has a password; add one with `benefits users add`")
        self._verified: set[bytes] = set()  # digests of credentials already checked (scrypt is slow)
        self._pepper = secrets.token_bytes(16)

    def install(self, server: flask.Flask) -> None:
        """Check every request of ``server``."""
        server.before_request(self.before_request)

    def before_request(self) -> flask.Response | None:
        """Flask hook: set ``g.benefits_user`` or answer with 401/403."""
        mode = self.settings.mode
        if mode == "open":
            flask.g.benefits_user = User(LOCAL_USER, "admin")
            return None
        user = self._from_header() if mode == "header" else self._from_password()
        if user is None:
            return self._challenge()
        flask.g.benefits_user = user
        return None

    def _from_header(self) -> User | None:
        assert self.settings.user_header
        name = flask.request.headers.get(self.settings.user_header, "").strip()
        if not name:
            flask.abort(403, f"no {self.settings.user_header} header: reach the dashboard through its proxy")
        role = flask.request.headers.get(self.settings.role_header, "").strip() if self.settings.role_header else ""
        if not role:
            entry = self.users.get(name)
            role = entry.role if entry else "viewer"
        if role not in ROLES:
            flask.abort(403, f"role {role} of {name} is not one of {', '.join(ROLES)}")
        return User(name, role)

    def _from_password(self) -> User | None:
        credentials = _basic_credentials(flask.request.headers.get("Authorization", ""))
        if credentials is None:
            return None
        name, password = credentials
        entry = self.users.get(name)
        if entry is None or not entry.password_hash:
            return None
        digest = hmac.new(self._pepper, f"{name}\0{password}\0{entry.password_hash}".encode(), hashlib.sha256).digest()
        if digest not in self._verified:
            if not password_matches(entry, password):
                return None
            self._verified.add(digest)
        return User(entry.name, entry.role)

    @staticmethod
    def _challenge() -> flask.Response:
        response = flask.Response("Sign in with your benefits user name and password.\n", status=401,
                                  mimetype="text/plain")
        response.headers["WWW-Authenticate"] = _REALM
        return response


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        name, sep, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (name, password) if sep else None
