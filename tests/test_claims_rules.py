"""Claims no one can bend (issue 10), end to end through `benefits claims` on a SQLite file and the real PostgreSQL.

Exact money, out-of-range and wrong-currency amounts, separation of duties, one decision per
claim, the decision's version and amount, attribution of versions, unknown and future claims,
orphan and double-counted claims, totals in every format, and migration 0011's conversion.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner, Result
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from benefits import users
from benefits.cli import main
from benefits.register import load_register
from benefits.store import db, migrate, models, repository
from benefits.users import UserEntry

from .test_claims_reconciliation import SHARED, over_attributed_register
from .test_claims_store import store, write

EXACT_CSV = """benefit,period,claimed_value
shared-savings,2026-03-31,12345678901234.56
automation-savings,2026-03-31,9007199254740993
automation-revenue,2026-03-31,0.10
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """The shared test register with users: fay and ana (finance), vic (viewer), root (admin)."""
    folder = tmp_path / "config"
    shutil.copytree(SHARED, folder)
    roles = [("fay", "finance"), ("ana", "finance"), ("vic", "viewer"), ("root", "admin")]
    users.save_users(folder / "users.yaml", {name: UserEntry(name, role) for name, role in roles})
    return folder


def cli(config: Path, url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "--database", url, *args])


def listed(config: Path, url: str) -> dict:
    result = cli(config, url, "claims", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line_error(result: Result, exit_code: int = 1) -> str:
    """The stderr of a refused command, checked to be one line and no traceback."""
    assert result.exit_code == exit_code, (result.output, result.exception)
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    return result.stderr


def test_money_round_trips_exactly_and_the_same_file_changes_nothing(
    config: Path, database_url: str, tmp_path: Path
) -> None:
    store(database_url)
    claims_csv = write(tmp_path / "claims.csv", EXACT_CSV)
    assert cli(config, database_url, "claims", "import", str(claims_csv), "--by", "ana").exit_code == 0
    values = {c["benefit"]: c["claimed_value"] for c in listed(config, database_url)["claims"]}
    assert values == {
        "shared-savings": "12345678901234.5600",
        "automation-savings": "9007199254740993.0000",
        "automation-revenue": "0.1000",
    }
    again = cli(config, database_url, "claims", "import", str(claims_csv), "--by", "ana")
    assert again.output == f"{claims_csv}: 0 new claims, 0 updated, 3 unchanged\n"

    claim_id = next(c["id"] for c in listed(config, database_url)["claims"] if c["benefit"] == "shared-savings")
    approved = cli(config, database_url, "claims", "approve", claim_id, "--user", "fay", "--comment", "ledger agrees")
    assert approved.exit_code == 0, approved.output
    after = cli(config, database_url, "claims", "import", str(claims_csv), "--by", "ana")
    assert after.exit_code == 0 and after.output.endswith("0 updated, 3 unchanged\n")  # not refused once approved
    history = cli(config, database_url, "claims", "history", claim_id).output
    assert re.search(r"fay \(finance\)  approved 12345678901234\.5600 \(version \d+\): ledger agrees\n$", history)


def test_totals_are_exact_in_every_format(config: Path, database_url: str, tmp_path: Path) -> None:
    store(database_url)
    claims_csv = write(
        tmp_path / "claims.csv",
        "benefit,period,claimed_value\nautomation-revenue,2026-03-31,0.10\novertime-avoided,2026-03-31,0.2\n",
    )
    assert cli(config, database_url, "claims", "import", str(claims_csv), "--by", "ana").exit_code == 0
    table = cli(config, database_url, "claims", "list").output
    assert "£0.10" in table and "reported £0.30," in table
    assert "Money to the penny, rounded half up; CSV and JSON carry the exact values." in table
    totals = listed(config, database_url)["totals"]
    assert (totals["currency"], totals["reported"], totals["validated"], totals["claims"]) == ("GBP", "0.3000", "0", 2)
    rows = list(csv.DictReader(io.StringIO(cli(config, database_url, "claims", "list", "--format", "csv").output)))
    assert [r["currency"] for r in rows] == ["GBP"] * 3
    assert (rows[-1]["id"], rows[-1]["claimed_value"], rows[-1]["validated_value"]) == ("total", "0.3000", "0")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (
            "99999999999999999.99",
            "claimed_value: 99999999999999999.99 is out of range: at most 16 digits before the decimal point",
        ),
        ("$1000", "claimed_value: '$1000' is in USD; this register's money is GBP"),
        ("€1000", "claimed_value: '€1000' is in EUR; this register's money is GBP"),
        ("£1000", None),
    ],
)
def test_out_of_range_and_foreign_currency_amounts_are_row_errors(
    config: Path, database_url: str, tmp_path: Path, value: str, reason: str | None
) -> None:
    store(database_url)
    claims_csv = write(tmp_path / "claims.csv", f"benefit,period,claimed_value\nshared-savings,2026-03-31,{value}\n")
    result = cli(config, database_url, "claims", "import", str(claims_csv))
    if reason is None:
        assert result.exit_code == 0, result.output
        return
    assert one_line_error(result) == f"error: {claims_csv}: row 2: {reason}; nothing was recorded\n"
    assert listed(config, database_url)["claims"] == []


def test_a_pound_amount_in_a_euro_register_is_refused(config: Path, database_url: str, tmp_path: Path) -> None:
    portfolio = config / "portfolio.yaml"
    portfolio.write_text(portfolio.read_text().replace("currency: GBP", "currency: EUR"))
    store(database_url, config)
    claims_csv = write(tmp_path / "claims.csv", "benefit,period,claimed_value\nshared-savings,2026-03-31,£5000\n")
    result = cli(config, database_url, "claims", "import", str(claims_csv))
    assert one_line_error(result) == (
        f"error: {claims_csv}: row 2: claimed_value: '£5000' is in GBP; this register's "
        "money is EUR; nothing was recorded\n"
    )


def test_decisions_are_final_separate_and_record_what_they_decided(
    config: Path, database_url: str, tmp_path: Path
) -> None:
    store(database_url)
    first = write(tmp_path / "first.csv", "benefit,period,claimed_value\nshared-savings,2026-03-31,3000\n")
    second = write(tmp_path / "second.csv", "benefit,period,claimed_value\nshared-savings,2026-03-31,3100\n")
    assert cli(config, database_url, "claims", "import", str(first), "--by", "ana").exit_code == 0
    assert cli(config, database_url, "claims", "import", str(second)).exit_code == 0  # no --by: unknown, not ana
    [claim] = listed(config, database_url)["claims"]
    history = cli(config, database_url, "claims", "history", claim["id"]).output.splitlines()
    assert history[0].endswith(f"recorded 3000.0000 cash_releasing by ana (csv, {first}: row 2)")
    assert history[1].endswith(f"recorded 3100.0000 cash_releasing by unknown (csv, {second}: row 2)")

    own = cli(config, database_url, "claims", "approve", claim["id"], "--user", "ana", "--comment", "mine")
    assert one_line_error(own, exit_code=3) == (
        f"error: claim {claim['id']}: ana recorded it; a claim is decided by someone other than its claimant\n"
    )
    assert (
        cli(config, database_url, "claims", "reject", claim["id"], "--user", "fay", "--comment", "no extract").exit_code
        == 0
    )
    again = cli(config, database_url, "claims", "approve", claim["id"], "--user", "fay", "--comment", "extract came")
    assert re.fullmatch(
        rf"error: claim {claim['id']}: already rejected by fay on \d{{4}}-\d\d-\d\d; "
        r"a decision is final\n",
        one_line_error(again),
    )
    decided = cli(config, database_url, "claims", "history", claim["id"]).output.splitlines()
    assert len(decided) == 3 and re.search(
        r"fay \(finance\)  rejected 3100\.0000 \(version \d+\): no extract$", decided[2]
    )
    changed = write(tmp_path / "changed.csv", "benefit,period,claimed_value\nshared-savings,2026-03-31,3200\n")
    refused = cli(config, database_url, "claims", "import", str(changed), "--by", "ana")
    assert "is already rejected; a decided claim cannot change; nothing was recorded" in one_line_error(refused)


def test_only_an_admin_waives_separation_of_duties_and_the_waiver_is_kept(
    config: Path, database_url: str, tmp_path: Path
) -> None:
    sessions = store(database_url)
    claims_csv = write(tmp_path / "claims.csv", "benefit,period,claimed_value\nshared-savings,2026-03-31,3000\n")
    assert cli(config, database_url, "claims", "import", str(claims_csv), "--by", "ana").exit_code == 0
    [claim] = listed(config, database_url)["claims"]
    shown = cli(config, database_url, "claims", "self-approval")
    assert shown.output == "claimants may not decide their own claims (separation of duties)\n"
    refused = cli(config, database_url, "claims", "self-approval", "allow", "--user", "fay", "--comment", "small team")
    assert one_line_error(refused, exit_code=3) == (
        "error: fay has role finance; changing the sign-off rules needs role admin\n"
    )
    no_why = cli(config, database_url, "claims", "self-approval", "allow", "--user", "root")
    assert one_line_error(no_why) == "error: self-approval allow: give --user NAME (role admin) and --comment WHY\n"

    allowed = cli(config, database_url, "claims", "self-approval", "allow", "--user", "root", "--comment", "two of us")
    assert allowed.exit_code == 0 and allowed.output.endswith(
        "root (admin)  allowed self-approval: two of us\nclaimants may decide their own claims\n"
    )
    own = cli(config, database_url, "claims", "approve", claim["id"], "--user", "ana", "--comment", "checked alone")
    assert own.exit_code == 0, own.output
    forbidden = cli(config, database_url, "claims", "self-approval", "forbid", "--user", "root", "--comment", "hired")
    assert forbidden.exit_code == 0 and forbidden.output.endswith(
        "root (admin)  forbade self-approval: hired\nclaimants may not decide their own claims (separation of duties)\n"
    )
    with pytest.raises(DBAPIError), sessions.begin() as session:
        session.execute(text("DELETE FROM sign_off_settings"))
    with sessions() as session:
        assert [s.claimant_may_decide for s in session.scalars(select(models.SignOffSetting))] == [True, False]


def test_unknown_and_future_claims_are_refused(config: Path, database_url: str, tmp_path: Path) -> None:
    store(database_url)
    missing = cli(config, database_url, "claims", "history", "999")
    assert one_line_error(missing) == "error: claim 999: no such claim (see `benefits claims list`)\n"
    future = write(tmp_path / "future.csv", "benefit,period,claimed_value\nshared-savings,2030-03-31,3000\n")
    result = cli(config, database_url, "claims", "import", str(future))
    assert one_line_error(result) == (
        f"error: {future}: row 2: period: 2030-03-31 is in the future (after "
        f"{dt.date.today()}); claim value once it is realised; nothing was recorded\n"
    )


def test_orphan_claims_stay_visible_flagged_and_cannot_be_decided(
    config: Path, database_url: str, tmp_path: Path
) -> None:
    sessions = store(database_url)
    claims_csv = write(
        tmp_path / "claims.csv",
        "benefit,period,claimed_value\novertime-avoided,2026-03-31,500\nshared-savings,2026-03-31,3000\n",
    )
    assert cli(config, database_url, "claims", "import", str(claims_csv), "--by", "ana").exit_code == 0
    portfolio = config / "portfolio.yaml"
    text_ = portfolio.read_text()
    start, end = text_.index("      - key: overtime-avoided"), text_.index("      - key: shared-cycle-time")
    portfolio.write_text(text_[:start] + text_[end:])
    with sessions.begin() as session:
        repository.save_register(session, load_register(config))

    document = listed(config, database_url)
    orphan = next(c for c in document["claims"] if c["benefit"] == "overtime-avoided")
    assert (orphan["orphan"], orphan["evidence_state"], orphan["evidenced_value"]) == ("yes", "orphan", "0")
    assert (document["totals"]["reported"], document["totals"]["orphan_claims"], document["totals"]["orphaned"]) == (
        "3000.0000",
        1,
        "500.0000",
    )
    table = cli(config, database_url, "claims", "list").output
    assert "1 orphan claims (£500.00) left out of the totals" in table and "orphan" in table.splitlines()[1]
    refused = cli(config, database_url, "claims", "approve", orphan["id"], "--user", "fay", "--comment", "ok")
    assert one_line_error(refused) == (
        f"error: claim {orphan['id']}: benefit overtime-avoided is no longer in the "
        "register; an orphan claim cannot be decided\n"
    )


def test_a_double_counted_claim_is_never_shown_as_evidenced(database_url: str, tmp_path: Path) -> None:
    config = over_attributed_register(tmp_path)
    with pytest.warns(Warning, match="110%"):
        store(database_url, config)
    claims_csv = write(tmp_path / "claims.csv", "benefit,period,claimed_value\nshared-savings,2026-03-31,3000\n")
    assert cli(config, database_url, "claims", "import", str(claims_csv)).exit_code == 0
    [claim] = listed(config, database_url)["claims"]
    assert (claim["evidence_state"], claim["evidenced_share"], claim["evidenced_value"]) == ("double_counted", "", "0")
    assert claim["evidence_reason"].startswith("not counted as evidenced: metric ledger.shared_costs")
    table = cli(config, database_url, "claims", "list").output
    assert "100%" not in table and "double counted" in table


def test_the_database_enforces_keys_and_refuses_a_second_decision(database_url: str) -> None:
    sessions = store(database_url)
    with sessions.begin() as session:
        claim = models.Claim(
            benefit_key="shared-savings",
            period=dt.date(2026, 3, 31),
            claimed_value=Decimal("1"),
            claim_class="cost_avoidance",
            source="csv",
        )
        session.add(claim)
        session.flush()
        version = models.ClaimVersion(
            claim_id=claim.id, claimed_value=Decimal("1"), claim_class="cost_avoidance", source="csv"
        )
        session.add(version)
        session.flush()
        ids = {"claim": claim.id, "version": version.id}
    decision = (
        "INSERT INTO claim_decisions (claim_id, decision, decided_by, role, comment, claim_version_id, "
        "claimed_value) VALUES (:claim, 'approved', 'fay', 'finance', 'ok', :version, 1)"
    )
    with pytest.raises(DBAPIError), sessions.begin() as session:  # no claim 999: the foreign key refuses it
        session.execute(text(decision), {**ids, "claim": 999})
    with sessions.begin() as session:
        session.execute(text(decision), ids)
        if database_url.startswith("sqlite"):
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(DBAPIError, match="already decided"), sessions.begin() as session:
        session.execute(text(decision), ids)
    with pytest.raises(DBAPIError), sessions.begin() as session:
        session.execute(text("UPDATE claims SET claimed_value = 2"))


def test_migration_0011_converts_stored_values_exactly(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine, "0010")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO claims (id, benefit_key, period, claimed_value, claim_class, source, note, created_by) "
                "VALUES (1, 'b', '2026-03-30', 12345678901234.56, 'cost_avoidance', 'csv', '', 'ana')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO claim_versions (claim_id, claimed_value, claim_class, note, source, created_by) "
                "VALUES (1, 12345678901234.56, 'cost_avoidance', '', 'csv', 'ana')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO claim_decisions (claim_id, decision, decided_by, role, comment) "
                "VALUES (1, 'approved', 'fay', 'finance', 'ok')"
            )
        )
    migrate.upgrade(engine)
    with db.session_factory(engine)() as session:
        claim = session.get(models.Claim, 1)
        [version] = claim.versions
        [decision] = claim.decisions
        assert claim.claimed_value == version.claimed_value == Decimal("12345678901234.56")
        assert (decision.claim_version_id, decision.claimed_value) == (version.id, Decimal("12345678901234.56"))
    with pytest.raises(DBAPIError), engine.begin() as connection:
        connection.execute(text("DELETE FROM claim_versions"))
    command.downgrade(migrate.alembic_config(engine), "0010")
    migrate.upgrade(engine)
    engine.dispose()
