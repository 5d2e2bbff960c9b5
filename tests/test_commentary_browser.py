"""Commentary on the benefit page in a real headless Chromium: a pmo user adds a note through the form
and sees it as the latest commentary, credited to them; a viewer sees the commentary without any form.
Same server and browser as ``test_dashboard_browser``, behind a users file with passwords."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from benefits.cli import main
from benefits.users import UserEntry, hash_password, save_users

from . import dashboard_data as dd
from .test_dashboard_browser import ARTIFACTS, AS_OF, Watch, _serving, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

PASSWORD = "correct horse"
PAGE = "/benefit/it-opex" + AS_OF


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The fixture store with one overdue action on it-opex, served to pat (pmo) and vic (viewer)."""
    directory = tmp_path_factory.mktemp("commentary-browser")
    url = dd.build_store(directory)
    added = CliRunner().invoke(
        main,
        ["--config", str(directory / "config"), "--database", url, "action", "add", "it-opex", "Renegotiate licences"]
        + ["--owner", "Al", "--due", "2025-06-30", "--user", "pat"],
    )
    assert added.exit_code == 0, added.output
    users = directory / "users.yaml"
    entries = {
        name: UserEntry(name, role, hash_password(PASSWORD)) for name, role in (("pat", "pmo"), ("vic", "viewer"))
    }
    save_users(users, entries)
    with _serving(url, directory, str(users), ready=401) as base:
        yield base


def _signed_in(browser: Any, name: str) -> Any:  # noqa: F811
    return browser.new_context(
        viewport={"width": 1280, "height": 900}, http_credentials={"username": name, "password": PASSWORD}
    )


def test_pmo_adds_a_note_from_the_benefit_page(browser: Any, server: str) -> None:  # noqa: F811
    context = _signed_in(browser, "pat")
    page = context.new_page()
    watch = Watch(page, server)
    page.goto(server + PAGE)
    page.wait_for_selector("#commentary-forms", state="visible")
    assert page.locator("#commentary-latest").inner_text() == "No commentary yet."
    assert "overdue" in page.locator("#commentary-actions").inner_text()  # due 2025-06-30, shown as of 2025-07-07
    page.fill("#commentary-note", "Licences renegotiated; savings from August")
    page.click("#commentary-add-note")
    page.locator("#commentary-result", has_text="Note added").wait_for()  # a locator: the CSP forbids eval
    assert page.locator("#commentary-result").inner_text() == "Note added by pat."
    latest = page.locator("#commentary-latest").inner_text()
    assert latest.startswith("Latest commentary: Licences renegotiated; savings from August (pat, ")
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#benefit-commentary").screenshot(path=str(ARTIFACTS / "dashboard-commentary.png"))
    context.close()
    assert watch.problems == []


def test_a_viewer_sees_the_commentary_without_the_forms(browser: Any, server: str) -> None:  # noqa: F811
    context = _signed_in(browser, "vic")
    page = context.new_page()
    watch = Watch(page, server)
    page.goto(server + PAGE)
    page.wait_for_selector("#commentary-read-only", state="visible")
    assert "Renegotiate licences" in page.locator("#commentary-actions").inner_text()
    assert page.locator("#commentary-forms").count() == 0 and page.locator("#commentary-note").count() == 0
    assert page.locator("#commentary-add-note").count() == 0
    context.close()
    assert watch.problems == []
