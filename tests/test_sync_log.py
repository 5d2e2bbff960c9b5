"""What a connector logs during its sync lands, masked, in the sync run (``sync_runs.log``) and in `benefits sync`."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner
from pydantic import BaseModel, SecretStr
from sqlalchemy import select

from benefits.cli import main
from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector, ConnectorError
from benefits.plugins.manager import plugin_manager
from benefits.store import db, models
from benefits.sync.reading import LOG_LINES

TOKEN = "tok-5ecret-77"
WEEK = "2026-11-16"


class TokenSettings(BaseModel):
    token: SecretStr
    lines: int = 2
    fail: bool = False


class Chatty(Connector):
    """Logs through ``self.log`` (its secret included), from a thread of its own, and on a logger of its own name."""

    type: ClassVar[str] = "test-chatty"
    Settings = TokenSettings
    settings: TokenSettings

    def check(self) -> None:
        self.log.info("checking with token %s", self.settings.token.get_secret_value())

    def records(self) -> Iterator[dict[str, Any]]:
        for n in range(self.settings.lines):
            self.log.warning("page %d read", n + 1)
        worker = threading.Thread(target=self.log.warning, args=("from a thread",))
        worker.start()
        worker.join()
        logging.getLogger(f"benefits.connectors.{self.name}").error("raw %s", self.settings.token.get_secret_value())
        logging.getLogger("elsewhere").warning("not the connector's")
        if self.settings.fail:
            raise ConnectorError("the source went away")
        yield {"metric": "ledger.it_opex_weekly", "period": WEEK, "value": 100.0, "unit": "GBP"}


@pytest.fixture
def chatty() -> Iterator[None]:
    plugin_manager().register(SimpleNamespace(register_connectors=hookimpl(lambda: [Chatty])), name="test-chatty")
    yield
    plugin_manager().unregister(name="test-chatty")


def _sync(demo_config: Path, url: str, settings: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[Any]]:
    (demo_config / "connectors.yaml").write_text(
        f"connectors:\n  - name: chat\n    type: test-chatty\n    settings: {{token: '${{CHAT_TOKEN}}', {settings}}}\n"
    )
    monkeypatch.setenv("CHAT_TOKEN", TOKEN)
    options = ["--config", str(demo_config), "--database", url]
    assert CliRunner().invoke(main, [*options, "db", "upgrade"]).exit_code == 0
    result = CliRunner().invoke(main, [*options, "sync", "--as-of", "2026-11-23"])
    with db.session_factory(db.make_engine(url))() as session:
        runs = list(session.scalars(select(models.SyncRun).where(models.SyncRun.connector == "chat")))
    return result, runs


def test_what_a_connector_logs_is_kept_with_its_run_masked_and_shown_by_sync(
    chatty: None, demo_config: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, [run] = _sync(demo_config, sqlite_url, "lines: 2", monkeypatch)
    assert result.exit_code == 0, result.output
    assert run.status == "succeeded"
    assert run.log == [
        "info: checking with token ***",
        "warning: page 1 read",
        "warning: page 2 read",
        "warning: from a thread",
        "error: raw ***",
    ]
    assert TOKEN not in result.output
    assert [line for line in result.output.splitlines() if "logged" in line] == [
        f"sync chat: logged {line}" for line in run.log
    ]


def test_a_failed_run_keeps_what_was_logged_and_a_long_log_is_cut(
    chatty: None, demo_config: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, [run] = _sync(demo_config, sqlite_url, f"lines: {LOG_LINES + 20}, fail: true", monkeypatch)
    assert result.exit_code == 1
    assert run.status == "failed" and run.error == "the source went away"
    assert len(run.log) == LOG_LINES + 1
    assert run.log[0] == "info: checking with token ***"
    assert run.log[-1] == "... and 23 more lines (not kept)"  # 21 pages, the thread's line and the raw one
    shown = [line for line in result.output.splitlines() if line.startswith("sync chat: ") and "logged" in line]
    assert len(shown) == 11
    assert shown[-1] == f"sync chat: {LOG_LINES + 1 - 10} more lines logged, kept with sync run {run.id}"


class Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first request, then one observation."""

    calls: ClassVar[int] = 0

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature; quiet
        pass

    def do_GET(self) -> None:
        Flaky.calls += 1
        status, body = (503, {"error": "busy"}) if Flaky.calls == 1 else (200, [{"period": WEEK, "value": 7}])
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_the_http_helpers_retries_are_kept_with_the_run(
    demo_config: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Flaky.calls = 0
    url = f"http://127.0.0.1:{server.server_port}/kpis"
    (demo_config / "connectors.yaml").write_text(
        "connectors:\n  - name: api\n    type: http\n    settings:\n"
        f"      url: {url}\n      metric: ledger.it_opex_weekly\n      unit: GBP\n      retries: 2\n      backoff: 0\n"
    )
    options = ["--config", str(demo_config), "--database", sqlite_url]
    try:
        assert CliRunner().invoke(main, [*options, "db", "upgrade"]).exit_code == 0
        result = CliRunner().invoke(main, [*options, "sync", "--as-of", "2026-11-23"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    with db.session_factory(db.make_engine(sqlite_url))() as session:
        [log] = session.scalars(select(models.SyncRun.log).where(models.SyncRun.connector == "api"))
    assert log and log[0].startswith(f"warning: GET {url}: HTTP 503 Service Unavailable") and "retry 1 of 2" in log[0]
    assert f"sync api: logged {log[0]}" in result.output.splitlines()
