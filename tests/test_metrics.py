"""`benefits metrics [--unused]`: every metric with its users, observations, span, sources and staleness."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from benefits.cli import main

AS_OF = dt.date(2026, 11, 23)
UNKNOWN_HINT = " (no benefit measures it and portfolio.yaml's metrics: does not declare it)"


def test_metrics_lists_used_and_unused_metrics(tmp_path: Path, demo_config: Path) -> None:
    database = f"sqlite:///{tmp_path / 'benefits.db'}"

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", database, *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("init")
    run("sync", "--as-of", AS_OF.isoformat())
    listed = {m["metric"]: m for m in json.loads(run("metrics", "--format", "json", "--as-of", AS_OF.isoformat()))}
    upsell = listed["crm.upsell_revenue"]
    assert upsell["used"] and upsell["used_by"] == ["crm-upsell-revenue"] and upsell["sources"] == ["demo"]
    assert upsell["observations"] > 50 and upsell["first_period"] < upsell["last_period"] <= AS_OF.isoformat()
    assert listed["ledger.contractor_savings"]["stale"] and not upsell["stale"]
    # The demo's catalogue declares hr.headcount, which no benefit measures: validated, stored, listed.
    headcount = json.loads(run("metrics", "--unused", "--format", "json", "--as-of", AS_OF.isoformat()))
    assert [(m["metric"], m["unit"], m["used"], m["used_by"], m["sources"]) for m in headcount] == [
        ("hr.headcount", "people", False, [], ["demo"])
    ]
    assert headcount[0]["observations"] > 50 and not headcount[0]["stale"]

    # The win-rate benefit leaves the register: its metric and observations stay, listed as unused.
    register = yaml.safe_load((demo_config / "portfolio.yaml").read_text())
    for initiative in register["initiatives"]:
        initiative["benefits"] = [b for b in initiative["benefits"] if b["key"] != "crm-win-rate"]
    (demo_config / "portfolio.yaml").write_text(yaml.safe_dump(register, sort_keys=False))
    run("init")
    unused = json.loads(run("metrics", "--unused", "--format", "json", "--as-of", AS_OF.isoformat()))
    win_rate = listed["crm.win_rate_pct"]
    assert [m["metric"] for m in unused] == ["crm.win_rate_pct", "hr.headcount"]
    assert unused[0]["used"] is False and unused[0]["used_by"] == []
    assert (unused[0]["observations"], unused[0]["first_period"], unused[0]["last_period"], unused[0]["sources"]) == (
        win_rate["observations"],
        win_rate["first_period"],
        win_rate["last_period"],
        ["demo"],
    )

    rows = list(
        csv.DictReader(io.StringIO(run("metrics", "--unused", "--format", "csv", "--as-of", AS_OF.isoformat())))
    )
    assert rows[0] == {
        "metric": "crm.win_rate_pct",
        "unit": "%",
        "used_by": "",
        "spend_of": "",
        "observations": str(win_rate["observations"]),
        "first_period": win_rate["first_period"],
        "last_period": win_rate["last_period"],
        "sources": "demo",
        "stale": "no",
    }
    table = run("metrics", "--as-of", AS_OF.isoformat()).splitlines()
    assert table[0].split()[:3] == ["METRIC", "UNIT", "USED"]
    assert any(line.startswith("crm.upsell_revenue") and "crm-upsell-revenue" in line for line in table)


def test_an_initiative_s_spend_metric_is_used(tmp_path: Path, demo_config: Path) -> None:
    database = f"sqlite:///{tmp_path / 'benefits.db'}"
    register = yaml.safe_load((demo_config / "portfolio.yaml").read_text())
    register["metrics"].append({"name": "ledger.crm_spend", "unit": "GBP"})
    crm = next(i for i in register["initiatives"] if i["key"] == "crm-modernisation")
    crm["investment"] = {"metric": "ledger.crm_spend", "one_off": [{"amount": 800000, "date": "2027-03-01"}]}
    (demo_config / "portfolio.yaml").write_text(yaml.safe_dump(register, sort_keys=False))

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", database, *args])
        assert result.exit_code == 0, result.output
        return result.output

    run("init")
    unused = json.loads(run("metrics", "--unused", "--format", "json", "--as-of", AS_OF.isoformat()))
    assert [m["metric"] for m in unused] == ["hr.headcount"]  # the spend metric is not unused
    listed = {m["metric"]: m for m in json.loads(run("metrics", "--format", "json", "--as-of", AS_OF.isoformat()))}
    spend = listed["ledger.crm_spend"]
    assert (spend["unit"], spend["used"], spend["used_by"], spend["spend_of"]) == (
        "GBP",
        True,
        [],
        ["crm-modernisation"],
    )
    assert listed["crm.upsell_revenue"]["spend_of"] == [] and listed["hr.headcount"]["used"] is False
    table = run("metrics", "--as-of", AS_OF.isoformat()).splitlines()
    assert table[0].split()[:5] == ["METRIC", "UNIT", "USED", "BY", "SPEND"]
    assert any(line.startswith("ledger.crm_spend") and line.split()[2] == "crm-modernisation" for line in table)


def test_an_undeclared_metric_is_quarantined_until_the_catalogue_declares_it(tmp_path: Path, demo_config: Path) -> None:
    """Unknown metrics are held, not lost; declared in `metrics:`, a retry loads them as unused."""
    database = f"sqlite:///{tmp_path / 'benefits.db'}"
    source = tmp_path / "floor.csv"
    source.write_text(
        "metric,period,value,unit\nfacilities.desks,2026-11-02,410,desks\nfacilities.desks,2026-11-09,405,desks\n"
    )
    (demo_config / "connectors.yaml").write_text(
        yaml.safe_dump({"connectors": [{"name": "floor", "type": "csv", "settings": {"path": str(source)}}]})
    )

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(main, ["--config", str(demo_config), "--database", database, *args])
        assert result.exit_code == code, result.output
        return result.output

    run("init")
    run("sync", "--as-of", AS_OF.isoformat())
    held = json.loads(run("quarantine", "list", "--format", "json"))
    assert [r["record"]["metric"] for r in held] == ["facilities.desks"] * 2
    assert all(
        r["reasons"] == ["metric: 'facilities.desks' is not a metric of the register" + UNKNOWN_HINT] for r in held
    )
    assert "facilities.desks" not in {m["metric"] for m in json.loads(run("metrics", "--format", "json"))}

    register = yaml.safe_load((demo_config / "portfolio.yaml").read_text())
    register["metrics"].append({"name": "facilities.desks", "unit": "desks"})
    (demo_config / "portfolio.yaml").write_text(yaml.safe_dump(register, sort_keys=False))
    run("init")
    run("quarantine", "retry", "--all", "--as-of", AS_OF.isoformat())
    assert json.loads(run("quarantine", "list", "--format", "json")) == []
    desks = {
        m["metric"]: m for m in json.loads(run("metrics", "--unused", "--format", "json", "--as-of", AS_OF.isoformat()))
    }
    assert (desks["facilities.desks"]["observations"], desks["facilities.desks"]["sources"]) == (2, ["floor"])
