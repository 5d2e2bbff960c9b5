"""The REST helper for vendors (benefits.plugins.http) against a real HTTP server on 127.0.0.1: the
docs' SkillsCloud example connector (cursor pages, a bearer token, the bookmark as ``updated_since``),
and the built-in http connector's cursor, Link-header and bookmark settings, which use the same helper."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from benefits.plugins.connector import Connector, ConnectorError, MetricInfo
from benefits.plugins.http import LinkHeaderPaginator, Page
from benefits.plugins.http_json import HttpConnector
from benefits.testing import build_connector, get_connector_tests

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "rest-connector" / "skillscloud_benefits.py"
AS_OF = dt.date(2026, 11, 23)
TOKEN = "sk-Lw82-trained"
WEEKS = [dt.date(2026, 10, 5) + dt.timedelta(weeks=n) for n in range(7)]
ITEMS = [
    {"id": n, "week": week.isoformat(), "trained": 10 + 5 * n, "updated": (week + dt.timedelta(days=2)).isoformat()}
    for n, week in enumerate(WEEKS)
]
PAGE = 3


class Api(ThreadingHTTPServer):
    """SkillsCloud's API as the docs describe it, and a Link-header-paged one; it keeps every request path."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.requests: list[str] = []


class Handler(BaseHTTPRequestHandler):
    server: Api

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature; quiet
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query))
        if parts.path == "/v1/completions":
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self.reply(401, {"error": f"invalid token {self.headers.get('Authorization')}"})
            if query.get("team") != "all":
                return self.reply(400, {"error": "team is required"})
            since = query.get("updated_since", "")
            chosen = [item for item in ITEMS if item["updated"] >= since]
            start = int(query.get("cursor", "0"))
            rest = chosen[start + PAGE :]
            return self.reply(
                200,
                {"data": chosen[start : start + PAGE], "meta": {"next_cursor": str(start + PAGE) if rest else None}},
            )
        if parts.path == "/linked":
            page = int(query.get("page", "1"))
            url = f"{self.server.url}/linked"
            link = f'<{url}?page={page + 1}>; rel="next", <{url}?page=1>; rel="first"'
            items = [
                {"metric": "hr.ai_trained_agents", "period": ITEMS[page - 1]["week"], "value": page, "unit": "people"}
            ]
            return self.reply(200, items, {"Link": link} if page < 3 else {})
        return self.reply(404, {"error": "no such path"})

    def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
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
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def load_example() -> ModuleType:
    """The docs' example module, imported from its file as an installed plugin would be."""
    spec = importlib.util.spec_from_file_location("skillscloud_benefits", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import would: pydantic resolves the annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return sys.modules.get("skillscloud_benefits") or load_example()


def build(cls: type[Connector], settings: dict[str, Any], bookmark: dt.date | None = None) -> Connector:
    connector = build_connector(cls, settings, as_of=AS_OF, name="skills")
    if bookmark is not None:
        from dataclasses import replace

        connector.context = replace(connector.context, bookmark=bookmark)
    return connector


def test_the_example_is_under_60_lines_and_shown_verbatim_in_the_docs() -> None:
    code = EXAMPLE.read_text()
    assert len(code.splitlines()) < 60
    assert f"```python\n{code}```" in (ROOT / "docs" / "plugins.md").read_text()


def test_the_example_reads_every_cursor_page_with_the_token(
    api: Api, example: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLS_TOKEN", TOKEN)
    source = build(example.SkillsCloudTraining, {"base_url": api.url, "token": "${SKILLS_TOKEN}"})
    source.check()
    records = list(source.records())
    assert [(r["period"], r["value"]) for r in records] == [(i["week"], i["trained"]) for i in ITEMS]
    assert {r["metric"] for r in records} == {"hr.ai_trained_agents"} and records[0]["source_ref"] == "skillscloud:0"
    assert source.discover() == [MetricInfo("hr.ai_trained_agents", "people")]
    assert "/v1/completions?team=all&cursor=3" in api.requests and "/v1/completions?team=all&cursor=6" in api.requests


def test_the_example_sends_the_bookmark_as_updated_since(
    api: Api, example: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLS_TOKEN", TOKEN)
    source = build(example.SkillsCloudTraining, {"base_url": api.url, "token": "${SKILLS_TOKEN}"}, bookmark=WEEKS[4])
    assert [r["period"] for r in source.records()] == [w.isoformat() for w in WEEKS[4:]]
    assert f"/v1/completions?team=all&updated_since={WEEKS[4].isoformat()}" in api.requests


def test_the_example_fails_clearly_on_a_wrong_token_and_never_shows_it(
    api: Api, example: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLS_TOKEN", "wrong-" + TOKEN)
    with pytest.raises(ConnectorError) as raised:
        build(example.SkillsCloudTraining, {"base_url": api.url, "token": "${SKILLS_TOKEN}", "retries": 0}).check()
    assert str(raised.value) == (
        f'GET {api.url}/v1/completions?team=all: HTTP 401 Unauthorized: {{"error": "invalid token Bearer ***"}}'
    )


def test_the_built_in_http_connector_pages_by_cursor_and_sends_the_bookmark(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKILLS_TOKEN", TOKEN)
    settings = {
        "url": f"{api.url}/v1/completions?team=all",
        "records_path": "data",
        "cursor_path": "meta.next_cursor",
        "bookmark_param": "updated_since",
        "auth": {"type": "bearer", "token": "${SKILLS_TOKEN}"},
        "mapping": {"period": "week", "value": "trained"},
        "metric": "hr.ai_trained_agents",
        "unit": "people",
    }
    everything = build(HttpConnector, settings)
    assert [r["value"] for r in everything.records()] == [i["trained"] for i in ITEMS]
    assert everything.incremental
    newer = build(HttpConnector, settings, bookmark=WEEKS[5])
    assert [r["period"] for r in newer.records()] == [WEEKS[5].isoformat(), WEEKS[6].isoformat()]


def test_the_built_in_http_connector_follows_the_link_header(api: Api) -> None:
    source = build(HttpConnector, {"url": f"{api.url}/linked", "link_header": True})
    assert [r["value"] for r in source.records()] == [1, 2, 3]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('<https://a.example/x?page=2>; rel="next"', "https://a.example/x?page=2"),
        (
            '<https://a.example/x?page=1>; rel="prev", <https://a.example/x?page=3>; rel=next',
            "https://a.example/x?page=3",
        ),
        ('<https://a.example/x?page=9>; rel="last"', None),
        ('</x?page=4>; title="p"; rel="next last"', "/x?page=4"),
        ("", None),
    ],
)
def test_the_link_header_paginator_finds_rel_next(header: str, expected: str | None) -> None:
    page = Page("https://a.example/x", {"Link": header} if header else {}, [])
    assert LinkHeaderPaginator().next(page, []) == expected


class TestSkillsCloudTraining(
    get_connector_tests(
        load_example().SkillsCloudTraining,
        {"base_url": "http://127.0.0.1:9/"},
        as_of=AS_OF,
        env={"SKILLS_TOKEN": TOKEN},
    )
):
    """The conformance kit runs the docs' example against the server: bookmark and wrong-token tests included."""

    @pytest.fixture(autouse=True)
    def _served(self, api: Api) -> None:
        type(self).settings = {"base_url": api.url, "token": "${SKILLS_TOKEN}", "retries": 0}

    @pytest.fixture
    def benefits_restate(self) -> Iterator[Callable[[dict[str, Any]], None]]:
        """The kit's restatement test: SkillsCloud corrects a week's count, updated on the sync date."""
        saved = [dict(item) for item in ITEMS]

        def restate(record: dict[str, Any]) -> None:
            item = next(i for i in ITEMS if i["week"] == record["period"])
            item.update(trained=item["trained"] + 1, updated=AS_OF.isoformat())

        yield restate
        ITEMS[:] = saved
