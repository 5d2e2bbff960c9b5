"""The built-in sql connector against a real PostgreSQL source table and a SQLite file: bound
parameters, streaming, values as the source gave them, secrets kept out of every message."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import time
import traceback
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from benefits.cli import main
from benefits.errors import ConfigError
from benefits.plugins.connector import ConnectorError, MetricInfo, SyncContext
from benefits.plugins.manager import connector_types, plugins
from benefits.plugins.sql_query import SqlConnector
from benefits.register import load_register
from benefits.sync.config import load_connectors
from benefits.testing import build_connector, get_connector_tests

from .conftest import DEMO_CONFIG

AS_OF = dt.date(2026, 11, 23)
SECRET = "pw-Zq7@/:%x"  # characters that would break a URL if the value were pasted in unquoted
INJECTION = "O'Brien'); DROP TABLE ledger_src.ledger_weekly; --"
LEDGER_ROWS = [
    ("it", dt.date(2026, 11, 2), Decimal("41250.50"), "GBP"),
    ("it", dt.date(2026, 11, 9), Decimal("40980.25"), "GBP"),
    ("it", dt.date(2026, 11, 16), Decimal("40410.00"), "GBP"),
    ("hr", dt.date(2026, 11, 9), Decimal("1200.00"), "GBP"),
    (INJECTION, dt.date(2026, 11, 16), Decimal("0.12345678901234567890123"), "EUR"),
]
LEDGER_QUERY = "SELECT week, amount, currency FROM ledger_src.ledger_weekly WHERE account = :account ORDER BY week"
# Rows from no table at all, so the conformance kit can run on an in-memory SQLite database.
LITERAL_QUERY = """
SELECT 'ledger.it_opex_weekly' AS metric, '2026-11-02' AS period, 41250.5 AS value, 'GBP' AS unit
UNION ALL SELECT 'ledger.it_opex_weekly', '2026-11-09', 40980.25, 'GBP'
UNION ALL SELECT 'hr.certified_staff', '2026-11-09', 42, 'people'
"""


@pytest.fixture(scope="module")
def context() -> SyncContext:
    return SyncContext(register=load_register(DEMO_CONFIG), as_of=AS_OF)


@pytest.fixture(scope="module")
def ledger_url(postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL database with a source table ledger_src.ledger_weekly (own schema)."""
    engine = create_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE SCHEMA ledger_src"))
        connection.execute(
            text("CREATE TABLE ledger_src.ledger_weekly (account text, week date, amount numeric, currency text)")
        )
        connection.execute(
            text("INSERT INTO ledger_src.ledger_weekly VALUES (:a, :w, :m, :c)"),
            [{"a": a, "w": w, "m": m, "c": c} for a, w, m, c in LEDGER_ROWS],
        )
    yield postgres_url
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA ledger_src CASCADE"))
    engine.dispose()


def connector(context: SyncContext, **settings: Any) -> SqlConnector:
    """Built as the sync builds it: ``${NAME}`` filled from the environment, then validated."""
    built = build_connector(SqlConnector, settings, register=context.register, as_of=context.as_of, name="ledger")
    assert isinstance(built, SqlConnector)
    return built


def ledger(context: SyncContext, url: str, account: str, **settings: Any) -> SqlConnector:
    return connector(
        context,
        url=url,
        query=LEDGER_QUERY,
        params={"account": account},
        mapping={"period": "week", "value": "amount", "unit": "currency"},
        metric="ledger.it_opex_weekly",
        **settings,
    )


def core(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["metric"], r["period"], r["value"], r["unit"]) for r in records]


def error_text(exc: BaseException) -> str:
    """Everything a user or a log could see of an exception: its printed traceback, and every message
    in its chain (even the suppressed context)."""
    text, seen = "".join(traceback.format_exception(exc)), exc
    while seen is not None:
        text += str(seen) + repr(seen.args)
        seen = seen.__cause__ or seen.__context__
    return text


# ---- registration -----------------------------------------------------------------------------


def test_sql_is_a_built_in_connector_type() -> None:
    assert connector_types()["sql"] is SqlConnector
    assert next(p for p in plugins() if p.name == "benefits.plugins.sql_query").connectors == ["sql"]


TestSqlConnector = get_connector_tests(SqlConnector, {"url": "sqlite://", "query": LITERAL_QUERY}, as_of=AS_OF)


@pytest.mark.postgres
class TestSqlConnectorOnPostgres(
    get_connector_tests(SqlConnector, {"url": "postgresql://set-by-fixture/x", "query": "-"}, as_of=AS_OF)
):
    """The conformance kit on the real PostgreSQL source table (numeric and date columns)."""

    @pytest.fixture(autouse=True)
    def _source(self, ledger_url: str) -> None:
        type(self).settings = {
            "url": ledger_url,
            "query": LEDGER_QUERY,
            "params": {"account": "it"},
            "mapping": {"period": "week", "value": "amount", "unit": "currency"},
            "metric": "ledger.it_opex_weekly",
        }


# ---- PostgreSQL -------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgres_query_binds_its_parameter_and_yields_values_as_the_source_gave_them(
    context: SyncContext, ledger_url: str
) -> None:
    source = ledger(context, ledger_url, "it")
    source.check()
    assert core(list(source.records())) == [
        ("ledger.it_opex_weekly", "2026-11-02", "41250.50", "GBP"),  # date -> ISO text, numeric -> exact text
        ("ledger.it_opex_weekly", "2026-11-09", "40980.25", "GBP"),
        ("ledger.it_opex_weekly", "2026-11-16", "40410.00", "GBP"),
    ]
    assert source.discover() == [MetricInfo("ledger.it_opex_weekly", "GBP")]


@pytest.mark.postgres
def test_a_parameter_with_quotes_is_bound_never_spliced_into_the_sql(context: SyncContext, ledger_url: str) -> None:
    assert core(list(ledger(context, ledger_url, INJECTION).records())) == [
        ("ledger.it_opex_weekly", "2026-11-16", "0.12345678901234567890123", "EUR"),  # no precision lost
    ]
    assert list(ledger(context, ledger_url, "x' OR '1'='1").records()) == []
    engine = create_engine(ledger_url)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM ledger_src.ledger_weekly")).scalar_one() == len(
            LEDGER_ROWS
        )
    engine.dispose()


@pytest.mark.postgres
def test_postgres_rows_stream_from_a_server_side_cursor_and_the_connection_is_closed(
    context: SyncContext, ledger_url: str
) -> None:
    url = make_url(ledger_url).update_query_dict({"application_name": "benefits-sql-stream-test"})
    source = connector(
        context,
        url=url.render_as_string(hide_password=False),
        batch_size=100,
        query=(
            "SELECT 'm.x' AS metric, DATE '2026-01-05' + n AS period, n AS value, 'GBP' AS unit "
            "FROM generate_series(1, 2000000) AS n"
        ),
    )
    rows = source.records()
    assert [next(rows)["value"], next(rows)["value"]] == [1, 2]  # of two million rows, one batch has been fetched
    monitor = create_engine(ledger_url)
    activity = "SELECT state, query FROM pg_stat_activity WHERE application_name = 'benefits-sql-stream-test'"
    with monitor.connect() as connection:
        ((state, query),) = connection.execute(text(activity)).all()
        assert state == "idle in transaction" and query.startswith("FETCH FORWARD 100 FROM")
        rows.close()
        for _ in range(200):  # the server ends the backend just after the client hangs up
            connection.rollback()  # a new transaction: pg_stat_activity is read once per transaction
            if not connection.execute(text(activity)).all():
                break
            time.sleep(0.01)
        else:
            pytest.fail("the connection stayed open after the records generator was closed")
    monitor.dispose()


@pytest.mark.postgres
def test_the_password_setting_needs_no_quoting_and_never_shows(
    context: SyncContext, ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    parts = make_url(ledger_url)
    monkeypatch.setenv("LEDGER_PASSWORD", SECRET)  # trust auth ignores it, but it must survive the URL
    monkeypatch.setenv("LEDGER_DB", str(parts.database))
    url = f"postgresql+psycopg://{parts.username}@{parts.host}:{parts.port}/${{LEDGER_DB}}"
    source = ledger(context, url, "hr", password="${LEDGER_PASSWORD}")
    source.check()
    assert core(list(source.records())) == [("ledger.it_opex_weekly", "2026-11-09", "1200.00", "GBP")]
    assert source.settings.password is not None and source.settings.password.get_secret_value() == SECRET
    assert SECRET not in repr(source.settings) + repr(source) + str(source.settings)


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["literal", "environment"])
@pytest.mark.parametrize("failure", ["refused", "no-database", "bad-query"])
def test_the_password_never_appears_in_an_error(
    context: SyncContext,
    ledger_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
    failure: str,
) -> None:
    monkeypatch.setenv("LEDGER_PASSWORD", SECRET)
    parts = make_url(ledger_url).set(password=SECRET if where == "literal" else None)
    password = {"password": "${LEDGER_PASSWORD}"} if where == "environment" else {}
    if failure == "refused":
        parts = parts.set(port=1)
    elif failure == "no-database":
        parts = parts.set(database="no_such_database_here")
    url = parts.render_as_string(hide_password=False)
    query = "SELEC week FROM nowhere" if failure == "bad-query" else "SELECT 1"
    source = connector(context, url=url, query=query, metric="m.x", **password)
    with pytest.raises(ConnectorError) as raised:
        source.check()
    message = str(raised.value)
    expected = {
        "refused": "Connection refused",
        "no-database": 'database "no_such_database_here" does not exist',
        "bad-query": 'syntax error at or near "SELEC"',
    }[failure]
    assert expected in message and ":***@" in message, message
    assert "\n" not in message
    for shown in (error_text(raised.value), caplog.text):
        assert SECRET not in shown and "Zq7" not in shown
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_missing_environment_variable_is_named_before_anything_runs(
    context: SyncContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BENEFITS_NO_SUCH_PASSWORD", raising=False)
    with pytest.raises(
        ConfigError, match=r"^settings.password: environment variable BENEFITS_NO_SUCH_PASSWORD is not set$"
    ):
        connector(
            context,
            url="postgresql+psycopg://reader@127.0.0.1/x",
            password="${BENEFITS_NO_SUCH_PASSWORD}",
            query="SELECT 1",
        )


# ---- SQLite -----------------------------------------------------------------------------------


def test_sqlite_file_source_with_its_folder_from_the_environment(
    tmp_path: Path, context: SyncContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(tmp_path / "source.db") as db:
        db.execute("CREATE TABLE kpi (metric TEXT, period TEXT, value REAL, unit TEXT, team TEXT)")
        db.executemany(
            "INSERT INTO kpi VALUES (?, ?, ?, ?, ?)",
            [
                ("hr.certified_staff", "2026-11-09", 42, "people", "ops"),
                ("hr.certified_staff", "2026-11-16", 44.5, "people", "ops"),
                ("hr.certified_staff", "2026-11-16", "n/a", "people", "ops"),  # passed on; validation will judge it
                ("crm.upsell_revenue", "2026-11-16", 1250.75, "GBP", "ops"),
                ("crm.upsell_revenue", "2026-11-16", 1.0, "GBP", "sales"),
            ],
        )
    db.close()
    monkeypatch.setenv("BENEFITS_SOURCE_DIR", str(tmp_path))
    source = connector(
        context,
        url="sqlite:///${BENEFITS_SOURCE_DIR}/source.db",
        query="SELECT metric, period, value, unit FROM kpi WHERE team = :team",
        params={"team": "ops"},
    )
    source.check()
    assert core(list(source.records())) == [
        ("hr.certified_staff", "2026-11-09", 42.0, "people"),
        ("hr.certified_staff", "2026-11-16", 44.5, "people"),
        ("hr.certified_staff", "2026-11-16", "n/a", "people"),
        ("crm.upsell_revenue", "2026-11-16", 1250.75, "GBP"),
    ]
    assert source.discover() == [MetricInfo("hr.certified_staff", "people"), MetricInfo("crm.upsell_revenue", "GBP")]


def test_number_format_reads_text_values_and_never_touches_numeric_ones(context: SyncContext) -> None:
    query = (
        "SELECT 'hr.certified_staff' AS metric, '2026-11-09' AS period, '1.234,5' AS value, 'people' AS unit "
        "UNION ALL SELECT 'hr.certified_staff', '2026-11-16', 1.234, 'people' "
        "UNION ALL SELECT 'hr.certified_staff', '2026-11-23', '12.5', 'people'"
    )
    source = connector(context, url="sqlite://", query=query, number_format={"decimal": ",", "thousands": "."})
    assert [r["value"] for r in source.records()] == ["1234.5", 1.234, "12.5"]  # '12.5' is not this format: verbatim


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path: Path, context: SyncContext) -> None:
    missing = tmp_path / "nowhere.db"
    with pytest.raises(ConnectorError, match="no SQLite database file at .*nowhere.db"):
        connector(context, url=f"sqlite:///{missing}", query="SELECT 1").check()
    assert not missing.exists()


def test_columns_are_mapped_by_name_with_constants_for_a_missing_metric_or_unit(context: SyncContext) -> None:
    query = "SELECT '2026-11-09' AS WEEK, 7 AS Amount, 'GBP' AS unit"
    source = connector(
        context,
        url="sqlite://",
        query=query,
        metric="ledger.it_opex_weekly",
        unit="EUR",
        mapping={"period": "week", "value": "amount"},
    )
    assert core(list(source.records())) == [("ledger.it_opex_weekly", "2026-11-09", 7, "GBP")]  # the column wins


def test_a_missing_column_fails_check_and_lists_what_the_query_returns(context: SyncContext) -> None:
    source = connector(context, url="sqlite://", query="SELECT '2026-11-09' AS week, 7 AS amount")
    message = r"the query returns no column 'metric' \(it returns: week, amount\); set `mapping.metric`"
    for call in (source.check, lambda: list(source.records())):
        with pytest.raises(ConnectorError, match=message):
            call()


def test_a_query_error_fails_check_with_the_driver_reason_on_one_line(context: SyncContext) -> None:
    source = connector(context, url="sqlite://", query="SELECT metric FROM no_such_table")
    with pytest.raises(ConnectorError, match=r"^query failed on sqlite://: no such table: no_such_table$"):
        source.check()


def test_a_url_naming_a_driver_that_is_not_installed_says_so(
    context: SyncContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGER_PASSWORD", SECRET)
    with pytest.raises(ConnectorError) as raised:
        connector(context, url="mysql+nosuchdriver://u@db/x", password="${LEDGER_PASSWORD}", query="SELECT 1").check()
    assert str(raised.value).startswith("cannot connect to mysql+nosuchdriver://u:***@db/x: ")
    assert SECRET not in error_text(raised.value)


@pytest.mark.parametrize("parameter", ["password", "sslpassword", "token"])
def test_a_password_in_the_urls_query_string_is_masked_in_the_error_and_the_stored_run(
    tmp_path: Path, parameter: str
) -> None:
    url = f"postgresql+psycopg://reader@127.0.0.1:1/x?connect_timeout=5&{parameter}={quote_plus(SECRET)}"  # refused
    config = tmp_path / "config"
    config.mkdir()
    shutil.copyfile(DEMO_CONFIG / "portfolio.yaml", config / "portfolio.yaml")
    settings = {"url": url, "query": "SELECT 1", "metric": "m.x"}
    (config / "connectors.yaml").write_text(
        yaml.safe_dump({"connectors": [{"name": "q", "type": "sql", "settings": settings}]})
    )
    database = f"sqlite:///{tmp_path / 'benefits.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "--database", database, "init"]).exit_code == 0
    sync = runner.invoke(main, ["--config", str(config), "--database", database, "sync", "--as-of", AS_OF.isoformat()])
    shown = f"postgresql+psycopg://reader@127.0.0.1:1/x?connect_timeout=5&{parameter}=***"
    assert sync.exit_code == 1
    assert sync.stderr.startswith(f"sync q: failed: cannot connect to {shown}: "), sync.stderr
    store = create_engine(database)
    with store.connect() as connection:
        stored = connection.execute(text("SELECT error FROM sync_runs WHERE connector = 'q'")).scalar_one()
    store.dispose()
    assert stored.startswith(f"cannot connect to {shown}: ")
    for seen in (sync.output, stored):
        assert SECRET not in seen and "Zq7" not in seen, seen


# ---- settings in connectors.yaml --------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            {"query": "SELECT 1 WHERE x = :account", "params": {}},
            "connectors[0].settings.params: value error, "
            "the query uses :account but params gives no value for 'account'",
        ),
        (
            {"query": "SELECT 1", "params": {"acount": "it"}},
            "connectors[0].settings.params: value error, "
            "'acount' is not a parameter of the query (its parameters: none)",
        ),
        ({"query": "SELECT 1", "table": "x"}, "connectors[0].settings.table: extra inputs are not permitted"),
    ],
)
def test_settings_are_checked_before_anything_runs(
    tmp_path: Path, context: SyncContext, settings: dict[str, Any], message: str
) -> None:
    config = {"connectors": [{"name": "ledger", "type": "sql", "settings": {"url": "sqlite://", **settings}}]}
    (tmp_path / "connectors.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError) as raised:
        load_connectors(tmp_path, context)
    assert str(raised.value).endswith(message)


@pytest.mark.postgres
def test_cli_sync_from_a_postgres_source(tmp_path: Path, ledger_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copyfile(DEMO_CONFIG / "portfolio.yaml", config / "portfolio.yaml")
    parts = make_url(ledger_url)
    monkeypatch.setenv("LEDGER_PASSWORD", SECRET)
    settings = {
        "url": f"postgresql+psycopg://{parts.username}@{parts.host}:{parts.port}/{parts.database}",
        "password": "${LEDGER_PASSWORD}",
        "query": LEDGER_QUERY,
        "params": {"account": "it"},
        "metric": "ledger.it_opex_weekly",
        "mapping": {"period": "week", "value": "amount", "unit": "currency"},
    }
    (config / "connectors.yaml").write_text(
        yaml.safe_dump({"connectors": [{"name": "ledger", "type": "sql", "settings": settings}]})
    )
    database = f"sqlite:///{tmp_path / 'benefits.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "--database", database, "init"]).exit_code == 0
    sync = runner.invoke(main, ["--config", str(config), "--database", database, "sync", "--as-of", AS_OF.isoformat()])
    assert sync.exit_code == 0, sync.output
    assert "sync ledger: 3 rows read, 3 accepted" in sync.output and SECRET not in sync.output
    store = create_engine(database)
    with store.connect() as connection:
        stored = connection.execute(
            text("SELECT period, value FROM observations WHERE source = 'ledger' ORDER BY period")
        )
        assert [(str(p), v) for p, v in stored] == [
            ("2026-11-02", 41250.5),
            ("2026-11-09", 40980.25),
            ("2026-11-16", 40410.0),
        ]
    store.dispose()
