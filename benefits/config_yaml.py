"""Reading the YAML configuration files (``portfolio.yaml``, ``connectors.yaml``, ``validation.yaml``,
``forecast.yaml``, ``notify.yaml``, ``users.yaml``): one loader for all of them.

The loader is YAML's safe loader (libyaml's when PyYAML was built with it), made stricter: a key
given twice in one mapping is refused rather than the last one silently winning, and a value YAML
cannot build (``2025-02-30``, an integer of thousands of digits) is refused at its line rather than
escaping as a Python exception. Every way a file can fail to be read (missing, a folder, no
permission, not UTF-8, not YAML) is one :class:`~benefits.errors.ConfigError` line naming the file.

This module imports YAML when imported: commands that only read the store import it lazily
(through :func:`benefits.register.read_yaml`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node

from benefits.errors import ConfigError, shorten

MISSING = "file not found (run `benefits init --demo` for an example)"
"""What a missing configuration file is told, unless the caller says otherwise."""


class _Refused(ConstructorError):
    """A value of the file that the loader refuses; its message is said as it is, without "invalid YAML"."""


class ConfigLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml's when built
    """The safe loader, refusing duplicate keys and turning values that cannot be built into marked errors."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """A mapping, once its keys are known to be distinct (merged ``<<`` keys may be overridden, as YAML allows)."""
        first: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                earlier = first.setdefault(key, key_node.start_mark)
            except TypeError:  # an unhashable key: the safe loader's own message follows
                continue
            if earlier is not key_node.start_mark:
                shown = shorten(str(key))
                message = f"duplicate key {shown!r} (first given at line {earlier.line + 1}): give each key once"
                raise _Refused(None, None, message, key_node.start_mark)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        """The value of ``node``; a value YAML reads but Python cannot build is refused at its line."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            raise _Refused(None, None, _cannot_build(node, exc), node.start_mark) from None


def _cannot_build(node: Node, exc: Exception) -> str:
    """Why the scalar of ``node`` cannot be a value: ``no such date '2025-02-30' (day is out of range for month)``."""
    value = node.value if isinstance(node.value, str) else ""
    if node.tag.endswith(":timestamp"):
        return f"no such date {shorten(value)!r} ({exc})"
    if node.tag.endswith(":int"):
        return f"the number {shorten(value)!r} has too many digits ({len(value)})"
    return f"cannot read {shorten(value)!r} ({str(exc).splitlines()[0]})"


def parse_yaml(text: str, path: Path) -> object:
    """The data of a configuration file's text; one ConfigError line naming ``path`` (and the line) otherwise."""
    try:
        return yaml.load(text, Loader=ConfigLoader)  # a subclass of the safe loader
    except _Refused as exc:
        raise ConfigError(f"{path}: {_where(exc.problem_mark)}{exc.problem}") from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(f"{path}: {_where(exc.problem_mark)}invalid YAML: {exc.problem}") from None
    except yaml.reader.ReaderError as exc:
        raise ConfigError(f"{path}: {_reader_problem(text, exc)}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: nested too deeply") from None


def read_text(path: Path, missing: str = MISSING) -> str:
    """A configuration file's text (UTF-8, a byte order mark dropped); one ConfigError line when it cannot be read.

    ``missing`` is what a missing file is told (after its path).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: {missing}") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a file") from None
    except PermissionError:
        raise ConfigError(f"{path}: cannot be read (permission denied)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, byte = undecodable(data, exc)
        raise ConfigError(f"{path}: line {line}: not UTF-8 text (byte 0x{byte}): save the file as UTF-8") from None


def undecodable(data: bytes, exc: UnicodeDecodeError) -> tuple[int, str]:
    """The line (from 1) and the hex of the first byte of ``data`` that ``exc`` could not decode."""
    return data[: exc.start].count(b"\n") + 1, data[exc.start : exc.start + 1].hex()


def read_yaml(path: Path, missing: str = MISSING) -> object:
    """Read and parse a YAML configuration file; every failure is one ConfigError line naming the file."""
    return parse_yaml(read_text(path, missing), path)


def read_mapping(path: Path, missing: str = MISSING) -> dict[Any, Any]:
    """A configuration file whose top level is a mapping (``key: value`` lines): its data, ``{}`` for an empty
    file; one ConfigError line naming the file when its top level is a list, text, a number or true/false."""
    data = read_yaml(path, missing)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: (top level): should be a mapping (key: value lines), not {yaml_kind(data)}")
    return data


def yaml_kind(value: object) -> str:
    """What a YAML value is, in the user's words: ``a list``, ``a number``, ``text``."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str | bytes):
        return "text"
    if isinstance(value, dt.date):
        return "a date"
    return "nothing" if value is None else f"a {type(value).__name__}"


def _reader_problem(text: str, exc: yaml.reader.ReaderError) -> str:
    """``line 4: invalid YAML: character #x0000 is not allowed (...)``: a character YAML refuses, and its line."""
    # PyYAML's reader counts characters; libyaml's (encoding "?") counts bytes of UTF-8
    before = text[: exc.position] if exc.encoding == "unicode" else text.encode("utf-8")[: exc.position]
    line = (before.count("\n") if isinstance(before, str) else before.count(b"\n")) + 1
    character = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
    return f"line {line}: invalid YAML: character {character} is not allowed ({exc.reason})"


def _where(mark: Any) -> str:
    """``line 3, column 5: `` for a YAML mark (nothing without one)."""
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
