"""The weekly job's stages, wired together: register -> sync -> validate -> store -> forecast -> summary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from benefits.store import repository
from benefits.sync import SyncReport, sync_all
from benefits.workspace import Workspace

Echo = Callable[[str], None]


def load_register_stage(ws: Workspace) -> None:
    """Reload the register from the config folder into the store, so edits apply this week."""
    register = ws.register()
    ws.ensure_current()
    with ws.sessions.begin() as session:
        repository.save_register(session, register)


def sync_stage(ws: Workspace, as_of: dt.date, only: list[str] | None, echo: Echo) -> list[SyncReport]:
    """Sync connectors and print one line per sync run."""
    register = ws.register()
    ws.ensure_current()
    reports = sync_all(ws.sessions, ws.config_dir, register, as_of, only,
                       progress=lambda name, read: echo(f"sync {name}: {read:,} rows read, validated and "
                                                        "written so far (committed when the run ends)"))
    for r in reports:
        if r.status == "failed":
            echo(f"sync {r.connector}: FAILED: {r.error}")
        else:
            echo(f"sync {r.connector}: {r.rows_read:,} rows read, {r.rows_accepted:,} accepted "
                 f"({r.rows_restated:,} restated, {r.rows_warned:,} with warnings), {r.rows_quarantined:,} quarantined"
                 + _claims_text(r))
    return reports


def _claims_text(report: SyncReport) -> str:
    """``; claims: 2 new, 1 updated, 4 unchanged`` for a connector that delivered claims, else nothing."""
    if not (report.claims_new or report.claims_updated or report.claims_unchanged):
        return ""
    return (f"; claims: {report.claims_new} new, {report.claims_updated} updated, "
            f"{report.claims_unchanged} unchanged")


def forecast_stage(
    ws: Workspace, as_of: dt.date, workers: int | None, echo: Echo, scheduler: str | None = None
) -> dict[str, int]:
    """Forecast every benefit (locally, or on the Dask ``scheduler``), printing progress; the count per status."""
    from benefits.forecast import load_settings
    from benefits.forecast.runner import forecast_all

    ws.ensure_current()
    done = 0

    def progress(key: str, result) -> None:  # type: ignore[no-untyped-def]
        nonlocal done
        done += 1
        echo(f"forecast {done:>3}: {key}: {result.status}")

    settings = load_settings(ws.config_dir)
    report = forecast_all(ws.sessions, as_of, settings, workers=workers, progress=progress, scheduler=scheduler)
    summary = ", ".join(f"{count} {status}" for status, count in sorted(report.by_status.items()))
    echo(f"forecast run {report.run_id}: {report.benefits} benefits ({summary or 'none'}); "
         f"{report.reused} unchanged since the last run, {report.failed} failed")
    return report.by_status


def weekly_run(ws: Workspace, as_of: dt.date, workers: int | None, echo: Echo, scheduler: str | None = None) -> bool:
    """The weekly job; False when a connector failed (the rest still ran)."""
    load_register_stage(ws)
    reports = sync_stage(ws, as_of, None, echo)
    forecast_stage(ws, as_of, workers, echo, scheduler)
    echo("next: `benefits status` for the table, `benefits serve` for the dashboard")
    return all(r.status != "failed" for r in reports)
