"""The connector conformance tests: one class of named tests, and the factory that aims it at a connector.

Modelled on the Singer SDK's test templates: a connector author's whole test file is one line,

    TestAcme = get_connector_tests(AcmeConnector, {"metric": "ledger.it_opex"})

and pytest runs every standard test below against that connector. The built-in connectors are
tested with the same kit (tests/test_conformance.py).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from benefits.plugins.connector import (
    RECORD_FIELDS,
    Connector,
    ConnectorError,
    MetricInfo,
    SyncContext,
    delivers_claims,
)
from benefits.register import REGISTER_FILE, Register, load_register

if TYPE_CHECKING:
    import pandas as pd

#: What a connector's ``type`` may look like: the same shape as a connector name in connectors.yaml.
TYPE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-.]*$")
#: How many problems a failing test lists before it says "and N more".
SHOWN = 5


def load_test_register(register_path: str | Path | None = None) -> Register:
    """The register a connector is tested against: a config folder, a portfolio.yaml, or the demo one."""
    if register_path is None:
        from benefits.workspace import demo_config_dir

        return load_register(demo_config_dir())
    path = Path(register_path)
    if path.is_file():
        if path.name != REGISTER_FILE:
            raise ValueError(f"{path}: the register file must be named {REGISTER_FILE}")
        path = path.parent
    return load_register(path)


def build_connector(
    connector_cls: type[Connector],
    settings: Mapping[str, Any] | None = None,
    *,
    register: Register | None = None,
    register_path: str | Path | None = None,
    as_of: dt.date | str | None = None,
    bookmark: dt.date | str | None = None,
    env: Mapping[str, str] | None = None,
    name: str = "conformance",
) -> Connector:
    """A connector instance built the way the sync builds one: ``${NAME}`` filled from the environment
    (or from ``env``, when given), settings validated (pydantic's ValidationError when they are not),
    then a SyncContext whose ``as_of`` and ``bookmark`` are ``datetime.date`` as in the sync (ISO
    text is accepted here and converted); the connector's secret settings are masked in whatever it
    raises."""
    context = SyncContext(
        register=register or load_test_register(register_path),
        as_of=sync_date(as_of) or dt.date.today(),
        bookmark=sync_date(bookmark),
    )
    return connect(connector_cls, settings or {}, context, env=env, name=name)


def connect(
    connector_cls: type[Connector],
    settings: Mapping[str, Any],
    context: SyncContext,
    *,
    env: Mapping[str, str] | None = None,
    name: str = "conformance",
) -> Connector:
    """``connector_cls`` built as the sync builds it (``benefits.sync.config``), with this context."""
    from benefits.plugins.secrets import expand_settings, guard

    expanded, filled = expand_settings(dict(settings), environ=env)
    checked = connector_cls.Settings.model_validate(expanded)
    return guard(connector_cls(name, checked, context), filled)


def sync_date(value: dt.date | str | None) -> dt.date | None:
    """A date as the sync passes it (``datetime.date``, never a ``datetime``), from a date or ISO text."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise TypeError(f"{value!r} is a datetime; the sync passes dates (datetime.date)")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    raise TypeError(f"{value!r} is not a date: pass a datetime.date or ISO text YYYY-MM-DD")


def records_batch(records: list[Any]) -> pd.DataFrame:
    """The batch the sync validates for these records (``benefits.validation.batch_frame``, which the
    sync uses); a record that is not a dict counts as one with every field missing (another test names it)."""
    from benefits.validation import batch_frame

    return batch_frame(r if isinstance(r, dict) else {} for r in records)


class ConnectorTests:
    """The standard tests every connector must pass. Build a subclass with :func:`get_connector_tests`.

    A subclass may add its own tests; the fixtures ``connector`` (a fresh instance), ``context``,
    ``records`` and ``discovered`` (each computed once per class) are there to use.
    """

    __test__ = False  # only the subclasses that get_connector_tests builds are collected
    connector_cls: ClassVar[type[Connector]]
    settings: ClassVar[dict[str, Any]] = {}
    register_path: ClassVar[str | Path | None] = None
    as_of: ClassVar[dt.date | None] = None
    env: ClassVar[Mapping[str, str] | None] = None
    _computed: ClassVar[dict[str, Any]]  # set on each built subclass by _once

    # ---- fixtures ---------------------------------------------------------------------------
    # Function-scoped, each computed once per class (see _once): class-scoped fixtures written as
    # methods are deprecated in pytest 9.1, and pytest 8 does not bind classmethod fixtures reliably.

    @pytest.fixture
    def context(self) -> SyncContext:
        """What the framework would tell the connector at sync time."""
        return self._once(
            "context",
            lambda: SyncContext(
                register=load_test_register(self.register_path), as_of=sync_date(self.as_of) or dt.date.today()
            ),
        )

    @pytest.fixture
    def connector(self, context: SyncContext) -> Connector:
        """A new instance of the connector under test."""
        return self._new(context)

    @pytest.fixture
    def records(self, context: SyncContext) -> list[Any]:
        """Everything one run of ``records()`` yields."""
        return self._once("records", lambda: list(self._new(context).records()))

    @pytest.fixture
    def discovered(self, context: SyncContext) -> list[Any]:
        """What ``discover()`` returns."""
        return self._once("discovered", lambda: list(self._new(context).discover()))

    def _new(self, context: SyncContext) -> Connector:
        """A connector built as the sync builds it: ``${NAME}`` filled in, settings checked, secrets masked."""
        return connect(self.connector_cls, self.settings, context, env=self.env)

    def _expanded(self) -> dict[str, Any]:
        """The test settings with ``${NAME}`` filled in, as the sync validates them."""
        from benefits.plugins.secrets import expand_settings

        return expand_settings(dict(self.settings), environ=self.env)[0]

    def _once(self, key: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time a test of this class asks for ``key``; the same value after."""
        cls = type(self)
        cache = cls.__dict__.get("_computed")
        if cache is None:
            cache = {}
            cls._computed = cache
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    # ---- declaration ----------------------------------------------------------------------

    def test_type_is_a_name(self) -> None:
        """``type`` is a short lowercase name, usable in connectors.yaml."""
        kind = getattr(self.connector_cls, "type", None)
        assert isinstance(kind, str) and TYPE_PATTERN.match(kind), (
            f'{self.connector_cls.__name__}.type is {kind!r}: declare `type: ClassVar[str] = "yourname"` '
            "(lowercase letters, digits, '_', '-', '.')"
        )

    def test_type_is_not_taken_by_another_plugin(self) -> None:
        """No other loaded plugin offers a different connector class under the same ``type``."""
        from benefits.plugins.manager import plugin_manager

        mine = _qualified(self.connector_cls)
        for classes in plugin_manager().hook.register_connectors():
            for other in classes:
                if other.type == self.connector_cls.type and _qualified(other) != mine:
                    pytest.fail(f"type {other.type!r} is already offered by {_qualified(other)}: choose another name")

    def test_settings_is_a_pydantic_model(self) -> None:
        """``Settings`` is a pydantic model, so settings are checked before anything runs."""
        settings_cls = self.connector_cls.Settings
        assert isinstance(settings_cls, type) and issubclass(settings_cls, BaseModel), (
            f"{self.connector_cls.__name__}.Settings must be a pydantic BaseModel subclass, not {settings_cls!r}"
        )

    def test_settings_accept_the_test_settings(self) -> None:
        """The settings given to the kit are valid."""
        try:
            self.connector_cls.Settings.model_validate(self._expanded())
        except ValidationError as exc:
            pytest.fail(
                f"the test settings {self.settings!r} are rejected by {self.connector_cls.__name__}.Settings:\n{exc}"
            )

    def test_settings_reject_an_unknown_key(self) -> None:
        """A misspelt setting is an error, not silently ignored (``extra="forbid"``)."""
        settings_cls = self.connector_cls.Settings
        if settings_cls.model_config.get("extra") != "forbid":
            pytest.skip(
                f"{settings_cls.__name__} ignores unknown keys, so a typo in connectors.yaml goes unnoticed: "
                'add `model_config = ConfigDict(extra="forbid")`'
            )
        with pytest.raises(ValidationError):
            settings_cls.model_validate({**self._expanded(), "no_such_setting_xyz": 1})

    # ---- behaviour --------------------------------------------------------------------------

    def test_check_passes(self, connector: Connector) -> None:
        """``check()`` raises nothing with the test settings."""
        connector.check()

    def test_discover_returns_metric_infos(self, discovered: list[Any]) -> None:
        """``discover()`` returns at least one MetricInfo, each metric once, with a metric and a unit."""
        assert discovered, "discover() returned nothing: return [MetricInfo(metric, unit), ...] for the metrics offered"
        wrong = [d for d in discovered if not isinstance(d, MetricInfo)]
        assert not wrong, f"discover() must return MetricInfo items, got {_some(wrong)}"
        empty = [
            d for d in discovered if not (isinstance(d.metric, str) and d.metric and isinstance(d.unit, str) and d.unit)
        ]
        assert not empty, f"each MetricInfo needs a non-empty metric and unit: {_some(empty)}"
        metrics = [d.metric for d in discovered]
        twice = sorted({m for m in metrics if metrics.count(m) > 1})
        assert not twice, f"discover() lists these metrics more than once: {_some(twice)}"

    def test_records_are_dicts_with_the_contract_fields(self, records: list[Any]) -> None:
        """``records()`` yields at least one dict, each with ``metric``, ``period``, ``value`` and ``unit``."""
        assert records, "records() yielded nothing with the test settings"
        problems = []
        for number, record in enumerate(records, start=1):
            if not isinstance(record, dict):
                problems.append(f"record {number} is a {type(record).__name__}, not a dict")
                continue
            missing = [f for f in RECORD_FIELDS if f not in record]
            if missing:
                problems.append(f"record {number} has no {', '.join(missing)}: {record!r}")
        assert not problems, _listing("records break the contract", problems)

    def test_records_are_repeatable(self, context: SyncContext, records: list[Any]) -> None:
        """A second run with the same settings and date yields the same records (delivery is at least once)."""
        again = list(self._new(context).records())
        assert again == records, (
            f"a second run yielded different records ({len(again)} vs {len(records)}); "
            f"first difference: {_first_difference(records, again)}"
        )

    def test_records_arrive_as_the_sync_reads_them(self, context: SyncContext, records: list[Any]) -> None:
        """``check()`` and ``records()`` in a forked child process, as the sync runs them, deliver every record."""
        from benefits.sync.reading import read_chunks

        connector = self._new(context)
        connector.timeout = min(connector.timeout, 60.0)
        read = sum(len(chunk) for chunk in read_chunks(connector, chunk_rows=max(len(records), 1)))
        assert read == len(records), (
            f"read in a child process as the sync reads it: {read} records; in this process: {len(records)} "
            "(open connections and clients in check() or records(), not in __init__)"
        )

    def test_a_run_from_a_bookmark_yields_only_newer_records(self, context: SyncContext, records: list[Any]) -> None:
        """A second run from a bookmark (a ``datetime.date``, the latest period but one of the first run)
        yields every record of a later period; an ``incremental`` connector yields nothing older."""
        periods = sorted({p for p in map(record_period, records) if p is not None})
        assert periods, "no record has an ISO date period (YYYY-MM-DD): nothing to take a bookmark from"
        bookmark = periods[-2] if len(periods) > 1 else periods[0] - dt.timedelta(days=1)
        again = list(self._new(replace(context, bookmark=bookmark)).records())
        lost = [r for r in records if (record_period(r) or bookmark) > bookmark and r not in again]
        assert not lost, _listing(
            f"a run from bookmark {bookmark} lost records of later periods", [repr(r) for r in lost]
        )
        if self._new(context).incremental:
            older = [r for r in again if (record_period(r) or bookmark) < bookmark]
            assert not older, _listing(
                f"incremental is True, but a run from bookmark {bookmark} yielded older periods "
                "(fetch only what changed since context.bookmark, or set incremental = False)",
                [repr(r) for r in older],
            )

    def test_batch_passes_validation(self, context: SyncContext, records: list[Any]) -> None:
        """The framework's validation accepts every record: nothing would be quarantined."""
        from benefits.validation import validate_batch

        outcome = validate_batch(records_batch(records), as_of=context.as_of)
        problems = [f"record {q.row}: {'; '.join(q.reasons)}: {q.record!r}" for q in outcome.quarantined]
        assert not problems, _listing(f"validation as of {context.as_of} would quarantine", problems)

    def test_every_discovered_metric_has_records(self, discovered: list[Any], records: list[Any]) -> None:
        """Each metric ``discover()`` offers appears in ``records()``."""
        seen = {r.get("metric") for r in records if isinstance(r, dict)}
        silent = [d.metric for d in discovered if d.metric not in seen]
        assert not silent, f"discovered but never yielded: {_some(silent)}"

    def test_records_use_discovered_metrics_and_units(self, discovered: list[Any], records: list[Any]) -> None:
        """Each record's metric and unit are among those ``discover()`` declares."""
        declared = {(d.metric, d.unit) for d in discovered}
        strays = sorted({(r.get("metric"), r.get("unit")) for r in records if isinstance(r, dict)} - declared, key=str)
        assert not strays, f"records with a (metric, unit) that discover() does not declare: {_some(strays)}"


class SecretSettingsTests(ConnectorTests):
    """The standard tests plus a wrong-credentials test, for a connector whose ``Settings`` declares a ``SecretStr``.

    :func:`get_connector_tests` adds these when the settings model declares a secret setting.
    """

    __test__ = False

    def test_wrong_credentials_fail_check_clearly(self, context: SyncContext, caplog: pytest.LogCaptureFixture) -> None:
        """With each secret setting changed, ``check()`` raises a one-line ConnectorError, and neither it nor
        anything logged meanwhile shows a secret."""
        from benefits.plugins.secrets import guard, secret_values

        settings = self.connector_cls.Settings.model_validate(self._expanded())
        if not secret_values(settings):
            pytest.skip("the test settings give no secret setting a value: give the kit credentials to test wrong ones")
        wrong = self.connector_cls.Settings.model_validate(_with_wrong_secrets(settings.model_dump(), SecretStr))
        connector = guard(self.connector_cls("conformance", wrong, context), ())
        shown = secret_values(wrong) | secret_values(settings)
        try:
            connector.check()
        except ConnectorError as exc:
            message = str(exc)
        except Exception as exc:  # noqa: BLE001 - the kind of failure is what this test checks
            pytest.fail(
                f"check() raised {type(exc).__name__} with wrong credentials: raise ConnectorError with a "
                f"one-line reason instead: {connector.mask(str(exc))}"
            )
        else:
            pytest.fail(
                "check() passed with wrong credentials: make it log in (or fetch one page) so that a bad "
                "token fails before any sync"
            )
        assert message.strip() and "\n" not in message, f"the failure must be one non-empty line, not {message!r}"
        leaked = [s for s in shown if s in message]
        assert not leaked, "the failure shows a secret setting's value: type it SecretStr so the framework masks it"
        logged = [r.name for r in caplog.records if any(s in r.getMessage() for s in shown)]
        assert not logged, (
            f"a secret setting's value was logged (loggers: {', '.join(sorted(set(logged)))}): log through self.log, "
            "which masks secrets"
        )


class ClaimsConnectorTests(ConnectorTests):
    """The standard tests plus those of ``claims()``, for a connector that delivers finance claims.

    :func:`get_connector_tests` builds on this class when the connector implements ``claims()``;
    the ``claims`` fixture (computed once per class) holds what one run of it yields.
    """

    __test__ = False

    @pytest.fixture
    def claims(self, context: SyncContext) -> list[Any]:
        """Everything one run of ``claims()`` yields."""
        return self._once("claims", lambda: list(self._new(context).claims()))

    def test_claims_are_valid_claim_records(self, context: SyncContext, claims: list[Any]) -> None:
        """``claims()`` yields at least one claim, each a dict the sync would record: claimable benefit, date,
        Decimal value."""
        from benefits.claims.importer import read_claim_records, register_problems
        from benefits.errors import BenefitsError

        assert claims, "claims() yielded nothing with the test settings: give settings that make it yield claims"
        try:
            parsed = read_claim_records(claims, "conformance")
        except BenefitsError as exc:
            pytest.fail(f"the sync would fail this connector's run: {exc}")
        problems = register_problems(parsed, context.register)
        assert not problems, _listing("claims the register refuses", problems)
        keys = [(c.benefit, c.period) for c in parsed]
        twice = sorted({k for k in keys if keys.count(k) > 1}, key=str)
        assert not twice, f"claimed more than once (one claim per benefit and period): {_some(twice)}"

    def test_claims_are_repeatable(self, context: SyncContext, claims: list[Any]) -> None:
        """A second run yields the same claims, so a re-sync records nothing new."""
        again = list(self._new(context).claims())
        assert again == claims, (
            f"a second run yielded different claims; first difference: {_first_difference(claims, again)}"
        )


def get_connector_tests(
    connector_cls: type[Connector],
    settings: Mapping[str, Any] | None = None,
    register_path: str | Path | None = None,
    as_of: dt.date | str | None = None,
    env: Mapping[str, str] | None = None,
) -> type[ConnectorTests]:
    """A pytest test class that runs every standard conformance test against ``connector_cls``.

    ``settings`` is what connectors.yaml would hold under ``settings:``; ``register_path`` a config
    folder (or its portfolio.yaml) to sync against, by default the demo register; ``as_of`` the sync
    date (a ``datetime.date`` or ISO text), by default today; ``env`` the variables that fill
    ``${NAME}`` in ``settings``, by default the process environment, as in the sync. A connector
    that implements ``claims()`` also gets the tests of :class:`ClaimsConnectorTests`, and one whose
    ``Settings`` declares a ``SecretStr`` those of :class:`SecretSettingsTests`; every connector gets
    the restatement test (:mod:`benefits.testing.restatement`), which runs when a ``benefits_restate``
    fixture is defined. Assign the result to a name starting with ``Test``.
    """
    from benefits.plugins.secrets import declares_secrets
    from benefits.testing.restatement import RestatementTests

    if not (isinstance(connector_cls, type) and issubclass(connector_cls, Connector)):
        raise TypeError(f"get_connector_tests needs a Connector subclass, not {connector_cls!r}")
    attributes = {
        "__test__": True,
        "__module__": sys._getframe(1).f_globals.get("__name__", __name__),
        "__doc__": (
            f"Conformance tests of the {getattr(connector_cls, 'type', '?')!r} connector ({_qualified(connector_cls)})."
        ),
        "connector_cls": connector_cls,
        "settings": dict(settings or {}),
        "register_path": register_path,
        "as_of": sync_date(as_of),
        "env": dict(env) if env is not None else None,
    }
    bases: list[type[ConnectorTests]] = [RestatementTests]
    if declares_secrets(connector_cls.Settings):
        bases.append(SecretSettingsTests)
    bases.append(ClaimsConnectorTests if delivers_claims(connector_cls) else ConnectorTests)
    return type(f"Test{connector_cls.__name__}", tuple(bases), attributes)


def record_period(record: Any) -> dt.date | None:
    """A record's period as a date, or None when it has none the sync could read."""
    period = record.get("period") if isinstance(record, dict) else None
    if isinstance(period, dt.date):
        return period.date() if isinstance(period, dt.datetime) else period
    try:
        return dt.date.fromisoformat(str(period)[:10])
    except ValueError:
        return None


def _with_wrong_secrets(value: Any, secret_type: type[SecretStr]) -> Any:
    """A dump of settings with each secret value changed (kept the same shape, so it still validates)."""
    if isinstance(value, secret_type):
        return secret_type(value.get_secret_value() + "-kit-wrong")
    if isinstance(value, dict):
        return {key: _with_wrong_secrets(item, secret_type) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_wrong_secrets(item, secret_type) for item in value]
    return value


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _some(items: list[Any]) -> str:
    shown = ", ".join(repr(i) for i in items[:SHOWN])
    return shown + (f" and {len(items) - SHOWN} more" if len(items) > SHOWN else "")


def _listing(title: str, problems: list[str]) -> str:
    more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
    return f"{title} ({len(problems)}):\n  " + "\n  ".join(problems[:SHOWN]) + more


def _first_difference(first: list[Any], again: list[Any]) -> str:
    for number, (a, b) in enumerate(zip(first, again, strict=False), start=1):
        if a != b:
            return f"record {number}: {a!r} then {b!r}"
    return f"record {min(len(first), len(again)) + 1} is only in one run"
