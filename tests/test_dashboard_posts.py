"""The dashboard's state-changing requests, over the real WSGI app: a malformed callback body is a 400 (not a 500)
and a cross-site POST is refused (403) before Dash sees it."""

from __future__ import annotations

import copy
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import dash
import pytest
import waitress
from click.testing import CliRunner
from waitress import wasyncore

from benefits.cli import main
from benefits.dashboards.app import create_app

from .conftest import DEMO_CONFIG

ROUTER: dict[str, Any] = {  # the body the browser sends to show the portfolio page
    "output": ".._pages_content.children..._pages_store.data..",
    "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
    "inputs": [
        {"id": "_pages_location", "property": "pathname", "value": "/"},
        {"id": "_pages_location", "property": "search", "value": ""},
    ],
    "changedPropIds": ["_pages_location.pathname"],
    "state": [],
}


def _changed(**parts: Any) -> str:
    return json.dumps({**copy.deepcopy(ROUTER), **parts})


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dash.Dash]:
    url = f"sqlite:///{tmp_path_factory.mktemp('posts') / 'benefits.db'}"
    assert CliRunner().invoke(main, ["--config", str(DEMO_CONFIG), "--database", url, "init"]).exit_code == 0
    yield create_app(url)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("not json", "the body is not a JSON object"),
        ("[1, 2]", "the body is not a JSON object"),
        ("{}", "output names no callback"),
        ('{"output": 5}', "output names no callback"),
        (_changed(output="nowhere.children"), "output names no callback"),
        (_changed(outputs=3), "outputs must be a list of the callback's 2, each with an id and a property"),
        (_changed(outputs=ROUTER["outputs"][:1]), "outputs must be a list of the callback's 2"),
        (_changed(inputs="x"), "inputs must be a list of the callback's 2"),
        (_changed(inputs=ROUTER["inputs"][:1]), "inputs must be a list of the callback's 2"),
        (_changed(inputs=["x", 1]), "inputs must name the callback's ids and properties"),
        (_changed(inputs=[ROUTER["inputs"][1], ROUTER["inputs"][0]]), "inputs must name the callback's ids"),
        (_changed(state={"a": 1}), "state must be a list of the callback's 0"),
        ('{"output": "_pages_dummy.children"}', "output names no callback"),  # one that runs in the browser
        (_changed(inputs=[{**ROUTER["inputs"][0], "value": None}, ROUTER["inputs"][1]]), "inputs must name"),
        (_changed(inputs=[{**ROUTER["inputs"][0], "value": "zz"}, ROUTER["inputs"][1]]), "inputs must name"),
        (_changed(inputs=[ROUTER["inputs"][0], {**ROUTER["inputs"][1], "value": 5}]), "inputs must name"),
        (_changed(changedPropIds="_pages_location.pathname"), "changedPropIds must be a list of strings"),
    ],
)
def test_a_malformed_callback_body_answers_400_with_the_reason(app: dash.Dash, body: str, reason: str) -> None:
    response = app.server.test_client().post("/_dash-update-component", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith(f"not a callback request of this dashboard: {reason}")


def test_the_browsers_own_callback_body_still_works(app: dash.Dash) -> None:
    response = app.server.test_client().post("/_dash-update-component", json=ROUTER)
    assert response.status_code == 200 and "Portfolio" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Sec-Fetch-Site": "same-origin"}, 200),
        ({"Sec-Fetch-Site": "none"}, 200),  # typed in by the user
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        ({"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"}, 403),  # the browser's word wins
        ({"Origin": "http://localhost"}, 200),  # an older browser, same host
        ({"Origin": "http://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({}, 200),  # not a browser (curl, a script): nothing to forge
    ],
)
def test_a_cross_site_post_is_refused(app: dash.Dash, headers: dict[str, str], status: int) -> None:
    client = app.server.test_client()
    response = client.post("/_dash-update-component", json=ROUTER, headers=headers)
    assert response.status_code == status
    if status == 403:
        assert "may not change anything" in response.get_data(as_text=True)
    assert client.get("/", headers=headers).status_code == 200  # reading is not refused


def test_a_cross_site_post_is_refused_on_any_path(app: dash.Dash) -> None:
    response = app.server.test_client().post("/anything", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403


# -- values of the wrong type, over a real socket (waitress, as `benefits serve` runs it) --------------------------


@pytest.fixture(scope="module")
def served(app: dash.Dash) -> Iterator[str]:
    """The app served by waitress on a free loopback port, in this process; its base URL."""
    server = waitress.create_server(app.server, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    # Closed from inside its own loop, which then ends: closed from here, the loop's select() would
    # meet a closed descriptor in its thread (EBADF).
    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    thread.join(timeout=10)
    server.task_dispatcher.shutdown()
    assert not thread.is_alive()


def _post(url: str, body: dict[str, Any]) -> tuple[int, str]:
    request = urllib.request.Request(
        url + "/_dash-update-component", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as answer:
        return answer.code, answer.read().decode()


def _body(callback: str, outputs: Any, inputs: list[tuple[Any, str, Any]], state: list[tuple[Any, str, Any]]) -> Any:
    """A callback request as the browser sends it, with the (id, property, value) of each input and state."""
    return {
        "output": callback,
        "outputs": outputs,
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": [f"{i}.{p}" for i, p, _ in inputs[:1]],
    }


ROWS = [{"benefit": "crm-upsell", "name": "CRM upsell", "target": 100.0}]
EXPORT = {"currency": "GBP", "as_of": "2026-06-29"}
ONE = {"id": "register-download", "property": "data"}


def _csv(callbacks: Any, shown: Any = ROWS, everything: Any = ROWS, export: Any = EXPORT) -> Any:
    callback = next(k for k in callbacks if k.startswith("register-download.data@"))  # allow_duplicate's hash
    state = [("register-grid", "virtualRowData", shown), ("register-grid", "rowData", everything)]
    return _body(callback, ONE, [("register-csv", "n_clicks", 1)], [*state, ("register-export", "data", export)])


def _fan(as_of: Any) -> Any:
    outputs = [{"id": "portfolio-fan", "property": "figure"}, {"id": "portfolio-fan-caption", "property": "children"}]
    return _body(
        "..portfolio-fan.figure...portfolio-fan-caption.children..",
        outputs,
        [("portfolio-fan-as-of", "data", as_of)],
        [],
    )


def _sign_off(claim: Any) -> Any:
    outputs = [{"id": "finance-result", "property": "children"}, {"id": "finance-claims", "property": "children"}]
    clicks = [("finance-approve", "n_clicks", 1), ("finance-reject", "n_clicks", 0)]
    state = [
        ("finance-claim", "value", claim),
        ("finance-comment", "value", "ok"),
        ("finance-initiative", "data", None),
    ]
    return _body("..finance-result.children...finance-claims.children..", outputs, clicks, state)


def _commentary(benefit: Any) -> Any:
    names = ["commentary-result.children", "commentary-shown.children", "commentary-open-action.options"]
    names.append("commentary-open-risk.options")
    outputs = [{"id": n.split(".")[0], "property": n.split(".")[1]} for n in names]
    clicks = [(f"commentary-{b}", "n_clicks", None) for b in ("add-note", "add-action", "add-risk", "action-done")]
    fields = ["note", "action-text", "action-owner", "action-due", "risk-text", "risk-likelihood", "risk-impact"]
    fields += ["risk-mitigation", "open-action", "open-risk"]
    state = [("commentary-benefit", "data", benefit), *[(f"commentary-{f}", "value", None) for f in fields]]
    return _body(f"..{'...'.join(names)}..", outputs, [*clicks, ("commentary-risk-close", "n_clicks", 1)], state)


def _filter(ident: Any) -> Any:
    outputs = {"id": "_pages_location", "property": "search"}
    return _body("_pages_location.search", outputs, [], [("_pages_location", "search", "")]) | {
        "inputs": [[{"id": ident, "property": "value", "value": "Growth"}]],
        "changedPropIds": [json.dumps(ident, separators=(",", ":"), sort_keys=True) + ".value"],
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (lambda c: _csv(c, everything=7), "register-grid.rowData: Input should be a valid list"),
        (lambda c: _csv(c, shown=[1, 2]), "register-grid.virtualRowData[0]: Input should be a valid dictionary"),
        (lambda c: _csv(c, export=["GBP"]), "register-export.data: Input should be a valid dictionary"),
        (lambda c: _csv(c, export={"as_of": "2026-06-29"}), "register-export.data: Value error, currency is missing"),
        (
            lambda c: _csv(c, export={**EXPORT, "as_of": "29/06/2026"}),
            "register-export.data: Value error, as_of: Value error",
        ),
        (lambda c: _fan(20260629), "portfolio-fan-as-of.data: Input should be a valid string"),
        (lambda c: _fan("yesterday"), "portfolio-fan-as-of.data: Value error, Invalid isoformat string"),
        (lambda c: _sign_off("1; drop table claims"), "finance-claim.value: Input should be a valid integer"),
        (lambda c: _sign_off([1]), "finance-claim.value: Input should be a valid integer"),
        (lambda c: _commentary(["crm-upsell"]), "commentary-benefit.data: Input should be a valid dictionary"),
        (
            lambda c: _commentary({"key": 5, "as_of": "2026-06-29"}),
            "commentary-benefit.data['key']: Input should be a valid string",
        ),
        (lambda c: _commentary({"key": "crm-upsell"}), "commentary-benefit.data: Value error, as_of is missing"),
        (lambda c: _filter({"type": "filter", "name": ["programme"]}), "inputs must name the callback's ids"),
        (lambda c: _filter({"type": "filter"}), "inputs must name the callback's ids"),
    ],
    ids=[
        "grid rows a number",
        "grid row a number",
        "store a list",
        "store without a key",
        "store with a UK date",
        "date a number",
        "date not a date",
        "claim id text",
        "claim id a list",
        "benefit a list",
        "benefit key a number",
        "benefit without its date",
        "filter id with a list",
        "filter id without its name",
    ],
)
def test_a_callback_body_of_the_right_shape_with_a_value_of_the_wrong_type_answers_400(
    app: dash.Dash, served: str, body: Any, reason: str
) -> None:
    status, text = _post(served, body(app.callback_map))
    assert status == 400, text
    assert text.startswith(f"not a callback request of this dashboard: {reason}")
    assert text.count("\n") == 1 and "Traceback" not in text


def test_the_same_callbacks_with_values_of_their_type_still_answer(app: dash.Dash, served: str) -> None:
    status, text = _post(served, _csv(app.callback_map))
    assert status == 200 and "benefits-2026-06-29.csv" in text
    status, text = _post(served, _fan("2026-06-29"))
    assert status == 200 and "portfolio-fan" in text
    status, text = _post(served, _sign_off(None))
    assert status == 200 and "Choose a claim first." in text
    status, text = _post(served, _filter({"type": "filter", "name": "programme"}))
    assert status == 200 and "programme=Growth" in text
