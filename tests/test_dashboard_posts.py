"""The dashboard's state-changing requests, over the real WSGI app: a malformed callback body is a 400 (not a 500)
and a cross-site POST is refused (403) before Dash sees it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import dash
import pytest
from click.testing import CliRunner

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
