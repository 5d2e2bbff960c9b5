"""Configuration files that cannot be read, decoded or parsed, or that give a key twice: one line naming the
file (and the line, where there is one), exit code 2, never a traceback; the same for every configuration file."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from benefits import users
from benefits.cli import main
from benefits.errors import ConfigError
from benefits.register import load_register
from benefits.validation.config import load_validation_config

from .conftest import DEMO_CONFIG


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A copy of the demo's configuration folder."""
    folder = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, folder)
    return folder


def _init(config: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), "--database", f"sqlite:///{config}.db", "init"])
    return result.exit_code, result.stderr


def _append(text: bytes) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        path.write_bytes(path.read_bytes() + text)

    return edit


def _folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _no_such_day(path: Path) -> None:
    text = path.read_text()
    assert "date: 2025-09-01}" in text
    path.write_text(text.replace("date: 2025-09-01}", "date: 2025-02-30}", 1))


def _duplicate_benefits(path: Path) -> None:
    """A second ``benefits:`` key in the first initiative, before its second benefit (so the first is dropped)."""
    text = path.read_text()
    second = "      - key: crm-win-rate\n"
    assert second in text
    path.write_text(text.replace(second, "    benefits:\n" + second, 1))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (_append(b"\xff\xfe name: x\n"), r"line \d+: not UTF-8 text \(byte 0xff\): save the file as UTF-8"),
        (_folder, "is a folder, not a file"),
        (_no_such_day, r"line \d+, column \d+: no such date '2025-02-30' \(day is out of range for month\)"),
        (
            _append(b'x: "\x00"\n'),
            r"line \d+: invalid YAML: character #x0000 is not allowed \(control characters are not allowed\)",
        ),
        (
            _duplicate_benefits,
            r"line \d+, column 5: duplicate key 'benefits' \(first given at line \d+\): give each key once",
        ),
        (
            _append(b"name: again\n"),
            r"line \d+, column 1: duplicate key 'name' \(first given at line \d+\): give each key once",
        ),
        (_append(b"x: 1" + b"0" * 4400 + b"\n"), r"line \d+, column 4: the number '10+…' has too many digits \(4401\)"),
    ],
)
def test_a_register_that_cannot_be_read_is_one_line_with_exit_code_2(
    config: Path, edit: Callable[[Path], None], expected: str
) -> None:
    path = config / "portfolio.yaml"
    edit(path)
    code, stderr = _init(config)
    assert code == 2
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert re.fullmatch(f"error: {re.escape(str(path))}: {expected}\n", stderr), stderr


def test_a_key_given_twice_in_connectors_or_validation_yaml_is_refused(config: Path) -> None:
    (config / "connectors.yaml").write_text("connectors: []\nconnectors: []\n")
    code, stderr = _init(config)  # init reads the register only: the connectors are read by sync
    assert code == 0
    result = CliRunner().invoke(main, ["--config", str(config), "--database", f"sqlite:///{config}.db", "sync"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {config / 'connectors.yaml'}: line 2, column 1: duplicate key 'connectors'"
        " (first given at line 1): give each key once\n"
    )
    (config / "validation.yaml").write_text("bounds:\n  default: {min: 0}\n  default: {max: 5}\n")
    with pytest.raises(ConfigError, match=r"validation.yaml: line 3, column 3: duplicate key 'default'"):
        load_validation_config(config)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- name: x\n  type: demo\n", "a list"), ("[]\n", "a list"), ("connectors\n", "text"), ("42\n", "a number")],
)
@pytest.mark.parametrize("name", ["connectors.yaml", "validation.yaml"])
def test_connectors_or_validation_yaml_that_is_not_a_mapping_says_so_without_a_class_name(
    config: Path, name: str, text: str, kind: str
) -> None:
    """A list, text or a number at the top level said 'input should be a valid dictionary or instance of
    ConnectorsFile' (ValidationConfig), after an empty field name; an empty list was read as no connectors,
    and `sync` synced nothing, exit 0."""
    assert _init(config)[0] == 0
    (config / name).write_text(text)
    result = CliRunner().invoke(main, ["--config", str(config), "--database", f"sqlite:///{config}.db", "sync"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {config / name}: (top level): should be a mapping (key: value lines), not {kind}\n"


def test_merge_keys_may_still_be_overridden(config: Path) -> None:
    (config / "validation.yaml").write_text(
        "bounds:\n  units:\n    '%': &pct {min: 0, max: 100}\n    pct: {<<: *pct, max: 90}\n"
    )
    ranges = load_validation_config(config).bounds.units
    assert (ranges["pct"].min, ranges["pct"].max) == (0, 90)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_a_register_without_read_permission_is_one_line(config: Path) -> None:
    (config / "portfolio.yaml").chmod(0)
    with pytest.raises(ConfigError, match=r"portfolio.yaml: cannot be read \(permission denied\)$"):
        load_register(config)


def test_a_file_denied_to_the_process_is_one_line(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as above whoever runs the tests: reading the file is refused by the operating system."""

    def denied(path: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(Path, "read_bytes", denied)
    code, stderr = _init(config)
    assert code == 2
    assert stderr == f"error: {config / 'portfolio.yaml'}: cannot be read (permission denied)\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe", "line 1: not UTF-8 text (byte 0xff): save the file as UTF-8"),
        (b'users: ["\x00"]\n', "line 1: invalid YAML: character #x0000 is not allowed"),
        (b"users: []\nusers: []\n", "line 2, column 1: duplicate key 'users' (first given at line 1)"),
    ],
)
def test_a_users_file_that_cannot_be_read_names_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "users.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        users.load_users(path)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_a_users_file_that_is_a_folder_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "users.yaml").mkdir()
    with pytest.raises(ConfigError, match=r"users.yaml: is a folder, not a file$"):
        users.load_users(tmp_path / "users.yaml")
