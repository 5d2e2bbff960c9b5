"""The plugin API: every hook is documented and tested; built-ins load like any plugin."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result

from benefits.cli import main
from benefits.plugins import hookimpl, hookspecs
from benefits.plugins.connector import Connector, SyncContext
from benefits.plugins.manager import connector_types, plugin_manager, plugins
from benefits.register import load_register

from .conftest import DEMO_CONFIG, ROOT

HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "benefits_spec")]


def test_every_hook_is_documented_with_its_signature() -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text()
    assert HOOKS, "no hook specifications found"
    for name in HOOKS:
        assert f"### {name}" in docs, f"hook {name} has no section in docs/plugins.md"
        params = ", ".join(
            str(p).replace("'", "") for p in inspect.signature(getattr(hookspecs, name)).parameters.values()
        )
        assert re.search(rf"{name}\({re.escape(params)}\)", docs), f"signature of {name} missing from docs/plugins.md"


def test_every_hook_has_a_test() -> None:
    tests = {
        n
        for path in Path(__file__).parent.glob("test_*.py")
        for n in re.findall(r"def (test_hook_\w+)", path.read_text())
    }
    assert {f"test_hook_{name}" for name in HOOKS} <= tests


def test_hook_register_connectors() -> None:
    results = plugin_manager().hook.register_connectors()
    assert any(cls.type == "demo" for classes in results for cls in classes)
    assert "demo" in connector_types()


def test_plugins_report_names_versions_connectors_and_hooks() -> None:
    demo = next(p for p in plugins() if p.name == "benefits.plugins.demo")
    assert demo.connectors == ["demo"]
    assert demo.hooks == ["register_connectors"]
    result = CliRunner().invoke(main, ["plugins"])
    assert result.exit_code == 0
    assert "benefits.plugins.demo" in result.output and "connectors: demo" in result.output


def _demo(**settings: Any) -> Connector:
    cls = connector_types()["demo"]
    return cls("demo", cls.Settings(**settings), SyncContext(load_register(DEMO_CONFIG), dt.date(2026, 11, 23)))


def test_demo_connector_is_repeatable_and_seeded() -> None:
    first, again, other = (list(_demo(seed=s).records()) for s in (7, 7, 8))
    assert first == again
    assert first != other
    metrics = {r["metric"] for r in first}
    assert len(metrics) == len({m.metric for m in _demo().discover()})


def test_demo_connector_scenarios_shape_the_series() -> None:
    records = list(_demo(scenarios={"crm-win-rate": "silent", "hr-case-hours": "gaps"}, bad_rows=False).records())
    silent = [dt.date.fromisoformat(r["period"]) for r in records if r["metric"] == "crm.win_rate_pct"]
    assert silent and max(silent) <= dt.date(2026, 11, 23) - dt.timedelta(weeks=8)  # it stopped reporting
    full = [r for r in records if r["metric"] == "finance.close_days"]
    gappy = [r for r in records if r["metric"] == "hr.case_hours_saved"]
    weeks_since_2025_09_01 = (dt.date(2026, 11, 23) - dt.date(2025, 9, 1)).days // 7
    assert len(gappy) < 0.8 * weeks_since_2025_09_01
    assert len(full) > len(gappy)


def test_demo_connector_emits_deliberately_bad_rows() -> None:
    records = list(_demo().records())
    assert any(r["value"] == "n/a" for r in records)
    assert any(r["value"] is None for r in records)
    assert any(r["period"] == "2026-13-01" for r in records)
    assert any(r["period"] > "2026-11-23" for r in records)
    keys = [(r["metric"], r["period"]) for r in records]
    assert len(keys) > len(set(keys))


class _Untyped(Connector):
    def records(self) -> Iterator[dict[str, Any]]:
        yield {}


def _exploding() -> list[type[Connector]]:
    raise RuntimeError("vendor SDK missing")


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (_exploding, "register_connectors() raised RuntimeError: vendor SDK missing"),
        (lambda: None, "register_connectors() returned NoneType, not a list of connector classes"),
        (lambda: ["x"], "register_connectors() returned 'x', which is not a subclass of benefits.plugins.connector."),
        (lambda: [_Untyped], "register_connectors() returned the class _Untyped, which has no `type` name"),
    ],
)
def test_a_plugin_whose_register_connectors_fails_is_named_in_one_line_and_the_others_still_work(
    demo_config: Path, tmp_path: Path, answer: Callable[[], object], said: str
) -> None:
    """A plugin whose register_connectors raised, or answered None, a non-class or a class without a `type`, ended
    `benefits plugins`, `sync` and every command building a connector in a traceback, the built-in connectors'
    syncs too. Now `plugins` warns naming it, a connector of another plugin syncs, and one of an unknown type is
    refused in one line that names the broken plugin."""
    plugin_manager().register(SimpleNamespace(register_connectors=hookimpl(answer)), name="broken-vendor")
    try:
        listed = CliRunner().invoke(main, ["plugins"])
        assert listed.exit_code == 0, listed.output
        assert f"warning: plugin broken-vendor: {said}" in listed.stdout
        refused = _demo_syncs_and_then_one_connector_is_refused(demo_config, tmp_path, "vendor", "vendor")
        assert refused.stderr.startswith(f"error: {demo_config}/connectors.yaml: connectors[0].type: unknown connector")
        assert f"; plugin broken-vendor: {said}" in refused.stderr
        assert "fix or uninstall it, or leave it out with BENEFITS_LOAD_PLUGINS" in refused.stderr
    finally:
        plugin_manager().unregister(name="broken-vendor")


def _demo_syncs_and_then_one_connector_is_refused(
    demo_config: Path, tmp_path: Path, name: str, type_name: str
) -> Result:
    """Init a store, check that the demo connector syncs, then make connectors.yaml hold only connector ``name`` of
    ``type_name`` and check that its sync is refused in one line, exit 2; that refusal, for its message."""
    url = f"sqlite:///{tmp_path / 'b.db'}"
    args = ["--config", str(demo_config), "--database", url]
    assert CliRunner().invoke(main, [*args, "init"]).exit_code == 0
    synced = CliRunner().invoke(main, [*args, "sync", "--as-of", "2026-11-23"])
    assert synced.exit_code == 0 and "sync demo:" in synced.stdout, synced.output
    (demo_config / "connectors.yaml").write_text(f"connectors:\n  - {{name: {name}, type: {type_name}}}\n")
    refused = CliRunner().invoke(main, [*args, "sync"])
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1, refused.output
    return refused


class _VendorCsv(Connector):
    type = "csv"

    def records(self) -> Iterator[dict[str, Any]]:
        yield {}


def test_a_connector_type_two_plugins_offer_is_named_with_both_and_refused_in_one_line(
    demo_config: Path, tmp_path: Path
) -> None:
    """A plugin offering a connector type another plugin offers (a vendor's `csv`) silently replaced the other's
    class: which one a connectors.yaml entry got depended on the order pluggy called them. Now `benefits plugins`
    warns naming both plugins and classes, an entry of that type is refused in one line naming both, exit 2, and
    the other types still sync."""
    plugin_manager().register(SimpleNamespace(register_connectors=hookimpl(lambda: [_VendorCsv])), name="vendor-csv")
    both = (
        "connector type 'csv' is offered by plugin benefits.plugins.csv_files"
        " (benefits.plugins.csv_files.CsvConnector) and by plugin vendor-csv (tests.test_plugins._VendorCsv)"
    )
    try:
        assert "csv" not in connector_types() and "demo" in connector_types()
        listed = CliRunner().invoke(main, ["plugins"])
        assert listed.exit_code == 0, listed.output
        warnings = [line for line in listed.stdout.splitlines() if line.startswith("warning:")]
        assert len(warnings) == 1 and warnings[0].startswith(f"warning: {both}: "), listed.stdout
        as_json = CliRunner().invoke(main, ["plugins", "--format", "json"])
        problems = {p["name"]: p["problem"] for p in json.loads(as_json.stdout)}
        assert both in problems["vendor-csv"] and both in problems["benefits.plugins.csv_files"]
        refused = _demo_syncs_and_then_one_connector_is_refused(demo_config, tmp_path, "exports", "csv")
        assert refused.stderr.startswith(f"error: {demo_config}/connectors.yaml: connectors[0].type: {both}: ")
    finally:
        plugin_manager().unregister(name="vendor-csv")
