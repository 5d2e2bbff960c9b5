"""``${NAME}`` in any connector's settings is filled from the environment by the framework, and the
value never reaches an error, a log, the store, the console or a repr."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, SecretStr
from sqlalchemy import MetaData, create_engine, select

from benefits.errors import ConfigError
from benefits.plugins.connector import Connector, ConnectorError, SyncContext
from benefits.plugins.http_json import HttpConnector
from benefits.plugins.secrets import expand_settings, mask
from benefits.register import load_register
from benefits.sync.config import load_connectors
from benefits.testing import build_connector

from .conftest import DEMO_CONFIG

AS_OF = dt.date(2026, 11, 23)
SECRET = "tok-Zq7@/:%x-9f"
PERIODS = ["2026-11-02", "2026-11-09", "2026-11-16"]


class _Api(BaseHTTPRequestHandler):
    """``/ok`` serves three observations to the right bearer token; anything else is refused with the
    request's headers echoed back, as careless servers do."""

    def do_GET(self) -> None:  # the stdlib's name
        if self.path == "/ok" and self.headers.get("Authorization") == f"Bearer {SECRET}":
            body, status = (
                [
                    {"metric": "crm.upsell_revenue", "period": p, "value": 100.0 + n, "unit": "GBP"}
                    for n, p in enumerate(PERIODS)
                ],
                200,
            )
        else:
            body, status = {"error": "refused", "seen": dict(self.headers)}, 401
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def write_connectors(config: Path, connectors: list[dict[str, Any]]) -> None:
    config.mkdir(exist_ok=True)
    (config / "portfolio.yaml").write_text((DEMO_CONFIG / "portfolio.yaml").read_text())
    (config / "connectors.yaml").write_text(yaml.safe_dump({"connectors": connectors}))


def benefits(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from benefits.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def every_stored_text(url: str) -> str:
    """Every row of every table of the store, as text."""
    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        text = "\n".join(repr(row) for table in metadata.sorted_tables for row in connection.execute(select(table)))
    engine.dispose()
    return text


@pytest.mark.slow  # three CLI processes, each importing GX; the masking itself is tested in-process below
def test_a_real_sync_keeps_the_secret_out_of_the_store_and_the_console(tmp_path: Path, api: str) -> None:
    config = tmp_path / "config"
    write_connectors(
        config,
        [
            {
                "name": "crm",
                "type": "http",
                "settings": {"url": f"{api}/ok", "auth": {"type": "bearer", "token": "${CRM_TOKEN}"}},
            },
            {
                "name": "crm-refused",
                "type": "http",
                "settings": {"url": f"{api}/nope", "headers": {"X-Api-Key": "${CRM_TOKEN}"}, "retries": 0},
            },
        ],
    )
    database = f"sqlite:///{tmp_path / 'benefits.db'}"
    env = {
        **os.environ,
        "CRM_TOKEN": SECRET,
        "BENEFITS_CONFIG": str(config),
        "BENEFITS_DATABASE_URL": database,
        "GX_ANALYTICS_ENABLED": "false",
    }
    assert benefits("init", env=env).returncode == 0
    sync = benefits("sync", "--as-of", AS_OF.isoformat(), env=env)
    assert sync.returncode == 1  # the refused connector fails alone
    assert "sync crm: 3 rows read, 3 accepted" in sync.stdout, sync.stdout + sync.stderr
    listed = benefits("plugins", env=env)
    stored = every_stored_text(database)
    assert "'failed'" in stored and "HTTP 401" in stored and "***" in stored  # the echoed key, masked
    assert "100.0" in stored  # the accepted observations are there
    for shown in (sync.stdout, sync.stderr, listed.stdout, listed.stderr, stored):
        assert SECRET not in shown and "Zq7" not in shown


class TokenSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: SecretStr
    path: str = "/"


class Careless(Connector):
    """Puts its token in whatever it raises, as a connector written in a hurry might."""

    type: ClassVar[str] = "careless"
    Settings: ClassVar[type[BaseModel]] = TokenSettings
    settings: TokenSettings

    def check(self) -> None:
        raise ValueError(f"cannot log in with {self.settings.token.get_secret_value()}")

    def records(self) -> Iterator[dict[str, Any]]:
        yield {"metric": "m.x", "period": PERIODS[0], "value": 1, "unit": "GBP"}
        raise ConnectorError(f"page 2 refused token {self.settings.token.get_secret_value()}")

    def claims(self) -> Iterator[dict[str, Any]]:
        raise RuntimeError(f"claims API refused token {self.settings.token.get_secret_value()}")
        yield {}


def test_the_framework_masks_what_any_connector_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARELESS_TOKEN", SECRET)
    connector = build_connector(Careless, {"token": "${CARELESS_TOKEN}"}, as_of=AS_OF)
    assert connector.secrets == {SECRET} and connector.settings.token.get_secret_value() == SECRET
    with pytest.raises(ConnectorError, match=r"^ValueError: cannot log in with \*\*\*$") as raised:
        connector.check()
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    records = connector.records()
    assert next(records)["metric"] == "m.x"
    with pytest.raises(ConnectorError, match=r"^page 2 refused token \*\*\*$"):
        next(records)
    with pytest.raises(ConnectorError, match=r"^RuntimeError: claims API refused token \*\*\*$"):
        next(connector.claims())
    assert SECRET not in repr(connector) + repr(connector.settings) + connector.mask(f"x {SECRET} y")


def test_placeholders_are_filled_everywhere_and_once() -> None:
    env = {"BENEFITS_T_A": "a$b${BENEFITS_T_B}", "BENEFITS_T_B": "bee", "BENEFITS_T_EMPTY": ""}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        expanded, secrets = expand_settings(
            {"x": "1-${BENEFITS_T_A}-$HOME-{y}", "n": 3, "nested": {"list": ["${BENEFITS_T_B}", "${BENEFITS_T_EMPTY}"]}}
        )
    assert expanded == {"x": "1-a$b${BENEFITS_T_B}-$HOME-{y}", "n": 3, "nested": {"list": ["bee", ""]}}
    assert secrets == {"a$b${BENEFITS_T_B}", "bee"}
    assert mask("a%24b%24%7BBENEFITS_T_B%7D and bee", secrets) == "*** and ***"  # percent-encoded too


def test_a_missing_variable_is_one_config_line_naming_file_field_and_variable(tmp_path: Path) -> None:
    config = tmp_path / "config"
    write_connectors(
        config,
        [
            {"name": "demo", "type": "demo"},
            {
                "name": "crm",
                "type": "http",
                "settings": {"url": "http://127.0.0.1/", "headers": {"X-Key": "k-${BENEFITS_NO_SUCH_KEY}"}},
            },
        ],
    )
    context = SyncContext(register=load_register(config), as_of=AS_OF)
    with pytest.raises(ConfigError) as raised:
        load_connectors(config, context)
    assert str(raised.value) == (
        f"{config / 'connectors.yaml'}: connectors[1].settings.headers.X-Key: "
        "environment variable BENEFITS_NO_SUCH_KEY is not set"
    )


def test_an_invalid_setting_never_echoes_a_filled_in_value(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENEFITS_T_HOST", "user:" + SECRET + "@host")
    config = tmp_path / "config"
    write_connectors(config, [{"name": "crm", "type": "http", "settings": {"url": "http://${BENEFITS_T_HOST}/x"}}])
    with pytest.raises(
        ConfigError,
        match=r"connectors\[0\]\.settings\.url: not valid once \$\{BENEFITS_T_HOST\} is "
        r"filled in from the environment \(value_error\)$",
    ) as raised:
        load_connectors(config, SyncContext(register=load_register(config), as_of=AS_OF))
    assert SECRET not in str(raised.value) and "%x" not in str(raised.value)
    write_connectors(config, [{"name": "crm", "type": "http", "settings": {"url": "http://127.0.0.1/", "retries": -1}}])
    with pytest.raises(
        ConfigError, match=r"connectors\[0\]\.settings\.retries: input should be greater than or equal to 0$"
    ):
        load_connectors(config, SyncContext(register=load_register(config), as_of=AS_OF))


# ---- which settings are secret: SecretStr, not ${NAME} ------------------------------------------


class SiteSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str
    token: SecretStr


class Site(Connector):
    """Declares its token secret; its base URL is not."""

    type: ClassVar[str] = "site"
    Settings: ClassVar[type[BaseModel]] = SiteSettings
    settings: SiteSettings

    def check(self) -> None:
        self.log.warning("logging in to %s with %s", self.settings.base_url, self.settings.token.get_secret_value())
        raise ConnectorError(
            f"GET {self.settings.base_url}/v1/x: refused token {self.settings.token.get_secret_value()}"
        )


class LegacySettings(BaseModel):
    base_url: str
    token: str


class Legacy(Connector):
    """Written before secrets were declared: no SecretStr anywhere."""

    type: ClassVar[str] = "legacy"
    Settings: ClassVar[type[BaseModel]] = LegacySettings
    settings: LegacySettings

    def check(self) -> None:
        raise ConnectorError(f"GET {self.settings.base_url}/v1/x: refused token {self.settings.token}")


def test_only_secret_settings_are_masked_in_errors_and_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SITE_URL", "https://skills.example.com")
    connector = build_connector(Site, {"base_url": "${SITE_URL}", "token": "literal-Yy3-token"}, as_of=AS_OF)
    assert connector.secrets == {"literal-Yy3-token"}  # written in the file, still secret; the URL is not
    with pytest.raises(ConnectorError) as raised:
        connector.check()
    assert str(raised.value) == "GET https://skills.example.com/v1/x: refused token ***"
    assert [r.getMessage() for r in caplog.records] == ["logging in to https://skills.example.com with ***"]
    assert caplog.records[0].name == "benefits.connectors.conformance"


def test_a_connector_that_declares_no_secret_keeps_every_filled_in_value_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SITE_URL", "https://skills.example.com")
    monkeypatch.setenv("SITE_TOKEN", SECRET)
    connector = build_connector(Legacy, {"base_url": "${SITE_URL}", "token": "${SITE_TOKEN}"}, as_of=AS_OF)
    assert connector.secrets == {"https://skills.example.com", SECRET}
    with pytest.raises(ConnectorError, match=r"^GET \*\*\*/v1/x: refused token \*\*\*$"):
        connector.check()


def test_the_http_connector_shows_its_url_and_masks_a_key_in_the_query(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRM_URL", api)
    monkeypatch.setenv("CRM_KEY", SECRET)
    connector = build_connector(HttpConnector, {"url": "${CRM_URL}/nope", "query": {"key": "${CRM_KEY}"}, "retries": 0})
    with pytest.raises(ConnectorError) as raised:
        connector.check()
    assert str(raised.value).startswith(f"GET {api}/nope?key=***: HTTP 401 Unauthorized: ")
    assert SECRET not in str(raised.value)
