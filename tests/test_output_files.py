"""Files written whole or not at all (``benefits.files``): on a full disk, the users file, the register and every
output file of the CLI end in one line naming the file and the cause, leave no file (nor temporary file) behind,
and leave a file that was there as it was; once there is room, the same command works (no "already exists")."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from benefits import files
from benefits.cli import main
from benefits.errors import BenefitsError

ROOM = 100
"""How many bytes a file on the full disk takes before the write fails."""


class _Filling:
    """A file on a disk with ``ROOM`` bytes left: it writes them, then fails as a full disk does."""

    def __init__(self, file: Any) -> None:
        self.file, self.room = file, ROOM

    def write(self, data: Any) -> int:
        if len(data) > self.room:
            self.file.write(data[: self.room])
            self.file.flush()
            self.room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return int(self.file.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.file, name)

    def __enter__(self) -> _Filling:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()


@pytest.fixture
def full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Files opened for writing under ``tmp_path`` fill up after ``ROOM`` bytes; yields the permissions of each
    file as it was opened (before anything was written to it)."""
    modes: list[int] = []
    real_open, real_fdopen = io.open, os.fdopen

    def writing(mode: str) -> bool:
        return any(flag in mode for flag in "wax+")

    def filling(file: Any, opened: Callable[[], Any]) -> Any:
        handle = opened()
        modes.append(os.fstat(handle.fileno()).st_mode & 0o777)
        return _Filling(handle)

    def open_(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, str | Path) and writing(mode) and Path(file).resolve().is_relative_to(tmp_path.resolve()):
            return filling(file, lambda: real_open(file, mode, *args, **kwargs))
        return real_open(file, mode, *args, **kwargs)

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        target = Path(os.readlink(f"/proc/self/fd/{fd}"))
        if writing(mode) and target.is_relative_to(tmp_path.resolve()):
            return filling(target, lambda: real_fdopen(fd, mode, *args, **kwargs))
        return real_fdopen(fd, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", open_)
    monkeypatch.setattr(os, "fdopen", fdopen)
    yield modes
    monkeypatch.undo()


def _one_line(result: Result, path: Path) -> str:
    """The one line a failed write ends in: exit 1, no traceback, naming ``path`` and the full disk."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot write {path}: the disk is full (no space left on device): ")
    return line


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_full_disk_leaves_the_users_file_as_it_was(tmp_path: Path, full_disk: list[int]) -> None:
    config = tmp_path / "config"
    runner = CliRunner()

    def add(name: str) -> Result:
        arguments = ["--config", str(config), "users", "add", name, "--role", "viewer", "--password-stdin"]
        return runner.invoke(main, arguments, input=f"pw-{name}-123456\n")

    with pytest.MonkeyPatch.context() as room:  # room for the first users
        room.setattr(__name__ + ".ROOM", 10**6)
        for name in ("alice", "bob", "carol"):
            assert add(name).exit_code == 0
    path = config / "users.yaml"
    before = path.read_bytes()
    line = _one_line(add("aaron"), path)
    assert line.endswith("it was left as it was; free some space and run it again")
    assert path.read_bytes() == before and _names(config) == ["users.yaml"]  # no temporary file either
    assert set(full_disk) == {0o600}  # every temporary file was the owner's only before a byte was written
    assert path.stat().st_mode & 0o777 == 0o600


def test_write_files_gives_new_files_the_usual_permissions_and_names_other_faults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = os.umask(0o027)
    try:
        files.write_text(tmp_path / "a" / "b.txt", "text")
    finally:
        os.umask(previous)
    assert (tmp_path / "a" / "b.txt").stat().st_mode & 0o777 == 0o640
    files.write_bytes(tmp_path / "secret", b"x", mode=0o600)
    assert (tmp_path / "secret").stat().st_mode & 0o777 == 0o600

    def refused(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(BenefitsError) as caught:
        files.write_files({tmp_path / "new" / "one": b"1", tmp_path / "new" / "two": b"2"})
    assert str(caught.value) == (
        f"cannot write {tmp_path}/new/one (permission denied): nothing was written; "
        "check that its folder can be written to"
    )
    assert _names(tmp_path) == ["a", "secret"]  # the folder made for them is gone with their temporary files
