"""`benefits digest`: each owner's news by e-mail (a real local aiosmtpd server) and webhook (a real local
HTTP server); --dry-run prints it; delivery failures end in one line naming the server."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import func, select

from benefits import digest as digest_module
from benefits.cli import main
from benefits.store import models
from benefits.store.db import make_engine
from benefits.workspace import Workspace

from . import dashboard_data as dd
from .test_dashboard_browser import CHROMIUM

SECRET = "s3cret-Passw0rd"
TOKEN = "T0KEN-in-the-path"


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, str]:
    """The dashboard fixture's store (it-opex went on track -> at risk; 2 of its rows are in quarantine)."""
    return tmp_path / "config", dd.build_store(tmp_path)


def _digest(
    store: tuple[Path, str],
    *options: str,
    notify: str | None = None,
    env: dict[str, str] | None = None,
    as_of: dt.date = dd.AS_OF,
) -> Result:
    config, url = store
    if notify is not None:
        (config / "notify.yaml").write_text(notify)
    arguments = ["--config", str(config), "--database", url, "digest", "--as-of", as_of.isoformat(), *options]
    return CliRunner().invoke(main, arguments, env=env)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Mailbox:
    """An aiosmtpd handler that keeps each message, or refuses one recipient."""

    def __init__(self, refuse: str = "") -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.refuse = refuse
        self.refusal = "550 5.1.1 mailbox unavailable"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address == self.refuse:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    good = isinstance(data, LoginPassword) and data.login == b"pmo" and data.password == SECRET.encode()
    return AuthResult(success=good, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[_Mailbox, int]]:
    """A real SMTP server on 127.0.0.1 that asks for a login (without TLS, on the loopback only)."""
    mailbox, port = _Mailbox(), _free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, authenticator=_authenticate, auth_require_tls=False
    )
    controller.start()
    yield mailbox, port
    controller.stop()


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append((self.path, self.headers["Content-Type"], json.loads(body)))  # type: ignore[attr-defined]
        answers = self.server.answers  # type: ignore[attr-defined]
        status = answers.pop(0) if answers else self.server.status  # type: ignore[attr-defined]
        self.send_response(status)
        if status in (301, 302, 303, 307, 308):
            self.send_header("Location", "/moved/here")
        if status in (429, 503) and self.server.retry_after:  # type: ignore[attr-defined]
            self.send_header("Retry-After", self.server.retry_after)  # type: ignore[attr-defined]
        self.end_headers()

    def do_GET(self) -> None:
        self.server.gets.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def webhook() -> Iterator[ThreadingHTTPServer]:
    """A real HTTP server on 127.0.0.1 that keeps each POST (``.posts``) and answers ``.status``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.posts = []  # type: ignore[attr-defined]
    server.gets = []  # type: ignore[attr-defined]
    server.answers = []  # type: ignore[attr-defined]  # statuses to answer first, one per POST
    server.retry_after = ""  # type: ignore[attr-defined]
    server.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _smtp_yaml(port: int) -> str:
    return f"""\
smtp:
  host: 127.0.0.1
  port: {port}
  from: pmo@example.com
  security: none
  username: pmo
  password: ${{SMTP_PASSWORD}}
owners:
  Finance operations: finance.ops@example.com
  Sales: sales@example.com
"""


def test_dry_run_prints_each_owners_news_and_sends_nothing(store: tuple[Path, str]) -> None:
    result = _digest(store, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "--- to Finance operations: no e-mail (no e-mail address for owner 'Finance operations': "
        "add it under owners: in notify.yaml)\n"
        "subject: Benefits digest 2025-07-07: 1 benefit of yours needs a look\n\n"
        "Finance operations, your benefits in Dashboard fixture portfolio as of 2025-07-07:\n\n"
        "Lower IT running cost (it-opex)\n"
        "  - status changed: on track → at risk, 27% likely on time: forecast reaches about £426,000"
    )
    assert "  - quarantined rows: 1 row of ledger.it_opex held in quarantine (`benefits quarantine list`)\n" in (
        result.output
    )
    assert "--- to Sales: " in result.output  # off track last week too, but a row of its metric is in quarantine
    assert "Sales, your benefits" in result.output and "status changed: off track" not in result.output
    assert "Service desk" not in result.output  # no news


def test_stale_data_reaches_every_owner_of_a_metric_that_stopped(store: tuple[Path, str]) -> None:
    config, url = store
    later = ["--config", str(config), "--database", url, "digest", "--dry-run", "--as-of", "2025-09-29"]
    result = CliRunner().invoke(main, later)
    assert result.exit_code == 0, result.output
    for owner in ("Finance operations", "Service desk", "Sales"):
        assert f"--- to {owner}: " in result.output
    assert "  - data stale: no new data for crm.upsell_revenue since 2025-06-30" in result.output
    assert "status changed" not in result.output  # a move to stale data is said once, as stale data


def test_digest_is_emailed_through_a_real_smtp_server_with_the_password_from_the_environment(
    store: tuple[Path, str], smtp: tuple[_Mailbox, int]
) -> None:
    mailbox, port = smtp
    result = _digest(store, notify=_smtp_yaml(port), env={"SMTP_PASSWORD": SECRET})
    assert result.exit_code == 0, result.output
    assert result.output == (
        "digest e-mailed to Finance operations <finance.ops@example.com>: 2 items\n"
        "digest e-mailed to Sales <sales@example.com>: 1 item\n"
    )
    assert [recipients for recipients, _ in mailbox.messages] == [["finance.ops@example.com"], ["sales@example.com"]]
    message = mailbox.messages[0][1]
    assert message["From"] == "pmo@example.com" and message["To"] == "finance.ops@example.com"
    assert message["Subject"] == "Benefits digest 2025-07-07: 1 benefit of yours needs a look"
    body = message.get_content()
    assert "Lower IT running cost (it-opex)" in body and "on track → at risk" in body


def test_an_owner_without_an_address_is_warned_about_and_the_others_are_sent(
    store: tuple[Path, str], smtp: tuple[_Mailbox, int]
) -> None:
    config, url = store
    (config / "notify.yaml").write_text(
        _smtp_yaml(smtp[1]).replace("  Finance operations: finance.ops@example.com\n", "")
    )
    later = ["--config", str(config), "--database", url, "digest", "--as-of", "2025-09-29"]
    result = CliRunner().invoke(main, later, env={"SMTP_PASSWORD": SECRET})
    assert result.exit_code == 0, result.output
    assert "warning: no e-mail address for owner 'Finance operations': add it under owners: in notify.yaml" in (
        result.output
    )
    assert "digest e-mailed to Sales <sales@example.com>: 2 items\n" in result.output
    assert [recipients for recipients, _ in smtp[0].messages] == [["sales@example.com"]]


def test_smtp_failures_end_in_one_line_naming_the_server(store: tuple[Path, str], smtp: tuple[_Mailbox, int]) -> None:
    closed = _free_port()
    result = _digest(store, notify=_smtp_yaml(closed), env={"SMTP_PASSWORD": SECRET})
    assert (result.exit_code, result.output) == (1, f"error: SMTP server 127.0.0.1:{closed}: connection refused\n")

    result = _digest(store, notify=_smtp_yaml(smtp[1]), env={"SMTP_PASSWORD": "wrong"})
    assert result.exit_code == 1
    assert result.output.startswith(f"error: SMTP server 127.0.0.1:{smtp[1]}: refused with 535 ")

    smtp[0].refuse = "finance.ops@example.com"
    result = _digest(store, notify=_smtp_yaml(smtp[1]), env={"SMTP_PASSWORD": SECRET})
    assert result.exit_code == 1
    assert result.output == (
        "digest e-mailed to Sales <sales@example.com>: 1 item\n"
        f"error: SMTP server 127.0.0.1:{smtp[1]}: refused the recipient finance.ops@example.com "
        "(550 5.1.1 mailbox unavailable); 1 of 2 digests not sent (Finance operations): run `benefits digest` "
        "again once fixed, which sends only those (the ones delivered are recorded and not sent twice)\n"
    )
    assert SECRET not in result.output and [to for to, _ in smtp[0].messages] == [["sales@example.com"]]

    starttls = _smtp_yaml(smtp[1]).replace("security: none", "security: starttls")  # a server without TLS
    result = _digest(store, notify=starttls, env={"SMTP_PASSWORD": SECRET}, as_of=dd.AS_OF + dt.timedelta(days=7))
    assert (result.exit_code, result.output) == (
        1,
        f"error: SMTP server 127.0.0.1:{smtp[1]}: STARTTLS extension not supported by server.\n",
    )


def test_a_multi_line_refusal_is_one_line(store: tuple[Path, str], smtp: tuple[_Mailbox, int]) -> None:
    mailbox, port = smtp
    mailbox.refuse = "finance.ops@example.com"
    mailbox.refusal = (  # as Gmail answers for an address that does not exist
        "550-5.1.1 The email account that you tried to reach does not exist.\r\n"
        "550-5.1.1 Please try double-checking the recipient's address\r\n"
        "550 5.1.1 https://support.example.com/mail"
    )
    result = _digest(store, notify=_smtp_yaml(port), env={"SMTP_PASSWORD": SECRET})
    assert result.exit_code == 1
    error = result.output.splitlines()[-1]  # its second and third lines were lines of their own, each 'error: '
    assert result.output.count("\n") == 2 and result.output.count("error:") == 1
    assert error.startswith(
        f"error: SMTP server 127.0.0.1:{port}: refused the recipient finance.ops@example.com (550 5.1.1 The email "
        "account that you tried to reach does not exist. 5.1.1 Please try double-checking the recipient's address "
        "5.1.1 https://support.example.com/mail); 1 of 2 digests not sent (Finance operations)"
    )


def test_a_refused_recipient_does_not_stop_the_others_and_a_re_send_sends_only_the_missing_digest(
    store: tuple[Path, str], smtp: tuple[_Mailbox, int]
) -> None:
    mailbox, port = smtp
    mailbox.refuse = "finance.ops@example.com"  # the first owner's: the second was never tried before
    result = _digest(store, notify=_smtp_yaml(port), env={"SMTP_PASSWORD": SECRET})
    assert result.exit_code == 1
    assert result.output.startswith("digest e-mailed to Sales <sales@example.com>: 1 item\nerror: ")
    assert result.output.count("\n") == 2
    mailbox.refuse = ""
    result = _digest(store, env={"SMTP_PASSWORD": SECRET})  # run again once fixed: no duplicate, nothing lost
    assert result.exit_code == 0, result.output
    assert result.output.startswith("digest for Sales already e-mailed to <sales@example.com> at ")
    assert result.output.endswith(
        " UTC (the same news): not sent again\n"
        "digest e-mailed to Finance operations <finance.ops@example.com>: 2 items\n"
    )
    assert [to for to, _ in mailbox.messages] == [["sales@example.com"], ["finance.ops@example.com"]]
    assert _digest(store, env={"SMTP_PASSWORD": SECRET}).exit_code == 0
    assert len(mailbox.messages) == 2
    result = _digest(store, env={"SMTP_PASSWORD": SECRET}, as_of=dd.AS_OF + dt.timedelta(days=7))
    assert result.exit_code == 0, result.output  # another week's digest is its own
    assert len(mailbox.messages) == 4


def test_two_digests_at_the_same_moment_send_each_digest_once(
    tmp_path: Path,
    database_url: str,
    smtp: tuple[_Mailbox, int],
    webhook: ThreadingHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two digests (own workspaces, engines and sessions, as two processes have) reach their delivery together; the
    SMTP server takes a while over each message. Both read that nothing was delivered and both sent every digest
    before (4 e-mails, 4 posts); now the second waits for the first, then finds everything delivered."""
    mailbox, port = smtp
    url = dd.build_store(tmp_path, url=database_url if database_url.startswith("postgresql") else None)
    config = tmp_path / "config"
    hook = f"webhook:\n  url: http://127.0.0.1:{webhook.server_address[1]}/hooks/{TOKEN}\n"
    (config / "notify.yaml").write_text(_smtp_yaml(port) + hook)
    monkeypatch.setenv("SMTP_PASSWORD", SECRET)
    handle_data = mailbox.handle_DATA

    async def slow_data(*args: Any) -> str:
        await asyncio.sleep(0.3)  # long enough for the other digest to read what was delivered meanwhile
        return await handle_data(*args)

    monkeypatch.setattr(mailbox, "handle_DATA", slow_data)
    together = threading.Barrier(2, timeout=60)
    deliver = digest_module._deliver

    def deliver_together(*args: Any, **kwargs: Any) -> None:
        together.wait()  # both digests computed, both about to deliver
        deliver(*args, **kwargs)

    monkeypatch.setattr(digest_module, "_deliver", deliver_together)
    said: list[list[str]] = [[], []]
    failed: list[BaseException] = []

    def run(n: int) -> None:
        try:
            digest_module.send_digest(Workspace(config, url), dd.AS_OF, said[n].append)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failed.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failed, failed
    assert sorted(to for to, _ in mailbox.messages) == [["finance.ops@example.com"], ["sales@example.com"]]
    assert len(webhook.posts) == 2  # type: ignore[attr-defined]
    lines = sorted(said[0] + said[1])
    assert [line for line in lines if line.startswith("digest e-mailed")] == [
        "digest e-mailed to Finance operations <finance.ops@example.com>: 2 items",
        "digest e-mailed to Sales <sales@example.com>: 1 item",
    ]
    assert sum("(the same news): not sent again" in line for line in lines) == 4  # the second found all 4 delivered
    assert digest_module.WAITING in lines  # said by the second, which then waited
    engine = make_engine(url, create=False)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(models.DigestDelivery)).scalar() == 4
    engine.dispose()


def test_a_webhook_that_failed_is_posted_to_once_when_the_digest_is_sent_again(
    store: tuple[Path, str], webhook: ThreadingHTTPServer
) -> None:
    port = webhook.server_address[1]
    webhook.status = 500  # type: ignore[attr-defined]
    result = _digest(store, notify=f"webhook:\n  url: http://127.0.0.1:{port}/hooks/{TOKEN}\n")
    assert result.exit_code == 1
    assert result.output == f"error: webhook http://127.0.0.1:{port} answered HTTP 500 Internal Server Error\n"
    webhook.status = 200  # type: ignore[attr-defined]
    webhook.posts.clear()  # type: ignore[attr-defined]
    for _ in range(2):
        assert _digest(store).exit_code == 0
    assert len(webhook.posts) == 2  # type: ignore[attr-defined]


def test_digest_is_posted_to_a_real_webhook_as_json_text(store: tuple[Path, str], webhook: ThreadingHTTPServer) -> None:
    port = webhook.server_address[1]
    result = _digest(
        store, notify=f"webhook:\n  url: http://127.0.0.1:{port}/hooks/${{HOOK_TOKEN}}\n", env={"HOOK_TOKEN": TOKEN}
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"digest posted to webhook http://127.0.0.1:{port}: 2 owners\n"
    (path, content_type, payload), _ = webhook.posts  # type: ignore[attr-defined]
    assert (path, content_type) == (f"/hooks/{TOKEN}", "application/json")
    assert list(payload) == ["text"]
    assert payload["text"].startswith("Finance operations, your benefits in Dashboard fixture portfolio")


def test_webhook_failures_end_in_one_line_naming_the_server_not_its_token(
    store: tuple[Path, str], webhook: ThreadingHTTPServer
) -> None:
    port = webhook.server_address[1]
    notify = f"webhook:\n  url: http://127.0.0.1:{port}/hooks/{TOKEN}\n"
    webhook.status = 500  # type: ignore[attr-defined]
    result = _digest(store, notify=notify)
    assert (result.exit_code, result.output) == (
        1,
        f"error: webhook http://127.0.0.1:{port} answered HTTP 500 Internal Server Error\n",
    )
    closed = _free_port()
    result = _digest(store, notify=f"webhook:\n  url: http://127.0.0.1:{closed}/hooks/{TOKEN}\n")
    assert result.exit_code == 1
    assert result.output.startswith(f"error: webhook http://127.0.0.1:{closed} is unreachable: ")
    assert "refused" in result.output and TOKEN not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_webhook_that_redirects_is_a_failure_in_one_line_not_a_post_turned_into_a_get(
    store: tuple[Path, str], webhook: ThreadingHTTPServer, status: int
) -> None:
    port = webhook.server_address[1]
    webhook.status = status  # type: ignore[attr-defined]
    result = _digest(store, notify=f"webhook:\n  url: http://127.0.0.1:{port}/hooks/{TOKEN}\n")
    assert result.exit_code == 1
    assert result.output.startswith(f"error: webhook http://127.0.0.1:{port} answered HTTP {status} ")
    assert result.output.endswith(
        f", a redirect to http://127.0.0.1:{port}: a webhook's redirect is not followed (a redirected POST can lose "
        "its message); put the URL it redirects to in notify.yaml\n"
    )
    assert result.output.count("\n") == 1 and TOKEN not in result.output
    assert webhook.gets == []  # type: ignore[attr-defined]  # urllib sent 301-303 on as a GET without the message


def test_a_webhook_answering_429_is_posted_to_again_after_its_retry_after(
    store: tuple[Path, str], webhook: ThreadingHTTPServer
) -> None:
    port = webhook.server_address[1]
    notify = f"webhook:\n  url: http://127.0.0.1:{port}/hooks/{TOKEN}\n"
    webhook.answers = [429, 429, 503]  # type: ignore[attr-defined]
    webhook.retry_after = "1"  # type: ignore[attr-defined]
    started = time.monotonic()
    result = _digest(store, notify=notify)
    assert result.exit_code == 0, result.output  # it failed at the first 429 before
    assert result.output == f"digest posted to webhook http://127.0.0.1:{port}: 2 owners\n"
    assert len(webhook.posts) == 5 and time.monotonic() - started >= 3  # type: ignore[attr-defined]

    webhook.status, webhook.retry_after = 429, "3600"  # type: ignore[attr-defined]
    result = _digest(store, notify=notify, as_of=dd.AS_OF + dt.timedelta(days=7))
    assert (result.exit_code, result.output) == (
        1,
        f"error: webhook http://127.0.0.1:{port} answered HTTP 429 Too Many Requests, asking to wait 3600 s: run "
        "`benefits digest` again later\n",
    )
    webhook.retry_after = "0"  # type: ignore[attr-defined]
    result = _digest(store, notify=notify, as_of=dd.AS_OF + dt.timedelta(days=7))
    assert (result.exit_code, result.output) == (
        1,
        f"error: webhook http://127.0.0.1:{port} answered HTTP 429 Too Many Requests 4 times (waiting as it asked "
        "between them)\n",
    )


class _Trickle(BaseHTTPRequestHandler):
    """Answers a few bytes at a time: a header line every 0.1 s for 10 s, each read well within any timeout."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        try:
            for _ in range(100):
                if self.server.stopping.is_set():  # type: ignore[attr-defined]
                    return
                self.wfile.write(b"X-Slow: yes\r\n")
                self.wfile.flush()
                time.sleep(0.1)
            self.wfile.write(b"\r\n")
        except OSError:
            return

    def log_message(self, *args: Any) -> None:
        """Quiet."""


def test_a_webhook_that_answers_a_byte_at_a_time_fails_at_its_timeout_in_one_line(store: tuple[Path, str]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        started = time.monotonic()
        result = _digest(store, notify=f"webhook:\n  url: http://127.0.0.1:{port}/hooks/{TOKEN}\n  timeout: 0.5\n")
        took = time.monotonic() - started
    finally:
        server.stopping.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
    assert (result.exit_code, result.output) == (
        1,
        f"error: webhook http://127.0.0.1:{port} did not answer within 0.5 s (timeout in notify.yaml)\n",
    )
    deadline = time.monotonic() + 5  # the request's thread ends once the server stops answering
    while any(t.name == "benefits-webhook" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "benefits-webhook" for t in threading.enumerate())
    assert took < 5  # it waited the whole 10 s answer of its first post before (and 10 s more per owner)


@pytest.mark.parametrize(
    ("notify", "problem"),
    [
        (None, "no smtp server or webhook to send the digest through"),
        (
            "smtp:\n  host: mail\n  from: pmo@example.com\n  password: ${NO_SUCH_VARIABLE}\n",
            "smtp.password: environment variable NO_SUCH_VARIABLE is not set",
        ),
        ("smtp:\n  host: mail\n  from: not-an-address\n", "smtp.from: string should match pattern"),
        (
            "smtp:\n  host: mail\n  from: a@b.c\n  security: tls\n",
            "smtp.security: input should be 'starttls', 'ssl' or 'none'",
        ),
        ("owners:\n  Sales: nobody\n", "owners.Sales: string should match pattern"),
        ("smtp:\n  host: mail\n  from: a@b.c\n  timeout: .inf\n", "smtp.timeout: input should be a finite number"),
        ("smtp:\n  host: mail\n  from: a@b.c\n  timeout: .nan\n", "smtp.timeout: input should be a finite number"),
        ("smtp:\n  host: mail\n  from: a@b.c\n  timeout: 1e300\n", "smtp.timeout: must have at most 16 digits"),
        ("smtp:\n  host: mail\n  from: a@b.c\n  timeout: 100000\n", "smtp.timeout: input should be less than or"),
        (
            f"webhook:\n  url: ftp://chat.example.com/{TOKEN}\n",  # urllib's FTP handler tried it, then timed out
            "webhook.url: must be an http:// or https:// URL with a host (its scheme is ftp:; the URL is not shown",
        ),
        (
            f"webhook:\n  url: file:///etc/{TOKEN}\n",  # urllib read the file and it counted as posted
            "webhook.url: must be an http:// or https:// URL with a host (its scheme is file:; the URL is not shown",
        ),
        (
            f"webhook:\n  url: chat/{TOKEN} with a space\n",  # a traceback ending in 'unknown url type: <the URL>'
            "webhook.url: must be an http:// or https:// URL with a host (it has no scheme; the URL is not shown",
        ),
        (
            f"webhook:\n  url: https:///{TOKEN}\n",
            "webhook.url: must be an http:// or https:// URL with a host (it has no host; the URL is not shown",
        ),
        (f"webhook:\n  url: http://chat:99999/{TOKEN}\n", "webhook.url: has a port that is not a number from 1 to"),
        ("webhook:\n  url: http://chat/hook\n  timeout: .inf\n", "webhook.timeout: input should be a finite number"),
        ("webhook:\n  url: http://chat/hook\n  timeout: 1e400\n", "webhook.timeout: input should be a finite number"),
    ],
)
def test_a_bad_notify_yaml_is_named_in_one_line(store: tuple[Path, str], notify: str | None, problem: str) -> None:
    result = _digest(store, notify=notify)
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {store[0] / 'notify.yaml'}: {problem}")
    assert result.output.count("\n") == 1 and TOKEN not in result.output


def test_run_with_digest_checks_notify_yaml_before_the_run(store: tuple[Path, str]) -> None:
    config, url = store
    result = CliRunner().invoke(main, ["--config", str(config), "--database", url, "run", "--digest"])
    assert result.exit_code == 2
    assert result.output == (
        f"error: {config / 'notify.yaml'}: no smtp server or webhook to send the digest through "
        "(docs/pack.md shows an example; `benefits digest --dry-run` prints the digest)\n"
    )


@pytest.mark.slow
def test_the_weekly_run_sends_the_digest_at_its_end(
    demo_config: Path, tmp_path: Path, webhook: ThreadingHTTPServer
) -> None:
    port = webhook.server_address[1]
    (demo_config / "notify.yaml").write_text(f"webhook:\n  url: http://127.0.0.1:{port}/digest\n")
    root = ["--config", str(demo_config), "--database", f"sqlite:///{tmp_path / 'b.db'}"]
    assert CliRunner().invoke(main, [*root, "init"]).exit_code == 0
    result = CliRunner().invoke(main, [*root, "run", "--digest", "--workers", "1", "--as-of", "2026-12-01"])
    assert result.exit_code == 0, result.output
    assert f"digest posted to webhook http://127.0.0.1:{port}: " in result.output
    texts = [payload["text"] for _, _, payload in webhook.posts]  # type: ignore[attr-defined]
    assert any("data stale: no new data for ledger.contractor_savings" in text for text in texts)


# -- the steering pack attached; STARTTLS and implicit TLS with a certificate made here ------------------------


@pytest.mark.browser
def test_the_steering_pack_is_attached_as_pdf_when_asked_by_option_or_notify_yaml(
    store: tuple[Path, str], smtp: tuple[_Mailbox, int]
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    mailbox, port = smtp
    env = {"SMTP_PASSWORD": SECRET, "BENEFITS_CHROMIUM": str(CHROMIUM)}
    result = _digest(store, "--attach-pack", notify=_smtp_yaml(port), env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(", with ")[0] for line in lines] == [
        "digest e-mailed to Finance operations <finance.ops@example.com>: 2 items",
        "digest e-mailed to Sales <sales@example.com>: 1 item",
    ]
    assert all(", with steering-pack-2025-07-07.pdf (" in line and line.endswith(" KiB)") for line in lines)
    later = dd.AS_OF + dt.timedelta(days=7)  # this week's digests were delivered, and are not sent twice
    result = _digest(store, notify=_smtp_yaml(port) + "attach_pack: true\n", env=env, as_of=later)  # in notify.yaml
    assert result.exit_code == 0, result.output
    assert len(mailbox.messages) == 4
    for n, (_, message) in enumerate(mailbox.messages):
        body = message.get_body(("plain",))
        assert body is not None and "your benefits in Dashboard fixture portfolio" in body.get_content()
        [pack] = list(message.iter_attachments())
        name = f"steering-pack-{(dd.AS_OF if n < 2 else later).isoformat()}.pdf"
        assert (pack.get_content_type(), pack.get_filename()) == ("application/pdf", name)
        assert pack.get_content().startswith(b"%PDF-")


def test_an_attached_pack_is_previewed_and_needs_an_smtp_server_and_chromium(
    store: tuple[Path, str], smtp: tuple[_Mailbox, int], tmp_path: Path
) -> None:
    result = _digest(store, "--attach-pack", "--dry-run", notify=_smtp_yaml(smtp[1]), env={"SMTP_PASSWORD": SECRET})
    assert result.exit_code == 0, result.output
    assert "attachment: steering-pack-2025-07-07.pdf (the steering pack, printed when sent)\n" in result.output
    result = _digest(store, "--attach-pack", notify="webhook:\n  url: http://127.0.0.1:9/digest\n")
    assert (result.exit_code, result.output) == (
        2,
        f"error: {store[0] / 'notify.yaml'}: the steering pack is attached to e-mails, and there is no smtp "
        "server to send them through\n",
    )
    missing = str(tmp_path / "no-chromium")
    env = {"SMTP_PASSWORD": SECRET, "BENEFITS_CHROMIUM": missing}
    result = _digest(store, notify=_smtp_yaml(smtp[1]) + "attach_pack: true\n", env=env)
    assert result.exit_code == 1 and result.output.startswith(f"error: Chromium not found at {missing}: ")
    assert smtp[0].messages == []  # refused before anything was sent


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and its key), made here with cryptography."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert, private = folder / "cert.pem", folder / "key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert, private


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_digest_is_emailed_over_starttls_and_implicit_tls_and_an_untrusted_certificate_is_refused(
    store: tuple[Path, str], tmp_path: Path, security: str
) -> None:
    cert, key = _certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    mailbox, port = _Mailbox(), _free_port()
    if security == "starttls":  # plain connection, then STARTTLS, required before AUTH and MAIL
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=port,
            authenticator=_authenticate,
            tls_context=server_tls,
            require_starttls=True,
        )
    else:  # TLS from the first byte (SMTPS); aiosmtpd counts only STARTTLS as TLS for AUTH, hence auth_require_tls
        controller = Controller(
            mailbox,
            hostname="127.0.0.1",
            port=port,
            authenticator=_authenticate,
            ssl_context=server_tls,
            auth_require_tls=False,
        )
    controller.start()
    try:
        notify = _smtp_yaml(port).replace("security: none", f"security: {security}")
        result = _digest(store, notify=notify, env={"SMTP_PASSWORD": SECRET, "SSL_CERT_FILE": str(cert)})
        assert result.exit_code == 0, result.output
        assert [to for to, _ in mailbox.messages] == [["finance.ops@example.com"], ["sales@example.com"]]
        untrusted = _digest(  # another week's digest: this week's was delivered, and would not be sent again
            store,
            notify=notify,
            env={"SMTP_PASSWORD": SECRET, "SSL_CERT_FILE": str(tmp_path / "x")},
            as_of=dd.AS_OF + dt.timedelta(days=7),
        )
    finally:
        controller.stop()
    assert untrusted.exit_code == 1 and untrusted.output.count("\n") == 1
    assert untrusted.output.startswith(f"error: SMTP server 127.0.0.1:{port}: ")
    assert "certificate verify failed" in untrusted.output and SECRET not in untrusted.output
    assert len(mailbox.messages) == 2  # nothing more was sent
