"""The weekly job's stages, wired together: register -> sync -> validate -> store -> forecast -> summary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from benefits.errors import BenefitsError
from benefits.store import baselines, models, repository
from benefits.workspace import Workspace

if TYPE_CHECKING:
    from benefits.forecast.result import BenefitForecast
    from benefits.forecast.runs import ForecastRunReport
    from benefits.sync.writer import SyncReport

Echo = Callable[[str], None]
_LISTED = 10
"""Failed benefits named in the forecast summary, unreadable files named per sync run; the rest are counted."""


def load_register_stage(ws: Workspace, echo: Echo, by: str = "", reason: str = "", fail: Echo | None = None) -> None:
    """Reload the register from the config folder into the store, so edits apply this week; a line
    per re-baselined benefit, credited to ``by`` and explained by ``reason`` unless the register
    explains it (``benefits.store.baselines``), and a ``warning:`` line (through ``fail``) for each
    without a reason."""
    register = ws.register()
    ws.ensure_current()
    with ws.sessions.begin() as session:
        revisions = repository.save_register(session, register, by=by, reason=reason)
    report_revisions(revisions, echo, fail or echo)


def report_revisions(revisions: list[models.RegisterRevision], echo: Echo, fail: Echo) -> None:
    """A line per re-baselining among ``revisions``; a ``warning:`` line (through ``fail``) for each without why."""
    for revision in revisions:
        if revision.kind == baselines.REBASELINED:
            echo(baselines.announcement(revision))
        warning = baselines.missing_reason(revision)
        if warning:
            fail(f"warning: {warning}")


def sync_stage(
    ws: Workspace, as_of: dt.date, only: list[str] | None, echo: Echo, fail: Echo | None = None
) -> list[SyncReport]:
    """Sync connectors and print one line per sync run (a failed run's line through ``fail``,
    stderr in the CLI), one line per file or line the connector could not read, and, when rows
    were quarantined, their commonest reasons and the command that lists them (a run that accepted
    none of its rows says so first), then up to ten lines the connector logged. First comes a
    ``warning:`` line (through ``fail``) for each installed plugin not loaded, or loaded with a
    warning, for its plugin API version."""
    from benefits.plugins.manager import plugin_problems
    from benefits.sync.runner import sync_all  # here: `benefits forecast` need not load the sync stage

    register = ws.register()
    ws.ensure_current()
    for problem in plugin_problems():
        (fail or echo)(f"warning: {problem}")
    reports = sync_all(
        ws.sessions,
        ws.config_dir,
        register,
        as_of,
        only,
        progress=lambda name, read: echo(
            f"sync {name}: {read:,} rows read, validated and written so far (committed when the run ends)"
        ),
    )
    for r in reports:
        if r.status == "failed":
            (fail or echo)(f"sync {r.connector}: failed: {r.error}")
            _echo_log(r, echo)
            continue
        echo(
            f"sync {r.connector}: {r.rows_read:,} rows read, {r.rows_accepted:,} accepted "
            f"({r.rows_new:,} new, {r.rows_restated:,} restated, {r.rows_unchanged:,} unchanged, "
            f"{r.rows_warned:,} with warnings), {r.rows_quarantined:,} quarantined"
            + _already_held_text(r)
            + _claims_text(r)
        )
        if r.rows_released:
            rows = "row" if r.rows_released == 1 else "rows"
            echo(
                f"sync {r.connector}: closed {r.rows_released:,} held {rows} whose source line loaded in this run "
                f"(fixed at the source; kept: `benefits quarantine list --connector {r.connector} --all`)"
            )
        _echo_listed(
            echo,
            [f"sync {r.connector}: not read: {reason} (held in quarantine)" for reason in r.unreadable],
            f"sync {r.connector}: {{}} more files or lines not read: `benefits quarantine list --run {r.sync_run}`",
        )
        if r.rows_quarantined:
            # rows already held belong to earlier runs: list the connector's, not this run's
            where = f"--connector {r.connector}" if r.rows_already_held else f"--run {r.sync_run}"
            echo(f"sync {r.connector}: {_quarantine_text(r)}; `benefits quarantine list {where}` shows them")
        _echo_log(r, echo)
    return reports


def _echo_log(report: SyncReport, echo: Echo) -> None:
    """What the connector logged during its run (masked, as stored with the run), up to ``_LISTED`` lines."""
    _echo_listed(
        echo,
        [f"sync {report.connector}: logged {line}" for line in report.log],
        f"sync {report.connector}: {{}} more lines logged, kept with sync run {report.sync_run}",
    )


def _echo_listed(echo: Echo, lines: list[str], more: str) -> None:
    """The first ``_LISTED`` of ``lines``, then ``more`` with how many were left out (``{}``), if any were."""
    for line in lines[:_LISTED]:
        echo(line)
    if len(lines) > _LISTED:
        echo(more.format(len(lines) - _LISTED))


def _quarantine_text(report: SyncReport) -> str:
    """``0 of 40 rows accepted: value: … is not a number (40)``, or ``quarantined: <reason> (3), ...``."""
    reasons = ", ".join(f"{reason} ({count:,})" for reason, count in report.top_reasons)
    if not report.rows_accepted:
        return f"0 of {report.rows_read:,} rows accepted: {reasons}"
    return f"quarantined: {reasons}"


def _already_held_text(report: SyncReport) -> str:
    """`` (3 rows already held in quarantine)`` when the run re-sent rows an earlier run holds, else nothing."""
    if not report.rows_already_held:
        return ""
    rows = "row" if report.rows_already_held == 1 else "rows"
    return f" ({report.rows_already_held:,} {rows} already held in quarantine)"


def _claims_text(report: SyncReport) -> str:
    """``; claims: 2 new, 1 updated, 4 unchanged`` for a connector that delivered claims, else nothing."""
    if not (report.claims_new or report.claims_updated or report.claims_unchanged):
        return ""
    return f"; claims: {report.claims_new} new, {report.claims_updated} updated, {report.claims_unchanged} unchanged"


def forecast_stage(
    ws: Workspace, as_of: dt.date, workers: int | None, echo: Echo, scheduler: str | None = None
) -> ForecastRunReport:
    """Forecast every benefit (locally, or on the Dask ``scheduler``), and print progress and a summary
    that names the benefits whose fit failed; the run's report.

    A benefit whose metric is stale at ``as_of`` prints ``data_stale (forecast at_risk)``: the
    status `benefits status` gives it (``benefits.status``), then what its forecast said."""
    from benefits.forecast.runs import copy_if_unchanged
    from benefits.forecast.settings import load_settings
    from benefits.staleness import metric_summaries

    ws.ensure_current()
    with ws.sessions() as session:
        stale = {key for metric in metric_summaries(session, as_of) if metric.stale for key in metric.used_by}
    done = 0

    def progress(key: str, result: BenefitForecast) -> None:
        nonlocal done
        done += 1
        verdict = f"data_stale (forecast {result.status})" if key in stale else result.status
        echo(f"forecast {done:>3}: {key}: {verdict}")

    settings = load_settings(ws.config_dir)
    # on unchanged inputs the latest run is copied without importing the model and its fitting
    report = copy_if_unchanged(ws.sessions, as_of, settings, scheduler, progress)
    if report is None:
        from benefits.forecast.runner import forecast_all

        report = forecast_all(
            ws.sessions, as_of, settings, workers=workers, progress=progress, scheduler=scheduler, notes=echo
        )
    summary = ", ".join(f"{count} {status}" for status, count in sorted(report.by_status.items()))
    if report.held:
        echo(f"forecast trust: {report.held}")
    stale_note = f"; {len(stale)} data_stale: metric stopped reporting" if stale else ""
    echo(
        f"forecast run {report.run_id}: {report.benefits} benefits ({summary or 'none'}{stale_note}); "
        f"{report.reused} unchanged since the last run, {_failed_text(report.failed_benefits)}"
    )
    return report


def keep_views(ws: Workspace, as_of: dt.date) -> None:
    """Keep what the week's readers ask for first, computed from the stored forecasts: every benefit's
    position at ``as_of`` (``benefits.status.kept_positions``: `benefits status` and the dashboard read
    it) and `benefits value`'s report with its default options (``benefits.value.kept``). The weekly
    job does this once its forecasts are stored; after `benefits forecast` alone, the first reader
    computes and keeps them, so a forecast re-run stays quick."""
    from benefits.status import kept_positions
    from benefits.value import DEFAULT_CORRELATION, DEFAULT_SAMPLES
    from benefits.value.kept import kept_report

    with ws.engine.connect() as connection:
        kept_positions(connection, as_of)
        kept_report(connection, as_of, None, DEFAULT_CORRELATION, DEFAULT_SAMPLES)


def _failed_text(keys: tuple[str, ...]) -> str:
    """``0 failed``, or ``2 failed: key-a, key-b`` (the first few keys, then how many more)."""
    if not keys:
        return "0 failed"
    named = ", ".join(keys[:_LISTED])
    more = f" and {len(keys) - _LISTED} more" if len(keys) > _LISTED else ""
    return f"{len(keys)} failed: {named}{more}"


def check_failures(report: ForecastRunReport, allowed: int) -> None:
    """Raise BenefitsError (exit 1) when more benefits' fits failed than ``allowed``."""
    if report.failed <= allowed:
        return
    benefits = f"{report.failed} benefit{'s' if report.failed != 1 else ''}"
    raise BenefitsError(
        f"{benefits} failed to forecast (--allow-failures {allowed}); `benefits status --format json` gives each reason"
    )


def weekly_run(
    ws: Workspace,
    as_of: dt.date,
    workers: int | None,
    echo: Echo,
    scheduler: str | None = None,
    allow_failures: int = 0,
    fail: Echo | None = None,
    digest: bool = False,
    by: str = "",
    reason: str = "",
    pack: Callable[[], None] | None = None,
) -> bool:
    """The weekly job; False when a connector failed (the rest still ran; its line goes to ``fail``).
    ``pack`` (writing the steering pack) is called once the forecasts are stored. With ``digest``, each
    owner's digest is sent at the end (``benefits.digest``), notify.yaml being checked first. The
    register's reload credits its revisions to ``by``, explained by ``reason`` (:func:`load_register_stage`).

    Raises BenefitsError, after the whole job ran, when more than ``allow_failures`` benefits'
    fits failed.
    """
    from benefits.digest import send_digest, sending_settings

    notify = sending_settings(ws) if digest else None
    load_register_stage(ws, echo, by, reason, fail)
    reports = sync_stage(ws, as_of, None, echo, fail)
    report = forecast_stage(ws, as_of, workers, echo, scheduler)
    keep_views(ws, as_of)
    if pack is not None:
        pack()
    if notify is not None:  # before failures are judged: a failed fit is news for its owner
        send_digest(ws, as_of, echo, settings=notify)
    echo("next: `benefits status` for the table, `benefits serve` for the dashboard")
    check_failures(report, allow_failures)
    return all(r.status != "failed" for r in reports)
