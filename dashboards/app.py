"""The Dash app: ``create_app`` builds it over a store, ``serve`` runs it (``benefits serve``).

Pages live in ``dashboards/pages`` (Dash Pages); every script, style sheet and font is served by
the app itself, nothing is fetched from the internet. For production, run ``create_app().server``
under gunicorn with debug off.
"""

from __future__ import annotations

import dash
from dash import dcc, html

from benefits.store.db import make_engine, session_factory
from dashboards import data

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


def create_app(database_url: str | None = None) -> dash.Dash:
    """The dashboard over the store at ``database_url`` (default: ``BENEFITS_DATABASE_URL``, else benefits.db)."""
    data.configure(session_factory(make_engine(database_url)))
    app = dash.Dash(
        "dashboards",  # the package: pages get module names dashboards.pages.<page>, assets come from dashboards/assets
        use_pages=True,
        pages_folder="pages",
        serve_locally=True,
        external_stylesheets=[],
        external_scripts=[],
        # Pages are layout functions of the URL; without this Dash would call every page's layout
        # (and query the store) once just to validate callbacks.
        suppress_callback_exceptions=True,
        title="benefits",
        update_title=None,
    )
    app.layout = _shell
    return app


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, database_url: str | None = None,
          debug: bool = False) -> None:
    """Run the dashboard with the development server until interrupted."""
    create_app(database_url).run(host=host, port=port, debug=debug)


def _shell() -> html.Div:
    """The frame around every page: a header with the navigation, then the page."""
    return html.Div(
        [
            html.Header(
                [
                    dcc.Link("benefits", href="/", className="brand"),
                    html.Nav([dcc.Link("Portfolio", href="/", id="nav-portfolio")], className="nav"),
                ],
                className="top",
            ),
            html.Main(dash.page_container, className="main"),
        ]
    )
