"""Every code block of docs/plugins.md is run: Python executed, signatures compared with the code, the
`benefits` commands run, connectors.yaml examples validated against their connector's settings.

A block whose language is ``text`` is output or a layout, not code. A block preceded by
``<!-- test: skip (reason) -->`` is not run, and says why. A Python block preceded by
``<!-- test: module NAME -->`` is executed as the module NAME (later blocks import it, as a
vendor's tests import their plugin). A Python block that is one line ``name(...) -> ...`` is a
signature: it must read as ``inspect.signature`` shows the function of that name.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import shlex
import sys
import tomllib
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from benefits.cli import main
from benefits.plugins import hookspecs
from benefits.plugins.connector import Connector, SyncContext
from benefits.testing import ConnectorTests, build_connector, get_connector_tests

from .conftest import ROOT

DOCS = ROOT / "docs" / "plugins.md"
LANGUAGES = {"python", "sh", "toml", "yaml", "text"}
_MARKER = re.compile(r"^<!-- test: (?P<what>skip|module) \(?(?P<arg>[^)]*?)\)? -->$")
_SIGNATURE = re.compile(r"^(?P<name>\w+)(?P<rest>\(.*\)( -> .+)?)$")
#: The functions whose signatures the docs show, by name.
SIGNED: dict[str, Callable[..., Any]] = {
    "register_connectors": hookspecs.register_connectors,
    "register_expectations": hookspecs.register_expectations,
    "get_connector_tests": get_connector_tests,
}


@dataclass(frozen=True)
class Block:
    """One fenced code block of the docs."""

    line: int
    language: str
    text: str
    marker: tuple[str, str] | None

    @property
    def id(self) -> str:
        return f"{self.language}@{self.line}"


def blocks(path: Path = DOCS) -> list[Block]:
    """The fenced blocks of ``path``, each with the ``<!-- test: ... -->`` marker above it (blank lines between)."""
    found: list[Block] = []
    lines = path.read_text().splitlines()
    number = 0
    while number < len(lines):
        line = lines[number]
        stripped = line.lstrip()
        if not stripped.startswith("```"):
            number += 1
            continue
        indent, language = len(line) - len(stripped), stripped[3:].strip()
        end = next(n for n in range(number + 1, len(lines)) if lines[n].strip() == "```")
        text = "\n".join(body[indent:] for body in lines[number + 1 : end]) + "\n"
        above = next((lines[n].strip() for n in range(number - 1, -1, -1) if lines[n].strip()), "")
        match = _MARKER.match(above)
        found.append(Block(number + 1, language, text, (match["what"], match["arg"]) if match else None))
        number = end + 1
    return found


BLOCKS = blocks()
PYTHON = [b for b in BLOCKS if b.language == "python"]


def test_every_block_has_a_language_and_every_skip_a_reason() -> None:
    unlabelled = [b.line for b in BLOCKS if b.language not in LANGUAGES]
    assert not unlabelled, f"docs/plugins.md: label these blocks ({', '.join(sorted(LANGUAGES))}): lines {unlabelled}"
    bare = [b.line for b in BLOCKS if b.marker and not b.marker[1].strip()]
    assert not bare, f"docs/plugins.md: a test marker needs a reason or module name: lines {bare}"
    assert len([b for b in BLOCKS if b.marker and b.marker[0] == "skip"]) <= 2, "run the examples rather than skip them"


@pytest.fixture(scope="module")
def executed() -> Iterator[dict[int, dict[str, Any] | BaseException]]:
    """Every Python block executed in order (a ``module`` block as that module): its namespace, or what it raised."""
    outcomes: dict[int, dict[str, Any] | BaseException] = {}
    added: list[str] = []
    for block in PYTHON:
        if _SIGNATURE.match(block.text.strip()) or (block.marker and block.marker[0] == "skip"):
            continue
        name = block.marker[1] if block.marker and block.marker[0] == "module" else f"docs_plugins_{block.line}"
        module = types.ModuleType(name)
        sys.modules[name] = module  # as an import would: pydantic resolves annotations through it
        added.append(name)
        try:
            exec(compile(block.text, f"docs/plugins.md:{block.line}", "exec"), module.__dict__)
        except Exception as exc:  # noqa: BLE001 - reported by the block's own test
            outcomes[block.line] = exc
        else:
            outcomes[block.line] = module.__dict__
    yield outcomes
    for name in added:
        sys.modules.pop(name, None)


@pytest.mark.parametrize(
    "block",  # a block that imports Great Expectations takes seconds: slow
    [pytest.param(b, id=b.id, marks=[pytest.mark.slow] if "great_expectations" in b.text else []) for b in PYTHON],
)
def test_python_block_runs(block: Block, executed: dict[int, dict[str, Any] | BaseException]) -> None:
    signature = _SIGNATURE.match(block.text.strip())
    if signature:
        function = SIGNED.get(signature["name"])
        assert function is not None, f"docs/plugins.md:{block.line}: a signature of an unknown function"
        shown = str(inspect.signature(function)).replace("'", "")
        assert signature["rest"] == shown, f"docs/plugins.md:{block.line}: the code says {signature['name']}{shown}"
        return
    if block.marker and block.marker[0] == "skip":
        pytest.skip(block.marker[1])
    outcome = executed[block.line]
    if isinstance(outcome, BaseException):
        raise AssertionError(f"docs/plugins.md:{block.line}: {type(outcome).__name__}: {outcome}") from outcome
    _exercise(outcome)


def _exercise(namespace: dict[str, Any]) -> None:
    """Use what a block defines: call its hooks and test functions, check its kit classes and context type."""
    for name, value in namespace.items():
        if name.startswith("__") or getattr(value, "__module__", None) != namespace["__name__"]:
            continue
        if name == "register_connectors":
            assert all(issubclass(cls, Connector) for cls in value())
        elif name == "register_expectations":
            from benefits.testing import load_test_register

            assert value(register=load_test_register())
        elif name.startswith("test_") and callable(value):
            value(**{p: FIXTURES[p]() for p in inspect.signature(value).parameters})
        elif name.startswith("Test") and isinstance(value, type):
            assert issubclass(value, ConnectorTests)
        elif name == "SyncContext":
            assert _fields(value) == _fields(SyncContext), "the docs' SyncContext differs from the code's"
        elif isinstance(value, type) and issubclass(value, Connector) and value.claims is not Connector.claims:
            _check_claims(value)


def _fields(cls: type) -> list[tuple[str, Any, Any]]:
    hints = typing.get_type_hints(cls)
    return [(f.name, hints[f.name], f.default) for f in dataclasses.fields(cls)]


def _check_claims(cls: type[Connector]) -> None:
    """The claims the example yields are ones the sync records."""
    from benefits.claims.importer import read_claim_records, register_problems

    connector = build_connector(cls, {})
    parsed = read_claim_records(list(connector.claims()), "docs")
    assert not register_problems(parsed, connector.context.register)


FIXTURES: dict[str, Callable[[], Any]] = {
    "benefits_connector": lambda: lambda cls, settings=None, **options: build_connector(cls, settings, **options),
}


SHELL = [b for b in BLOCKS if b.language == "sh"]


@pytest.mark.parametrize("block", SHELL, ids=[b.id for b in SHELL])
def test_shell_block_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``benefits`` commands of the block run and succeed; the other lines name what runs them."""
    monkeypatch.chdir(tmp_path)
    commands = [line.split("#", 1)[0].strip() for line in block.text.splitlines()]
    others = [c for c in commands if c and not c.startswith("benefits ")]
    assert not others or (block.marker and block.marker[0] == "skip"), (
        f"docs/plugins.md:{block.line}: only `benefits` commands run here: mark the block with "
        f"<!-- test: skip (what runs {others[0]!r}) -->"
    )
    for command in (c for c in commands if c.startswith("benefits ")):
        result = CliRunner().invoke(main, shlex.split(command)[1:])
        assert result.exit_code == 0, f"docs/plugins.md:{block.line}: {command}: {result.output}"


TOML = [b for b in BLOCKS if b.language == "toml"]


@pytest.mark.parametrize("block", TOML, ids=[b.id for b in TOML])
def test_toml_block_is_a_plugin_pyproject(block: Block) -> None:
    project = tomllib.loads(block.text)
    assert project["build-system"]["build-backend"], "pip needs a build backend"
    assert project["project"]["entry-points"]["benefits"], "the entry point makes it a plugin"
    pins = [d for d in project["project"]["dependencies"] if re.match(r"benefits\b", d)]
    assert pins and ">=" in pins[0], "a plugin pins the first benefits release that offers its plugin API"


YAML = [b for b in BLOCKS if b.language == "yaml"]


@pytest.mark.parametrize("block", YAML, ids=[b.id for b in YAML])
def test_connectors_yaml_block_is_valid(block: Block, executed: dict[int, dict[str, Any] | BaseException]) -> None:
    """Each connector of the block has settings its type accepts (``${NAME}`` filled with a stand-in value)."""
    from benefits.plugins.manager import connector_types
    from benefits.plugins.secrets import expand_settings

    types_ = dict(connector_types())
    for written in PYTHON:  # the plugins the docs write
        namespace = executed.get(written.line)
        if written.marker and written.marker[0] == "module" and isinstance(namespace, dict):
            types_.update({cls.type: cls for cls in namespace["register_connectors"]()})
    document = yaml.safe_load(block.text)
    assert list(document) == ["connectors"], f"docs/plugins.md:{block.line}: a connectors.yaml has `connectors:`"
    for entry in document["connectors"]:
        cls = types_[entry["type"]]
        settings, _ = expand_settings(entry.get("settings", {}), environ=_AnyVariable())
        cls.Settings.model_validate(settings)


class _AnyVariable(dict[str, str]):
    """An environment in which every variable is set (to a value that passes for a token or a password)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __getitem__(self, key: str) -> str:
        return f"stand-in-{key.lower()}"


def test_a_cursor_paged_rest_connector_takes_under_60_lines_in_the_docs_and_the_template() -> None:
    """The goal of issue 12: a vendor's own code for a cursor-paged REST connector, every line counted
    (docstrings, comments and blank lines included), stays under 60 lines."""
    from benefits.plugins.scaffold import package_files

    [docs] = [b.text for b in PYTHON if b.marker == ("module", "skillscloud_benefits")]
    template = package_files("skillscloud", "rest")["benefits_skillscloud/__init__.py"]
    for where, code in (("docs/plugins.md", docs), ("plugins new --kind rest", template)):
        assert "CursorPaginator(" in code and "RestConnector" in code, f"{where}: not a cursor-paged REST connector"
        assert len(code.splitlines()) < 60, f"{where}: {len(code.splitlines())} lines"
