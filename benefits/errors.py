"""Errors that the CLI turns into one line on stderr and a non-zero exit code."""

SHOWN = 40
"""At most this many characters of a value are repeated in a message."""


def shorten(text: str) -> str:
    """``text`` as a message repeats it: its first :data:`SHOWN` characters and an ellipsis when it is longer
    (a number of 300 digits is not repeated whole)."""
    return text if len(text) <= SHOWN else f"{text[:SHOWN]}…"


class BenefitsError(Exception):
    """A problem the user can fix; its message is one line naming the file, row or field."""

    exit_code = 1


class ConfigError(BenefitsError):
    """The configuration (register, connectors) is invalid."""

    exit_code = 2


class BenefitsWarning(UserWarning):
    """Something the user should know that does not stop the command; the CLI prints ``warning: ...``."""
