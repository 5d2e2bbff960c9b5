"""The Dash app: ``create_app`` builds it over a store, ``serve`` runs it (``benefits serve``).

Pages live in ``dashboards/pages`` (Dash Pages); every script, style sheet and font is served by
the app itself, nothing is fetched from the internet. ``serve`` runs it on waitress, a production
WSGI server (``benefits.dashboards.server``); ``create_app().server`` is the WSGI app for any other.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable

import dash
import flask
from dash import dcc, html

from benefits.dashboards import cache, commentary, data, filters, posts, queries, server
from benefits.dashboards.auth import AuthSettings, Gate, check_exposure, is_loopback, unbracketed
from benefits.dashboards.snapshot import cached_snapshot, metric_health
from benefits.errors import ConfigError
from benefits.store.db import make_engine, session_factory

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


def create_app(database_url: str | None = None, auth: AuthSettings | None = None) -> dash.Dash:
    """The dashboard over the store at ``database_url`` (default: ``BENEFITS_DATABASE_URL``, else benefits.db).

    ``auth`` says how users are known (see ``benefits.dashboards.auth``); without it the app is open.
    """
    gate = Gate(auth or AuthSettings())
    data.configure(session_factory(make_engine(database_url, create=False)))
    app = dash.Dash(
        __package__,  # benefits.dashboards: pages get module names benefits.dashboards.pages.<page>, assets its assets/
        use_pages=True,
        pages_folder="pages",
        serve_locally=True,
        external_stylesheets=[],
        external_scripts=[],
        # Pages are layout functions of the URL; without this Dash would call every page's layout
        # (and query the store) once just to validate callbacks.
        suppress_callback_exceptions=True,
        title="benefits",
        update_title=None,  # type: ignore[arg-type]  # documented: no "Updating..." title; annotated str
    )
    filters.register(app)
    commentary.register(app)
    gate.install(app.server, app.csp_hashes)
    posts.install(app)
    app.server.after_request(_not_found_status)
    app.layout = _shell
    return app


def _not_found_status(response: flask.Response) -> flask.Response:
    """Answer HTTP 404 for a page address no page claims (Dash serves its page shell for any path)."""
    rule = flask.request.url_rule
    if (
        response.status_code == 200
        and rule is not None
        and rule.rule.endswith("<path:path>")
        and not is_page_path(flask.request.path)
    ):
        response.status_code = 404
    return response


def is_page_path(path: str) -> bool:
    """Whether a page other than the not-found page answers ``path`` (``/benefit/<key>`` matches any key)."""
    for page in dash.page_registry.values():
        if page["path"] == "/404":
            continue
        template = page.get("path_template") or page["path"]
        pattern = "".join(
            "[^/]+" if part.startswith("<") else re.escape(part) for part in re.split(r"(<[^>]+>)", template)
        )
        if re.fullmatch(pattern, path.rstrip("/") or "/"):
            return True
    return False


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    database_url: str | None = None,
    debug: bool = False,
    auth: AuthSettings | None = None,
    echo: Callable[[str], None] = print,
) -> None:
    """Run the dashboard on waitress (Dash's development server in debug mode) until interrupted; ``echo`` gets
    one line (``greeting``) once it listens.

    Refuses (ConfigError) to serve an open dashboard, or one in debug mode, on an address other
    machines can reach; BenefitsError when the address cannot be listened on.
    """
    settings = auth or AuthSettings()
    host = unbracketed(host)
    if debug and not is_loopback(host):
        raise ConfigError(f"refusing to serve the dashboard on {host} in debug mode: its debugger runs code")
    check_exposure(host, settings)
    app = create_app(database_url, settings)
    warming: list[threading.Event] = []

    def ready() -> None:
        echo(greeting(host, port, settings))
        warming.append(cache.keep_warm(warm_today))  # only once it listens: a refused port exits at once

    try:
        server.run(app, host, port, debug, ready=ready, proxy_headers=settings.reads_proxy_headers)
    finally:
        for stop in warming:
            cache.stop_warming(stop)


def greeting(host: str, port: int, settings: AuthSettings) -> str:
    """The one line ``serve`` starts with, once it listens: the address, who may use it, and how to stop."""
    who = {
        "open": "open: no sign-in, anyone on this machine acts as admin",
        "users": "sign-in with the users file",
        "header": f"users named by the proxy's {settings.user_header} header",
    }[settings.mode]
    address = f"[{host}]" if ":" in host else host  # an IPv6 address in a URL
    return f"dashboard on http://{address}:{port}/ ({who}; Ctrl+C to stop)"


def warm_today() -> None:
    """Read today's portfolio snapshot, metric health and business case (with its roll-up) into the
    cache when the data changed."""
    today = dt.date.today()
    with data.session() as session:
        cached_snapshot(session, today)
        metric_health(session, today)
        queries.value_report(session, today)


def _shell() -> html.Div:
    """The frame around every page: a header with the navigation, then the page."""
    return html.Div(
        [
            html.Header(
                [
                    dcc.Link("benefits", href="/", className="brand"),
                    html.Nav(_nav_links(), className="nav", style={"display": "flex", "gap": "16px"}),
                ],
                className="top",
            ),
            html.Main(dash.page_container, className="main"),
        ]
    )


def _nav_links() -> list[dcc.Link]:
    """A link to every page with a fixed address (id ``nav-<module>``), in the pages' ``order``."""
    return [
        dcc.Link(page["name"], href=page["path"], id=f"nav-{page['module'].rsplit('.', 1)[-1]}")
        for page in dash.page_registry.values()
        if not page.get("path_template") and page["path"] != "/404"
    ]
