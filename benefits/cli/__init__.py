"""The `benefits` command line: the root group in :mod:`benefits.cli.main`, one module per command group.

A command group lives in its own module here and registers itself on :data:`main` when imported;
importing this package imports them all. Heavy libraries are imported inside commands only.
"""

from benefits.cli import (  # noqa: F401  (they register themselves)
    backtest,
    claims,
    commentary,
    digest,
    doctor,
    metrics,
    quarantine,
    register,
    report,
    serve,
    users,
    value,
)
from benefits.cli.main import main

__all__ = ["main"]
