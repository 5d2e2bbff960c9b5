"""Errors that the CLI turns into one line on stderr and a non-zero exit code."""


class BenefitsError(Exception):
    """A problem the user can fix; its message is one line naming the file, row or field."""

    exit_code = 1


class ConfigError(BenefitsError):
    """The configuration (register, connectors) is invalid."""

    exit_code = 2


class BenefitsWarning(UserWarning):
    """Something the user should know that does not stop the command; the CLI prints ``warning: ...``."""
