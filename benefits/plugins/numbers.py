"""The number format a connector's source writes: its decimal mark and its thousands mark.

A connector with a ``number_format`` setting (csv, sql, http) passes a value written as text in that
format (``315,602``, ``1.234,50``) on in plain form (``315602``, ``1234.50``); any other value
stays verbatim, for validation to judge.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

#: Thousands marks a source may use: comma, dot, space, apostrophe, no-break and narrow no-break space.
THOUSANDS_MARKS = (",", ".", " ", "'", "\u00a0", "\u202f")


class NumberFormat(BaseModel):
    """How the source writes numbers: its decimal mark and its thousands mark (if any)."""

    model_config = ConfigDict(extra="forbid")
    decimal: str = Field(".", description="The decimal mark: '.' or ','.")
    thousands: str | None = Field(None, description="The thousands mark, e.g. ',' (315,602) or '.' (1.234,50).")

    @field_validator("decimal")
    @classmethod
    def _known_decimal(cls, value: str) -> str:
        if value not in (".", ","):
            raise ValueError(f"decimal mark {value!r}: use '.' or ','")
        return value

    @field_validator("thousands")
    @classmethod
    def _known_thousands(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if value not in THOUSANDS_MARKS:
            raise ValueError(f"thousands mark {value!r}: use one of {', '.join(repr(m) for m in THOUSANDS_MARKS)}")
        if value == info.data.get("decimal", "."):
            raise ValueError(f"thousands mark {value!r} is also the decimal mark")
        return value

    def plain(self, value: Any) -> Any:
        """``value`` in plain form (``1234.50``) when it is a number written in this format, else unchanged."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not _number_in(self).fullmatch(text):
            return value
        if self.thousands is not None:
            text = text.replace(self.thousands, "")
        return text.replace(self.decimal, ".") if self.decimal != "." else text


def _number_in(fmt: NumberFormat) -> re.Pattern[str]:
    """A number in ``fmt``: digits grouped by threes with the thousands mark (or not grouped at
    all), then an optional decimal mark and digits."""
    decimal = re.escape(fmt.decimal)
    grouped = rf"[0-9]{{1,3}}(?:{re.escape(fmt.thousands)}[0-9]{{3}})+|" if fmt.thousands is not None else ""
    return re.compile(rf"[+-]?(?:{grouped}[0-9]+)(?:{decimal}[0-9]+)?")
