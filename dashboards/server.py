"""Running the dashboard: waitress, a production WSGI server, unless Dash's debug mode is asked for.

Werkzeug's development server is for one developer: it names itself and the Python version in the
``Server`` header and is not built for many users. ``run`` serves the app with waitress instead,
with ``threads()`` worker threads, and answers ``Server: benefits`` (no version). Debug mode keeps
Dash's own development server, whose debugger it needs (``serve`` allows it on loopback only).

waitress's notes that requests wait for a free thread ("Task queue depth is N") are not shown: a
browser opening a page asks for a dozen scripts at once, so they appear on a first visit and say
nothing a PMO can act on (``bench/serve.py`` measures the server under load). Its errors are shown.

waitress removes the ``X-Forwarded-*`` and ``Forwarded`` headers from every request unless its one
``trusted_proxy`` address sent them. Behind a trusted proxy (``proxy_headers``) that removal is
turned off: the app's own gate (``auth.Gate``) keeps them from any peer that is not one of the
trusted proxies (addresses or networks), and reads the client from ``X-Forwarded-For`` itself, so
waitress never rewrites ``REMOTE_ADDR``.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from collections.abc import Callable

import dash

from benefits.dashboards.auth import unbracketed
from benefits.errors import BenefitsError

#: The ``Server`` header of every response: no server name or version to look up exploits for.
SERVER_IDENT = "benefits"


def threads() -> int:
    """Worker threads for this machine: four per core, at least 4 and at most 32.

    A request mostly waits on the database or on Python's lock, so more threads than cores keep
    slow pages from queueing quick ones without the memory of more processes.
    """
    return max(4, min(32, 4 * (os.cpu_count() or 1)))


def run(
    app: dash.Dash,
    host: str,
    port: int,
    debug: bool = False,
    ready: Callable[[], None] | None = None,
    proxy_headers: bool = False,
) -> None:
    """Serve ``app`` on ``host``:``port`` until interrupted (waitress; Dash's server in debug mode), calling
    ``ready`` once the address is taken. With ``proxy_headers`` waitress passes ``X-Forwarded-*`` and
    ``Forwarded`` on to the app, whose gate believes them only from a trusted proxy.

    BenefitsError in one line when the address cannot be listened on (a port in use, a host not of this machine,
    a host name that does not resolve).
    """
    _resolve(host, port)
    if debug:
        if ready:
            ready()
        app.run(host=host, port=port, debug=True)
        return
    import waitress

    try:
        listening = waitress.create_server(
            app.server,
            host=host,
            port=port,
            threads=threads(),
            ident=SERVER_IDENT,
            clear_untrusted_proxy_headers=not proxy_headers,
        )
    except OSError as exc:
        advice = (
            f"{host} is not one of this machine's addresses: pass one of them as --host (or 0.0.0.0 for all)"
            if exc.errno == errno.EADDRNOTAVAIL
            else "pass another --port (or --host), or stop the program listening there"
        )
        raise BenefitsError(f"cannot listen on {host} port {port}: {exc.strerror or exc}; {advice}") from None
    except ValueError as exc:  # waitress's own check of the address ("Invalid host/port specified.")
        raise BenefitsError(f"cannot listen on {host} port {port}: {exc}") from None
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if ready:
        ready()
    listening.run()


def _resolve(host: str, port: int) -> None:
    """BenefitsError in one line when ``host`` names no address to listen on (a mistyped or unknown name, an
    empty one), looked up as waitress looks it up; ``*`` is every address, as waitress reads it."""
    if host == "*":
        return
    address = unbracketed(host)
    reason = "it is empty" if not address.strip("[] ") else None
    if reason is None:
        try:
            socket.getaddrinfo(address, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except socket.gaierror as exc:
            reason = exc.strerror or str(exc)
        except UnicodeError as exc:  # a name IDNA cannot encode (a label over 63 characters)
            reason = str(exc)
    if reason is not None:
        raise BenefitsError(
            f"cannot listen on {host!r} port {port}: the host name does not resolve to an address ({reason}); "
            "pass one of this machine's addresses or names as --host (127.0.0.1, or 0.0.0.0 for all)"
        )
