"""`benefits backtest`: how well past forecasts of each benefit held up (rolling-origin backtest)."""

from __future__ import annotations

import datetime as dt

import click

from benefits.cli.main import as_of_date, as_of_option, main, workspace
from benefits.cli.render import format_option, render

COLUMNS = ("benefit", "origins", "points", "coverage", "raw_coverage", "error")


@main.command()
@click.option("--benefit", "keys", multiple=True, metavar="KEY", help="Only this benefit (repeatable).")
@click.option(
    "--origins",
    type=click.IntRange(min=1, max=12),
    default=4,
    show_default=True,
    help="Past origins: the start of the latest quarter at least 4 weeks ago, then 1, 3, 7... quarters before it.",
)
@format_option
@as_of_option
@click.pass_context
def backtest(ctx: click.Context, keys: tuple[str, ...], origins: int, fmt: str, as_of: dt.datetime | None) -> None:
    """Forecast each benefit from past origins with only the data known then, and compare with what was observed.

    Every observation after an origin (weekly, monthly or irregular) is compared with that
    origin's forecast at its date. COVERAGE is the share inside the calibrated 80% interval
    (about 0.8 when the interval is honest), RAW_COVERAGE the share inside the model's own
    interval before calibration, ERROR the mean absolute error of the calibrated median as a
    share of the target improvement. The calibration is the latest forecast run's (the prior when
    that run's forecasting method is older than this version's). Origins with fewer readings than
    the forecast needs add no points.
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
            rows.append(
                {
                    "benefit": key,
                    "origins": len({p.origin for p in result.points}),
                    "points": len(result.points),
                    "coverage": _rounded(result.coverage),
                    "raw_coverage": _rounded(result.raw_coverage),
                    "error": _rounded(result.error),
                }
            )
    click.echo(render(rows, COLUMNS, fmt), nl=False)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
