"""`benefits status` rows (``benefits.status.positions``): planned, realised, the latest forecast with
its 80% interval, and statuses, on a SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from benefits.cli import main
from benefits.dashboards.snapshot import snapshot
from benefits.status import NOT_FORECAST, STATUSES, Position, StatusRow, changed, positions, status_rows
from benefits.store import models, repository
from benefits.store.db import make_engine, session_factory
from benefits.tables import render_status

from . import dashboard_data as dd


@pytest.fixture
def session(tmp_path: Path, database_url: str) -> Iterator[Session]:
    engine = make_engine(dd.build_store(tmp_path, url=database_url))
    with session_factory(engine)() as opened:
        yield opened
    engine.dispose()


def latest_forecasts(session: Session) -> dict[str, models.Forecast]:
    return repository.forecasts_of(session, repository.forecast_runs(session, limit=1)[0])


def test_rows_hold_planned_realised_value_and_the_latest_forecast(session: Session) -> None:
    rows = status_rows(session, dd.AS_OF)
    assert [r.benefit for r in rows] == ["it-opex", "handle-time", "upsell-revenue"]  # register order
    stored = latest_forecasts(session)
    for row in rows:
        expected = dd.EXPECTED[row.benefit]
        assert row.planned_to_date == pytest.approx(expected["planned"], abs=1e-3)
        assert row.realised_to_date == pytest.approx(expected["realised"])
        assert (row.planned_value, row.realised_value) == pytest.approx(
            (expected["planned_value"], expected["realised_value"]), abs=0.01
        )
        assert (row.status, row.p_on_time) == (expected["status"], expected["p_on_time"])
        forecast = stored[row.benefit]
        assert row.forecast_at_target_date == round(forecast.forecast_at_target_date, 4)
        assert (row.forecast_low_80, row.forecast_high_80) == (
            round(forecast.lower_at_target_date, 4),
            round(forecast.upper_at_target_date, 4),
        )
        assert row.forecast_low_80 < row.forecast_at_target_date < row.forecast_high_80
    assert [r.benefit for r in changed(rows)] == ["it-opex"]  # on_track in the previous run


def test_level_and_cumulative_realised_values_follow_the_as_of_date(session: Session) -> None:
    before = {r.benefit: r for r in status_rows(session, dd.BASELINE)}
    assert {r.realised_to_date for r in before.values()} == {None}  # nothing observed after the baseline yet
    assert {r.realised_value for r in before.values()} == {0.0}
    later = {r.benefit: r for r in status_rows(session, dd.AS_OF.replace(year=2026))}
    assert later["it-opex"].realised_to_date == 45_000.0  # the reading after AS_OF: 500,000 - 455,000
    assert later["upsell-revenue"].realised_to_date == dd.EXPECTED["upsell-revenue"]["realised"]


def test_the_newest_value_counts_when_two_sources_report_one_period(session: Session) -> None:
    run = session.scalars(select(models.SyncRun)).first()
    assert run is not None
    session.add(
        models.Observation(
            metric="ledger.it_opex",
            period=dd.LAST_WEEK,
            value=450_000.0,
            unit="GBP",
            source="second-ledger",
            sync_run_id=run.id,
        )
    )
    session.add(
        models.Observation(
            metric="crm.upsell_revenue",
            period=dd.LAST_WEEK,
            value=9_000.0,
            unit="GBP",
            source="second-crm",
            sync_run_id=run.id,
        )
    )
    session.commit()
    found = {p.row.benefit: p for p in positions(session, dd.AS_OF)}
    assert found["it-opex"].row.realised_to_date == 50_000.0  # the newer 450,000 replaced 462,500
    assert found["upsell-revenue"].row.realised_to_date == 201_000.0  # 9,000 instead of 8,000 that week
    assert found["upsell-revenue"].points == dd.WEEKS
    assert found["upsell-revenue"].last_period == dd.LAST_WEEK.isoformat()


def test_a_benefit_without_a_forecast_has_no_data_and_no_interval(session: Session) -> None:
    run = repository.forecast_runs(session, limit=1)[0]
    session.execute(
        delete(models.Forecast).where(
            models.Forecast.forecast_run_id == run.id, models.Forecast.benefit_key == "handle-time"
        )
    )
    session.commit()
    row = next(r for r in status_rows(session, dd.AS_OF) if r.benefit == "handle-time")
    assert (row.status, row.message) == ("no_data", NOT_FORECAST)
    assert (row.forecast_at_target_date, row.forecast_low_80, row.forecast_high_80, row.p_on_time) == (None,) * 4
    assert row.realised_to_date == pytest.approx(dd.EXPECTED["handle-time"]["realised"])  # still shown


def test_a_failed_fit_shows_as_failed_with_its_reason(session: Session) -> None:
    reason = "forecast failed: Stan optimisation failed: line search failed"
    run = repository.forecast_runs(session, limit=1)[0]
    session.execute(
        update(models.Forecast)
        .where(models.Forecast.forecast_run_id == run.id, models.Forecast.benefit_key == "it-opex")
        .values(
            status="failed",
            message=reason,
            p_on_time=None,
            forecast_at_target_date=None,
            lower_at_target_date=None,
            upper_at_target_date=None,
        )
    )
    session.commit()
    rows = status_rows(session, dd.AS_OF)
    row = rows[0]
    assert "failed" in STATUSES
    assert (row.status, row.message, row.p_on_time, row.forecast_low_80) == ("failed", reason, None, None)
    assert row in changed(rows)
    table = render_status(rows, "table").splitlines()
    assert table[1].startswith("it-opex") and table[1].endswith("failed")


def test_json_and_csv_carry_the_80_percent_interval_at_the_target_date(session: Session) -> None:
    rows = status_rows(session, dd.AS_OF)
    listed = json.loads(render_status(rows, "json"))
    assert [set(item) for item in listed] == [set(StatusRow.__dataclass_fields__)] * 3
    assert [(item["forecast_low_80"], item["forecast_high_80"]) for item in listed] == [
        (r.forecast_low_80, r.forecast_high_80) for r in rows
    ]
    read = list(csv.DictReader(io.StringIO(render_status(rows, "csv"))))
    assert [float(item["forecast_high_80"]) for item in read] == [r.forecast_high_80 for r in rows]


@pytest.mark.parametrize("as_of", [dd.AS_OF, dd.AS_OF.replace(month=9, day=1)])  # the second: every metric stale
def test_the_dashboard_snapshot_is_the_status_rows_with_what_the_pages_show(session: Session, as_of: dt.date) -> None:
    frame = snapshot(session, as_of)
    found = positions(session, as_of)
    assert frame["benefit"].tolist() == [p.row.benefit for p in found]
    first = frame.iloc[0].to_dict()
    assert {name: first[name] for name in StatusRow.__dataclass_fields__} == found[0].row.as_dict()
    assert {name for name in Position.__dataclass_fields__ if name != "row"} <= set(frame.columns)
    if as_of != dd.AS_OF:
        assert set(frame["status"]) == {"data_stale"} and frame["forecast_low_80"].isna().all()


def test_the_positions_of_one_initiative_or_benefit_are_those_of_the_whole_portfolio(session: Session) -> None:
    everything = positions(session, dd.AS_OF)
    cloud = positions(session, dd.AS_OF, initiative="cloud-platform")
    assert [p.row.benefit for p in cloud] == ["it-opex", "handle-time"]
    assert cloud == everything[:2]
    assert positions(session, dd.AS_OF, benefit="upsell-revenue") == everything[2:]
    assert positions(session, dd.AS_OF, benefit="does-not-exist") == []


def test_the_table_counts_each_benefits_overdue_actions(session: Session) -> None:
    rows = status_rows(session, dd.AS_OF)
    late = [dataclasses.replace(rows[0], overdue_actions=2), *rows[1:]]
    header, first, *others = render_status(late, "table").splitlines()
    at = header.index("OVERDUE")
    assert header.index("LANDING") < at < header.index("STATUS")
    assert first[at:].split()[0] == "2"
    assert all(line[at:].split()[0] == "0" for line in others)


def test_a_past_date_shows_the_latest_forecast_made_by_then_never_a_later_one(
    session: Session, tmp_path: Path, database_url: str
) -> None:
    """`status --as-of` a week before the latest run showed that run's p and status beside what was realised a week
    earlier (a forecast from data not there yet); now the run of that date, or none before the first run, and
    `forecast_as_of` (JSON, CSV) and a line under the table say which. A run back-dated after the latest (a
    re-forecast of an earlier week) does not replace the latest date's in today's status."""
    week_before, fortnight_before = dd.AS_OF - dt.timedelta(weeks=1), dd.AS_OF - dt.timedelta(weeks=2)
    now = {r.benefit: r for r in status_rows(session, dd.AS_OF)}
    assert {r.forecast_as_of for r in now.values()} == {dd.AS_OF.isoformat()}
    then = {r.benefit: r for r in status_rows(session, week_before)}
    assert {r.forecast_as_of for r in then.values()} == {week_before.isoformat()}
    assert {(r.status, r.p_on_time) for r in then.values()} == {("on_track", 0.5), ("off_track", 0.5)}
    assert then["it-opex"].status == "on_track" and then["it-opex"].previous_status is None
    before = status_rows(session, fortnight_before)
    assert {(r.status, r.p_on_time, r.forecast_at_target_date, r.forecast_as_of) for r in before} == {
        ("no_data", None, None, None)
    }
    assert before[0].message == (
        f"no forecast made as of {fortnight_before} or before (the first is as of {week_before}):"
        f" run `benefits forecast --as-of {fortnight_before}` for one"
    )
    listed = json.loads(render_status(status_rows(session, week_before), "json"))
    assert [item["forecast_as_of"] for item in listed] == [week_before.isoformat()] * 3
    session.add(models.ForecastRun(as_of=fortnight_before, finished_at=dt.datetime.now(dt.UTC)))  # back-dated
    session.commit()
    assert {r.forecast_as_of for r in status_rows(session, dd.AS_OF)} == {dd.AS_OF.isoformat()}

    def table(as_of: dt.date, *more: str) -> list[str]:
        args = ["--config", str(tmp_path / "config"), "--database", database_url, "status", "--as-of", str(as_of)]
        result = CliRunner().invoke(main, [*args, *more])
        assert result.exit_code == 0, result.output
        return result.stdout.splitlines()

    assert table(week_before)[-1].startswith("upsell-revenue")  # the forecast of that very date: nothing to say
    later = dd.AS_OF + dt.timedelta(days=2)
    note = f"P(ON TIME), LANDING and STATUS: the forecast as of {dd.AS_OF}, the latest at or before {later}"
    assert table(later)[-1] == table(later, "--changes")[-1] == note
    early = dd.BASELINE
    assert table(early)[-1] == f"no forecast as of {early} or before: P(ON TIME) and LANDING are empty"


def test_value_at_a_past_date_reads_the_forecast_paths_of_that_date_never_a_later_run(session: Session) -> None:
    """`benefits value --as-of` a week before the latest run drew its FY forecast and P10-P90 from that later
    run's paths, as `status --as-of` showed its probabilities; now the run `status` shows (none before the first)."""
    from benefits.value.reading import forecast_paths

    week_before = dd.AS_OF - dt.timedelta(weeks=1)
    runs = {run.as_of: run.id for run in session.scalars(select(models.ForecastRun))}

    def stored(run_id: int) -> dict[str, str]:
        rows = session.execute(
            select(models.Forecast.benefit_key, models.Forecast.path).where(models.Forecast.forecast_run_id == run_id)
        )
        return {key: path[0]["period"] for key, path in rows if path}

    def first_periods(as_of: dt.date) -> dict[str, str]:
        return {key: path[0][0].isoformat() for key, path in forecast_paths(session, as_of).items() if path}

    assert stored(runs[week_before]) != stored(runs[dd.AS_OF])
    assert first_periods(dd.AS_OF) == stored(runs[dd.AS_OF])
    assert first_periods(week_before) == stored(runs[week_before])
    assert forecast_paths(session, dd.AS_OF - dt.timedelta(weeks=2)) == {}
