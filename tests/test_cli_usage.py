"""Options with a range refuse a value outside it as a usage error (exit 2) naming the option, before the
command runs: never a traceback, nor a value silently changed (a port of 70000 listened on 4464)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from benefits.cli import main


def usage_error(*args: str) -> str:
    """stderr of ``benefits ARGS``, which must end in a usage error (exit 2) with nothing on stdout."""
    result = CliRunner().invoke(main, list(args))
    assert (result.exit_code, result.stdout) == (2, ""), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.stderr


@pytest.mark.parametrize("port", ["70000", "65536", "0", "-5"])
def test_serve_refuses_a_port_outside_1_to_65535(port: str) -> None:
    assert f"Invalid value for '--port': {port} is not in the range 1<=x<=65535." in usage_error(
        "serve", "--port", port
    )
