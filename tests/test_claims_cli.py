"""`benefits claims …` end to end on a SQLite file: import, list, check, approve/reject with roles, export."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from benefits import users
from benefits.cli import main
from benefits.users import UserEntry

from .test_claims_reconciliation import SHARED, over_attributed_register
from .test_claims_store import CLAIMS_CSV, store, write


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The shared test register with a users file: fay (finance) and vic (viewer), no passwords needed here."""
    folder = tmp_path / "config"
    shutil.copytree(SHARED, folder)
    users.save_users(folder / "users.yaml", {"fay": UserEntry("fay", "finance"), "vic": UserEntry("vic", "viewer")})
    return folder


def cli(config: Path, url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "--database", url, *args])


def test_claims_workflow(config: Path, sqlite_url: str, tmp_path: Path) -> None:
    store(sqlite_url)
    claims_csv = write(tmp_path / "claims.csv", CLAIMS_CSV)
    imported = cli(config, sqlite_url, "claims", "import", str(claims_csv), "--by", "ana")
    assert imported.exit_code == 0, imported.output
    assert imported.output == f"{claims_csv}: 4 new claims, 0 updated, 0 unchanged\n"
    gone = cli(config, sqlite_url, "claims", "import", str(claims_csv), "--source", "connector")
    assert gone.exit_code == 2 and "No such option '--source'" in gone.output  # connectors deliver claims in a sync

    table = cli(config, sqlite_url, "claims", "list").output
    assert "shared-savings" in table and "£3,120.00" in table and "evidenced" in table
    assert table.splitlines()[-2:] == [
        "4 claims on 4 benefits (totals add each benefit's latest claim): "
        "reported £23,125.00, evidenced £10,200.00, validated (approved) £0.00",
        "Money to the penny, rounded half up; CSV and JSON carry the exact values.",
    ]
    listed = json.loads(cli(config, sqlite_url, "claims", "list", "--format", "json").output)["claims"]
    shared = next(c for c in listed if c["benefit"] == "shared-savings")
    assert (shared["claimed_value"], shared["evidenced_value"], shared["state"]) == ("3000.0000", "3120.000", "pending")

    refused = cli(config, sqlite_url, "claims", "approve", shared["id"], "--user", "vic", "--comment", "fine")
    assert refused.exit_code == 3
    assert refused.stderr == "error: vic has role viewer; approving or rejecting a claim needs role finance\n"
    unknown = cli(config, sqlite_url, "claims", "approve", shared["id"], "--user", "eve", "--comment", "fine")
    assert unknown.exit_code == 3 and "no user called eve" in unknown.stderr
    approved = cli(config, sqlite_url, "claims", "approve", shared["id"], "--user", "fay", "--comment", "March ledger")
    assert approved.exit_code == 0
    assert approved.output == f"claim {shared['id']} approved by fay (finance): 3000.0000, version 1\n"
    assert cli(config, sqlite_url, "claims", "reject", "2", "--user", "fay", "--comment", "half").exit_code == 0

    history = cli(config, sqlite_url, "claims", "history", shared["id"]).output
    assert f": recorded 3000.0000 cash_releasing by ana (csv, {claims_csv}: row 2)\n" in history.splitlines(True)[0]
    assert history.endswith("fay (finance)  approved 3000.0000 (version 1): March ledger\n")
    assert "validated (approved) £3,000" in cli(config, sqlite_url, "claims", "list").output
    pending = json.loads(cli(config, sqlite_url, "claims", "list", "--state", "pending", "--format", "json").output)
    assert len(pending["claims"]) == 2

    exported = cli(config, sqlite_url, "claims", "export", "shared-services", "--out", str(tmp_path / "pack"))
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "pack" / "shared-services-evidence.csv").exists()
    assert "March ledger" in (tmp_path / "pack" / "shared-services-evidence.html").read_text(encoding="utf-8")
    missing = cli(config, sqlite_url, "claims", "export", "nowhere")
    assert missing.exit_code == 1 and "no initiative 'nowhere'" in missing.stderr


def test_import_error_is_one_line_and_writes_nothing(config: Path, sqlite_url: str, tmp_path: Path) -> None:
    store(sqlite_url)
    bad = write(tmp_path / "bad.csv", CLAIMS_CSV + "shared-savings,2026-04-30,12.345678,,\n")
    result = cli(config, sqlite_url, "claims", "import", str(bad))
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: {bad}: row 6: claimed_value: '12.345678' has more than 4 decimal places; nothing was recorded\n"
    )
    assert json.loads(cli(config, sqlite_url, "claims", "list", "--format", "json").output)["claims"] == []


def test_a_claim_restated_since_the_version_reviewed_is_not_decided(
    config: Path, sqlite_url: str, tmp_path: Path
) -> None:
    store(sqlite_url)
    assert (
        cli(config, sqlite_url, "claims", "import", str(write(tmp_path / "a.csv", CLAIMS_CSV)), "--by", "ana").exit_code
        == 0
    )
    listed = json.loads(cli(config, sqlite_url, "claims", "list", "--format", "json").output)["claims"]
    shared = next(c for c in listed if c["benefit"] == "shared-savings")["id"]
    reviewed = cli(config, sqlite_url, "claims", "history", shared).output.split("version ")[1].split(":")[0]
    restated = write(tmp_path / "b.csv", "benefit,period,claimed_value\nshared-savings,2026-03-31,30000.00\n")
    assert cli(config, sqlite_url, "claims", "import", str(restated), "--by", "ana").exit_code == 0
    latest = int(reviewed) + 4  # the four claims' versions, then the restatement's
    decide = ["claims", "approve", shared, "--user", "fay", "--comment", "as reviewed"]
    refused = cli(config, sqlite_url, *decide, "--version", reviewed)
    assert refused.exit_code == 1
    assert refused.stderr.startswith(
        f"error: claim {shared} was restated since version {reviewed} (3000.0000 cash_releasing): its latest is "
        f"version {latest}, 30000.0000 cash_releasing, recorded by ana at "
    )  # it approved 30,000 (version {latest}), reviewed as 3,000, before: the option did not exist
    assert refused.stderr.endswith(
        f"; nothing was decided: review it (`benefits claims history {shared}`) and decide with --version {latest}\n"
    )
    assert cli(config, sqlite_url, "claims", "history", shared).output.endswith(": no decision yet\n")
    unknown = cli(config, sqlite_url, *decide, "--version", "999")
    assert (unknown.exit_code, unknown.stderr) == (
        1,
        f"error: claim {shared} has no version 999 (its versions: {reviewed}, {latest}; `benefits claims history "
        f"{shared}` lists them)\n",
    )
    approved = cli(config, sqlite_url, *decide, "--version", str(latest))
    assert approved.exit_code == 0, approved.output
    assert approved.output == f"claim {shared} approved by fay (finance): 30000.0000, version {latest}\n"


@pytest.mark.parametrize("amount", ["1.23457E+11", "1e3", "£1.2e+5", "1E-2", "1_000"])
def test_an_amount_in_scientific_notation_or_with_underscores_is_refused_naming_its_row(
    config: Path, sqlite_url: str, tmp_path: Path, amount: str
) -> None:
    store(sqlite_url)
    bad = write(tmp_path / "bad.csv", CLAIMS_CSV + f"shared-savings,2026-04-30,{amount},,\n")
    result = cli(config, sqlite_url, "claims", "import", str(bad))
    assert result.exit_code == 1
    problem = (
        "is not an amount of money"
        if "_" in amount
        else "is in scientific notation, as a spreadsheet shows a number with digits cut off: write the amount in "
        "full (format the column as a number with 2 decimal places and save again)"
    )  # read as 123457000000 (a spreadsheet's 123456789012 with its last digits cut off), 1000, 120000, 0.01, 1000
    assert result.stderr == f"error: {bad}: row 6: claimed_value: {amount!r} {problem}; nothing was recorded\n"
    assert json.loads(cli(config, sqlite_url, "claims", "list", "--format", "json").output)["claims"] == []


def test_check_and_init_flag_double_counting(sqlite_url: str, tmp_path: Path) -> None:
    config = over_attributed_register(tmp_path)
    init = cli(config, sqlite_url, "init")
    assert init.exit_code == 0
    assert (
        "warning: " in init.stderr
        and "ledger.shared_costs: attribution shares add up to 110% (shared-savings 60%, automation-savings 50%)"
    ) in init.stderr
    check = cli(config, sqlite_url, "claims", "check")
    assert check.exit_code == 1
    assert check.output.startswith("double counting: metric ledger.shared_costs: attribution shares add up to 110%")
    assert check.output.endswith("checked 0 claims: 1 over-attributed metrics, 0 orphan claims\n")


def test_check_passes_a_clean_register(config: Path, sqlite_url: str) -> None:
    store(sqlite_url)
    check = cli(config, sqlite_url, "claims", "check")
    assert check.exit_code == 0 and check.output == "checked 0 claims: 0 over-attributed metrics, 0 orphan claims\n"
