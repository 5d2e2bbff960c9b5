"""Files written whole or not at all: the users file, the register, and every output file of the CLI.

Each file is written to a temporary file in its own folder (with its final permissions from the start),
flushed to the disk, then renamed over its path (``os.replace``): a reader sees the old file or the new one,
never half of one. When the write fails (a full disk, a folder that cannot be written), the temporary file
is removed, an existing file is left as it was, and :class:`~benefits.errors.BenefitsError` says so in one
line naming the file and the cause.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from benefits.errors import BenefitsError

_FULL = (errno.ENOSPC, errno.EDQUOT)
_NAME_KEPT = 100
"""How much of the file's name the temporary file's name keeps (a name near the system's limit still has room)."""


def write_text(path: Path, text: str, mode: int | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all; ``mode`` as :func:`write_files`."""
    write_files({path: text.encode("utf-8")}, mode)


def write_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` whole or not at all; ``mode`` as :func:`write_files`."""
    write_files({path: data}, mode)


def write_files(contents: Mapping[Path, bytes], mode: int | None = None) -> None:
    """Write each file of ``contents`` (its bytes by path), making missing folders, each through a temporary
    file renamed over it: the files are written together or not at all (a register and its connectors.yaml,
    an evidence pack's two files).

    Every temporary file is written before the first is renamed, so a failure to write one (a full disk)
    leaves none of them. The new files are renamed into place first, and removed again when a later rename
    fails; only when two files that existed are both replaced can a failed rename (rare: a rename in one
    folder needs no room) leave the first one replaced.

    ``mode`` is the files' permissions (``0o600``: their owner's only), set before anything is written; by
    default, a new file's usual permissions (``0o666`` less the umask). BenefitsError in one line naming the
    file and the cause when one cannot be written: the temporary files and any folder made for them are
    removed, and the files that existed are left as they were.
    """
    made: list[Path] = []
    temporaries: dict[Path, Path] = {}
    placed: list[Path] = []
    path = Path()
    try:
        for path, data in contents.items():
            made += _make_folders(path.parent)
            temporaries[path] = _temporary(path, data, mode)
        for path, temporary in sorted(temporaries.items(), key=lambda item: item[0].exists()):  # new files first
            new = not path.exists()
            os.replace(temporary, path)
            placed += [path] if new else []
            _sync_folder(path.parent)
    except OSError as exc:
        existed = path.exists()
        for written in [*temporaries.values(), *placed]:
            _remove(written)
        for folder in reversed(made):
            _remove(folder)
        raise BenefitsError(failure(path, exc, existed)) from None


def failure(path: Path, exc: OSError, existed: bool = False) -> str:
    """Why ``path`` could not be written, in one line: the cause and what was left."""
    reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
    left = "it was left as it was" if existed else "nothing was written"
    if exc.errno in _FULL:
        return f"cannot write {path}: the disk is full ({reason}): {left}; free some space and run it again"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write {path} ({reason}): {left}; check that its folder can be written to"
    return f"cannot write {path} ({reason}): {left}"


def _temporary(path: Path, data: bytes, mode: int | None) -> Path:
    """A new file beside ``path`` holding ``data``, flushed to the disk; removed again when writing it fails."""
    temporary = path.with_name(f".{path.name[:_NAME_KEPT]}.{secrets.token_hex(4)}.tmp")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    try:
        with os.fdopen(handle, "wb") as file:
            if mode is not None:
                os.fchmod(file.fileno(), mode)  # exactly mode, whatever the umask
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        _remove(temporary)
        raise
    return temporary


def _make_folders(folder: Path) -> list[Path]:
    """Make ``folder`` and its missing parents; the folders made, outermost first."""
    missing = [f for f in (folder, *folder.parents) if not f.exists()]
    folder.mkdir(parents=True, exist_ok=True)
    return list(reversed(missing))


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to the disk, where the system allows it."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass  # some file systems cannot fsync a folder; the file itself is already on the disk
    finally:
        os.close(handle)


def _remove(path: Path) -> None:
    """Remove a temporary file or an empty folder made for one, if it is still there."""
    try:
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass
