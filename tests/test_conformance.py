"""The built-in connectors pass the conformance kit that vendors get; the kit catches broken connectors."""

from __future__ import annotations

import datetime as dt

import alembic.context  # noqa: F401 - loaded before pytester's in-process runs, which drop the modules they import
import pytest

from benefits.plugins.csv_files import CsvConnector
from benefits.plugins.demo import DemoConnector
from benefits.testing import ClaimsConnectorTests, ConnectorTests, RestatementTests, get_connector_tests

from .conftest import ROOT

pytest_plugins = ["pytester"]

AS_OF = dt.date(2026, 11, 23)

TestDemoConnector = get_connector_tests(
    DemoConnector, {"bad_rows": False, "claims": ["digital-online-sales", "ai-retention-revenue"]}, as_of=AS_OF
)
TestCsvConnector = get_connector_tests(CsvConnector, {"path": str(ROOT / "tests/data/csv/ledger-*.csv")}, as_of=AS_OF)

STANDARD_TESTS = sorted(name for name in dir(ConnectorTests) if name.startswith("test_"))
CLAIMS_TESTS = sorted(name for name in dir(ClaimsConnectorTests) if name.startswith("test_"))


def test_the_kit_is_one_class_of_named_tests() -> None:
    assert len(STANDARD_TESTS) >= 10
    assert TestCsvConnector.__name__ == "TestCsvConnector" and issubclass(TestCsvConnector, ConnectorTests)
    assert all(getattr(ConnectorTests, name).__doc__ for name in STANDARD_TESTS), (
        "every standard test says what it checks"
    )
    assert issubclass(TestDemoConnector, ClaimsConnectorTests)  # it implements claims(): the kit checks them
    assert not issubclass(TestCsvConnector, ClaimsConnectorTests)  # no claims(): nothing to skip
    assert issubclass(TestCsvConnector, RestatementTests)  # every connector: it runs given a benefits_restate fixture
    assert set(CLAIMS_TESTS) - set(STANDARD_TESTS) == {
        "test_claims_are_valid_claim_records",
        "test_claims_are_repeatable",
    }
    with pytest.raises(TypeError, match="needs a Connector subclass"):
        get_connector_tests(dict, {})  # type: ignore[arg-type]  # not a Connector: the error under test


BROKEN = """
from pydantic import BaseModel
from benefits.plugins.connector import Connector, MetricInfo
from benefits.testing import get_connector_tests

class LaxSettings(BaseModel):
    metric: str = "m.x"

class Broken(Connector):
    type = "Broken Type"
    Settings = LaxSettings
    calls = 0

    def discover(self):
        return [MetricInfo("m.x", "GBP"), MetricInfo("m.silent", "GBP")]

    def records(self):
        Broken.calls += 1
        yield {"metric": "m.x", "period": "2026-11-09", "value": "n/a", "unit": "GBP"}
        yield {"metric": "m.x", "period": "2026-11-16", "value": Broken.calls, "unit": "EUR"}
        yield {"metric": "m.x", "period": "2026-11-16"}

    def claims(self):
        Broken.calls += 1
        yield {"benefit": "crm-upsell-revenue", "period": "2026-06-29", "claimed_value": 1000.5 * Broken.calls}

TestBroken = get_connector_tests(Broken, {}, as_of=__import__("datetime").date(2026, 11, 23))
"""


def test_the_kit_fails_a_connector_that_breaks_the_contract(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken=BROKEN)
    result = pytester.runpytest("-p", "no:cacheprovider", "-rfs")
    failed = [
        "test_type_is_a_name",
        "test_records_are_dicts_with_the_contract_fields",
        "test_records_are_repeatable",
        "test_a_run_from_a_bookmark_yields_only_newer_records",  # its records change from run to run
        "test_batch_passes_validation",
        "test_every_discovered_metric_has_records",
        "test_records_use_discovered_metrics_and_units",
        "test_claims_are_valid_claim_records",
        "test_claims_are_repeatable",
    ]
    claims_tests = len(CLAIMS_TESTS) - len(STANDARD_TESTS)  # Broken has claims(): the kit adds their tests
    passed = len(STANDARD_TESTS) + claims_tests - len(failed) - 1
    result.assert_outcomes(failed=len(failed), skipped=2, passed=passed)  # no benefits_restate fixture: skipped
    for name in failed:
        result.stdout.fnmatch_lines([f"FAILED test_broken.py::TestBroken::{name}*"])
    result.stdout.fnmatch_lines(
        [  # in the order pytest prints them
            "*record 3 has no value, unit*",
            "*record 1: value: 'n/a' is not a number*",
            "*discovered but never yielded: 'm.silent'*",
            "*records with a (metric, unit) that discover() does not declare: ('m.x', 'EUR')*",
            "*connector conformance: claim 1: claimed_value: * is a float; yield a Decimal or text*",
            "*a second run yielded different claims*",
            "*SKIPPED*LaxSettings ignores unknown keys*extra=*forbid*",
        ]
    )


def test_a_vendor_can_add_tests_that_use_the_kit_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_extra=f"""
import datetime as dt
from benefits.plugins.csv_files import CsvConnector
from benefits.testing import get_connector_tests

class TestCsv(get_connector_tests(
    CsvConnector, {{"path": {str(ROOT / "tests/data/csv/*.csv")!r}}}, as_of=dt.date(2026, 11, 23)
)):
    def test_every_record_says_where_it_came_from(self, records):
        assert all(r["source_ref"].endswith(tuple(f":{{n}}" for n in range(2, 8))) for r in records)
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "where_it_came_from")
    result.assert_outcomes(passed=1)


BOUND = '''
import os
from benefits.plugins.connector import Connector
from benefits.testing import get_connector_tests

class Bound(Connector):
    """Like a client opened in __init__ whose connection does not survive a fork."""

    type = "bound"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = os.getpid()

    def records(self):
        if os.getpid() == self.owner:
            yield {"metric": "ledger.it_opex_weekly", "period": "2026-11-16", "value": 1.0, "unit": "GBP"}

TestBound = get_connector_tests(Bound, {})
'''


def test_the_kit_fails_a_connector_that_only_works_in_the_process_that_made_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_bound=BOUND)
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "as_the_sync_reads_them")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*read in a child process as the sync reads it: 0 records; in this process: 1*"])


def test_the_pytest_plugin_is_registered_through_the_pytest11_entry_point() -> None:
    from importlib.metadata import entry_points

    assert [ep.value for ep in entry_points(group="pytest11", name="benefits")] == ["benefits.testing.plugin"]


def test_the_pytest_plugin_offers_fixtures_and_a_header(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_fixtures="""
import datetime as dt
import pytest
from pydantic import ValidationError
from benefits.plugins.demo import DemoConnector

def test_register(benefits_register):
    assert any(True for _ in benefits_register.benefits())

def test_connector(benefits_connector, benefits_register):
    demo = benefits_connector(DemoConnector, {"seed": 3}, as_of=dt.date(2026, 11, 23))
    assert demo.settings.seed == 3 and demo.context.register is benefits_register
    assert demo.context.as_of == dt.date(2026, 11, 23) and demo.name == "test"
    with pytest.raises(ValidationError):
        benefits_connector(DemoConnector, {"sede": 3})
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["benefits * (connector conformance kit: benefits.testing)"])


SYNC_LIKE = '''
import datetime as dt
from pydantic import BaseModel, ConfigDict, SecretStr
from benefits.plugins.connector import Connector, ConnectorError, MetricInfo
from benefits.testing import get_connector_tests

WEEKS = ["2026-11-02", "2026-11-09", "2026-11-16"]

class TokenSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str
    token: SecretStr

class Api(Connector):
    """Logs in with its token (a wrong one is refused) and fetches only weeks after the bookmark."""
    type = "api-kit"
    Settings = TokenSettings
    incremental = True

    def check(self):
        assert isinstance(self.context.as_of, dt.date) and not isinstance(self.context.as_of, dt.datetime)
        if self.settings.token.get_secret_value() != "tok-right":
            raise ConnectorError(f"{self.settings.base_url}: 401 for token {self.settings.token.get_secret_value()}")

    def discover(self):
        return [MetricInfo("ledger.it_opex_weekly", "GBP")]

    def records(self):
        bookmark = self.context.bookmark
        assert bookmark is None or type(bookmark) is dt.date
        for week in WEEKS:
            if bookmark is None or self.lies or dt.date.fromisoformat(week) >= bookmark:
                yield {"metric": "ledger.it_opex_weekly", "period": week, "value": 41000, "unit": "GBP"}

    lies = False

class Liar(Api):
    """Says it is incremental, re-sends everything, and lets any token in."""
    type = "liar-kit"
    lies = True

    def check(self):
        pass

class Leaky(Api):
    """Writes its token to its own logger, unmasked, before failing."""
    type = "leaky-kit"

    def check(self):
        __import__("logging").getLogger("leaky").warning("logging in with %s", self.settings.token.get_secret_value())
        super().check()

SETTINGS = {"base_url": "${KIT_BASE}", "token": "${KIT_TOKEN}"}
ENV = {"KIT_BASE": "https://a.example", "KIT_TOKEN": "tok-right"}
TestApi = get_connector_tests(Api, SETTINGS, as_of="2026-11-23", env=ENV)
TestLiar = get_connector_tests(Liar, SETTINGS, as_of="2026-11-23", env=ENV)
TestLeaky = get_connector_tests(Leaky, SETTINGS, as_of="2026-11-23", env=ENV)
'''


def test_the_kit_fills_placeholders_uses_the_syncs_types_and_checks_bookmarks_and_credentials(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_sync_like=SYNC_LIKE)
    result = pytester.runpytest("-p", "no:cacheprovider", "-rf", "--show-capture=no")  # what Leaky logged is its own
    kit = len(STANDARD_TESTS) + 1  # the wrong-credentials test: both declare a SecretStr
    result.assert_outcomes(passed=3 * kit - 3, failed=3, skipped=3)  # the restatement tests: no benefits_restate
    result.stdout.fnmatch_lines(
        [
            "FAILED test_sync_like.py::TestLiar::test_a_run_from_a_bookmark_yields_only_newer_records*",
            "FAILED test_sync_like.py::TestLiar::test_wrong_credentials_fail_check_clearly*",
            "FAILED test_sync_like.py::TestLeaky::test_wrong_credentials_fail_check_clearly*",
        ]
    )
    result.stdout.fnmatch_lines(["*a secret setting's value was logged (loggers: leaky)*"])
    result.stdout.fnmatch_lines(["*incremental is True, but a run from bookmark 2026-11-09 yielded older periods*"])
    result.stdout.fnmatch_lines(["*check() passed with wrong credentials*"])
    assert "tok-right" not in result.stdout.str()


RESTATING = '''
import datetime as dt
import pytest
from benefits.plugins.connector import Connector, MetricInfo
from benefits.testing import get_connector_tests

#: The source: week -> (value, the date it was last updated). The connector reads in a forked child, which sees it.
SOURCE = {"2026-11-02": (100, "2026-11-03"), "2026-11-09": (110, "2026-11-10"), "2026-11-16": (120, "2026-11-17")}

class ByUpdate(Connector):
    """Asks for what was updated since the bookmark: a restated old week comes again."""
    type = "by-update"
    incremental = True

    def discover(self):
        return [MetricInfo("ledger.it_opex_weekly", "GBP")]

    def records(self):
        since = (self.context.bookmark or dt.date.min).isoformat()
        for week, (value, updated) in SOURCE.items():
            if self.keep(week, updated, since):
                yield {"metric": "ledger.it_opex_weekly", "period": week, "value": value, "unit": "GBP"}

    def keep(self, week, updated, since):
        return updated >= since

class ByPeriod(ByUpdate):
    """Asks only for periods from the bookmark on: a restated old week is missed."""
    type = "by-period"

    def keep(self, week, updated, since):
        return week >= since

@pytest.fixture
def benefits_restate():
    saved = dict(SOURCE)

    def restate(record):
        value, _ = SOURCE[record["period"]]
        SOURCE[record["period"]] = (value + 1, "2026-11-23")

    yield restate
    SOURCE.clear()
    SOURCE.update(saved)

TestByUpdate = get_connector_tests(ByUpdate, {}, as_of="2026-11-23")
TestByPeriod = get_connector_tests(ByPeriod, {}, as_of="2026-11-23")
'''


def test_the_kit_checks_that_a_restated_value_is_synced_again_and_counted_as_restated(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_restating=RESTATING)
    result = pytester.runpytest("-p", "no:cacheprovider", "-rf", "-k", "restated")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*changed ledger.it_opex_weekly 2026-11-02 at the source, the next sync (bookmark 2026-11-16) counted "
            "0 new, 0 restated, 1 unchanged, 0 quarantined; expected 1 restated*",
            "FAILED test_restating.py::TestByPeriod::test_a_restated_record_is_synced_again_and_counted_as_restated*",
        ]
    )
