"""The date forms a register may use, read the same way in a workbook, a CSV file and (explained) in YAML.

ISO dates (``2026-04-01``, also ``2026/04/01`` and with a time of day) are always accepted, as are
Excel date cells and written months (``1 Apr 2026``, ``April 1, 2026``). Numeric dates with the
year last (``01/04/2026``, ``01-04-2026``, ``01.04.2026``) are read day first unless month first is
asked for. Two-digit years are refused: ``01/04/26`` could be 1926 or 2026.
"""

from __future__ import annotations

import datetime as dt
import re

_ISO = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_YEAR_LAST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_WRITTEN = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y", "%d %b, %Y")


def forms(dayfirst: bool) -> str:
    """The accepted forms, for messages and docs: ``2026-04-01 or 01/04/2026 (day first)``."""
    return "2026-04-01 or 01/04/2026 (day first)" if dayfirst else "2026-04-01 or 04/01/2026 (month first)"


def parse_date(value: object, *, dayfirst: bool = True) -> dt.date:
    """The date in a cell or a string; ValueError with a message that says which forms are accepted."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if match := _ISO.match(text):
        return _date(int(match[1]), int(match[2]), int(match[3]), text)
    if match := _YEAR_LAST.match(text):
        first, second, year = int(match[1]), int(match[2]), match[3]
        if len(year) == 2:
            raise ValueError(f"write the year in full, e.g. {forms(dayfirst)}")
        day, month = (first, second) if dayfirst else (second, first)
        return _date(int(year), month, day, text, dayfirst)
    for form in _WRITTEN:
        try:
            return dt.datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: write {forms(dayfirst)}")


def iso_hint(text: str) -> str:
    """What to write instead of a date that YAML did not read as one (``28/06/2027``: did you mean 2027-06-28?)."""
    readings = set()
    for dayfirst in (True, False):
        try:
            readings.add(parse_date(text, dayfirst=dayfirst))
        except ValueError:
            continue
    if len(readings) == 1:
        return f"dates are written YYYY-MM-DD: did you mean {readings.pop().isoformat()}?"
    if len(readings) == 2:
        day, month = parse_date(text, dayfirst=True), parse_date(text, dayfirst=False)
        return f"dates are written YYYY-MM-DD: {day.isoformat()} (day first) or {month.isoformat()} (month first)?"
    return "dates are written YYYY-MM-DD, e.g. 2026-04-01"


def _date(year: int, month: int, day: int, text: str, dayfirst: bool = True) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        order = "year-month-day" if _ISO.match(text) else ("day/month/year" if dayfirst else "month/day/year")
        raise ValueError(f"no such date (read as {order})") from None
