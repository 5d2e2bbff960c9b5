"""The example plugin (examples/acme-connector) installs with pip, is found through its entry point and passes the kit.

pip builds the example with its own build backend (hatchling, no build isolation, nothing
downloaded) and installs it into a temporary folder that only this test's subprocesses see
(``PYTHONPATH``): the shared environment never changes, so tests running beside this one are not
affected and nothing is left behind if this one is interrupted. The plugin manager is cached per
process, so every check of the installed plugin runs in a fresh subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "acme-connector"


def run(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a process that sees the example plugin as installed."""
    pytest.importorskip(
        "hatchling", reason="the example builds with hatchling, which must be installed to build offline"
    )
    target = tmp_path_factory.mktemp("site-packages")
    env = {k: v for k, v in os.environ.items() if k not in ("BENEFITS_LOAD_PLUGINS", "PYTHONPATH")}
    env.update(GX_ANALYTICS_ENABLED="false", PIP_DISABLE_PIP_VERSION_CHECK="1")
    pip = run(
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--target",
        str(target),
        str(EXAMPLE),
        env=env,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert (target / "acme_benefits" / "__init__.py").is_file()
    yield {**env, "PYTHONPATH": str(target)}


def benefits_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-c", "from benefits.cli import main; main()", *args, env=env)


def test_installed_plugin_is_listed_with_its_version_and_connector_type(installed: dict[str, str]) -> None:
    listed = benefits_cli("plugins", env=installed)
    assert listed.returncode == 0, listed.stderr
    assert "acme 0.1.0  plugin API 1.0  connectors: acme  hooks: register_connectors" in listed.stdout.splitlines()
    assert "warning" not in listed.stdout  # it declares the plugin API it is written for


def test_an_empty_benefits_load_plugins_hides_it(installed: dict[str, str]) -> None:
    listed = benefits_cli("plugins", env={**installed, "BENEFITS_LOAD_PLUGINS": ""})
    assert listed.returncode == 0, listed.stderr
    assert "acme" not in listed.stdout
    assert "benefits.plugins.csv_files" in listed.stdout  # built-ins always load
    chosen = benefits_cli("plugins", env={**installed, "BENEFITS_LOAD_PLUGINS": "acme"})
    assert "acme 0.1.0" in chosen.stdout


@pytest.mark.slow  # a nested pytest run of the whole kit; tests/test_conformance.py runs the same kit in-process
def test_the_example_passes_its_one_line_conformance_test(installed: dict[str, str]) -> None:
    test_file = EXAMPLE / "tests" / "test_acme.py"
    assert len([line for line in test_file.read_text().splitlines() if line.strip()]) == 3  # two imports, one line
    result = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", env=installed, cwd=EXAMPLE)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    # the whole kit, nothing skipped but the restatement test: the example's values come from its settings,
    # so there is no source to restate a value at (no benefits_restate fixture)
    assert "14 passed, 1 skipped" in result.stdout


def test_the_docs_show_the_example_test_file() -> None:
    docs = (ROOT / "docs" / "plugins.md").read_text()
    example = (EXAMPLE / "tests" / "test_acme.py").read_text().strip()
    assert example in docs, "docs/plugins.md must show examples/acme-connector/tests/test_acme.py verbatim"


def test_the_docs_walk_through_is_the_example_that_passes_the_whole_kit() -> None:
    """Following docs/plugins.md gives examples/acme-connector, whose kit run above passes all 14 tests."""
    docs = (ROOT / "docs" / "plugins.md").read_text()
    module = (EXAMPLE / "acme_benefits" / "__init__.py").read_text()
    assert f"```python\n{module}```" in docs, "the walk-through must show acme_benefits/__init__.py verbatim"
    assert 'model_config = ConfigDict(extra="forbid")' in module
    settings = docs.split("type: acme\n    settings:\n", 1)[1].split("```", 1)[0]
    assert "start: 2026-01-05" in settings and "values: [41250, 40980.5, 40410]" in settings
