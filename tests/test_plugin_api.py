"""The plugin API version: declared by a plugin, checked by the plugin manager, reported by `benefits plugins`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from benefits import __version__
from benefits.cli import main
from benefits.plugins import PLUGIN_API_VERSION, hookspecs
from benefits.plugins.api_version import parse_version
from benefits.plugins.manager import api_checks, connector_types, plugin_manager, plugin_problems, plugins

Install = Callable[[str, str | None], None]


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """``install(name, declaration)``: a distribution ``benefits-<name> 0.3.0`` on sys.path whose entry point
    ``<name>`` names a module with ``declaration`` as its text (None: the module declares nothing).
    Only these plugins load (``BENEFITS_LOAD_PLUGINS``); the plugin manager is rebuilt around the test."""
    site = tmp_path / "site"
    site.mkdir()
    names: list[str] = []

    def add(name: str, declaration: str | None) -> None:
        module = f"api_test_{name}_{len(names)}"
        info = site / f"benefits_{name}-0.3.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: benefits-{name}\nVersion: 0.3.0\n")
        (info / "entry_points.txt").write_text(f"[benefits]\n{name} = {module}\n")
        body = [
            "from benefits.plugins import hookimpl",
            "from benefits.plugins.connector import Connector",
            f"class C(Connector):\n    type = {name!r}",
            "@hookimpl\ndef register_connectors():\n    return [C]",
        ]
        if declaration is not None:
            body.insert(0, f"BENEFITS_PLUGIN_API = {declaration}")
        (site / f"{module}.py").write_text("\n".join(body) + "\n")
        names.append(name)
        monkeypatch.setenv("BENEFITS_LOAD_PLUGINS", ",".join(names))
        _rebuild()

    monkeypatch.syspath_prepend(str(site))
    yield add
    monkeypatch.delenv("BENEFITS_LOAD_PLUGINS")
    for module in [m for m in sys.modules if m.startswith("api_test_")]:
        del sys.modules[module]
    _rebuild()


def _rebuild() -> None:
    api_checks.cache_clear()
    plugin_manager.cache_clear()


def test_the_version_is_declared_beside_the_hooks_and_is_major_minor_text() -> None:
    assert hookspecs.PLUGIN_API_VERSION == PLUGIN_API_VERSION
    assert parse_version(PLUGIN_API_VERSION) is not None
    assert parse_version(1.0) is None and parse_version("1") is None and parse_version("1.0.0") is None


def test_a_plugin_for_this_api_loads_and_is_listed_with_its_version(install: Install) -> None:
    install("current", f'"{PLUGIN_API_VERSION}"')
    assert "current" in connector_types()
    assert plugin_problems() == []
    listed = CliRunner().invoke(main, ["plugins"])
    assert listed.exit_code == 0
    line = f"current 0.3.0  plugin API {PLUGIN_API_VERSION}  connectors: current  hooks: register_connectors"
    assert line in listed.output.splitlines()
    assert "warning" not in listed.output


def test_a_plugin_for_another_major_version_is_not_loaded_and_each_command_says_so_in_one_line(
    install: Install, demo_config: Path, sqlite_url: str
) -> None:
    install("future", '"2.0"')
    assert "future" not in connector_types()
    assert "future" not in {p.name for p in plugins()}
    line = (
        f"plugin future (benefits-future 0.3.0) not loaded: it targets plugin API 2.0, benefits {__version__} "
        f"offers plugin API {PLUGIN_API_VERSION}; install a release of it made for plugin API 1.x (or upgrade benefits)"
    )
    assert plugin_problems() == [line]
    listed = CliRunner().invoke(main, ["plugins"])
    assert listed.exit_code == 0 and f"warning: {line}" in listed.output.splitlines()
    as_json = json.loads(CliRunner().invoke(main, ["plugins", "--format", "json"]).output)
    assert {"name": "future", "plugin_api": "2.0", "loaded": False, "problem": line} in as_json
    assert all(p["plugin_api"] == PLUGIN_API_VERSION for p in as_json if p["loaded"])

    (demo_config / "connectors.yaml").write_text("connectors:\n  - name: f\n    type: future\n")
    options = ["--config", str(demo_config), "--database", sqlite_url]
    assert CliRunner().invoke(main, [*options, "db", "upgrade"]).exit_code == 0
    synced = CliRunner().invoke(main, [*options, "sync"])
    assert synced.exit_code != 0
    lines = synced.output.splitlines()
    assert lines[0] == f"warning: {line}"
    assert lines[-1].startswith("error: ") and "unknown connector type 'future'" in lines[-1] and line in lines[-1]


@pytest.mark.parametrize(
    ("declaration", "says"),
    [
        ("1.0", "its BENEFITS_PLUGIN_API is 1.0, not MAJOR.MINOR text such as"),
        ('"0.9"', "it targets plugin API 0.9, benefits"),
    ],
)
def test_a_malformed_or_older_declaration_is_not_loaded(install: Install, declaration: str, says: str) -> None:
    install("odd", declaration)
    assert "odd" not in connector_types()
    [problem] = plugin_problems()
    assert problem.startswith("plugin odd (benefits-odd 0.3.0) not loaded: ") and says in problem


def test_a_plugin_that_declares_nothing_loads_with_a_warning(install: Install) -> None:
    install("bare", None)
    assert "bare" in connector_types()
    listed = CliRunner().invoke(main, ["plugins"]).output.splitlines()
    assert "bare 0.3.0  plugin API not declared  connectors: bare  hooks: register_connectors" in listed
    assert (
        f"warning: plugin bare (benefits-bare 0.3.0) declares no plugin API version: loaded as if it targets "
        f"{PLUGIN_API_VERSION} (benefits {__version__} offers plugin API {PLUGIN_API_VERSION}); "
        f'add `BENEFITS_PLUGIN_API = "{PLUGIN_API_VERSION}"` to its module api_test_bare_0'
    ) in listed


def test_a_plugin_for_a_newer_minor_version_loads_with_a_warning(install: Install) -> None:
    install("newer", '"1.99"')
    assert "newer" in connector_types()
    [problem] = plugin_problems()
    assert "targets plugin API 1.99" in problem and "loaded, but" in problem and "upgrade benefits" in problem


def test_a_plugin_that_cannot_be_imported_is_not_loaded_and_the_others_are(install: Install) -> None:
    install("current", f'"{PLUGIN_API_VERSION}"')
    install("broken", f'"{PLUGIN_API_VERSION}"\nimport no_such_module_of_benefits_tests')
    assert "current" in connector_types() and "broken" not in connector_types()
    assert plugin_problems() == [
        "plugin broken (benefits-broken 0.3.0) not loaded: importing api_test_broken_1 failed: "
        "ModuleNotFoundError: No module named 'no_such_module_of_benefits_tests'"
    ]
    listed = CliRunner().invoke(main, ["plugins"])
    assert listed.exit_code == 0 and "warning: plugin broken (benefits-broken 0.3.0) not loaded" in listed.output
