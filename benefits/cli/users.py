"""`benefits users`: the dashboard's users file (name, role, scrypt password hash)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from benefits.cli.main import main, workspace
from benefits.users import ROLES, USERS_FILE

_file_option = click.option(
    "--file",
    "users_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Users file [default: CONFIG/{USERS_FILE}].",
)


def _path(ctx: click.Context, users_file: Path | None) -> Path:
    return users_file or workspace(ctx).config_dir / USERS_FILE


@main.group()
def users() -> None:
    """Users of the dashboard and of claims sign-off, and their roles (viewer, pmo, finance, admin)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of a prompt.")
@click.option("--no-password", is_flag=True, help="No password: for --auth-header mode, where a proxy signs users in.")
@_file_option
@click.pass_context
def add(
    ctx: click.Context, name: str, role: str, password_stdin: bool, no_password: bool, users_file: Path | None
) -> None:
    """Add user NAME with a role (or replace their role and password)."""
    from benefits.users import UserEntry, hash_password, load_users, save_users

    path = _path(ctx, users_file)
    known = load_users(path) if path.exists() else {}
    if no_password:
        password = ""
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    if not no_password and len(password) < 8:
        raise click.BadParameter("the password needs at least 8 characters", param_hint="password")
    known[name] = UserEntry(name=name, role=role, password_hash=hash_password(password) if password else "")
    save_users(path, known)
    click.echo(f"{name} ({role}) saved in {path}")


@users.command("remove")
@click.argument("name")
@_file_option
@click.pass_context
def remove(ctx: click.Context, name: str, users_file: Path | None) -> None:
    """Remove user NAME."""
    from benefits.errors import ConfigError
    from benefits.users import load_users, save_users

    path = _path(ctx, users_file)
    known = load_users(path)
    if known.pop(name, None) is None:
        raise ConfigError(f"{path}: no user called {name}")
    save_users(path, known)
    click.echo(f"{name} removed from {path}")


@users.command("list")
@_file_option
@click.pass_context
def list_users(ctx: click.Context, users_file: Path | None) -> None:
    """List users and roles (never the hashes)."""
    from benefits.users import load_users

    for user in load_users(_path(ctx, users_file)).values():
        click.echo(f"{user.name}\t{user.role}\t{'password' if user.password_hash else 'proxy only'}")
