"""Running the dashboard: waitress, a production WSGI server, unless Dash's debug mode is asked for.

Werkzeug's development server is for one developer: it names itself and the Python version in the
``Server`` header and is not built for many users. ``run`` serves the app with waitress instead,
with ``threads()`` worker threads, and answers ``Server: benefits`` (no version). Debug mode keeps
Dash's own development server, whose debugger it needs (``serve`` allows it on loopback only).

waitress's notes that requests wait for a free thread ("Task queue depth is N") are not shown: a
browser opening a page asks for a dozen scripts at once, so they appear on a first visit and say
nothing a PMO can act on (``bench/serve.py`` measures the server under load). Its errors are shown.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import dash

from benefits.errors import BenefitsError

#: The ``Server`` header of every response: no server name or version to look up exploits for.
SERVER_IDENT = "benefits"


def threads() -> int:
    """Worker threads for this machine: four per core, at least 4 and at most 32.

    A request mostly waits on the database or on Python's lock, so more threads than cores keep
    slow pages from queueing quick ones without the memory of more processes.
    """
    return max(4, min(32, 4 * (os.cpu_count() or 1)))


def run(app: dash.Dash, host: str, port: int, debug: bool = False, ready: Callable[[], None] | None = None) -> None:
    """Serve ``app`` on ``host``:``port`` until interrupted (waitress; Dash's server in debug mode), calling
    ``ready`` once the address is taken.

    BenefitsError in one line when the address cannot be listened on (a port in use, a host not of this machine).
    """
    if debug:
        if ready:
            ready()
        app.run(host=host, port=port, debug=True)
        return
    import waitress

    try:
        listening = waitress.create_server(app.server, host=host, port=port, threads=threads(), ident=SERVER_IDENT)
    except OSError as exc:
        raise BenefitsError(
            f"cannot listen on {host} port {port}: {exc.strerror or exc}; "
            "pass another --port (or --host), or stop the program listening there"
        ) from None
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    if ready:
        ready()
    listening.run()
