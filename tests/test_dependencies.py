"""What the code relies on is declared and pinned: every imported package is a dependency in
pyproject.toml, and the plotly package's plotly.js is the one the committed partial bundle was built from."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from plotly.offline import get_plotlyjs_version

from .conftest import ROOT

BUNDLE = ROOT / "dashboards" / "assets" / "plotly-partial.min.js"
RECIPE = ROOT / "dashboards" / "plotly-bundle" / "package.json"
FIRST_PARTY = {"benefits", "dashboards"}
#: Imported but provided by the host program rather than installed by benefits: the conformance kit
#: (benefits/testing) is a pytest plugin and only ever runs inside pytest.
HOSTS = {"pytest": ROOT / "benefits" / "testing"}
#: Declared but loaded by name rather than imported, and why.
LOADED_BY_NAME = {"psycopg": "SQLAlchemy's postgresql+psycopg driver"}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _imports(folder: Path) -> dict[str, set[Path]]:
    """Top-level names of the absolute imports in every module under ``folder``, with the files importing them."""
    found: dict[str, set[Path]] = {}
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.partition(".")[0], set()).add(path)
    return found


def test_bundle_recipe_and_plotly_package_agree_on_the_plotly_js_version() -> None:
    """The dashboard serves the committed partial bundle; the plotly package builds the figures (and the
    report embeds its full plotly.js). When they drift, rebuild the bundle (dashboards/plotly-bundle) for the
    plotly.js of the new plotly, or keep the plotly pin in pyproject.toml."""
    header = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", BUNDLE.read_text(encoding="utf-8")[:300])
    assert header, f"{BUNDLE.name} does not start with plotly.js's version banner"
    recipe = json.loads(RECIPE.read_text())["dependencies"]["plotly.js"]
    assert (header.group(1), recipe) == (get_plotlyjs_version(),) * 2, (
        f"bundle {header.group(1)}, recipe {recipe}, plotly {importlib.metadata.version('plotly')} "
        f"ships plotly.js {get_plotlyjs_version()}"
    )


def _third_party_imports() -> dict[str, set[Path]]:
    """Every package benefits/ and dashboards/ import, with the files importing it."""
    found: dict[str, set[Path]] = {}
    for folder in (ROOT / "benefits", ROOT / "dashboards"):
        for name, files in _imports(folder).items():
            if name not in FIRST_PARTY and name not in sys.stdlib_module_names:
                found.setdefault(name, set()).update(files)
    return found


def test_every_imported_package_is_a_declared_dependency() -> None:
    declared = {canonicalize_name(Requirement(r).name) for r in _project()["dependencies"]}
    distributions = importlib.metadata.packages_distributions()
    undeclared = []
    for name, files in _third_party_imports().items():
        if name in HOSTS and all(HOSTS[name] in f.parents for f in files):
            continue
        provided_by = {canonicalize_name(d) for d in distributions.get(name, [])}
        if not provided_by & declared:
            where = sorted(str(f.relative_to(ROOT)) for f in files)
            undeclared.append(f"{name} ({', '.join(provided_by) or 'not installed'}) imported by {where}")
    assert undeclared == []


def test_every_declared_dependency_is_used() -> None:
    """A dependency nothing imports any more is dropped, not carried."""
    distributions = importlib.metadata.packages_distributions()
    used = {canonicalize_name(d) for name in _third_party_imports() for d in distributions.get(name, [])}
    declared = {canonicalize_name(Requirement(r).name) for r in _project()["dependencies"]}
    assert declared - used - set(LOADED_BY_NAME) == set()


def test_runtime_dependencies_have_an_upper_bound() -> None:
    """A new major version is taken on purpose, after the tests pass with it."""
    unbounded = [
        r
        for r in _project()["dependencies"]
        if not any(s.operator in ("<", "<=", "~=", "==") for s in Requirement(r).specifier)
    ]
    assert unbounded == []
