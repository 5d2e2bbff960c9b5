"""Commentary, actions and risks per benefit on a real SQLite file and the real PostgreSQL server:
`benefits note|action|risk`, append-only tables, overdue actions in `benefits status`."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from benefits import commentary
from benefits.cli import main
from benefits.register import load_register
from benefits.store import db, migrate, repository
from benefits.users import acting_user

from . import dashboard_data as dd
from .conftest import DEMO_CONFIG

BENEFIT = "crm-upsell-revenue"
SYSTEM_USER = acting_user()  # the author when neither --user nor BENEFITS_USER names one
TABLES = ("benefit_notes", "benefit_actions", "benefit_action_closures", "benefit_risks", "benefit_risk_closures")


@pytest.fixture
def store(database_url: str) -> str:
    """The demo register saved in a migrated database; its URL."""
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    with db.session_factory(engine).begin() as session:
        repository.save_register(session, load_register(DEMO_CONFIG))
    engine.dispose()
    return database_url


def cli(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(DEMO_CONFIG), "--database", url, *args])


def test_note_action_and_risk_are_added_listed_and_closed_with_their_author(store: str) -> None:
    assert cli(store, "note", BENEFIT, "Upsell  campaign\nlate", "--user", "pat").output == f"note 1 on {BENEFIT}\n"
    added = cli(store, "action", "add", BENEFIT, "Chase CRM vendor", "--owner", "Bob", "--due", "2026-01-10")
    assert added.exit_code == 0 and added.output == f"action 1 on {BENEFIT}: Bob, due 2026-01-10\n"
    cli(store, "action", "add", BENEFIT, "Train sales", "--owner", "Cy", "--due", "2030-01-10", "--user", "pat")
    risk = cli(
        store,
        "risk",
        "add",
        BENEFIT,
        "Vendor slips",
        "--likelihood",
        "4",
        "--impact",
        "3",
        "--mitigation",
        "Weekly call",
    )
    assert risk.exit_code == 0 and risk.output == f"risk 1 on {BENEFIT}: score 12 of 25\n"

    listed = json.loads(cli(store, "action", "list", "--as-of", "2026-06-01", "--format", "json").output)
    assert [(a["id"], a["state"], a["author"]) for a in listed] == [(1, "overdue", SYSTEM_USER), (2, "open", "pat")]
    overdue = json.loads(cli(store, "action", "list", "--overdue", "--as-of", "2026-06-01", "--format", "json").output)
    assert [a["id"] for a in overdue] == [1]

    assert cli(store, "action", "done", "1", "--user", "bob").output == f"action 1 on {BENEFIT} done\n"
    assert json.loads(cli(store, "action", "list", "--format", "json").output)[0]["id"] == 2
    done = json.loads(cli(store, "action", "list", "--all", "--format", "json").output)[0]
    assert (done["state"], done["done_by"]) == ("done", "bob")
    again = cli(store, "action", "done", "1")
    assert again.exit_code == 1 and again.stderr == "error: action 1 is already done\n"

    assert "Vendor slips" in cli(store, "risk", "list").output
    assert cli(store, "risk", "close", "1", "--user", "pat").output == f"risk 1 on {BENEFIT} closed\n"
    assert cli(store, "risk", "list", "--format", "json").output == "[]\n"
    closed = json.loads(cli(store, "risk", "list", "--all", "--format", "json").output)[0]
    assert (closed["state"], closed["closed_by"], closed["author"]) == ("closed", "pat", SYSTEM_USER)

    engine = db.make_engine(store)
    with db.session_factory(engine)() as session:
        [note] = commentary.notes(session, BENEFIT)
        assert (note.text, note.author) == ("Upsell campaign late", "pat")
        shown = commentary.for_benefit(session, BENEFIT, dt.date(2030, 2, 1))
        assert shown.latest_note == note and [a.id for a in shown.overdue_actions] == [2] and shown.open_risks == []
    engine.dispose()


@pytest.mark.parametrize(
    "args, message",
    [
        (("note", "no-such-benefit", "text"), "error: no benefit 'no-such-benefit' in the register"),
        (("action", "add", "nope", "x", "--owner", "a", "--due", "2026-01-01"), "error: no benefit 'nope'"),
        (("action", "done", "42"), "error: no action 42: `benefits action list --all` lists them"),
        (("risk", "close", "7"), "error: no risk 7: `benefits risk list --all` lists them"),
        (("note", BENEFIT, "   "), "error: note: empty; say what it is"),
    ],
)
def test_unknown_benefits_and_ids_are_one_line_and_exit_1(store: str, args: tuple[str, ...], message: str) -> None:
    result = cli(store, *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_the_tables_are_append_only_in_the_database(store: str) -> None:
    engine = db.make_engine(store)
    with db.session_factory(engine).begin() as session:
        action = commentary.add_action(session, BENEFIT, "Do it", "Bob", dt.date(2026, 1, 1), "pat")
        commentary.close_action(session, action, "bob")
        risk = commentary.add_risk(session, BENEFIT, "Slip", 2, 5, "Buffer", "pat")
        commentary.close_risk(session, risk, "pat")
        commentary.add_note(session, BENEFIT, "Fine", "pat")
    for table in TABLES:
        for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
                connection.execute(text(statement))
    with db.session_factory(engine)() as session:
        assert len(commentary.actions(session, dt.date(2030, 1, 1), include_done=True)) == 1
    engine.dispose()


def test_overdue_actions_are_counted_in_status(store: str) -> None:
    cli(store, "action", "add", BENEFIT, "Late one", "--owner", "Bob", "--due", "2026-01-10")
    cli(store, "action", "add", BENEFIT, "Later one", "--owner", "Bob", "--due", "2026-03-10")
    cli(store, "action", "add", "crm-win-rate", "Done one", "--owner", "Bob", "--due", "2026-01-10")
    cli(store, "action", "done", "3")

    def overdue(as_of: str) -> dict[str, int]:
        rows = json.loads(cli(store, "status", "--format", "json", "--as-of", as_of).output)
        return {row["benefit"]: row["overdue_actions"] for row in rows if row["overdue_actions"]}

    assert overdue("2026-01-10") == {}  # due today is not yet overdue
    assert overdue("2026-02-01") == {BENEFIT: 1}
    assert overdue("2026-04-01") == {BENEFIT: 2}


def test_the_digest_tells_owners_of_overdue_actions(store: str) -> None:
    from benefits.digest import digests

    cli(store, "action", "add", BENEFIT, "Late one", "--owner", "Bob", "--due", "2026-01-10")
    engine = db.make_engine(store)
    with db.session_factory(engine)() as session:
        items = [item for digest in digests(session, dt.date(2026, 2, 1)) for item in digest.items]
    engine.dispose()
    overdue = [item for item in items if item.kind == "overdue actions"]
    assert [(i.benefit, i.text) for i in overdue] == [
        (BENEFIT, "1 action is past the due date (`benefits action list --overdue`)")
    ]


def _commented_store(directory: Path, url: str | None = None) -> tuple[Path, str]:
    """The dashboard fixture (it-opex at risk, handle-time on track, upsell-revenue off track) with commentary
    (in a SQLite file in ``directory`` unless ``url`` names another, empty database): its configuration folder
    and database URL."""
    url = dd.build_store(directory, url=url)
    config = directory / "config"

    def run(*args: str) -> None:
        result = CliRunner().invoke(main, ["--config", str(config), "--database", url, *args])
        assert result.exit_code == 0, result.output

    run("note", "it-opex", "Licence savings slip to Q3 <b>", "--user", "pat")
    run("action", "add", "handle-time", "Retrain the desk", "--owner", "Dee", "--due", "2025-06-30", "--user", "pat")
    run("action", "add", "it-opex", "Renegotiate licences", "--owner", "Al", "--due", "2025-09-30")
    run("risk", "add", "upsell-revenue", "CRM late", "--likelihood", "4", "--impact", "5", "--mitigation", "Pilot")
    return config, url


@pytest.fixture
def fixture_store(database_url: str, tmp_path: Path) -> tuple[Path, str]:
    """The commented fixture store on SQLite and on PostgreSQL, for the pack tests."""
    return _commented_store(tmp_path, None if database_url.startswith("sqlite") else database_url)


def test_the_pack_carries_overdue_actions_and_the_commentary(fixture_store: tuple[Path, str], tmp_path: Path) -> None:
    config, url = fixture_store
    out = tmp_path / "pack.html"
    args = ["--config", str(config), "--database", url, "report", "--out", str(out), "--as-of", dd.AS_OF.isoformat()]
    assert CliRunner().invoke(main, args).exit_code == 0
    html = out.read_text()
    decision = html[html.index("What needs a decision") : html.index("Portfolio summary")]
    overdue = re.search(r'<table id="overdue-actions">.*?</table>', decision, re.S)
    assert overdue and "Retrain the desk" in overdue.group(0) and "Renegotiate" not in overdue.group(0)
    commentary = re.search(r'<table id="commentary">.*?</table>', decision, re.S)
    assert commentary, "no commentary table under what needs a decision"
    table = commentary.group(0)
    assert "Licence savings slip to Q3 &lt;b&gt; (pat, " in table
    assert "Renegotiate licences (Al, due 2025-09-30)" in table
    assert "Retrain the desk (Dee, due 2025-06-30, OVERDUE)" in table  # on track, but its action is overdue
    assert "CRM late (likely (4) × severe (5); mitigation: Pilot)" in table


def test_the_powerpoint_pack_carries_the_commentary(fixture_store: tuple[Path, str], tmp_path: Path) -> None:
    from pptx import Presentation

    from .test_report_formats import _text

    config, url = fixture_store
    out = tmp_path / "pack.pptx"
    args = ["--config", str(config), "--database", url, "report", "--out", str(out), "--as-of", dd.AS_OF.isoformat()]
    assert CliRunner().invoke(main, args).exit_code == 0
    slides = {slide.shapes.title.text: _text(slide) for slide in Presentation(str(out)).slides}
    at_risk = slides["At risk"]
    assert "Commentary: Licence savings slip to Q3 <b> (pat, " in at_risk
    assert "Action: Renegotiate licences (Al, due 2025-09-30)" in at_risk
    off_track = slides["Off track: Upsell revenue"]
    assert "Open risks\nCRM late (likely (4) × severe (5); mitigation: Pilot)" in off_track
    assert "Open actions" not in off_track  # only what there is


PAGE = f"/benefit/it-opex?as_of={dd.AS_OF.isoformat()}"
PMO = {"X-Forwarded-User": "pat", "X-Forwarded-Role": "pmo"}
VIEWER = {"X-Forwarded-User": "vic", "X-Forwarded-Role": "viewer"}


@pytest.fixture(scope="module")
def dashboard_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A commented fixture store of the dashboard tests' own (they add to it)."""
    return _commented_store(tmp_path_factory.mktemp("page"))


@pytest.fixture(scope="module")
def dashboard(dashboard_store: tuple[Path, str]) -> Any:
    """The real dashboard app over its store, users named by a trusted proxy's headers."""
    from benefits.dashboards.app import create_app
    from benefits.dashboards.auth import AuthSettings

    settings = AuthSettings(user_header="X-Forwarded-User", role_header="X-Forwarded-Role")
    return create_app(dashboard_store[1], settings)


def _page(app: Any, headers: dict[str, str]) -> str:
    """The benefit page as the router callback answers it to the browser."""
    path, _, search = PAGE.partition("?")
    body = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": path},
            {"id": "_pages_location", "property": "search", "value": f"?{search}"},
        ],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    response = app.server.test_client().post("/_dash-update-component", json=body, headers=headers)
    assert response.status_code == 200
    return json.dumps(response.get_json(), ensure_ascii=False)


def _press(app: Any, headers: dict[str, str], button: str, **fields: Any) -> tuple[int, str]:
    """POST the commentary callback as the browser does after ``button`` was clicked, with form ``fields``:
    the status and the answer as text."""
    output, spec = next((k, v) for k, v in app.callback_map.items() if "commentary-result" in k)
    values = {"commentary-benefit": {"key": "it-opex", "as_of": dd.AS_OF.isoformat()}, **fields}
    body = {
        "output": output,
        "outputs": [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in output.strip(".").split("...")],
        "inputs": [{**i, "value": 1 if i["id"] == button else 0} for i in spec["inputs"]],
        "changedPropIds": [f"{button}.n_clicks"],
        "state": [{**s, "value": values.get(s["id"])} for s in spec["state"]],
    }
    response = app.server.test_client().post("/_dash-update-component", json=body, headers=headers)
    return response.status_code, json.dumps(response.get_json(silent=True), ensure_ascii=False)


def test_the_benefit_page_shows_the_commentary_and_offers_the_forms_to_pmo_only(dashboard: Any) -> None:
    as_pmo = _page(dashboard, PMO)
    assert "Licence savings slip to Q3 <b> (pat, " in as_pmo
    assert "Renegotiate licences" in as_pmo and "commentary-forms" in as_pmo
    as_viewer = _page(dashboard, VIEWER)
    assert "Renegotiate licences" in as_viewer and "commentary-read-only" in as_viewer
    assert "commentary-forms" not in as_viewer and "commentary-add-note" not in as_viewer


def test_pmo_adds_and_closes_from_the_page_and_a_viewer_gets_403(
    dashboard: Any, dashboard_store: tuple[Path, str]
) -> None:
    assert _press(dashboard, VIEWER, "commentary-add-note", **{"commentary-note": "sneaky"})[0] == 403
    status, answer = _press(dashboard, PMO, "commentary-add-note", **{"commentary-note": "Back on plan"})
    assert status == 200 and "Note added by pat." in answer and "Back on plan (pat, " in answer
    late = {"commentary-action-text": "Chase", "commentary-action-owner": "Al", "commentary-action-due": "2025-07-01"}
    assert "Action 3 added by pat." in _press(dashboard, PMO, "commentary-add-action", **late)[1]
    bad = _press(dashboard, PMO, "commentary-add-action", **{**late, "commentary-action-due": "01/07/2025"})[1]
    assert "Not recorded: due: '01/07/2025' is not a date like 2026-12-31" in bad
    risk = {
        "commentary-risk-text": "Vendor exit",
        "commentary-risk-likelihood": 2,
        "commentary-risk-impact": 4,
        "commentary-risk-mitigation": "Second source",
    }
    answer = _press(dashboard, PMO, "commentary-add-risk", **risk)[1]
    assert "Risk 2 added by pat." in answer and "unlikely (2) × major (4)" in answer and "overdue" in answer
    done = _press(dashboard, PMO, "commentary-action-done", **{"commentary-open-action": 3})[1]
    assert "Action 3 marked done by pat." in done
    assert "Risk 2 closed by pat." in _press(dashboard, PMO, "commentary-risk-close", **{"commentary-open-risk": 2})[1]
    engine = db.make_engine(dashboard_store[1])
    with db.session_factory(engine)() as session:
        assert (commentary.notes(session, "it-opex")[0].text, commentary.notes(session, "it-opex")[0].author) == (
            "Back on plan",
            "pat",
        )
        assert [a.done_by for a in commentary.actions(session, dd.AS_OF, benefit="it-opex", include_done=True)] == [
            "pat",  # action 3, due first
            None,
        ]
        assert "sneaky" not in [n.text for n in commentary.notes(session)]
    engine.dispose()
