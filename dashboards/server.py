"""Running the dashboard: waitress, a production WSGI server, unless Dash's debug mode is asked for.

Werkzeug's development server is for one developer: it names itself and the Python version in the
``Server`` header and is not built for many users. ``run`` serves the app with waitress instead,
with ``threads()`` worker threads, and answers ``Server: benefits`` (no version). Debug mode keeps
Dash's own development server, whose debugger it needs (``serve`` allows it on loopback only).
"""

from __future__ import annotations

import os

import dash

#: The ``Server`` header of every response: no server name or version to look up exploits for.
SERVER_IDENT = "benefits"


def threads() -> int:
    """Worker threads for this machine: four per core, at least 4 and at most 32.

    A request mostly waits on the database or on Python's lock, so more threads than cores keep
    slow pages from queueing quick ones without the memory of more processes.
    """
    return max(4, min(32, 4 * (os.cpu_count() or 1)))


def run(app: dash.Dash, host: str, port: int, debug: bool = False) -> None:
    """Serve ``app`` on ``host``:``port`` until interrupted (waitress; Dash's server in debug mode)."""
    if debug:
        app.run(host=host, port=port, debug=True)
        return
    import waitress

    waitress.serve(app.server, host=host, port=port, threads=threads(), ident=SERVER_IDENT)
