"""Who is using the dashboard, and what their role lets them do: the Flask side of signing in.

Users, roles and password hashes are ``benefits.users``. Three ways to know the user, chosen when
the app is created:

- **users file** (``AuthSettings(users_file=...)``): a YAML file of users with a role and a
  password hash (``benefits users add NAME --role R``); the browser sends HTTP Basic credentials.
  Put TLS in front of it (a reverse proxy) on any shared network.
  Behind such a proxy, ``trusted_proxies`` names it, and wrong passwords are then counted per
  client address from its ``X-Forwarded-For`` (else per proxy: one address for every user).
- **trusted header** (``AuthSettings(user_header="X-Forwarded-User")``): a reverse proxy that has
  authenticated the user sends its name in that header, and its role in ``role_header`` or, if
  there is none, the role comes from the users file (passwords are then not needed). The headers
  are believed only from a peer address in ``trusted_proxies`` (CIDRs; loopback when none is
  given), and header mode refuses a non-loopback listening address without them.
- **open** (no settings): everybody is the local user ``local`` with role ``admin``; allowed on a
  loopback address only (``check_exposure``).

The ``PROXY_HEADERS`` (``X-Forwarded-*``, ``Forwarded``) reach the app only from a trusted proxy, and
only when the settings read them (``AuthSettings.reads_proxy_headers``): ``Gate.install`` removes
them from every other request, as waitress does by default (``server.run`` turns waitress's removal
off for such settings, since its notion of a trusted proxy is one exact address, not networks).

Every request is checked, the pages and ``/_dash-update-component`` alike. Inside a callback or a
page layout, ``current_user()`` is the requester and ``require_role("finance")`` answers HTTP 403
when the requester lacks the role. Wrong passwords are throttled: after ``MAX_FAILURES`` failures
within ``FAILURE_WINDOW`` seconds for one user name or from one address, that name or address gets
HTTP 429 (with ``Retry-After``) until the window has passed; an unknown name costs the same scrypt
check as a known one, so names cannot be told apart by timing. Every response carries
``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy: same-origin``
and a Content-Security-Policy (``content_security_policy``: this server only, inline scripts only
by hash, no framing); an unknown path under ``/_dash-component-suites/`` (a traversal attempt,
say) is a plain 404, and every 403 is one line of plain text.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import flask
from werkzeug.exceptions import Forbidden

from benefits.errors import ConfigError
from benefits.users import LOCAL_USER, ROLES, User, UserEntry, hash_password, load_users, password_matches

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

_REALM = 'Basic realm="benefits", charset="UTF-8"'
#: Wrong passwords allowed per user name, and per client address, within FAILURE_WINDOW seconds.
MAX_FAILURES = 5
FAILURE_WINDOW = 300.0
LOOPBACK_NETWORKS = ("127.0.0.0/8", "::1/128")
#: The headers a proxy sets about the client (waitress's list): believed only from a trusted proxy.
PROXY_HEADERS = (
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Forwarded-Port",
    "X-Forwarded-By",
    "Forwarded",
)
_PROXY_ENVIRON = tuple("HTTP_" + name.upper().replace("-", "_") for name in PROXY_HEADERS)
#: The characters of an HTTP header name (RFC 9110 token), less ``_``: waitress drops such headers.
_HEADER_NAME = frozenset("!#$%&'*+-.^`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class AuthSettings:
    """How the dashboard knows its users; all empty means open (loopback only)."""

    users_file: Path | None = None
    user_header: str | None = None
    role_header: str | None = None
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or networks (CIDR) whose requests may carry ``user_header`` (loopback when empty),
    or, with a users file, whose ``X-Forwarded-For`` names the client (nobody's when empty)."""

    @property
    def mode(self) -> str:
        """``header``, ``users`` or ``open``."""
        if self.user_header:
            return "header"
        return "users" if self.users_file else "open"

    @property
    def reads_proxy_headers(self) -> bool:
        """True when a trusted proxy's headers are read: the user header (which may be one of
        ``PROXY_HEADERS``), or with a users file and ``trusted_proxies``, ``X-Forwarded-For``."""
        return self.mode == "header" or (self.mode == "users" and bool(self.trusted_proxies))


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


def unbracketed(host: str) -> str:
    """An IPv6 address written as in a URL (``[::1]``) as the address itself (``::1``), so that it is judged,
    looked up, listened on and shown without brackets; any other host as given. ``serve --host``, the server's
    check that the host resolves, and each ``X-Forwarded-For`` entry (``[2001:db8::9]:4711``) read it so."""
    return host[1:-1] if len(host) > 2 and host.startswith("[") and host.endswith("]") else host


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def proxy_networks(proxies: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The trusted proxies as networks (loopback when none is given); ConfigError naming a bad one."""
    networks = []
    for proxy in proxies or LOOPBACK_NETWORKS:
        try:
            networks.append(ipaddress.ip_network(proxy.strip(), strict=False))
        except ValueError:
            raise ConfigError(
                f"--trusted-proxy {proxy}: not an IP address or network (e.g. 10.0.0.5 or 10.0.0.0/24)"
            ) from None
    return networks


def check_exposure(host: str, settings: AuthSettings) -> None:
    """Refuse an open dashboard on a shared address, a trusted header there without trusted
    proxies (an open dashboard on loopback says so in ``serve``'s one line), and a header name no
    request could carry to the app."""
    proxy_networks(settings.trusted_proxies)
    for option, name in (("--auth-header", settings.user_header), ("--role-header", settings.role_header)):
        if name is not None and (not name or not set(name) <= _HEADER_NAME):
            raise ConfigError(
                f"{option} {name!r}: not a header name that reaches the dashboard (letters, digits and -, "
                "e.g. X-Forwarded-User; waitress drops a header with _ in its name)"
            )
    if settings.mode == "header" and not settings.trusted_proxies and not is_loopback(host):
        raise ConfigError(
            f"refusing to trust {settings.user_header} on {host}: any client that reaches the port could name "
            "itself; pass --trusted-proxy ADDRESS[/BITS] for the proxy that sets the header"
        )
    if settings.mode == "open" and not is_loopback(host):
        raise ConfigError(
            f"refusing to serve the dashboard on {host} without authentication: "
            "pass --users FILE (see `benefits users add`) or --auth-header NAME behind a trusted proxy"
        )


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
        self._proxies = proxy_networks(settings.trusted_proxies)
        # whose X-Forwarded-* and Forwarded headers reach the app: a trusted proxy's, if they are read
        self._proxy_peers = self._proxies if settings.reads_proxy_headers else []
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()
        # an unknown name is checked against this, so that it takes as long as a known one
        decoy = settings.mode == "users"
        self._decoy = UserEntry("", "viewer", hash_password(secrets.token_urlsafe(16))) if decoy else None

    def install(self, server: flask.Flask, script_hashes: Callable[[], Sequence[str]] = tuple) -> None:
        """Check every request of ``server``, add the security headers to every response (the
        Content-Security-Policy allows the inline scripts ``script_hashes()`` names), answer
        404 (not 500 and a traceback) for a component-suite path Dash does not serve, and say why in
        plain text on a 403."""
        from dash.exceptions import DependencyException

        server.wsgi_app = self._without_untrusted_proxy_headers(server.wsgi_app)  # type: ignore[method-assign,assignment]
        server.before_request(self.before_request)
        policy = functools.cache(lambda: content_security_policy(script_hashes()))

        @server.after_request
        def _security_headers(response: flask.Response) -> flask.Response:
            for name, value in (*SECURITY_HEADERS.items(), ("Content-Security-Policy", policy())):
                response.headers.setdefault(name, value)
            return response

        server.register_error_handler(DependencyException, _not_found)
        server.register_error_handler(Forbidden, _forbidden)

    def _without_untrusted_proxy_headers(self, app: WSGIApplication) -> WSGIApplication:
        """``app`` without the ``PROXY_HEADERS`` of a request whose peer is not a trusted proxy
        (all of them when the settings read none), whatever server runs it."""

        def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
            peer = environ.get("REMOTE_ADDR")
            if not (self._proxy_peers and self._from_trusted_proxy(peer)):
                for key in _PROXY_ENVIRON:
                    environ.pop(key, None)
            return app(environ, start_response)

        return wsgi

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
        if not self._from_trusted_proxy(flask.request.remote_addr):
            flask.abort(
                403,
                f"{self.settings.user_header} is only accepted from the trusted proxy: reach the dashboard through it",
            )
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
        keys = (("user", name), ("address", self._client_address()))
        wait = self._locked_for(keys)
        if wait:
            response = flask.Response(
                f"Too many wrong passwords: try again in {wait} seconds.\n", status=429, mimetype="text/plain"
            )
            response.headers["Retry-After"] = str(wait)
            flask.abort(response)
        entry = self.users.get(name)
        if entry is None or not entry.password_hash:
            assert self._decoy is not None
            password_matches(self._decoy, password)  # as slow as a known name
            self._failed(keys)
            return None
        digest = hmac.new(self._pepper, f"{name}\0{password}\0{entry.password_hash}".encode(), hashlib.sha256).digest()
        if digest not in self._verified:
            if not password_matches(entry, password):
                self._failed(keys)
                return None
            self._verified.add(digest)
        return User(entry.name, entry.role)

    def _client_address(self) -> str:
        """The peer's address; behind a trusted proxy (users-file mode with ``trusted_proxies``
        given), the last address in its ``X-Forwarded-For`` that is not itself a trusted proxy."""
        peer = flask.request.remote_addr or ""
        if self.settings.mode != "users" or not self.settings.trusted_proxies or not self._from_trusted_proxy(peer):
            return peer
        hops = [_address(hop) for hop in flask.request.headers.get("X-Forwarded-For", "").split(",")]
        for hop in reversed(hops):
            if hop and not self._from_trusted_proxy(hop):
                return hop
        return peer

    def _from_trusted_proxy(self, address: str | None) -> bool:
        try:
            peer = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(peer in network for network in self._proxies)

    def _locked_for(self, keys: tuple[tuple[str, str], ...]) -> int:
        """Seconds until none of ``keys`` has MAX_FAILURES recent failures (0: not locked)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                recent = self._failures.get(key)
                while recent and recent[0] <= now - FAILURE_WINDOW:
                    recent.popleft()
                if recent is not None and len(recent) >= MAX_FAILURES:
                    wait = max(wait, recent[0] + FAILURE_WINDOW - now)
        return int(wait) + 1 if wait else 0

    def _failed(self, keys: tuple[tuple[str, str], ...]) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque(maxlen=MAX_FAILURES)).append(now)

    @staticmethod
    def _challenge() -> flask.Response:
        response = flask.Response(
            "Sign in with your benefits user name and password.\n", status=401, mimetype="text/plain"
        )
        response.headers["WWW-Authenticate"] = _REALM
        return response


def _not_found(_error: Exception) -> flask.Response:
    return flask.Response("Not found.\n", status=404, mimetype="text/plain")


def _forbidden(error: Forbidden) -> flask.Response:
    """A 403 says why in one plain line, not in an HTML error page."""
    return flask.Response(f"{error.description}\n", status=403, mimetype="text/plain")


def content_security_policy(script_hashes: Sequence[str]) -> str:
    """What a page may load and run: scripts, styles, fonts, images and requests from this server
    only, inline scripts only with one of ``script_hashes`` (Dash starts its renderer with one), no
    plugins, no framing by any site. Inline styles are allowed: plotly and AG Grid add ``<style>``."""
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self'", *script_hashes]),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        name, sep, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (name, password) if sep else None


_WITH_PORT = re.compile(r"(?P<v6>\[[^\]]+\])(?::\d+)?|(?P<v4>\d{1,3}(?:\.\d{1,3}){3}):\d+")
"""An address with a port, as some proxies write a client in X-Forwarded-For: ``203.0.113.9:4711``,
``[2001:db8::1]:4711`` (or in brackets without a port)."""


def _address(hop: str) -> str:
    """One X-Forwarded-For entry as the address it names, written one way: without a port, an IPv4 address mapped
    into IPv6 (``::ffff:198.51.100.8``) as IPv4, IPv6 in its short form; an entry that is no address (``unknown``)
    as written. Each spelling of one client would otherwise be a throttle key of its own."""
    hop = hop.strip()
    written = _WITH_PORT.fullmatch(hop)
    if written:
        hop = unbracketed(written["v6"]) if written["v6"] else written["v4"]
    try:
        address = ipaddress.ip_address(hop)
    except ValueError:
        return hop
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return str(mapped or address)
