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

from . import dashboard_data as dd

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


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A store and its configuration folder (outside each test's full disk)."""
    folder = tmp_path_factory.mktemp("workspace")
    return folder / "config", dd.build_store(folder)


def _run(workspace: tuple[Path, str], *args: str) -> Result:
    config, url = workspace
    return CliRunner().invoke(main, ["--config", str(config), "--database", url, *args])


@pytest.mark.parametrize(
    "command",
    [
        ("register", "template", "--out", "{out}/t.xlsx"),
        ("register", "export", "--out", "{out}/r.xlsx"),
        ("register", "import", "{workbook}", "--out", "{out}/portfolio.yaml"),
        ("report", "--out", "{out}/p.html", "--as-of", dd.AS_OF.isoformat()),
        ("report", "--out", "{out}/p.pptx", "--as-of", dd.AS_OF.isoformat()),
    ],
    ids=["template", "export", "import", "html-pack", "pptx-pack"],
)
def test_an_output_file_on_a_full_disk_is_one_line_and_no_file_and_the_retry_works(
    workspace: tuple[Path, str], tmp_path: Path, full_disk: list[int], command: tuple[str, ...]
) -> None:
    workbook = tmp_path.parent / f"{tmp_path.name}-register.xlsx"  # outside the full disk
    with pytest.MonkeyPatch.context() as room:
        room.setattr(__name__ + ".ROOM", 10**9)
        assert _run(workspace, "register", "export", "--out", str(workbook)).exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    arguments = [a.format(out=out, workbook=workbook) for a in command]
    path = Path(arguments[arguments.index("--out") + 1])
    line = _one_line(_run(workspace, *arguments), path)
    assert line.endswith("nothing was written; free some space and run it again")
    assert _names(out) == []
    full_disk.clear()
    with pytest.MonkeyPatch.context() as room:
        room.setattr(__name__ + ".ROOM", 10**9)
        retried = _run(workspace, *arguments)
    assert retried.exit_code == 0, retried.output
    assert _names(out) == [path.name] and path.stat().st_size > 0


@pytest.mark.parametrize("folder_made", [True, False], ids=["config-folder-there", "config-folder-new"])
def test_an_import_with_room_for_portfolio_yaml_only_writes_neither_file_and_the_retry_works(
    workspace: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder_made: bool
) -> None:
    workbook = tmp_path / "register.xlsx"
    assert _run(workspace, "register", "export", "--out", str(workbook)).exit_code == 0
    config = tmp_path / "config"
    if folder_made:
        config.mkdir()
    real_temporary = files._temporary

    def room_for_one(path: Path, data: bytes, mode: int | None) -> Path:
        if path.name == "connectors.yaml":  # the second file: the disk is full by then
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_temporary(path, data, mode)

    def import_() -> Result:
        return CliRunner().invoke(main, ["--config", str(config), "register", "import", str(workbook)])

    monkeypatch.setattr(files, "_temporary", room_for_one)
    line = _one_line(import_(), config / "connectors.yaml")
    assert line.endswith("nothing was written; free some space and run it again")
    assert (_names(config) == []) if folder_made else not config.exists()  # no portfolio.yaml, no temporary file
    monkeypatch.setattr(files, "_temporary", real_temporary)
    retried = import_()
    assert retried.exit_code == 0, retried.output  # not "portfolio.yaml already exists"
    assert _names(config) == ["connectors.yaml", "portfolio.yaml"]


@pytest.mark.parametrize("names", [("new", "old"), ("old", "new")])
def test_write_files_removes_the_new_files_it_renamed_when_a_later_rename_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, names: tuple[str, str]
) -> None:
    (tmp_path / "old").write_bytes(b"old")
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        if Path(target).name == "old":
            raise OSError(errno.EIO, "Input/output error")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(BenefitsError) as caught:
        files.write_files({tmp_path / name: b"new" for name in names})
    assert str(caught.value) == f"cannot write {tmp_path}/old (input/output error): it was left as it was"
    assert _names(tmp_path) == ["old"] and (tmp_path / "old").read_bytes() == b"old"  # no "new" either


def test_a_forced_export_on_a_full_disk_leaves_the_old_workbook(
    workspace: tuple[Path, str], tmp_path: Path, full_disk: list[int]
) -> None:
    path = tmp_path / "r.xlsx"
    path.write_bytes(b"the old workbook")
    line = _one_line(_run(workspace, "register", "export", "--out", str(path), "--force"), path)
    assert line.endswith("it was left as it was; free some space and run it again")
    assert path.read_bytes() == b"the old workbook" and _names(tmp_path) == ["r.xlsx"]


def test_an_evidence_pack_on_a_full_disk_leaves_neither_file_nor_its_folder(
    workspace: tuple[Path, str], tmp_path: Path, full_disk: list[int]
) -> None:
    out = tmp_path / "packs" / "evidence"
    result = _run(workspace, "claims", "export", "cloud-platform", "--out", str(out))
    _one_line(result, out / "cloud-platform-evidence.csv")
    assert _names(tmp_path) == []


def test_a_plugin_package_on_a_full_disk_leaves_no_folder(tmp_path: Path, full_disk: list[int]) -> None:
    result = CliRunner().invoke(main, ["plugins", "new", "skills", "--directory", str(tmp_path)])
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.output
    assert result.stderr.startswith(f"error: cannot write {tmp_path}/benefits-skills/")
    assert _names(tmp_path) == []


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
