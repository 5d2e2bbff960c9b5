"""Dashboard access: users file with scrypt hashes (benefits.users), trusted proxy header, roles, refusing open
exposure."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dash
import flask
import pytest
from click.testing import CliRunner

from benefits import users
from benefits.cli import main
from benefits.dashboards import auth, data, server
from benefits.dashboards.app import create_app, serve
from benefits.dashboards.auth import AuthSettings
from benefits.errors import ConfigError
from benefits.users import User, UserEntry

from . import dashboard_data as dd

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return dd.build_store(tmp_path_factory.mktemp("auth"))


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    users.save_users(
        path,
        {
            "ada": UserEntry("ada", "finance", users.hash_password(PASSWORD)),
            "bob": UserEntry("bob", "viewer", users.hash_password(PASSWORD)),
            "proxy-only": UserEntry("proxy-only", "pmo"),
        },
    )
    return path


def basic(name: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def probe_app(settings: AuthSettings, store_url: str) -> dash.Dash:
    """The dashboard plus one callback that needs the finance role, called through HTTP like a button."""
    app = create_app(store_url, settings)

    @app.server.route("/probe/<role>")
    def probe(role: str) -> str:
        user = auth.require_role(role)
        return f"{user.name}:{user.role}"

    return app


def test_users_file_round_trips_without_keeping_passwords(users_file: Path) -> None:
    known = users.load_users(users_file)
    assert set(known) == {"ada", "bob", "proxy-only"}
    assert known["ada"].role == "finance" and known["ada"].password_hash.startswith("scrypt:")
    assert PASSWORD not in users_file.read_text()
    assert users_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("users: [{name: eve, role: boss, password: x}]", "user eve: role must be one of viewer, pmo, finance, admin"),
        ("users: [{role: viewer}]", "user 1 has no name"),
        ("users: [{name: a, role: viewer}, {name: a, role: pmo}]", "user 2 (a) is listed twice"),
        ("- just a list", "expected a mapping with a `users` list"),
        ("users: [", "invalid YAML"),
        (
            "users: [{name: a, role: viewer}]\nusers: []",
            "line 2, column 1: duplicate key 'users' (first given at line 1)",
        ),
    ],
)
def test_a_bad_users_file_names_the_file_and_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"{path}: .*") as caught:
        users.load_users(path)
    assert message in str(caught.value)


def test_admin_holds_every_role() -> None:
    assert User("root", "admin").has_role("finance")
    assert User("ada", "finance").has_role("pmo", "finance")
    assert not User("bob", "viewer").has_role("pmo")


def test_users_file_mode_asks_for_a_password_on_pages_and_callbacks(users_file: Path, store_url: str) -> None:
    client = probe_app(AuthSettings(users_file=users_file), store_url).server.test_client()
    for path in ("/", "/benefit/it-opex", "/_dash-layout"):
        response = client.get(path)
        assert response.status_code == 401 and "Basic" in response.headers["WWW-Authenticate"], path
    assert client.post("/_dash-update-component", json={}).status_code == 401
    assert client.get("/", headers=basic("ada", "wrong password")).status_code == 401
    assert client.get("/", headers=basic("nobody", PASSWORD)).status_code == 401
    assert client.get("/", headers=basic("proxy-only", "")).status_code == 401
    assert client.get("/", headers=basic("ada", PASSWORD)).status_code == 200


def test_require_role_answers_403_to_a_user_without_the_role(users_file: Path, store_url: str) -> None:
    client = probe_app(AuthSettings(users_file=users_file), store_url).server.test_client()
    allowed = client.get("/probe/finance", headers=basic("ada", PASSWORD))
    assert allowed.status_code == 200 and allowed.get_data(as_text=True) == "ada:finance"
    refused = client.get("/probe/finance", headers=basic("bob", PASSWORD))
    assert refused.status_code == 403
    assert "bob has role viewer; this needs role finance" in refused.get_data(as_text=True)


def test_require_role_inside_a_dash_callback_is_a_403(users_file: Path, store_url: str) -> None:
    app = create_app(store_url, AuthSettings(users_file=users_file))
    body = {
        "output": "probe-out.children",
        "outputs": {"id": "probe-out", "property": "children"},
        "inputs": [{"id": "probe-in", "property": "n_clicks", "value": 1}],
        "changedPropIds": ["probe-in.n_clicks"],
        "state": [],
    }

    @app.callback(dash.Output("probe-out", "children"), dash.Input("probe-in", "n_clicks"))
    def approve(_clicks: Any) -> str:
        return f"approved by {auth.require_role('finance').name}"

    client = app.server.test_client()
    assert client.post("/_dash-update-component", json=body, headers=basic("bob", PASSWORD)).status_code == 403
    ok = client.post("/_dash-update-component", json=body, headers=basic("ada", PASSWORD))
    assert ok.status_code == 200 and "approved by ada" in ok.get_data(as_text=True)


def test_trusted_header_mode_takes_the_name_and_role_from_the_proxy(users_file: Path, store_url: str) -> None:
    settings = AuthSettings(users_file=users_file, user_header="X-Forwarded-User", role_header="X-Forwarded-Role")
    client = probe_app(settings, store_url).server.test_client()
    missing = client.get("/")
    assert missing.status_code == 403 and "no X-Forwarded-User header" in missing.get_data(as_text=True)
    assert client.get("/probe/pmo", headers={"X-Forwarded-User": "cy", "X-Forwarded-Role": "pmo"}).text == "cy:pmo"
    # no role header: the users file's role, else viewer
    assert client.get("/probe/pmo", headers={"X-Forwarded-User": "proxy-only"}).text == "proxy-only:pmo"
    assert client.get("/probe/pmo", headers={"X-Forwarded-User": "stranger"}).status_code == 403
    bad = client.get("/", headers={"X-Forwarded-User": "cy", "X-Forwarded-Role": "boss"})
    assert bad.status_code == 403 and "role boss of cy is not one of" in bad.text


def test_open_mode_is_the_local_admin(store_url: str) -> None:
    client = probe_app(AuthSettings(), store_url).server.test_client()
    assert client.get("/probe/finance").text == "local:admin"


def test_current_user_outside_a_request_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="only known while the dashboard answers a request"):
        auth.current_user()


@pytest.mark.parametrize(
    ("written", "host"),
    [("[::1]", "::1"), ("[2001:db8::9]", "2001:db8::9"), ("::1", "::1"), ("localhost", "localhost")],
)
def test_one_helper_reads_an_ipv6_address_in_brackets_for_serve_the_host_check_and_forwarded_for(
    written: str, host: str
) -> None:
    """`serve --host`, the server's check that the host resolves and each X-Forwarded-For entry each took the
    brackets off in their own way; they share auth.unbracketed."""
    assert auth.unbracketed(written) == host and auth.unbracketed("[]") == "[]"  # "[]" is empty: refused as such
    assert auth._address(f"{written}:4711" if written.startswith("[") else written) == host
    looked_up: list[str] = []

    def getaddrinfo(address: str, *args: Any, **kwargs: Any) -> list[Any]:
        looked_up.append(address)
        return []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(server.socket, "getaddrinfo", getaddrinfo)
        server._resolve(written, 8050)
    assert looked_up == [host]


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"])
def test_open_on_loopback_starts_saying_so_in_its_one_line(
    host: str, monkeypatch: pytest.MonkeyPatch, store_url: str
) -> None:
    said: list[str] = []
    monkeypatch.setattr(server, "run", lambda app, host, port, debug, ready, proxy_headers: ready())
    monkeypatch.setattr(data, "_factory", data._factory)
    serve(host, 8050, store_url, echo=said.append)
    address = "[::1]" if "::1" in host else host  # written in brackets or not, once in the URL
    assert said == [
        f"dashboard on http://{address}:8050/ (open: no sign-in, anyone on this machine acts as admin; Ctrl+C to stop)"
    ]


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "dashboard.example.org"])
def test_open_on_a_shared_address_refuses_to_start(host: str, monkeypatch: pytest.MonkeyPatch, store_url: str) -> None:
    monkeypatch.setattr(server, "run", lambda *args, **kwargs: pytest.fail("must not start"))
    with pytest.raises(ConfigError, match=f"refusing to serve the dashboard on {host} without authentication"):
        serve(host, 8050, store_url)


def test_debug_mode_is_refused_on_a_shared_address(users_file: Path, store_url: str) -> None:
    with pytest.raises(ConfigError, match="on 0.0.0.0 in debug mode: its debugger runs code"):
        serve("0.0.0.0", 8050, store_url, debug=True, auth=AuthSettings(users_file=users_file))


def test_authenticated_dashboard_may_listen_on_any_address(
    users_file: Path, monkeypatch: pytest.MonkeyPatch, store_url: str
) -> None:
    calls: list[tuple[str, int, bool, bool]] = []
    said: list[str] = []
    monkeypatch.setattr(
        server,
        "run",
        lambda app, host, port, debug, ready, proxy_headers: (
            calls.append((host, port, debug, proxy_headers)) or ready()
        ),
    )
    monkeypatch.setattr(data, "_factory", data._factory)
    serve("0.0.0.0", 8050, store_url, auth=AuthSettings(users_file=users_file), echo=said.append)
    assert calls == [("0.0.0.0", 8050, False, False)]  # no trusted proxy: its headers are not wanted
    assert said == ["dashboard on http://0.0.0.0:8050/ (sign-in with the users file; Ctrl+C to stop)"]


def test_cli_adds_lists_and_removes_users(tmp_path: Path) -> None:
    path = tmp_path / "config" / "users.yaml"
    runner = CliRunner()
    added = runner.invoke(
        main,
        ["--config", str(tmp_path / "config"), "users", "add", "ada", "--role", "finance", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert added.exit_code == 0, added.output
    assert users.password_matches(users.load_users(path)["ada"], PASSWORD)
    listed = runner.invoke(main, ["users", "list", "--file", str(path)])
    assert listed.output == "ada\tfinance\tpassword\n"
    short = runner.invoke(
        main, ["users", "add", "bob", "--role", "viewer", "--password-stdin", "--file", str(path)], input="short\n"
    )
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    removed = runner.invoke(main, ["users", "remove", "ada", "--file", str(path)])
    assert removed.exit_code == 0 and users.load_users(path) == {}
    again = runner.invoke(main, ["users", "remove", "ada", "--file", str(path)])
    assert again.exit_code == 2 and f"error: {path}: no user called ada" in again.output


def test_cli_serve_refuses_an_open_shared_address(tmp_path: Path, store_url: str) -> None:
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path), "--database", store_url, "serve", "--host", "0.0.0.0"]
    )
    assert result.exit_code == 2
    assert "error: refusing to serve the dashboard on 0.0.0.0 without authentication" in result.output


def test_trusted_header_is_believed_only_from_the_trusted_proxy(users_file: Path, store_url: str) -> None:
    forged = {"X-Forwarded-User": "mallory", "X-Forwarded-Role": "finance"}
    settings = AuthSettings(
        users_file=users_file,
        user_header="X-Forwarded-User",
        role_header="X-Forwarded-Role",
        trusted_proxies=("10.0.0.0/24",),
    )
    client = probe_app(settings, store_url).server.test_client()
    direct = client.get("/probe/finance", headers=forged, environ_base={"REMOTE_ADDR": "192.168.1.66"})
    assert direct.status_code == 403 and "only accepted from the trusted proxy" in direct.text
    loopback = client.get("/probe/finance", headers=forged)  # 127.0.0.1 is not the proxy either
    assert loopback.status_code == 403
    proxied = client.get(
        "/probe/finance",
        headers={"X-Forwarded-User": "ada", "X-Forwarded-Role": "finance"},
        environ_base={"REMOTE_ADDR": "10.0.0.7"},
    )
    assert proxied.text == "ada:finance"


def test_trusted_header_on_a_shared_address_needs_a_trusted_proxy(
    users_file: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "run", lambda *args, **kwargs: pytest.fail("must not start"))
    header = AuthSettings(user_header="X-Forwarded-User")
    with pytest.raises(ConfigError, match="refusing to trust X-Forwarded-User on 0.0.0.0: .* pass --trusted-proxy"):
        serve("0.0.0.0", 8050, store_url, auth=header)
    with pytest.raises(ConfigError, match="^--trusted-proxy proxy.local: not an IP address or network"):
        auth.check_exposure("0.0.0.0", AuthSettings(user_header="X-Forwarded-User", trusted_proxies=("proxy.local",)))
    auth.check_exposure("0.0.0.0", AuthSettings(user_header="X-Forwarded-User", trusted_proxies=("10.0.0.5",)))
    cli = CliRunner().invoke(
        main, ["--database", store_url, "serve", "--host", "0.0.0.0", "--auth-header", "X-Forwarded-User"]
    )
    assert cli.exit_code == 2 and "refusing to trust X-Forwarded-User on 0.0.0.0" in cli.stderr


def test_wrong_passwords_lock_out_the_name_and_the_address_for_a_while(
    users_file: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    client = probe_app(AuthSettings(users_file=users_file), store_url).server.test_client()
    attacker = {"REMOTE_ADDR": "192.0.2.9"}
    for _ in range(auth.MAX_FAILURES):
        assert client.get("/probe/viewer", headers=basic("ada", "guess"), environ_base=attacker).status_code == 401
    locked = client.get("/probe/viewer", headers=basic("ada", PASSWORD), environ_base=attacker)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == str(int(auth.FAILURE_WINDOW) + 1)
    # the name is locked from everywhere; another user from another address is not slowed down
    assert client.get("/probe/viewer", headers=basic("ada", PASSWORD)).status_code == 429
    assert client.get("/probe/viewer", headers=basic("bob", PASSWORD)).text == "bob:viewer"
    # the address is locked for every name
    assert client.get("/probe/viewer", headers=basic("bob", PASSWORD), environ_base=attacker).status_code == 429
    clock[0] += auth.FAILURE_WINDOW + 1
    assert client.get("/probe/finance", headers=basic("ada", PASSWORD), environ_base=attacker).text == "ada:finance"


def test_behind_a_trusted_proxy_wrong_passwords_are_counted_per_forwarded_client(
    users_file: Path, store_url: str
) -> None:
    settings = AuthSettings(users_file=users_file, trusted_proxies=("10.0.0.5",))
    client = probe_app(settings, store_url).server.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    attacker = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}  # the proxy appended the address it saw
    for name in ("eve", "mallory", "trudy", "oscar", "carol"):
        guess = client.get("/probe/viewer", headers=basic(name, "guess") | attacker, environ_base=proxy)
        assert guess.status_code == 401
    assert client.get("/probe/viewer", headers=basic("ada", PASSWORD) | attacker, environ_base=proxy).status_code == 429
    # everybody else comes through the same proxy and is not locked out with the attacker
    colleague = basic("ada", PASSWORD) | {"X-Forwarded-For": "192.0.2.20"}
    assert client.get("/probe/finance", headers=colleague, environ_base=proxy).text == "ada:finance"
    # a peer that is not the proxy cannot pick its address with the header
    direct = {"REMOTE_ADDR": "203.0.113.9"}
    for name in ("eve", "mallory", "trudy", "oscar", "carol"):
        forged = basic(name, "guess") | {"X-Forwarded-For": f"192.0.2.{len(name)}"}
        assert client.get("/probe/viewer", headers=forged, environ_base=direct).status_code in (401, 429)
    assert client.get("/probe/viewer", headers=basic("bob", PASSWORD), environ_base=direct).status_code == 429


def test_behind_a_trusted_proxy_one_client_written_with_ports_or_as_mapped_ipv6_is_one_address(
    users_file: Path, store_url: str
) -> None:
    """A proxy that writes the client with its port (203.0.113.9:4711, [2001:db8::9]:4711; Azure's and IIS's do)
    made every connection a new address, and ::ffff:203.0.113.9 another one than 203.0.113.9: the per-address
    throttle never locked a client that sprayed guesses over many names; nor was the trusted proxy itself
    recognised when it was written with a port."""
    settings = AuthSettings(users_file=users_file, trusted_proxies=("10.0.0.5",))
    client = probe_app(settings, store_url).server.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    for spellings in (
        ["203.0.113.9:4711", "203.0.113.9:4712", "::ffff:203.0.113.9", "[::ffff:203.0.113.9]:80", "203.0.113.9"],
        ["[2001:db8::9]:4711", "[2001:db8::9]:4712", "2001:0db8:0:0::9", "[2001:DB8::9]", "2001:db8::9, 10.0.0.5:443"],
    ):
        for n, written in enumerate(spellings):
            guess = basic(f"name{n}", "guess") | {"X-Forwarded-For": written}
            assert client.get("/probe/viewer", headers=guess, environ_base=proxy).status_code == 401
        again = basic("ada", PASSWORD) | {"X-Forwarded-For": spellings[0]}
        assert client.get("/probe/viewer", headers=again, environ_base=proxy).status_code == 429, spellings
    colleague = basic("bob", PASSWORD) | {"X-Forwarded-For": "192.0.2.20:5000"}
    assert client.get("/probe/viewer", headers=colleague, environ_base=proxy).text == "bob:viewer"


def test_proxy_headers_reach_the_app_only_from_a_trusted_proxy(users_file: Path, store_url: str) -> None:
    """As waitress does by default, whatever server runs the app: a client cannot hand the app its own X-Forwarded-*."""
    sent = dict.fromkeys(auth.PROXY_HEADERS, "192.0.2.20")

    def seen(settings: AuthSettings, peer: str, headers: dict[str, str]) -> list[str]:
        app = probe_app(settings, store_url)
        app.server.add_url_rule("/seen", "seen", lambda: ",".join(flask.request.headers.get(h, "-") for h in sent))
        response = app.server.test_client().get("/seen", headers=headers, environ_base={"REMOTE_ADDR": peer})
        return response.text.split(",")

    proxied = AuthSettings(users_file=users_file, trusted_proxies=("10.0.0.0/24",))
    assert seen(proxied, "10.0.0.5", basic("ada", PASSWORD) | sent) == ["192.0.2.20"] * len(sent)
    assert seen(proxied, "203.0.113.9", basic("ada", PASSWORD) | sent) == ["-"] * len(sent)
    # nothing reads them without a trusted proxy: nobody's reach the app
    assert seen(AuthSettings(users_file=users_file), "127.0.0.1", basic("ada", PASSWORD) | sent) == ["-"] * len(sent)
    assert seen(AuthSettings(), "127.0.0.1", sent) == ["-"] * len(sent)
    # the user header is read from loopback by default, so loopback's proxy headers reach the app
    header = AuthSettings(user_header="X-Forwarded-Host", role_header="Forwarded")
    assert seen(header, "127.0.0.1", sent | {"Forwarded": "viewer"}) == ["192.0.2.20"] * (len(sent) - 1) + ["viewer"]


@pytest.mark.parametrize("option", ["--auth-header", "--role-header"])
@pytest.mark.parametrize("name", ["X_Remote_User", "X-User:", "X User", "X-Üser"])
def test_a_header_name_no_request_could_carry_is_refused_at_start(
    tmp_path: Path, store_url: str, option: str, name: str
) -> None:
    headers = ["--auth-header", name] if option == "--auth-header" else ["--auth-header", "X-User", option, name]
    result = CliRunner().invoke(main, ["--config", str(tmp_path), "--database", store_url, "serve", *headers])
    assert result.exit_code == 2 and result.stderr == (
        f"error: {option} {name!r}: not a header name that reaches the dashboard (letters, digits and -, "
        "e.g. X-Forwarded-User; waitress drops a header with _ in its name)\n"
    )


def test_serve_on_an_address_this_machine_lacks_says_so(users_file: Path, store_url: str) -> None:
    from benefits.errors import BenefitsError

    with pytest.raises(BenefitsError) as refused:  # 192.0.2.0/24 is for documentation: no machine has it
        serve("192.0.2.1", 0, store_url, auth=AuthSettings(users_file=users_file), echo=lambda line: None)
    assert str(refused.value) == (
        "cannot listen on 192.0.2.1 port 0: Cannot assign requested address; 192.0.2.1 is not one of this "
        "machine's addresses: pass one of them as --host (or 0.0.0.0 for all)"
    )


def test_cli_trusted_proxy_needs_a_header_or_a_users_file(tmp_path: Path, store_url: str) -> None:
    result = CliRunner().invoke(
        main, ["--config", str(tmp_path), "--database", store_url, "serve", "--trusted-proxy", "10.0.0.5"]
    )
    assert result.exit_code == 2 and result.stderr == "error: --trusted-proxy needs --auth-header or a users file\n"


def test_an_unknown_name_costs_a_password_check_like_a_known_one(
    users_file: Path, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = auth.password_matches
    monkeypatch.setattr(
        auth, "password_matches", lambda entry, password: checked.append(entry.name) or real(entry, password)
    )
    client = probe_app(AuthSettings(users_file=users_file), store_url).server.test_client()
    assert client.get("/", headers=basic("nobody", "guess")).status_code == 401
    assert client.get("/", headers=basic("ada", "guess")).status_code == 401
    assert checked == ["", "ada"]  # the decoy entry for the unknown name, then ada's own hash


def test_every_response_carries_the_security_headers(users_file: Path, store_url: str) -> None:
    client = probe_app(AuthSettings(users_file=users_file), store_url).server.test_client()
    for response in (client.get("/"), client.get("/", headers=basic("ada", PASSWORD))):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        policy = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy


def test_the_policy_allows_only_the_inline_scripts_the_page_has(users_file: Path, store_url: str) -> None:
    client = probe_app(AuthSettings(users_file=users_file), store_url).server.test_client()
    assert client.get("/").status_code == 401  # the policy is first made for this answer, before any page
    page = client.get("/", headers=basic("ada", PASSWORD))
    assert page.headers["Content-Security-Policy"] == client.get("/").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in page.headers["Content-Security-Policy"].split(";"))
    html = re.sub(r"<!--.*?-->", "", page.text, flags=re.S)  # Dash's note to Internet Explorer is in a comment
    inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", html, re.S)
    assert inline  # Dash starts its renderer with an inline script
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline}
    allowed = directives["script-src"].split()
    assert allowed[0] == "'self'" and hashes <= set(allowed)
    assert "'unsafe-inline'" not in allowed and "'unsafe-eval'" not in allowed
    assert directives["object-src"] == "'none'" and directives["connect-src"] == "'self'"


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/../../etc/passwd",
        "/_dash-component-suites/dash/..%2f..%2fsetup.py",
        "/_dash-component-suites/nosuch/x.js",
        "/_dash-component-suites/dash/dcc/%2e%2e/%2e%2e/x.js",
        "/_dash-component-suites/plotly/package_data/../../../os.py",
    ],
)
def test_an_unknown_component_suite_path_is_a_plain_404(path: str, store_url: str) -> None:
    response = probe_app(AuthSettings(), store_url).server.test_client().get(path)
    assert response.status_code == 404 and response.text == "Not found.\n"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_component_suites_the_page_names_are_still_served(store_url: str) -> None:
    import re

    client = probe_app(AuthSettings(), store_url).server.test_client()
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', client.get("/").text)
    assert scripts and all(client.get(src).status_code == 200 for src in scripts)


# -- the served app: waitress on a real socket ------------------------------------------------------

SERVE = (
    "import sys, pathlib; from benefits.dashboards.app import serve; "
    "from benefits.dashboards.auth import AuthSettings; "
    "serve('127.0.0.1', int(sys.argv[1]), sys.argv[2], auth=AuthSettings(users_file=pathlib.Path(sys.argv[3]), "
    "user_header=sys.argv[4] or None, role_header=sys.argv[5] or None, trusted_proxies=tuple(sys.argv[6:])))"
)


@contextmanager
def serving(
    store_url: str, users_file: Path, log: Path, header: str = "", role_header: str = "", *proxies: str
) -> Iterator[str]:
    """``serve()`` in its own process on a free loopback port; its base URL once it answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE, str(port), store_url, str(users_file), header, role_header, *proxies],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while fetch(base + "/")[0] == 0:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """Status, headers and body of a GET over the socket (status 0 while nothing listens)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, dict(answer.headers), answer.read().decode()
    except OSError:
        return 0, {}, ""


def test_served_dashboard_locks_out_wrong_passwords_and_names_no_server_version(
    users_file: Path, store_url: str, tmp_path: Path
) -> None:
    with serving(store_url, users_file, tmp_path / "serve.log") as base:
        status, headers, body = fetch(base + "/")
        assert status == 401 and body == "Sign in with your benefits user name and password.\n"
        assert headers["Server"] == "benefits"  # waitress, not Werkzeug and the Python version
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        status, _, body = fetch(base + "/", basic("ada", PASSWORD))
        assert status == 200 and "/assets/benefits.css" in body
        for _ in range(auth.MAX_FAILURES):
            assert fetch(base + "/", basic("ada", "guess"))[0] == 401
        status, headers, body = fetch(base + "/", basic("ada", PASSWORD))  # the right password, too late
        assert status == 429 and 0 < int(headers["Retry-After"]) <= auth.FAILURE_WINDOW + 1
        assert body.startswith("Too many wrong passwords: try again in ") and "Traceback" not in body
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def test_served_dashboard_refuses_a_trusted_header_from_an_untrusted_peer(
    users_file: Path, store_url: str, tmp_path: Path
) -> None:
    forged = {"X-Forwarded-User": "mallory", "X-Forwarded-Role": "finance"}
    with serving(
        store_url, users_file, tmp_path / "proxy.log", "X-Forwarded-User", "X-Forwarded-Role", "10.0.0.0/24"
    ) as base:  # the test's peer address, 127.0.0.1, is not the proxy
        status, headers, body = fetch(base + "/", forged)
        assert status == 403 and body == (
            "X-Forwarded-User is only accepted from the trusted proxy: reach the dashboard through it\n"
        )
        assert headers["Content-Type"].startswith("text/plain")
        assert headers["Server"] == "benefits"
    with serving(store_url, users_file, tmp_path / "loopback.log", "X-Forwarded-User", "X-Forwarded-Role") as base:
        assert fetch(base + "/", {"X-Forwarded-User": "ada", "X-Forwarded-Role": "finance"})[0] == 200
        status, _, body = fetch(base + "/", {"X-Forwarded-User": "ada", "X-Forwarded-Role": "root"})
        assert status == 403 and "role root of ada is not one of" in body


def test_served_dashboard_behind_a_trusted_proxy_counts_wrong_passwords_per_forwarded_client(
    users_file: Path, store_url: str, tmp_path: Path
) -> None:
    """Over waitress, which drops X-Forwarded-* unless told otherwise: the test (127.0.0.1) is the proxy."""
    alice = basic("ada", PASSWORD) | {"X-Forwarded-For": "192.0.2.20"}
    attacker = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}  # the proxy appended the address it saw
    with serving(store_url, users_file, tmp_path / "proxy.log", "", "", "127.0.0.1") as base:
        assert fetch(base + "/", alice)[0] == 200
        for name in ("eve", "mallory", "trudy", "oscar", "carol"):
            assert fetch(base + "/", basic(name, "guess") | attacker)[0] == 401
        assert fetch(base + "/", basic("bob", PASSWORD) | attacker)[0] == 429  # the attacker's address is locked
        assert fetch(base + "/", alice)[0] == 200  # ...and nobody else's
        assert fetch(base + "/", basic("bob", PASSWORD) | {"X-Forwarded-For": "192.0.2.21"})[0] == 200
    # a peer that is not the proxy cannot pick its address with the header
    with serving(store_url, users_file, tmp_path / "direct.log", "", "", "10.0.0.0/24") as base:
        for name in ("eve", "mallory", "trudy", "oscar", "carol"):
            assert fetch(base + "/", basic(name, "guess") | {"X-Forwarded-For": f"192.0.2.{len(name)}"})[0] == 401
        assert fetch(base + "/", basic("bob", PASSWORD) | {"X-Forwarded-For": "192.0.2.99"})[0] == 429
    assert "Traceback" not in (tmp_path / "proxy.log").read_text() + (tmp_path / "direct.log").read_text()


def test_served_dashboard_takes_the_user_from_a_header_waitress_would_drop(
    users_file: Path, store_url: str, tmp_path: Path
) -> None:
    """X-Forwarded-Host and Forwarded are among the proxy headers waitress removes by default."""
    with serving(store_url, users_file, tmp_path / "host.log", "X-Forwarded-Host", "Forwarded") as base:
        assert fetch(base + "/", {"X-Forwarded-Host": "ada", "Forwarded": "finance"})[0] == 200
        status, _, body = fetch(base + "/", {"X-Forwarded-Host": "ada", "Forwarded": "root"})
        assert status == 403 and "role root of ada is not one of" in body
        status, _, body = fetch(base + "/")
        assert status == 403 and body == "no X-Forwarded-Host header: reach the dashboard through its proxy\n"


def test_benefits_serve_says_one_line_then_nothing_under_load_and_stops_quietly_on_ctrl_c(
    store_url: str, tmp_path: Path
) -> None:
    """The command as a PMO runs it: stderr is its one line, though a browser's burst of requests queues them."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [str(Path(sys.executable).parent / "benefits"), "--config", str(tmp_path), "--database", store_url]
    out, err = tmp_path / "out", tmp_path / "err"
    # A serve that does not stop is aborted below: faulthandler then prints where each thread was.
    dumps = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    with out.open("w") as stdout, err.open("w") as stderr:
        process = subprocess.Popen(
            [*command, "serve", "--port", str(port)],
            stdout=stdout,
            stderr=stderr,
            env=dumps,
            # Ctrl+C as in a terminal, though pytest may run as a background job, which ignores SIGINT and
            # passes that on (seen: serve never saw the SIGINT and stayed in waitress's loop).
            preexec_fn=_interruptible,
        )
    try:
        deadline = time.monotonic() + 60
        while fetch(f"http://127.0.0.1:{port}/")[0] != 200:
            assert process.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.2)
        with ThreadPoolExecutor(40) as pool:  # more at once than the server has threads: waitress queues them
            answers = list(pool.map(lambda _: fetch(f"http://127.0.0.1:{port}/")[0], range(60)))
        assert answers == [200] * 60
        taken = subprocess.run([*command, "serve", "--port", str(port)], capture_output=True, text=True, timeout=120)
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)
            process.wait(timeout=30)
            pytest.fail(f"serve did not stop 30 s after Ctrl+C; its threads then:\n{err.read_text()}")
    assert (taken.returncode, taken.stdout) == (1, "")
    assert taken.stderr == (
        f"error: cannot listen on 127.0.0.1 port {port}: Address already in use; "
        "pass another --port (or --host), or stop the program listening there\n"
    )
    assert process.returncode == 0 and out.read_text() == ""
    assert err.read_text() == (
        f"dashboard on http://127.0.0.1:{port}/ (open: no sign-in, anyone on this machine acts as admin; "
        "Ctrl+C to stop)\n"
    )


def _interruptible() -> None:
    """In the child before it runs: SIGINT back to its default, so that Python turns it into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("no-such-host.invalid", "(Name or service not known)"),
        ("999.1.1.1", "(Name or service not known)"),
        ("", "(it is empty)"),
    ],
)
def test_a_host_that_does_not_resolve_is_one_line_not_a_traceback(host: str, reason: str, debug: bool) -> None:
    """`serve --host` with a name that resolves to no address: waitress raised ValueError('Invalid host/port
    specified.') out of `serve` as a traceback (and Dash's server in debug mode a socket.gaierror)."""
    from benefits.errors import BenefitsError

    ready: list[bool] = []
    with pytest.raises(BenefitsError) as raised:
        server.run(dash.Dash(__name__), host=host, port=8050, debug=debug, ready=lambda: ready.append(True))
    assert str(raised.value) == (
        f"cannot listen on {host!r} port 8050: the host name does not resolve to an address {reason}; "
        "pass one of this machine's addresses or names as --host (127.0.0.1, or 0.0.0.0 for all)"
    )
    assert ready == []


def test_a_refused_port_starts_no_cache_warmer(store_url: str) -> None:
    """The warmer starts only once the server listens: a thread left inside a native library when a
    refused ``serve`` exits could abort the process (seen: exit -6, "terminate called without an
    active exception")."""
    import threading

    from benefits.dashboards import cache
    from benefits.errors import BenefitsError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BenefitsError, match=f"cannot listen on 127.0.0.1 port {port}"):
            serve(port=port, database_url=store_url, echo=lambda line: None)
    assert not [t for t in threading.enumerate() if t.name == cache.WARMER]
