"""The built-in http connector against a real HTTP server on 127.0.0.1: pagination both ways,
bearer and basic auth checked by the server, retries with backoff, Retry-After, timeouts, and
credentials kept out of every message."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml
from click.testing import CliRunner
from pydantic import ValidationError
from sqlalchemy import create_engine, text

from benefits.cli import main
from benefits.errors import ConfigError
from benefits.plugins import http as http_helper
from benefits.plugins.connector import ConnectorError, MetricInfo, SyncContext
from benefits.plugins.http_json import HttpConnector
from benefits.plugins.manager import connector_types, plugins
from benefits.register import load_register
from benefits.testing import build_connector, get_connector_tests

from .conftest import DEMO_CONFIG

AS_OF = dt.date(2026, 11, 23)
TOKEN = "tok-Hq83-secret"
USER, PASSWORD = "reader", "p@ss w0rd:Kx9!"
WEEKS = ["2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02", "2026-11-09"]


def item(n: int) -> dict[str, Any]:
    """The n-th item of the API: the record fields nested as a real API would nest them."""
    return {"kpi": {"name": "ledger.it_opex_weekly", "unit": "GBP"}, "week": WEEKS[n], "amount": 41000 + n}


class Api(ThreadingHTTPServer):
    """A small JSON API with the behaviours the connector must cope with; it counts hits per path."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: Counter[str] = Counter()
        self.release = threading.Event()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (the timeout test) is expected; say nothing about it."""


class Handler(BaseHTTPRequestHandler):
    server: Api

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature; quiet
        pass

    def do_GET(self) -> None:  # noqa: C901 - one route per behaviour
        parts = urlsplit(self.path)
        path, query = parts.path, dict(parse_qsl(parts.query))
        self.server.hits[path] += 1
        hits = self.server.hits[path]
        auth = self.headers.get("Authorization")
        if path == "/metrics":
            self.reply(200, {"data": {"items": [item(0), item(1), item(2)]}})
        elif path == "/cursor":  # next-page links: relative, then absolute, then none
            after = int(query.get("after", 0))
            nxt = {0: "/cursor?after=2", 2: f"{self.server.url}/cursor?after=4", 4: None}[after]
            self.reply(
                200, {"data": {"items": [item(n) for n in range(after, min(after + 2, 5))]}, "links": {"next": nxt}}
            )
        elif path == "/numbered":  # numbered pages of `size` items, then an empty page
            page, size = int(query["page"]), int(query["size"])
            self.reply(200, {"results": [item(n) for n in range((page - 1) * size, min(page * size, 5))]})
        elif path == "/bearer":
            if auth != f"Bearer {TOKEN}":  # a careless server that echoes the credentials it got
                self.reply(401, {"error": f"bad credentials {auth}"})
            else:
                self.reply(200, {"data": {"items": [item(0)]}})
        elif path == "/basic":
            expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
            if auth != expected:
                self.reply(401, {"error": f"bad credentials {auth}"}, {"WWW-Authenticate": 'Basic realm="api"'})
            else:
                self.reply(200, {"data": {"items": [item(1)]}})
        elif path.startswith("/flaky/"):  # 503 twice, then fine
            if hits <= 2:
                self.reply(503, {"error": "try later"})
            else:
                self.reply(200, {"data": {"items": [item(2)]}})
        elif path.startswith("/limited/"):  # 429 once, with Retry-After
            if hits == 1:
                self.reply(429, {"error": "slow down"}, {"Retry-After": "0"})
            else:
                self.reply(200, {"data": {"items": [item(3)]}})
        elif path == "/slow":
            self.server.release.wait(5)
            self.reply(200, {"data": {"items": []}})
        elif path == "/broken":
            self.reply(500, {"error": f"internal error, auth was {auth}"})
        elif path == "/html":
            self.reply(200, "<html>maintenance</html>", content_type="text/html")
        elif path == "/loop":
            self.reply(200, {"data": {"items": [item(0)]}, "next": "/loop"})
        elif path == "/to-same":
            self.reply(302, {}, {"Location": "/bearer"})
        elif path == "/to-other":  # another origin: same server, other host name
            self.reply(302, {}, {"Location": f"http://localhost:{self.server.server_address[1]}/echo-auth"})
        elif path == "/to-file":
            self.reply(302, {}, {"Location": "file:///etc/passwd"})
        elif path == "/marked":  # values as text with thousands marks, as some APIs send them
            amounts: list[Any] = ["315,602", "1,234.50", 41002, "12 apples", "1234"]
            self.reply(200, {"data": {"items": [{**item(n), "amount": a} for n, a in enumerate(amounts)]}})
        elif path == "/odd":  # items that are not objects, and values Python's JSON reader cannot hold as numbers
            good = json.dumps(item(0))
            values = ["NaN", "1" * 5000, "1e400", "-Infinity"]
            odd = [json.dumps(item(n + 1)).replace(str(41001 + n), value) for n, value in enumerate(values)]
            self.reply(200, '{"data": {"items": [' + ", ".join([good, '"notadict"', "42", "null", *odd]) + "]}}")
        elif path == "/echo-auth":
            self.reply(200, [{"metric": "m.auth", "period": WEEKS[0], "value": 1, "unit": auth or "none"}])
        else:
            self.reply(404, {"error": "no such path"})

    def reply(
        self, status: int, body: Any, headers: dict[str, str] | None = None, content_type: str = "application/json"
    ) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    server = Api()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests go straight to 127.0.0.1 whatever proxy this machine has configured."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def context() -> SyncContext:
    return SyncContext(register=load_register(DEMO_CONFIG), as_of=AS_OF)


NESTED = {
    "records_path": "data.items",
    "mapping": {"metric": "kpi.name", "period": "week", "value": "amount", "unit": "kpi.unit"},
}


def connector(context: SyncContext, url: str, **settings: Any) -> HttpConnector:
    """Built as the sync builds it: ``${NAME}`` filled from the environment, then validated."""
    built = build_connector(
        HttpConnector, {"url": url, **NESTED, **settings}, register=context.register, as_of=context.as_of, name="api"
    )
    assert isinstance(built, HttpConnector)
    return built


def core(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["metric"], r["period"], r["value"], r["unit"]) for r in records]


def expected(*numbers: int) -> list[tuple[Any, ...]]:
    return [("ledger.it_opex_weekly", WEEKS[n], 41000 + n, "GBP") for n in numbers]


def error_text(exc: BaseException) -> str:
    """Everything a user or a log could see of an exception: its printed traceback and its chain's messages."""
    text, seen = "".join(traceback.format_exception(exc)), exc
    while seen is not None:
        text += str(seen) + repr(seen.args)
        seen = seen.__cause__ or seen.__context__
    return text


# ---- registration and conformance -------------------------------------------------------------


def test_number_format_reads_text_values_and_never_touches_json_numbers(api: Api, context: SyncContext) -> None:
    marked = connector(context, f"{api.url}/marked", number_format={"thousands": ","})
    assert [r["value"] for r in marked.records()] == ["315602", "1234.50", 41002, "12 apples", "1234"]
    verbatim = connector(context, f"{api.url}/marked")
    assert [r["value"] for r in verbatim.records()] == ["315,602", "1,234.50", 41002, "12 apples", "1234"]
    with pytest.raises(ValidationError, match="is also the decimal mark"):
        connector(context, f"{api.url}/marked", number_format={"thousands": "."})


def test_http_is_a_built_in_connector_type() -> None:
    assert connector_types()["http"] is HttpConnector
    assert next(p for p in plugins() if p.name == "benefits.plugins.http_json").connectors == ["http"]


class TestHttpConnector(
    get_connector_tests(HttpConnector, {"url": "http://127.0.0.1:9/later"}, as_of=AS_OF, env={"API_TOKEN": TOKEN})
):
    """The conformance kit against the test server (its port is known only once it runs), with a bearer
    token the kit fills in from its ``env`` option (and changes, to see a wrong one refused)."""

    @pytest.fixture(autouse=True)
    def _served(self, api: Api) -> None:
        auth = {"type": "bearer", "token": "${API_TOKEN}"}
        type(self).settings = {"url": f"{api.url}/bearer", **NESTED, "auth": auth, "retries": 0}


# ---- pages --------------------------------------------------------------------------------------


def test_next_page_links_are_followed_relative_and_absolute(api: Api, context: SyncContext) -> None:
    source = connector(context, f"{api.url}/cursor", next_path="links.next")
    source.check()
    assert core(list(source.records())) == expected(0, 1, 2, 3, 4)
    assert source.discover() == [MetricInfo("ledger.it_opex_weekly", "GBP")]


def test_numbered_pages_are_read_until_an_empty_page(api: Api, context: SyncContext) -> None:
    before = api.hits["/numbered"]
    source = connector(context, f"{api.url}/numbered?size=2", records_path="results", page_param="page")
    assert core(list(source.records())) == expected(0, 1, 2, 3, 4)
    assert api.hits["/numbered"] - before == 4  # pages 1-3, then the empty page 4


def test_a_next_link_back_to_a_page_already_read_is_a_loop(api: Api, context: SyncContext) -> None:
    with pytest.raises(ConnectorError, match=r"/loop: the next page is .*/loop again \(a loop\)"):
        list(connector(context, f"{api.url}/loop", next_path="next").records())


def test_a_body_without_the_records_path_says_what_it_has(api: Api, context: SyncContext) -> None:
    with pytest.raises(ConnectorError, match=r"no 'data.rows' in the response \(it has: data\); set `records_path`"):
        connector(context, f"{api.url}/metrics", records_path="data.rows").check()


def test_a_response_that_is_not_json_is_an_error(api: Api, context: SyncContext) -> None:
    with pytest.raises(ConnectorError, match=r"^GET http://127.0.0.1:\d+/html: the response is not JSON \(text/html: "):
        connector(context, f"{api.url}/html").check()


def test_items_that_are_not_objects_and_odd_numbers_are_held_verbatim_with_their_reason(
    api: Api, context: SyncContext
) -> None:
    """A non-object item was held as a record of nulls, NaN as "value: missing", and a 5,000-digit number failed
    the whole response as "not JSON" with Python's advice."""
    from benefits.validation import batch_frame, validate_batch

    records = list(connector(context, f"{api.url}/odd").records())
    assert records[1:4] == [
        {"unreadable": "not a JSON object but a string", "text": '"notadict"'},
        {"unreadable": "not a JSON object but a number", "text": "42"},
        {"unreadable": "not a JSON object but null", "text": "null"},
    ]
    assert [r["value"] for r in records[4:]] == ["NaN", "1" * 5000, "1e400", "-Infinity"]
    outcome = validate_batch(batch_frame(records), as_of=AS_OF)
    assert {entry.row: entry.reasons for entry in outcome.quarantined} == {
        2: ["not a JSON object but a string"],
        3: ["not a JSON object but a number"],
        4: ["not a JSON object but null"],
        5: ["value: 'NaN' is not a number"],
        6: [f"value: '{'1' * 40}…' is not a finite number"],
        7: ["value: '1e400' is not a finite number"],
        8: ["value: '-Infinity' is not a number"],
    }
    assert len(outcome.accepted) == 1


def test_a_rest_connector_of_a_plugin_holds_an_item_that_is_not_an_object(context: SyncContext) -> None:
    """The base class's ``record`` (a plugin's API that speaks the contract) no longer fails on such an item."""
    base = http_helper.RestConnector.record
    assert base(None, {"metric": "m"}) == {"metric": "m"}  # type: ignore[arg-type]
    assert base(None, [1, 2]) == {"unreadable": "not a JSON object but an array", "text": "[1, 2]"}  # type: ignore[arg-type]


# ---- authentication -----------------------------------------------------------------------------


def test_bearer_token_from_the_environment(api: Api, context: SyncContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", TOKEN)
    source = connector(context, f"{api.url}/bearer", auth={"type": "bearer", "token": "${API_TOKEN}"})
    assert core(list(source.records())) == expected(0)
    assert source.settings.auth.token.get_secret_value() == TOKEN
    assert TOKEN not in repr(source.settings) + str(source.settings) + repr(source)


def test_basic_auth_from_the_environment(api: Api, context: SyncContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_PASSWORD", PASSWORD)
    source = connector(
        context, f"{api.url}/basic", auth={"type": "basic", "username": USER, "password": "${API_PASSWORD}"}
    )
    assert core(list(source.records())) == expected(1)


@pytest.mark.parametrize("auth", [None, {"type": "bearer", "token": "${API_TOKEN}"}])
def test_a_rejected_request_is_an_error_naming_the_url_and_status_never_the_token(
    api: Api, context: SyncContext, monkeypatch: pytest.MonkeyPatch, auth: dict[str, str] | None
) -> None:
    monkeypatch.setenv("API_TOKEN", "wrong-" + TOKEN)
    before = api.hits["/bearer"]
    with pytest.raises(ConnectorError) as raised:
        connector(context, f"{api.url}/bearer", auth=auth).check()
    message = str(raised.value)
    assert message.startswith(f"GET {api.url}/bearer: HTTP 401 Unauthorized: ")
    assert ("Bearer ***" if auth else "bad credentials None") in message  # the server echoed it; it is masked
    assert TOKEN not in error_text(raised.value)
    assert api.hits["/bearer"] - before == 1  # a 401 is not retried


def test_wrong_basic_password_is_masked_even_when_the_server_echoes_it(
    api: Api, context: SyncContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_PASSWORD", "not-" + PASSWORD)
    with pytest.raises(ConnectorError, match="HTTP 401") as raised:
        connector(
            context, f"{api.url}/basic", auth={"type": "basic", "username": USER, "password": "${API_PASSWORD}"}
        ).check()
    assert "Basic ***" in str(raised.value)
    assert PASSWORD not in error_text(raised.value)


def test_a_missing_environment_variable_is_named(
    api: Api, context: SyncContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BENEFITS_NO_SUCH_TOKEN", raising=False)
    with pytest.raises(
        ConfigError, match=r"^settings.auth.token: environment variable BENEFITS_NO_SUCH_TOKEN is not set$"
    ):
        connector(context, f"{api.url}/bearer", auth={"type": "bearer", "token": "${BENEFITS_NO_SUCH_TOKEN}"})


def test_credentials_follow_a_redirect_only_within_the_same_origin(
    api: Api, context: SyncContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_TOKEN", TOKEN)
    auth = {"type": "bearer", "token": "${API_TOKEN}"}
    assert core(list(connector(context, f"{api.url}/to-same", auth=auth).records())) == expected(0)
    elsewhere = list(connector(context, f"{api.url}/to-other", auth=auth, records_path="", mapping={}).records())
    assert elsewhere == [{"metric": "m.auth", "period": WEEKS[0], "value": 1, "unit": "none"}]
    with pytest.raises(ConnectorError, match=r"/to-file: a redirect to a URL that is not http\(s\) was refused"):
        connector(context, f"{api.url}/to-file").check()


# ---- retries, timeouts --------------------------------------------------------------------------


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The connector's waits between attempts, still really waited."""
    seen: list[float] = []

    def sleep(seconds: float) -> None:
        seen.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(http_helper, "_sleep", sleep)
    return seen


def test_503_twice_then_200_is_retried_with_doubling_backoff(
    api: Api, context: SyncContext, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    source = connector(context, f"{api.url}/flaky/a", backoff=0.01)
    assert core(list(source.records())) == expected(2)
    assert api.hits["/flaky/a"] == 3
    assert waits == [0.01, 0.02]
    assert 'HTTP 503 Service Unavailable: {"error": "try later"}; retry 1 of 5 in 0.01 s' in caplog.text


def test_429_waits_as_long_as_retry_after_says(api: Api, context: SyncContext, waits: list[float]) -> None:
    source = connector(context, f"{api.url}/limited/a", backoff=30)  # Retry-After: 0 overrides the 30 s backoff
    assert core(list(source.records())) == expected(3)
    assert api.hits["/limited/a"] == 2 and waits == [0.0]


def test_a_permanent_500_gives_up_after_the_retries_and_never_shows_the_token(
    api: Api,
    context: SyncContext,
    waits: list[float],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("API_TOKEN", TOKEN)
    before = api.hits["/broken"]
    source = connector(
        context, f"{api.url}/broken", backoff=0.001, retries=3, auth={"type": "bearer", "token": "${API_TOKEN}"}
    )
    with pytest.raises(ConnectorError) as raised:
        list(source.records())
    assert str(raised.value) == (
        f'GET {api.url}/broken: HTTP 500 Internal Server Error: {{"error": "internal error, '
        'auth was Bearer ***"} (gave up after 4 attempts)'
    )
    assert api.hits["/broken"] - before == 4 and waits == [0.001, 0.002, 0.004]
    assert TOKEN not in error_text(raised.value) and TOKEN not in caplog.text


def test_backoff_doubles_up_to_16_seconds(api: Api, context: SyncContext, monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []
    monkeypatch.setattr(http_helper, "_sleep", waited.append)  # record only: these waits would take a minute
    with pytest.raises(ConnectorError, match=r"HTTP 500 .*\(gave up after 6 attempts\)$"):
        connector(context, f"{api.url}/broken").check()
    assert waited == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_a_hanging_endpoint_times_out_and_is_retried(api: Api, context: SyncContext, waits: list[float]) -> None:
    before = api.hits["/slow"]
    try:
        with pytest.raises(
            ConnectorError,
            match=r"^GET http://127.0.0.1:\d+/slow: no response within 0.2 s "
            r"\(gave up after 2 attempts\)$",
        ):
            connector(context, f"{api.url}/slow", timeout=0.2, retries=1, backoff=0.01).check()
    finally:
        api.release.set()  # /slow answers (200, no items) only when released or after 5 s: the error proves the cut-off
    assert api.hits["/slow"] - before == 2


def test_a_refused_connection_is_retried_then_reported(context: SyncContext, waits: list[float]) -> None:
    with pytest.raises(
        ConnectorError, match=r"^GET http://127.0.0.1:1/x: connection refused \(gave up after 3 attempts\)$"
    ):
        connector(context, "http://127.0.0.1:1/x", retries=2, backoff=0.001).check()
    assert waits == [0.001, 0.002]


# ---- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"url": "ftp://example.org/x"}, "ftp://example.org/x is not an http(s) URL"),
        ({"url": "http://me:pw@example.org/x"}, "put credentials in `auth:`"),
        (
            {"url": "http://example.org/x", "next_path": "next", "page_param": "page"},
            "set one way to find the next page, not next_path and page_param",
        ),
        (
            {"url": "http://example.org/x", "auth": {"type": "digest", "token": "x"}},
            "does not match any of the expected tags",
        ),
        ({"url": "http://example.org/x", "retry": 3}, "Extra inputs are not permitted"),
    ],
)
def test_settings_are_checked_before_anything_runs(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        HttpConnector.Settings.model_validate(settings)


def test_cli_sync_from_an_api(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.mkdir()
    shutil.copyfile(DEMO_CONFIG / "portfolio.yaml", config / "portfolio.yaml")
    settings = {"url": f"{api.url}/to-same", **NESTED, "auth": {"type": "bearer", "token": "${API_TOKEN}"}}
    (config / "connectors.yaml").write_text(
        yaml.safe_dump(
            {
                "connectors": [
                    {"name": "api", "type": "http", "settings": settings},
                    {
                        "name": "pages",
                        "type": "http",
                        "settings": {"url": f"{api.url}/cursor", **NESTED, "next_path": "links.next"},
                    },
                ]
            }
        )
    )
    monkeypatch.setenv("API_TOKEN", TOKEN)
    database = f"sqlite:///{tmp_path / 'benefits.db'}"
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "--database", database, "init"]).exit_code == 0
    sync = runner.invoke(main, ["--config", str(config), "--database", database, "sync", "--as-of", AS_OF.isoformat()])
    assert sync.exit_code == 0, sync.output
    assert "sync api: 1 rows read, 1 accepted" in sync.output and "sync pages: 5 rows read, 5 accepted" in sync.output
    store = create_engine(database)
    with store.connect() as connection:
        stored = connection.execute(text("SELECT source, count(*) FROM observations GROUP BY source ORDER BY source"))
        assert stored.all() == [("api", 1), ("pages", 5)]
    store.dispose()
