"""Rendering a listing (a list of dicts) as a terminal table, JSON or CSV, for the listing commands."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

import click

from benefits import spreadsheet

FORMATS = ("table", "json", "csv")
format_option = click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)


def render(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str) -> str:
    """``rows`` as ``json`` (every key), ``csv`` or an aligned ``table`` (the ``columns``); ends with a newline."""
    if fmt == "json":
        return json.dumps(list(rows), indent=2, default=str) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: spreadsheet.cell(_cell(row.get(k), "")) for k in columns} for row in rows)
        return buffer.getvalue()
    cells = [[_cell(row.get(k), "-") for k in columns] for row in rows]
    headers = [c.upper().replace("_", " ") for c in columns]
    widths = [max([len(h), *(len(c[i]) for c in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip() for line in [headers, *cells]]
    return "\n".join(lines) + "\n"


def _cell(value: Any, empty: str) -> str:
    if value is None:
        return empty
    if isinstance(value, (list, tuple)):
        return "; ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
