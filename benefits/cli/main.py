"""The root `benefits` group, its shared options and helpers, and the core weekly-job commands."""

from __future__ import annotations

import datetime as dt
import math
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import click

from benefits import __version__
from benefits.cli.render import format_option
from benefits.errors import BenefitsError, BenefitsWarning, ConfigError

if TYPE_CHECKING:  # imported in the function: `benefits --help` stays quick
    from benefits.workspace import Workspace


class _Group(click.Group):
    """Turns a BenefitsError into `error: ...` on stderr (a line per problem) and its exit code, a database
    error (damaged file, disk full, lock time-out, lost connection) into one such line and exit 1, and a usage
    error (an unknown option, a bad value, a missing argument) into one such line and exit 2, never a traceback
    nor click's four lines of usage, hint and error."""

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        """The root's context; a usage error in the root's own options is one line (see :func:`_usage_error`)."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            _usage_error(exc)

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _usage_error(exc)
        except BenefitsError as exc:
            click.echo("\n".join(f"error: {line}" for line in str(exc).splitlines()), err=True)
            sys.exit(exc.exit_code)
        except SQLAlchemyError as exc:
            click.echo(f"error: {workspace(ctx).database_failure(exc)}", err=True)
            sys.exit(1)


def _usage_error(exc: click.UsageError) -> NoReturn:
    """Print a usage error as ``error: <click's message>``, one line on stderr, and exit with its code (2).

    A command or group run without the arguments it needs (``benefits``, ``benefits db``) still prints its
    help, as click does: that is not a mistake to name in one line.
    """
    if isinstance(exc, click.exceptions.NoArgsIsHelpError):
        raise exc
    click.echo("error: " + "; ".join(exc.format_message().splitlines()), err=True)
    sys.exit(exc.exit_code)


def workspace(ctx: click.Context, creates_database: bool = False) -> Workspace:
    """The workspace named by the root options --config and --database (or their defaults).

    Only the commands that create the store (``init``, ``run``, ``db upgrade``) pass ``creates_database``: for the
    others a SQLite file that does not exist is an error, not a new empty file.
    """
    from benefits.workspace import Workspace

    options = ctx.find_root().params
    kwargs: dict[str, Any] = {"creates_database": creates_database}
    if options.get("config"):
        kwargs["config_dir"] = Path(options["config"])
        if kwargs["config_dir"].is_file():
            raise ConfigError(
                f"the configuration folder {options['config']} (--config or BENEFITS_CONFIG) is a file: "
                "name the folder that holds portfolio.yaml"
            )
    if options.get("database"):
        from benefits.store.db import database_url

        kwargs["database_url"] = database_url(options["database"])
    return Workspace(**kwargs)


#: The dates an --as-of option (and ``action add --due``) accepts: far enough either way for any portfolio, and
#: within what the date arithmetic of fiscal years, forecasts and staleness can reach (year 1 or 9999 overflowed it).
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)


class DateOption(click.DateTime):
    """A YYYY-MM-DD date from EARLIEST_DATE to LATEST_DATE; any other is a usage error naming the option."""

    def __init__(self) -> None:
        super().__init__(["%Y-%m-%d"])

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The date as a datetime, as click.DateTime gives it, once it is known to be in range."""
        converted = super().convert(value, param, ctx)
        if not EARLIEST_DATE <= converted.date() <= LATEST_DATE:
            self.fail(f"{converted.date()} is not between {EARLIEST_DATE} and {LATEST_DATE}.", param, ctx)
        return converted


class FiniteFloatRange(click.FloatRange):
    """click.FloatRange that also refuses nan (every comparison with nan is false, so the range lets it in)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The number, once it is known to be a finite one in the range."""
        converted = super().convert(value, param, ctx)
        if not math.isfinite(converted):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return converted


as_of_option = click.option(
    "--as-of",
    type=DateOption(),
    default=None,
    help=f"Date to report at, {EARLIEST_DATE} to {LATEST_DATE} (default: today).",
)
workers_option = click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Parallel forecast processes (default: all cores)."
)
scheduler_option = click.option(
    "--scheduler",
    metavar="ADDRESS",
    default=None,
    help="Run the forecasts on this Dask distributed scheduler (e.g. tcp://host:8786) instead of local processes.",
)
allow_failures_option = click.option(
    "--allow-failures",
    metavar="N",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Exit 0 when at most N benefits' fits failed (each is stored as failed with its reason).",
)


user_option = click.option(
    "--user",
    envvar="BENEFITS_USER",
    default=None,
    help="Who loads the register, kept with each register revision [env BENEFITS_USER; default: the system user].",
)
reason_option = click.option(
    "--reason",
    default="",
    help="Why baselines, targets, dates, profiles or attributions changed, kept with each re-baselining "
    "(a benefit's change_reason in the register comes first). See `benefits register history`.",
)


def _echo_error(message: str) -> None:
    """One line on stderr (a connector's failure: the others' lines stay on stdout)."""
    click.echo(message, err=True)


def as_of_date(value: dt.datetime | None) -> dt.date:
    """The date of an --as-of option, today when it was not given."""
    return value.date() if value else dt.date.today()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="benefits")
@click.option(
    "--config",
    envvar="BENEFITS_CONFIG",
    type=click.Path(),  # a file is refused by `workspace`, in a line that says which folder to name instead
    help="Configuration folder with portfolio.yaml and connectors.yaml [env BENEFITS_CONFIG; default ./config].",
)
@click.option(
    "--database",
    envvar="BENEFITS_DATABASE_URL",
    help="SQLAlchemy database URL [env BENEFITS_DATABASE_URL; default sqlite:///benefits.db].",
)
def main(config: str | None, database: str | None) -> None:
    """Track planned versus realised value of every benefit in a transformation portfolio, weekly."""
    warnings.showwarning = _show_warning


_python_show_warning = warnings.showwarning


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """A BenefitsWarning reads as one ``warning: ...`` line on stderr; other warnings as Python shows them."""
    if issubclass(category, BenefitsWarning):
        click.echo(f"warning: {message}", err=True)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


@main.command()
@click.option(
    "--demo", is_flag=True, help="Copy the demo portfolio and connector into the config folder if it has none."
)
@reason_option
@user_option
@click.pass_context
def init(ctx: click.Context, demo: bool, reason: str, user: str | None) -> None:
    """Create or upgrade the database and load the register into it.

    A change of a benefit's baseline, target, dates, profile or attribution since the last load is
    recorded as a re-baselining, with who (--user), when and why (--reason); `benefits register
    history` lists them.
    """
    from benefits.pipeline import report_revisions
    from benefits.store import repository
    from benefits.users import acting_user

    ws = workspace(ctx, creates_database=True)
    if demo:
        copied = ws.copy_demo_config()
        click.echo(
            f"demo configuration copied to {ws.config_dir}/"
            if copied
            else f"using the register already in {ws.config_dir}/"
        )
    register = ws.register()
    ws.upgrade()
    with ws.sessions.begin() as session:
        revisions = repository.save_register(session, register, by=acting_user(user), reason=reason)
        if demo and copied:
            from benefits.claims.importer import record_demo_claims

            click.echo(f"demo claims: {record_demo_claims(session).new} recorded (`benefits claims list`)")
    report_revisions(revisions, click.echo, _echo_error)
    count = sum(1 for _ in register.benefits())
    click.echo(f"database {ws.safe_url} ready: {len(register.initiatives)} initiatives, {count} benefits")


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply database migrations up to the latest schema."""
    ws = workspace(ctx, creates_database=True)
    ws.upgrade()
    click.echo(f"database {ws.safe_url} is at the latest schema")


@main.command()
@click.option("--connector", "connectors", multiple=True, help="Sync only this connector instance (repeatable).")
@as_of_option
@click.pass_context
def sync(ctx: click.Context, connectors: tuple[str, ...], as_of: dt.datetime | None) -> None:
    """Pull every connector, validate each batch, store accepted rows and quarantine the rest."""
    from benefits import pipeline

    ws = workspace(ctx)
    reports = pipeline.sync_stage(ws, as_of_date(as_of), list(connectors) or None, echo=click.echo, fail=_echo_error)
    if any(r.status == "failed" for r in reports):
        sys.exit(1)


@main.command()
@workers_option
@scheduler_option
@allow_failures_option
@as_of_option
@click.pass_context
def forecast(
    ctx: click.Context, workers: int | None, scheduler: str | None, allow_failures: int, as_of: dt.datetime | None
) -> None:
    """Forecast every benefit with Prophet: probability of landing on time and expected landing date.

    Benefits whose inputs did not change since the last run keep their forecast; thresholds come
    from forecast.yaml in the config folder when it exists. A benefit whose fit fails is stored as
    failed with its reason and the others go on; the command then exits 1, unless
    --allow-failures tolerates that many.
    """
    from benefits import pipeline

    report = pipeline.forecast_stage(workspace(ctx), as_of_date(as_of), workers, echo=click.echo, scheduler=scheduler)
    pipeline.check_failures(report, allow_failures)


@main.command()
@workers_option
@scheduler_option
@allow_failures_option
@as_of_option
@click.option("--digest", is_flag=True, help="At the end, send each owner their digest (`benefits digest`).")
@click.option(
    "--pack",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    default=None,
    help="Also write the steering pack, as `benefits report --out` does (.html, .pdf or .pptx; a .pdf is printed "
    "by the Chromium BENEFITS_CHROMIUM names, else one on the PATH).",
)
@reason_option
@user_option
@click.pass_context
def run(
    ctx: click.Context,
    workers: int | None,
    scheduler: str | None,
    allow_failures: int,
    as_of: dt.datetime | None,
    digest: bool,
    pack: Path | None,
    reason: str,
    user: str | None,
) -> None:
    """The weekly job: reload the register, sync, validate, store, forecast and summarise; with --pack,
    write the steering pack; with --digest, send each owner their digest at the end (notify.yaml).
    Re-baselinings in the reloaded register are recorded as `benefits init` records them (--user,
    --reason). A database that does not exist yet is created first, as `benefits init` creates it.

    Exits 1 when a connector failed, when more benefits' fits failed than --allow-failures, or when
    the digest could not be sent.
    """
    import os

    from benefits import pipeline
    from benefits.cli.report import pack_browser, write_pack
    from benefits.users import acting_user

    ws = workspace(ctx, creates_database=True)
    chromium = os.environ.get("BENEFITS_CHROMIUM")
    if pack is not None:
        pack_browser(pack, chromium, "--pack")  # before an hour of work
    _create_database_if_new(ws)
    ok = pipeline.weekly_run(
        ws,
        as_of_date(as_of),
        workers,
        echo=click.echo,
        scheduler=scheduler,
        allow_failures=allow_failures,
        fail=_echo_error,
        digest=digest,
        by=acting_user(user),
        reason=reason,
        pack=None if pack is None else lambda: write_pack(ws, pack, chromium, as_of_date(as_of)),
    )
    if not ok:
        sys.exit(1)


def _create_database_if_new(ws: Workspace) -> None:
    """Create the store when the database has no schema yet (a first `benefits run`); an older schema is left
    for `benefits db upgrade`, and any other database for the line that `ensure_current` says of it."""
    if ws.schema().state == "new":
        ws.upgrade()
        click.echo(f"database {ws.safe_url} created")


@main.command()
@format_option
@click.option(
    "--changes",
    is_flag=True,
    help="Only the benefits re-baselined or whose status changed since the previous forecast run (CHANGE says which).",
)
@as_of_option
@click.pass_context
def status(ctx: click.Context, fmt: str, changes: bool, as_of: dt.datetime | None) -> None:
    """Show every benefit: planned and realised to date, probability of landing and status.

    With --as-of, the forecast shown is the latest made as of that date or before, never a later one
    (forecast_as_of in JSON and CSV; a line under the table names it when it is of an earlier date, or says
    there was none).
    """
    from benefits.status import changed, kept_positions
    from benefits.tables import forecast_note, render_status

    ws = workspace(ctx)
    ws.ensure_current()
    with ws.engine.connect() as connection:
        rows = [position.row for position in kept_positions(connection, as_of_date(as_of))]
    note = forecast_note(rows, as_of.date()) if as_of is not None and fmt == "table" else ""
    if changes:
        rows = changed(rows)
    click.echo(render_status(rows, fmt, changes=changes) + note, nl=False)


@main.group(invoke_without_command=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a line per plugin; json: a list, one object per plugin, not-loaded ones included.",
)
@click.pass_context
def plugins(ctx: click.Context, fmt: str) -> None:
    """List plugins: name, version, plugin API version, connector types and hooks (`plugins new` starts one).

    A plugin written for another major version of the plugin API is not loaded, and one that
    declares no version is loaded with a warning; each gets a line saying so. So does a connector type
    two plugins offer (a connectors.yaml entry of that type is refused), naming both.
    """
    if ctx.invoked_subcommand is not None:
        return
    import json

    from benefits.plugins.manager import api_checks, offered_connectors, shared_types
    from benefits.plugins.manager import plugins as loaded

    problems = {check.plugin: check.problem for check in api_checks()}
    offered, broken_plugins = offered_connectors()
    for name, broken in broken_plugins.items():  # register_connectors raised or answered wrongly
        problems[name] = "; ".join(filter(None, [problems.get(name), broken]))
    shared = shared_types(offered)  # a connector type two plugins offer: one line naming both
    if fmt == "json":
        for clash in shared.values():
            for name in clash.plugins:
                problems[name] = "; ".join(filter(None, [problems.get(name), clash.problem]))
        listed = [{**vars(info), "loaded": True, "problem": problems.get(info.name)} for info in loaded()]
        refused = [
            {"name": c.plugin, "plugin_api": c.declared, "loaded": False, "problem": c.problem}
            for c in api_checks()
            if not c.loaded
        ]
        click.echo(json.dumps(listed + refused, indent=2))
        return
    for info in loaded():
        click.echo(
            f"{info.name} {info.version}  plugin API {info.plugin_api or 'not declared'}"
            f"  connectors: {', '.join(info.connectors) or '-'}  hooks: {', '.join(info.hooks)}"
        )
    for problem in [*filter(None, problems.values()), *(clash.problem for clash in shared.values())]:
        click.echo(f"warning: {problem}")


@plugins.command("new")
@click.argument("name")
@click.option(
    "--kind",
    type=click.Choice(["rest", "sql", "file"]),
    default="rest",
    show_default=True,
    help="rest: a JSON API (bearer token, cursor pages); sql: a database query; file: CSV/Excel exports.",
)
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to write the package folder benefits-NAME.",
)
def plugins_new(name: str, kind: str, directory: Path) -> None:
    """Write a ready connector plugin package, benefits-NAME, whose conformance test passes as generated."""
    from benefits.plugins.scaffold import write_package

    root = write_package(name, kind, directory)
    click.echo(f"wrote {root}: cd {root} && pip install -e '.[test]' && pytest")
