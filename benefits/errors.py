"""Errors that the CLI turns into one line on stderr and a non-zero exit code."""

from collections.abc import Callable, Sequence
from typing import TypeVar

_T = TypeVar("_T")

SHOWN = 40
"""At most this many characters of a value are repeated in a message."""


SHOWN_PROBLEMS = 20
"""At most this many problems are listed, one a line; a last line says how many more there are."""


def shown_problems(problems: Sequence[_T], line: Callable[[_T], str]) -> list[str]:
    """The lines that list ``problems``: the first :data:`SHOWN_PROBLEMS`, each written by ``line``, and a last one
    saying how many more there are (``... and 2980 more problems``): a file of thousands of problems is not
    thousands of lines."""
    lines = [line(problem) for problem in problems[:SHOWN_PROBLEMS]]
    more = len(problems) - SHOWN_PROBLEMS
    if more > 0:
        lines.append(f"... and {more} more problem{'s' if more != 1 else ''}")
    return lines


def shorten(text: str, shown: int = SHOWN) -> str:
    """``text`` as a message repeats it: its first ``shown`` (:data:`SHOWN`) characters and an ellipsis when it is
    longer (a number of 300 digits is not repeated whole)."""
    return text if len(text) <= shown else f"{text[:shown]}…"


class BenefitsError(Exception):
    """A problem the user can fix; its message is one line naming the file, row or field."""

    exit_code = 1


class ConfigError(BenefitsError):
    """The configuration (register, connectors) is invalid."""

    exit_code = 2


class BenefitsWarning(UserWarning):
    """Something the user should know that does not stop the command; the CLI prints ``warning: ...``."""
