"""Text for the CSV files people open in a spreadsheet: a cell that would run as a formula stays text.

A spreadsheet runs a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a
formula (OWASP's "CSV injection"): a benefit's name, a note, a reason or a source's text could do
that to whoever opens the export. Such text gets a leading ``'``, which the spreadsheet shows as
text; plain numbers (``-1234.56``, money as exact decimal text) are left as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def cell(value: Any) -> Any:
    """``value`` for a CSV cell: text that a spreadsheet would run as a formula, prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def row(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every cell of a CSV row through :func:`cell`."""
    return {key: cell(value) for key, value in values.items()}
