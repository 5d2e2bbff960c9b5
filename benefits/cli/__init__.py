"""The `benefits` command line: the root group in :mod:`benefits.cli.main`, one module per command group.

A command group lives in its own module here and registers itself on :data:`main` when imported;
importing this package imports them all. Heavy libraries are imported inside commands only.
"""

from benefits.cli.main import main
from benefits.cli import report, serve, users  # noqa: F401  (command modules register themselves)
from benefits.cli import claims  # noqa: F401
from benefits.cli import backtest, metrics, quarantine  # noqa: F401

__all__ = ["main"]
