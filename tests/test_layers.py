"""Rooms and layers: the library below the dashboard.

No module of ``benefits/`` imports the top-level name ``dashboards`` (it is not installed: the app
is ``benefits.dashboards``), and only the modules listed in ``UI_CONSUMERS`` import the dashboard
package, each for the reason given there.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "benefits"
UI_CONSUMERS = {
    "benefits/cli/serve.py": "`benefits serve` starts the app (imported when the command runs)",
    "benefits/report.py": "the steering pack draws the dashboard's portfolio summary and charts "
    "(dashboards/queries.py, figures.py, formatting.py) until they have a home below both",
    "benefits/report_pptx.py": "the PowerPoint pack reads the same portfolio summary as the HTML pack "
    "(dashboards/queries.py, trust.py, formatting.py)",
}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _library_modules() -> list[Path]:
    """Every .py file of benefits/, not following the benefits/dashboards link."""
    return [p for p in LIBRARY.rglob("*.py") if p.relative_to(LIBRARY).parts[0] != "dashboards"]


def test_no_library_module_imports_the_top_level_dashboards_name() -> None:
    offenders = sorted(
        str(p.relative_to(ROOT))
        for p in _library_modules()
        if any(n == "dashboards" or n.startswith("dashboards.") for n in _imported(p))
    )
    assert offenders == []


def test_only_the_named_modules_use_the_dashboard_package() -> None:
    users = {
        str(p.relative_to(ROOT))
        for p in _library_modules()
        if any(n == "benefits.dashboards" or n.startswith("benefits.dashboards.") for n in _imported(p))
    }
    assert users <= set(UI_CONSUMERS), users - set(UI_CONSUMERS)
