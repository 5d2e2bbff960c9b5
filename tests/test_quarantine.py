"""`benefits quarantine list|show|retry` on the demo's deliberately bad rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from benefits.cli import main
from benefits.store import models

AS_OF = dt.date(2026, 11, 23)
LATER = AS_OF + dt.timedelta(weeks=3)


def cli(config: Path, url: str, *args: str) -> Result:
    result = CliRunner().invoke(main, ["--config", str(config), "--database", url, *args])
    return result


@pytest.fixture
def synced(demo_config: Path, database_url: str) -> tuple[Path, str]:
    assert cli(demo_config, database_url, "init").exit_code == 0
    sync = cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat())
    assert sync.exit_code == 0, sync.output
    return demo_config, database_url


def listed(config: Path, url: str, *args: str) -> list[dict]:
    result = cli(config, url, "quarantine", "list", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_list_show_and_retry_until_every_row_adds_up(synced: tuple[Path, str]) -> None:
    config, url = synced
    held = listed(config, url)
    assert len(held) >= 4 and {h["connector"] for h in held} == {"demo"} and all(h["reasons"] for h in held)
    future = [h for h in held if h["record"]["period"] == (AS_OF + dt.timedelta(weeks=2)).isoformat()]
    assert len(future) == 1 and "future" in " ".join(future[0]["reasons"])
    assert listed(config, url, "--reason", "FUTURE") == future
    assert listed(config, url, "--run", str(held[0]["sync_run"]), "--connector", "demo") == held
    assert listed(config, url, "--connector", "nobody") == []

    table = cli(config, url, "quarantine", "list")
    assert table.output.splitlines()[0].split()[:4] == ["ID", "CONNECTOR", "SYNC", "RUN"]
    shown = cli(config, url, "quarantine", "show", str(future[0]["id"]))
    assert f'period: "{future[0]["record"]["period"]}"' in shown.output and future[0]["reasons"][0] in shown.output
    as_json = json.loads(cli(config, url, "quarantine", "show", str(future[0]["id"]), "--format", "json").output)
    assert as_json["record"] == future[0]["record"] and as_json["status"] == "held"
    missing = cli(config, url, "quarantine", "show", "999999")
    assert missing.exit_code != 0 and "quarantine entry 999999 does not exist" in missing.output

    # Nothing changed yet: retrying the future row keeps it held, with the reasons of the retry.
    again = cli(config, url, "quarantine", "retry", str(future[0]["id"]), "--as-of", AS_OF.isoformat())
    assert again.exit_code == 0 and "1 rows read, 0 loaded, 1 still held" in again.output, again.output
    # Three weeks on, that period is no longer in the future: it loads, the unreadable rows stay.
    later = cli(config, url, "quarantine", "retry", "--all", "--as-of", LATER.isoformat())
    assert later.exit_code == 0, later.output
    still = listed(config, url)
    assert future[0]["id"] not in {h["id"] for h in still} and 0 < len(still) < len(held)
    resolved = [h for h in listed(config, url, "--all") if h["status"] == "resolved"]
    assert future[0]["id"] in {h["id"] for h in resolved} and len(resolved) + len(still) == len(held)
    assert all(h["resolved_in"] == h["retried_in"] for h in resolved)

    engine = create_engine(url)
    with Session(engine) as session:
        retries = list(session.scalars(select(models.SyncRun).where(models.SyncRun.kind == "retry")))
        assert len(retries) == 2 and all(r.status == "succeeded" for r in retries)
        assert all(r.rows_read == r.rows_accepted + r.rows_quarantined for r in retries)
        assert retries[1].rows_read == len(held) and retries[1].rows_accepted == len(resolved)
        loaded = session.scalars(
            select(models.Observation).where(
                models.Observation.period == dt.date.fromisoformat(future[0]["record"]["period"]),
                models.Observation.metric == future[0]["record"]["metric"],
            )
        ).one()
        assert loaded.source == "demo" and loaded.sync_run_id == retries[1].id  # provenance: the retry run
        first = session.scalars(select(models.SyncRun).where(models.SyncRun.kind == "sync")).one()
        assert first.rows_read == first.rows_accepted + first.rows_quarantined
        held_count = session.scalar(select(func.count()).select_from(models.QuarantinedRow))
        assert held_count == len(held)  # resolved rows are kept, never deleted
    engine.dispose()

    nothing = cli(config, url, "quarantine", "retry")
    assert nothing.exit_code != 0 and "say which rows to retry" in nothing.output
    done = cli(config, url, "quarantine", "retry", str(future[0]["id"]))
    assert done.exit_code != 0 and f"quarantine entry {future[0]['id']} was already loaded by retry run" in done.output


def test_rows_of_a_metric_missing_from_the_register_load_once_it_is_added(
    demo_config: Path, database_url: str, tmp_path: Path
) -> None:
    exports = tmp_path / "kpi.csv"
    exports.write_text(
        "metric,period,value,unit\nops.tickets_closed,2026-11-09,120,tickets\n"
        "ops.tickets_closed,2026-11-16,131,tickets\nops.tickets_closed,2026-11-02,n/a,tickets\n"
    )
    (demo_config / "connectors.yaml").write_text(
        yaml.safe_dump({"connectors": [{"name": "kpi", "type": "csv", "settings": {"path": str(exports)}}]})
    )
    assert cli(demo_config, database_url, "init").exit_code == 0
    assert cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat()).exit_code == 0
    held = listed(demo_config, database_url, "--connector", "kpi")
    assert [h["source_ref"] for h in held] == [f"{exports}:{n}" for n in (2, 3, 4)]
    assert all("ops.tickets_closed' is not a metric of the register" in " ".join(h["reasons"]) for h in held)

    register = yaml.safe_load((demo_config / "portfolio.yaml").read_text())
    template = register["initiatives"][0]["benefits"][0]
    register["initiatives"][0]["benefits"].append(
        {**template, "key": "ops-tickets", "name": "Tickets closed", "metric": "ops.tickets_closed", "unit": "tickets"}
    )
    (demo_config / "portfolio.yaml").write_text(yaml.safe_dump(register, sort_keys=False))
    assert cli(demo_config, database_url, "init").exit_code == 0  # the fixed register
    retried = cli(demo_config, database_url, "quarantine", "retry", "--connector", "kpi", "--as-of", AS_OF.isoformat())
    assert "retry kpi (sync run 2): 3 rows read, 2 loaded, 1 still held" in retried.output, retried.output
    still = listed(demo_config, database_url)
    assert [h["source_ref"] for h in still] == [f"{exports}:4"]
    assert still[0]["reasons"] == ["value: 'n/a' is not a number"]  # the reasons of the retry, not the first sync
    engine = create_engine(database_url)
    with Session(engine) as session:
        loaded = session.execute(
            select(
                models.Observation.period,
                models.Observation.value,
                models.Observation.source,
                models.Observation.sync_run_id,
            ).order_by(models.Observation.period)
        ).all()
        assert [(str(p), v, s, r) for p, v, s, r in loaded] == [
            ("2026-11-09", 120.0, "kpi", 2),
            ("2026-11-16", 131.0, "kpi", 2),
        ]
    engine.dispose()


def test_a_retried_row_never_replaces_a_value_loaded_since(synced: tuple[Path, str]) -> None:
    config, url = synced
    held = listed(config, url)
    twins = [h for h in held if any("duplicate" in r for r in h["reasons"])]
    assert len(twins) == 2 and twins[0]["record"] == twins[1]["record"]  # the demo sends one row twice: both held
    first = cli(config, url, "quarantine", "retry", str(twins[0]["id"]), "--as-of", AS_OF.isoformat())
    assert "1 rows read, 1 loaded, 0 still held" in first.output, first.output
    loaded_in = int(first.output.split("(sync run ")[1].split(")")[0])
    second = cli(config, url, "quarantine", "retry", str(twins[1]["id"]), "--as-of", AS_OF.isoformat())
    assert "1 rows read, 0 loaded, 1 still held" in second.output, second.output
    [after] = listed(config, url, "--reason", "superseded")
    assert after["id"] == twins[1]["id"]
    assert after["reasons"] == [f"(metric, period): superseded by the value loaded in sync run {loaded_in}"]


def test_a_reject_batch_retry_loads_all_or_nothing(demo_config: Path, sqlite_url: str, tmp_path: Path) -> None:
    exports = tmp_path / "kpi.csv"
    exports.write_text(
        "metric,period,value,unit\ncrm.upsell_revenue,2026-11-09,120,GBP\ncrm.upsell_revenue,2026-11-16,n/a,GBP\n"
    )
    (demo_config / "connectors.yaml").write_text(
        yaml.safe_dump(
            {
                "connectors": [
                    {"name": "kpi", "type": "csv", "policy": "reject_batch", "settings": {"path": str(exports)}}
                ]
            }
        )
    )
    assert cli(demo_config, sqlite_url, "init").exit_code == 0
    assert cli(demo_config, sqlite_url, "sync", "--as-of", AS_OF.isoformat()).exit_code == 0
    good, bad = listed(demo_config, sqlite_url)
    assert good["reasons"][0].startswith("batch rejected") and bad["reasons"] == ["value: 'n/a' is not a number"]
    together = cli(demo_config, sqlite_url, "quarantine", "retry", "--all", "--as-of", AS_OF.isoformat())
    assert "2 rows read, 0 loaded, 2 still held" in together.output, together.output
    assert listed(demo_config, sqlite_url)[0]["reasons"] == [
        "batch rejected: 1 of 2 retried rows still fail (policy reject_batch in connectors.yaml)"
    ]
    alone = cli(demo_config, sqlite_url, "quarantine", "retry", str(good["id"]), "--as-of", AS_OF.isoformat())
    assert "1 rows read, 1 loaded, 0 still held" in alone.output, alone.output


def _kpi_config(demo_config: Path, exports: Path) -> None:
    (demo_config / "connectors.yaml").write_text(
        yaml.safe_dump({"connectors": [{"name": "kpi", "type": "csv", "settings": {"path": str(exports)}}]})
    )


def _declare_tickets(demo_config: Path) -> None:
    register = yaml.safe_load((demo_config / "portfolio.yaml").read_text())
    template = register["initiatives"][0]["benefits"][0]
    register["initiatives"][0]["benefits"].append(
        {**template, "key": "ops-tickets", "name": "Tickets closed", "metric": "ops.tickets_closed", "unit": "tickets"}
    )
    (demo_config / "portfolio.yaml").write_text(yaml.safe_dump(register, sort_keys=False))


def test_a_re_sent_file_is_held_once_and_its_rows_still_load_on_retry(
    demo_config: Path, database_url: str, tmp_path: Path
) -> None:
    exports = tmp_path / "kpi.csv"
    exports.write_text(
        "metric,period,value,unit\nops.tickets_closed,2026-11-09,120,tickets\n"
        "ops.tickets_closed,2026-11-16,131,tickets\nops.tickets_closed,2026-11-02,n/a,tickets\n"
    )
    _kpi_config(demo_config, exports)
    assert cli(demo_config, database_url, "init").exit_code == 0
    first = cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat())
    assert "3 quarantined" in first.output and "already held" not in first.output, first.output
    assert "sync kpi: 0 of 3 rows accepted: metric: … is not a metric of the register" in first.output
    assert first.output.rstrip().endswith("; `benefits quarantine list --run 1` shows them")
    again = cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat())  # the weekly job re-sends the file
    assert (
        "3 rows read, 0 accepted (0 new, 0 restated, 0 unchanged, 0 with warnings), 3 quarantined "
        "(3 rows already held in quarantine)"
    ) in again.output, again.output
    assert again.output.rstrip().endswith("; `benefits quarantine list --connector kpi` shows them")  # not run 2's
    held = listed(demo_config, database_url)
    assert [h["source_ref"] for h in held] == [f"{exports}:{n}" for n in (2, 3, 4)]
    assert {h["sync_run"] for h in held} == {1}

    engine = create_engine(database_url)
    with Session(engine) as session:  # a copy held twice by a version that did not recognise re-sent rows
        original = session.get_one(models.QuarantinedRow, held[0]["id"])
        session.add(
            models.QuarantinedRow(
                sync_run_id=2,
                source="kpi",
                row_number=original.row_number,
                record=dict(original.record),
                reasons=list(original.reasons),
                source_ref=original.source_ref,
            )
        )
        session.commit()
    _declare_tickets(demo_config)
    assert cli(demo_config, database_url, "init").exit_code == 0
    retried = cli(demo_config, database_url, "quarantine", "retry", "--all", "--as-of", AS_OF.isoformat())
    assert "retry kpi (sync run 3): 4 rows read, 3 loaded, 1 still held" in retried.output, retried.output
    still = listed(demo_config, database_url)
    assert [(h["source_ref"], h["reasons"]) for h in still] == [(f"{exports}:4", ["value: 'n/a' is not a number"])]
    with Session(engine) as session:
        loaded = session.execute(
            select(models.Observation.period, models.Observation.value, models.Observation.source_ref).order_by(
                models.Observation.period
            )
        ).all()
        assert [(str(p), v, r) for p, v, r in loaded] == [
            ("2026-11-09", 120.0, f"{exports}:2"),
            ("2026-11-16", 131.0, f"{exports}:3"),
        ]
    engine.dispose()


def test_rows_fixed_at_the_source_are_resolved_by_hand_and_kept(
    demo_config: Path, database_url: str, tmp_path: Path
) -> None:
    from benefits.dashboards import quality

    exports = tmp_path / "kpi.csv"
    exports.write_text(
        'metric,period,value,unit\ncrm.upsell_revenue,2026-11-09,"1,120",GBP\n'
        'crm.upsell_revenue,2026-11-16,"1,131",GBP\n'
    )
    _kpi_config(demo_config, exports)
    assert cli(demo_config, database_url, "init").exit_code == 0
    bad = cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat())
    assert bad.output.splitlines()[-1] == (
        "sync kpi: 0 of 2 rows accepted: value: … is not a number (it has thousands or decimal marks: declare them "
        "with `number_format` in the connector's settings (csv, sql, http), e.g. {thousands: ','} or "
        "{decimal: ',', thousands: '.'}) (2); `benefits quarantine list --run 1` shows them"
    ), bad.output
    status = json.loads(
        cli(demo_config, database_url, "status", "--format", "json", "--as-of", AS_OF.isoformat()).output
    )
    upsell = [row for row in status if row["metric"] == "crm.upsell_revenue"]
    assert upsell and all(row["status"] == "no_data" for row in upsell)
    assert all(
        row["message"].endswith("; 2 rows of crm.upsell_revenue held in quarantine (`benefits quarantine list`)")
        for row in upsell
    )
    assert not any("quarantine" in row["message"] for row in status if row["metric"] != "crm.upsell_revenue")
    fixed_export = tmp_path / "kpi-fixed.csv"  # re-exported under another name: not the held rows' source lines
    fixed_export.write_text(
        "metric,period,value,unit\ncrm.upsell_revenue,2026-11-09,1120,GBP\ncrm.upsell_revenue,2026-11-16,1131,GBP\n"
    )
    _kpi_config(demo_config, fixed_export)
    fixed = cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat())
    assert "2 rows read, 2 accepted" in fixed.output and "0 of" not in fixed.output, fixed.output
    retried = cli(demo_config, database_url, "quarantine", "retry", "--all", "--as-of", AS_OF.isoformat())
    assert "2 rows read, 0 loaded, 2 still held" in retried.output  # a retry re-validates the held copies
    assert retried.output.splitlines()[-1].startswith("rows still held: if their source has been fixed, retry them ")

    unsaid = cli(demo_config, database_url, "quarantine", "resolve", "--all")
    assert unsaid.exit_code == 2 and "--note" in unsaid.output
    nothing = cli(demo_config, database_url, "quarantine", "resolve", "--note", "fixed")
    assert nothing.exit_code == 1 and "say which rows to resolve" in nothing.stderr
    first, second = listed(demo_config, database_url)
    one = cli(
        demo_config,
        database_url,
        "quarantine",
        "resolve",
        str(first["id"]),
        "--by",
        "ana",
        "--note",
        "thousands separators removed at the source, re-synced in run 2",
    )
    assert one.exit_code == 0 and one.output == "1 rows resolved\n", one.output
    rest = cli(
        demo_config,
        database_url,
        "quarantine",
        "resolve",
        "--all",
        "--connector",
        "kpi",
        "--by",
        "ana",
        "--note",
        "same fix",
    )
    assert rest.output == "1 rows resolved\n"
    assert listed(demo_config, database_url) == []
    kept = {h["id"]: h for h in listed(demo_config, database_url, "--all")}
    assert kept[first["id"]]["status"] == "resolved" and kept[first["id"]]["resolved_by"] == "ana"
    assert kept[first["id"]]["note"] == "thousands separators removed at the source, re-synced in run 2"
    assert kept[first["id"]]["resolved_in"] is None and kept[first["id"]]["resolved_at"]
    assert kept[second["id"]]["record"] == second["record"]  # kept whole, never deleted
    twice = cli(demo_config, database_url, "quarantine", "resolve", str(first["id"]), "--note", "again")
    assert twice.exit_code == 1
    assert twice.stderr == (
        f"error: quarantine entry {first['id']} was already resolved by ana: "
        "thousands separators removed at the source, re-synced in run 2\n"
    )

    engine = create_engine(database_url)
    with Session(engine) as session:
        held, total = quality.quarantine(session)
        assert held.empty and total == 0  # the data-quality page no longer shows them as awaiting a fix
    engine.dispose()


def test_a_plain_sync_of_the_fixed_file_closes_the_held_copies(
    demo_config: Path, database_url: str, tmp_path: Path
) -> None:
    exports = tmp_path / "kpi.csv"
    exports.write_text('metric,period,value,unit\ncrm.upsell_revenue,2026-11-09,"1,120",GBP\n')
    _kpi_config(demo_config, exports)
    assert cli(demo_config, database_url, "init").exit_code == 0
    assert "1 quarantined" in cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat()).output
    exports.write_text("metric,period,value,unit\ncrm.upsell_revenue,2026-11-09,1120,GBP\n")  # fixed at the source
    synced = cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat())
    assert synced.exit_code == 0, synced.output
    assert "sync kpi: closed 1 held row whose source line loaded in this run" in synced.output
    assert listed(demo_config, database_url) == []
    (closed,) = listed(demo_config, database_url, "--all")
    assert (closed["source_ref"], closed["status"], closed["note"]) == (
        f"{exports}:2",
        "resolved",
        "loaded from its source line by sync run 2",
    )
    again = cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat())  # nothing left to close
    assert "closed" not in again.output and listed(demo_config, database_url) == []


def test_retry_from_source_re_reads_the_fixed_file_and_closes_the_held_copies(
    demo_config: Path, database_url: str, tmp_path: Path
) -> None:
    exports = tmp_path / "kpi.csv"
    exports.write_text(
        'metric,period,value,unit\ncrm.upsell_revenue,2026-11-09,"1,120",GBP\n'
        'crm.upsell_revenue,2026-11-16,"1,131",GBP\ncrm.upsell_revenue,2026-11-23,n/a,GBP\n'
    )
    _kpi_config(demo_config, exports)
    assert cli(demo_config, database_url, "init").exit_code == 0
    assert "3 quarantined" in cli(demo_config, database_url, "sync", "--as-of", AS_OF.isoformat()).output
    exports.write_text(
        "metric,period,value,unit\ncrm.upsell_revenue,2026-11-09,1120,GBP\ncrm.upsell_revenue,2026-11-16,1131,GBP\n"
        "crm.upsell_revenue,2026-11-23,n/a,GBP\n"
    )  # the marks fixed at the source; the last value is still missing
    retried = cli(
        demo_config, database_url, "quarantine", "retry", "--all", "--from-source", "--as-of", AS_OF.isoformat()
    )
    assert retried.exit_code == 0, retried.output
    lines = retried.output.splitlines()
    assert lines[0].startswith("sync kpi: 3 rows read, 2 accepted (2 new,") and "1 row already held" in lines[0]
    assert lines[1] == (
        "sync kpi: closed 2 held rows whose source line loaded in this run "
        "(fixed at the source; kept: `benefits quarantine list --connector kpi --all`)"
    )
    assert lines[-1] == "retry kpi (sync run 3): 1 rows read, 0 loaded, 1 still held"
    assert [h["source_ref"] for h in listed(demo_config, database_url)] == [f"{exports}:4"]
    closed = [h for h in listed(demo_config, database_url, "--all") if h["status"] == "resolved"]
    assert [(h["source_ref"], h["resolved_in"], h["note"]) for h in closed] == [
        (f"{exports}:{line}", 2, "loaded from its source line by sync run 2") for line in (2, 3)
    ]
    again = cli(demo_config, database_url, "quarantine", "resolve", str(closed[0]["id"]), "--note", "fixed")
    assert again.exit_code == 1
    assert f"entry {closed[0]['id']} was already loaded from its source line by sync run 2" in again.stderr
    engine = create_engine(database_url)
    with Session(engine) as session:
        loaded = session.execute(select(models.Observation.value, models.Observation.source_ref)).all()
    engine.dispose()
    assert sorted(loaded) == [(1120.0, f"{exports}:2"), (1131.0, f"{exports}:3")]

    (demo_config / "connectors.yaml").write_text("connectors: []\n")  # the source is gone: re-validate only
    gone = cli(demo_config, database_url, "quarantine", "retry", "--all", "--from-source", "--as-of", AS_OF.isoformat())
    assert gone.output.splitlines() == [
        "retry kpi: not in connectors.yaml any more; its held rows are re-validated only",
        "retry kpi (sync run 4): 1 rows read, 0 loaded, 1 still held",
    ], gone.output
