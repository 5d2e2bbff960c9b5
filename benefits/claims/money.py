"""Money as Decimal end to end: parsed without float, rounded once, at display.

Observations are stored as floats (``observations.value`` is a Float column). They cross into
Decimal at one place, :func:`from_float`, as ``Decimal(str(value))``: the shortest decimal that
round-trips the float, i.e. the value the source wrote (``0.1`` stays ``0.1``, not
``0.1000000000000000055…``). Everything after that boundary is Decimal arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from benefits.errors import shorten

CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
MAX_PLACES = 4  # the claims.claimed_value column is Money: NUMERIC(20, 4), decimal text on SQLite
MAX_WHOLE_DIGITS = 16  # 20 digits in all, 4 of them after the point
CENT = Decimal("0.01")
PENNY = 2  # decimal places of money shown for reading: to the penny (cent)
#: How thousands marks must be written, for messages about a number whose marks are out of place.
THOUSANDS_RULE = (
    "a thousands separator must come between groups of three digits (1,234,567.50); "
    "write decimals with a point (12.50, not 12,50)"
)


def from_float(value: float) -> Decimal:
    """A stored float (observation value, share, price per unit) as the Decimal it was written as."""
    return Decimal(str(value))


def from_floats(values: Iterable[float]) -> list[Decimal]:
    """:func:`from_float` of each value (the same Decimals, converted in one pass for many readings)."""
    return list(map(Decimal, map(str, values)))


def written_currency(text: str) -> str | None:
    """The currency whose symbol ``text`` starts with (``GBP`` for ``£1,234.50``); None without one."""
    stripped = text.strip().removeprefix("-")
    return next((code for code, symbol in CURRENCY_SYMBOLS.items() if stripped.startswith(symbol)), None)


def check_currency(text: str, currency: str) -> None:
    """ValueError when ``text`` is written with another currency's symbol than ``currency``'s."""
    written = written_currency(text)
    if written is not None and written != currency.upper():
        raise ValueError(f"{shorten(text.strip())!r} is in {written}; this register's money is {currency.upper()}")


class OutOfRange(ValueError):
    """An amount with more whole digits than a money column holds."""


def check_range(value: Decimal) -> None:
    """OutOfRange when ``value`` has more whole digits than a money column holds."""
    if abs(value) >= Decimal(10) ** MAX_WHOLE_DIGITS:
        raise OutOfRange(
            f"{shorten(f'{value:f}')} is out of range: at most {MAX_WHOLE_DIGITS} digits before the decimal point"
        )


def without_thousands(text: str, marks: Iterable[str] = (",",)) -> str:
    """``text`` without its thousands separators (``1,234.50`` -> ``1234.50``), unchanged when it has none.

    A separator (one of ``marks``, one kind per number) must come between groups of exactly three
    digits, after a first group of one to three that does not start with 0. Anything else raises
    ValueError (:data:`THOUSANDS_RULE`): ``12,50``, ``1,5``, ``0,500`` and ``12,34,5`` are a decimal
    comma or a slip, and read without their marks they would be 10 to 1,000 times too large.
    """
    found = [mark for mark in marks if mark in text]
    if not found:
        return text
    if len(found) == 1 and _grouped(found[0]).fullmatch(text):
        return text.replace(found[0], "")
    raise ValueError(THOUSANDS_RULE)


def _grouped(mark: str) -> re.Pattern[str]:
    """A number whose whole part is grouped by threes with ``mark``, then an optional decimal point and digits."""
    return re.compile(rf"[+-]?[1-9][0-9]{{0,2}}(?:{re.escape(mark)}[0-9]{{3}})+(?:\.[0-9]*)?")


def parse_money(text: str) -> Decimal:
    """A money amount typed by a person: ``1234.5``, ``1,234.50`` or ``£1,234.50``; ValueError otherwise.

    Commas must separate thousands (:func:`without_thousands`): ``12,50`` is refused, never read as 1250.
    A currency symbol is read and dropped here; :func:`written_currency` says which one it was,
    for the caller to hold against the register's currency.
    """
    cleaned = text.strip()
    shown = repr(shorten(cleaned))
    for symbol in CURRENCY_SYMBOLS.values():
        cleaned = cleaned.removeprefix(symbol)
    try:
        value = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"{shown} is not an amount of money") from None
    if not value.is_finite():
        raise ValueError(f"{shown} is not an amount of money")
    try:
        without_thousands(cleaned.strip())
    except ValueError as exc:
        raise ValueError(f"{shown} is not an amount of money: {exc}") from None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_PLACES:
        raise ValueError(f"{shown} has more than {MAX_PLACES} decimal places")
    check_range(value)
    return value


_SCIENTIFIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+")


def parse_written_money(text: str) -> Decimal:
    """:func:`parse_money` of an amount written as text by a person or a system (a claims CSV, a connector's text,
    the claims page), refusing scientific notation: ``1.23457E+11`` is how a spreadsheet shows, and saves as CSV,
    a number too wide for its column, with its last digits already cut off, so it is never read as an amount.
    The underscores of a Python literal (``1_000``) are refused as not an amount of money."""
    cleaned = text.strip()
    for symbol in CURRENCY_SYMBOLS.values():
        cleaned = cleaned.removeprefix(symbol)
    if _SCIENTIFIC.fullmatch(cleaned.replace(",", "")):
        raise ValueError(
            f"{shorten(text.strip())!r} is in scientific notation, as a spreadsheet shows a number with digits cut "
            "off: write the amount in full (format the column as a number with 2 decimal places and save again)"
        )
    if "_" in cleaned:
        raise ValueError(f"{shorten(text.strip())!r} is not an amount of money")
    return parse_money(text)


def display(value: Decimal | None, currency: str, places: int = 0) -> str:
    """``£317,500`` (rounded half up, once, here); ``-£1,200``; an em dash for None."""
    if value is None:
        return "—"
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    amount = f"{abs(rounded):,.{places}f}"
    text = f"{symbol}{amount}" if symbol else f"{amount} {currency}"
    return f"-{text}" if rounded < 0 else text


def display_share(share: Decimal | None) -> str:
    """A share (0..1) as ``62%``, rounded half up; an em dash for None."""
    if share is None:
        return "—"
    return f"{(100 * share).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"


def plain(value: Decimal | None) -> str:
    """A Decimal for CSV or JSON: exact, no exponent, no thousands separator ('' for None)."""
    return "" if value is None else f"{value:f}"
