"""Text as a one-line message shows it: what a connector or validation quotes of a value it read.

Shared by the file connectors (a line they cannot read) and validation (a value it rejects), so a
line break or a control character in a source never breaks a message, a log line or a quarantine
reason over two lines.
"""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` on one line: line breaks, tabs and other unprintable characters written as Python
    writes them (``\\n``, ``\\t``, ``\\x00``); printable text unchanged."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
