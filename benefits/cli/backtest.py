"""`benefits backtest`: how well past forecasts of each benefit held up (rolling-origin backtest)."""

from __future__ import annotations

import datetime as dt

import click

from benefits.cli.main import as_of_date, as_of_option, main, workspace
from benefits.cli.render import format_option, render

COLUMNS = ("benefit", "origins", "points", "coverage", "error")


@main.command()
@click.option("--benefit", "keys", multiple=True, metavar="KEY", help="Only this benefit (repeatable).")
@click.option("--origins", type=click.IntRange(min=1), default=4, show_default=True,
              help="Past origins, a quarter (13 weeks) apart; each is forecast a quarter ahead.")
@format_option
@as_of_option
@click.pass_context
def backtest(ctx: click.Context, keys: tuple[str, ...], origins: int, fmt: str, as_of: dt.datetime | None) -> None:
    """Forecast each benefit from past origins with only the data known then, and compare with what was observed.

    COVERAGE is the share of observed weeks inside the 80% interval (about 0.8 when the interval
    is honest); ERROR the mean absolute error of the median as a share of the target improvement.
    Origins decided without a fit (already achieved, too few points) add no weeks.
    """
    from benefits.forecast import load_settings
    from benefits.forecast.backtest import backtest_portfolio

    ws = workspace(ctx)
    ws.ensure_current()

    def progress(done: int, total: int, key: str) -> None:
        click.echo(f"backtest {done + 1}/{total}: {key}", err=True)

    rows = []
    with ws.sessions() as session:
        found = backtest_portfolio(session, as_of_date(as_of), load_settings(ws.config_dir), keys, origins, progress)
        for key, result in found:
            rows.append({"benefit": key, "origins": len({p.origin for p in result.points}), "points": len(result.points),
                         "coverage": _rounded(result.coverage), "error": _rounded(result.error)})
    click.echo(render(rows, COLUMNS, fmt), nl=False)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
