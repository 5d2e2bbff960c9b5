"""`benefits serve`: the dashboard, open on loopback or behind a users file or a trusted proxy header."""

from __future__ import annotations

from pathlib import Path

import click

from benefits.cli.main import main, workspace
from benefits.users import USERS_FILE


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8050, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on (1-65535)."
)
@click.option(
    "--users",
    "users_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Users file with roles and password hashes [default: CONFIG/{USERS_FILE} when it exists].",
)
@click.option(
    "--auth-header",
    default=None,
    help="Trust this header (e.g. X-Forwarded-User) for the user name set by a reverse proxy.",
)
@click.option(
    "--role-header",
    default=None,
    help="With --auth-header: the header carrying the role (else the users file, else viewer).",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="ADDRESS[/BITS]",
    help="The reverse proxy's address or network. With --auth-header the headers are believed only "
    "from it (default: loopback; required to listen on another address); with a users file its "
    "X-Forwarded-For names the client whose wrong passwords are counted. Repeatable.",
)
@click.option("--debug", is_flag=True, help="Dash debug mode (never on a shared address).")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    users_file: Path | None,
    auth_header: str | None,
    role_header: str | None,
    trusted_proxies: tuple[str, ...],
    debug: bool,
) -> None:
    """Serve the dashboard (Dash) at http://HOST:PORT/ with waitress, a production WSGI server
    (Dash's development server with --debug).

    Without --users or --auth-header the dashboard is open and only allowed on a loopback address.
    With --auth-header on any other address, --trusted-proxy names the proxy whose headers are believed.
    Wrong passwords are throttled (5 per user name or client address in 5 minutes, then HTTP 429);
    behind a reverse proxy, name it with --trusted-proxy so that clients are told apart.
    """
    from benefits.dashboards.app import serve as serve_dashboard
    from benefits.dashboards.auth import AuthSettings

    ws = workspace(ctx)
    ws.ensure_current()
    if role_header and not auth_header:
        raise click.UsageError("--role-header needs --auth-header")
    if users_file is None and (ws.config_dir / USERS_FILE).exists():
        users_file = ws.config_dir / USERS_FILE
    if trusted_proxies and not (auth_header or users_file):
        raise click.UsageError("--trusted-proxy needs --auth-header or a users file")
    settings = AuthSettings(
        users_file=users_file, user_header=auth_header, role_header=role_header, trusted_proxies=trusted_proxies
    )
    serve_dashboard(
        host=host,
        port=port,
        database_url=ws.database_url,
        debug=debug,
        auth=settings,
        echo=lambda text: click.echo(text, err=True),
    )
