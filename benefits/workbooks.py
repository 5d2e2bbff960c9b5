"""Why an Excel workbook (``.xlsx``) cannot be read, in words: for ``register import`` and the csv connector.

An ``.xlsx`` file is a zip archive of XML parts, read by openpyxl. A file that is not one (empty, a
password-protected workbook, which Excel saves as an encrypted OLE compound file, an Excel 97-2003
``.xls`` renamed) or whose parts are damaged (a truncated download, a part that is not XML) makes the
zip module, zlib or the XML parser raise their own exceptions, some only while the rows are read.
:data:`READ_ERRORS` are those exceptions and :func:`problem` says what each means and what to do,
without an exception's class name.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

READ_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,  # a member cut short
    SyntaxError,  # xml.etree's ParseError (and lxml's XMLSyntaxError): a part that is not well-formed XML
    KeyError,  # a part the workbook names is missing from the archive
    ValueError,
    OSError,
)
"""What reading a workbook, or its rows, raises when the file is not a readable workbook."""

_COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""The first bytes of an OLE compound file: a password-protected .xlsx, or an Excel 97-2003 .xls."""
_ZIP = b"PK"


def not_a_workbook(path: Path | str) -> str | None:
    """What ``path`` is when its first bytes say it is no ``.xlsx`` workbook (empty, encrypted, an ``.xls``);
    None when it may be one (or cannot be read: opening it says why)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(_COMPOUND_FILE))
    except OSError:
        return None
    if not head:
        return "the file is empty (0 bytes), not an Excel workbook"
    if head == _COMPOUND_FILE:
        return (
            "a password-protected (encrypted) workbook or an Excel 97-2003 (.xls) file, which cannot be read: "
            "remove the password (Excel: File > Info > Protect Workbook) and save it as an Excel Workbook (.xlsx)"
        )
    return None


def problem(path: Path | str, exc: Exception) -> str:
    """``exc``, raised opening or reading the workbook at ``path``, as a reason: what the file is, and what to do."""
    found = not_a_workbook(path)
    if found is not None:
        return found
    if isinstance(exc, OSError) and not isinstance(exc, zipfile.BadZipFile):
        return f"cannot be read ({exc.strerror or exc})"
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, zipfile.BadZipFile) and not _starts_as_zip(path):
        return f"not a readable Excel workbook ({detail}: an .xlsx file is a zip archive)"
    return (
        f"a damaged Excel workbook ({detail}): open it in Excel (or LibreOffice) and save it again, "
        "or export a fresh copy"
    )


def _starts_as_zip(path: Path | str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(2) == _ZIP
    except OSError:
        return False
