"""Sign-off through the real HTTP layer: the Dash app with a users file, callbacks POSTed like a browser."""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from benefits import users
from benefits.claims import ClaimSource, Decision
from benefits.claims.importer import ClaimInput, record_claims
from benefits.claims.signoff import decide
from benefits.dashboards.app import create_app
from benefits.dashboards.auth import AuthSettings
from benefits.store import models
from benefits.users import UserEntry

from .test_claims_store import store

PASSWORD = "a finance password"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    users.save_users(
        path,
        {
            name: UserEntry(name, role, users.hash_password(PASSWORD))
            for name, role in [("fay", "finance"), ("vic", "viewer"), ("pat", "pmo")]
        },
    )
    return path


def basic(name: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{name}:{PASSWORD}".encode()).decode()}


def callback(
    outputs: list[tuple[str, str]], inputs: list[tuple[str, str, Any]], states: list[tuple[str, str, Any]], changed: str
) -> dict[str, Any]:
    """The JSON body the browser POSTs to /_dash-update-component for a multi-output callback."""
    return {
        "output": ".." + "...".join(f"{i}.{p}" for i, p in outputs) + "..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in states],
        "changedPropIds": [changed],
    }


def sign_off(claim_id: int, button: str, comment: str) -> dict[str, Any]:
    return callback(
        [("finance-result", "children"), ("finance-claims", "children")],
        [
            ("finance-approve", "n_clicks", int(button == "approve")),
            ("finance-reject", "n_clicks", int(button == "reject")),
        ],
        [
            ("finance-claim", "value", claim_id),
            ("finance-comment", "value", comment),
            ("finance-initiative", "data", None),
        ],
        f"finance-{button}.n_clicks",
    )


def decisions(sessions: sessionmaker[Session]) -> list[tuple[str, str, str, str]]:
    with sessions() as session:
        return [
            (d.decision, d.decided_by, d.role, d.comment)
            for d in session.scalars(select(models.ClaimDecision).order_by(models.ClaimDecision.id))
        ]


def test_only_finance_can_sign_off_through_http(database_url: str, users_file: Path) -> None:
    sessions = store(database_url)
    with sessions.begin() as session:
        record_claims(session, [ClaimInput("shared-savings", dt.date(2026, 3, 31), Decimal("3000"))], ClaimSource.csv)
        claim_id = session.scalar(select(models.Claim.id))
    client = create_app(database_url, AuthSettings(users_file=users_file)).server.test_client()

    assert client.post("/_dash-update-component", json=sign_off(claim_id, "approve", "ok")).status_code == 401
    for refused in ("vic", "pat"):  # viewer and pmo
        answer = client.post(
            "/_dash-update-component", json=sign_off(claim_id, "approve", "ok"), headers=basic(refused)
        )
        assert answer.status_code == 403 and "this needs role finance" in answer.text
    assert decisions(sessions) == []

    no_comment = client.post("/_dash-update-component", json=sign_off(claim_id, "approve", ""), headers=basic("fay"))
    assert "Not recorded: comment: say why" in no_comment.text
    answer = client.post(
        "/_dash-update-component", json=sign_off(claim_id, "approve", "extract received"), headers=basic("fay")
    )
    assert answer.status_code == 200
    assert json.loads(answer.text)["response"]["finance-result"]["children"] == f"Claim {claim_id} approved by fay."
    claims = json.dumps(json.loads(answer.text)["response"]["finance-claims"], ensure_ascii=False)
    assert "card-validated" in claims and "£3,000" in claims
    again = client.post(
        "/_dash-update-component", json=sign_off(claim_id, "reject", "changed my mind"), headers=basic("fay")
    )
    assert f"Not recorded: claim {claim_id}: already approved by fay on " in again.text  # a decision is final
    assert decisions(sessions) == [("approved", "fay", "finance", "extract received")]


def test_claims_entered_on_the_page_need_pmo_or_finance(sqlite_url: str, users_file: Path) -> None:
    sessions = store(sqlite_url)
    app = create_app(sqlite_url, AuthSettings(users_file=users_file))
    client = app.server.test_client()
    assert client.get("/finance", headers=basic("vic")).status_code == 200  # viewers read the page
    # an output shared with another callback (allow_duplicate) is keyed with a suffix: take the app's own key
    [output] = [key for key in app.callback_map if "finance-record-result" in key]

    def enter(user: str, value: str) -> Any:
        body = callback(
            [("finance-record-result", "children"), ("finance-claims", "children")],
            [("finance-record", "n_clicks", 1)],
            [
                ("finance-new-benefit", "value", "automation-revenue"),
                ("finance-new-period", "value", "2026-03-31"),
                ("finance-new-value", "value", value),
                ("finance-new-class", "value", None),
                ("finance-initiative", "data", None),
            ],
            "finance-record.n_clicks",
        )
        body["output"] = output
        return client.post("/_dash-update-component", json=body, headers=basic(user))

    assert enter("vic", "4000").status_code == 403
    assert "Not recorded: '4,0x' is not an amount of money" in enter("pat", "4,0x").text
    assert "Claim for automation-revenue at 2026-03-31 recorded." in enter("pat", "£4,000.50").text
    with sessions() as session:
        claim = session.scalars(select(models.Claim)).one()
    assert (claim.claimed_value, claim.source, claim.created_by, claim.claim_class) == (
        Decimal("4000.5000"),
        "dashboard",
        "pat",
        "non_cash_releasing",
    )


def test_finance_page_shows_claims_next_to_evidence_and_double_counting(sqlite_url: str, tmp_path: Path) -> None:
    from .test_claims_reconciliation import over_attributed_register

    with pytest.warns(Warning, match="110%"):
        sessions = store(sqlite_url, over_attributed_register(tmp_path))
    with sessions.begin() as session:
        record_claims(session, [ClaimInput("shared-savings", dt.date(2026, 3, 31), Decimal("4000"))], ClaimSource.csv)
    app = create_app(sqlite_url)
    finance = importlib.import_module("benefits.dashboards.pages.finance")  # as the app imported it (not before)
    with app.server.test_request_context("/finance"):
        page = str(finance.layout())
    assert "ledger.shared_costs: attribution shares add up to 110%" in page
    assert "£4,000" in page and "double counted" in page and "card-validated" in page
    assert "not counted as evidenced" in page and "78%" not in page  # double counted: no evidenced share
    with sessions.begin() as session:
        portfolio = session.scalars(select(models.Portfolio)).one()
        portfolio.currency = "EUR"  # updated_at moves with it: the business case (kept per data version) is read again
    with app.server.test_request_context("/finance"):
        page = str(finance.layout())
    assert "€4,000" in page and "£" not in page  # the register's currency, not a default


def test_the_finance_page_shows_each_user_only_the_forms_they_may_use(sqlite_url: str, users_file: Path) -> None:
    sessions = store(sqlite_url)
    with sessions.begin() as session:
        record_claims(session, [ClaimInput("shared-savings", dt.date(2026, 3, 31), Decimal("3000"))], ClaimSource.csv)
        decide(session, session.scalar(select(models.Claim.id)), Decision.approved, "fay", "finance", "extract seen")
    client = create_app(sqlite_url, AuthSettings(users_file=users_file)).server.test_client()
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/finance"},
            {"id": "_pages_location", "property": "search", "value": "?initiative=shared-services"},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }

    def page(user: str) -> str:
        answer = client.post("/_dash-update-component", json=body, headers=basic(user))
        assert answer.status_code == 200
        return answer.text

    viewer, pmo, finance = page("vic"), page("pat"), page("fay")
    assert "finance-approve" not in viewer and "finance-record" not in viewer
    assert "Only finance users can approve or reject claims" in viewer
    assert "Only pmo or finance users can enter claims" in viewer
    assert "finance-approve" not in pmo and "finance-record" in pmo
    assert "finance-approve" in finance and "finance-record" in finance
    assert "Finance claims: Shared services" in viewer  # the initiative's name, not its key
    assert "extract seen" in viewer and not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", viewer)  # history: no ISO T
    assert '"label": "Claim 1 ' in finance.replace('":"', '": "') and "Shared services run cost" in finance
