"""Claims in the store, on a real SQLite file and the real PostgreSQL: import, sign-off, history, evidence."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from benefits.claims import ClaimSource, Decision
from benefits.claims.evidence_pack import CSV_COLUMNS, write_evidence_pack
from benefits.claims.importer import ClaimInput, read_claims_csv, record_claims
from benefits.claims.ledger import claims_report
from benefits.claims.reconciliation import EVIDENCED, PARTLY_EVIDENCED, UNEVIDENCED
from benefits.claims.signoff import NotAllowed, decide, history
from benefits.errors import BenefitsError
from benefits.register import load_register
from benefits.store import db, migrate, models, repository

from .test_claims_reconciliation import SHARED, over_attributed_register

VALIDATION = {
    "expect_column_values_to_not_be_null(value)": {
        "expectation": "expect_column_values_to_not_be_null",
        "column": "value",
        "severity": "critical",
        "success": True,
        "unexpected_count": 0,
    },
    "expect_column_values_to_be_between(value)": {
        "expectation": "expect_column_values_to_be_between",
        "column": "value",
        "severity": "critical",
        "success": False,
        "unexpected_count": 1,
    },
}
OBSERVATIONS = {
    "ledger.shared_costs": [("2026-02-02", 950.0), ("2026-03-02", 900.0), ("2026-06-01", 800.0)],
    "ops.overtime_hours_saved": [("2026-02-02", 100.0), ("2026-03-02", 150.0)],
    "crm.service_revenue": [("2026-02-02", 5000.0)],
}
CLAIMS_CSV = """benefit,period,claimed_value,class,note
shared-savings,2026-03-31,3000.00,,run cost down 100 a week
automation-savings,2026-03-31,4000,cash_releasing,
overtime-avoided,2026-03-31,"10,125.0000",cash_releasing,overtime in hours not ledger
automation-revenue,2026-03-31,6000,non_cash_releasing,new service
"""


def store(url: str, config: Path = SHARED) -> sessionmaker[Session]:
    """A migrated store holding ``config``'s register and one ledger sync run with observations."""
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    with sessions.begin() as session:
        repository.save_register(session, load_register(config))
        run = models.SyncRun(
            connector="ledger",
            connector_type="csv",
            status="succeeded",
            rows_quarantined=1,
            validation=VALIDATION,
            finished_at=dt.datetime(2026, 6, 2, 9, 0, tzinfo=dt.UTC),
        )
        session.add(run)
        session.flush()
        for metric, rows in OBSERVATIONS.items():
            repository.load_observations(
                session,
                "ledger",
                run.id,
                [{"metric": metric, "period": dt.date.fromisoformat(p), "value": v, "unit": "x"} for p, v in rows],
            )
    return sessions


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


def claim_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(models.Claim)) or 0


def test_csv_import_records_decimal_claims_once(database_url: str, tmp_path: Path) -> None:
    sessions = store(database_url)
    parsed = read_claims_csv(write(tmp_path / "claims.csv", CLAIMS_CSV))
    with sessions.begin() as session:
        assert record_claims(session, parsed, ClaimSource.csv, "ana").new == 4
    with sessions.begin() as session:
        again = record_claims(session, parsed, ClaimSource.csv, "ana")
    assert (again.new, again.updated, again.unchanged) == (0, 0, 4)
    with sessions() as session:
        rows = {c.benefit_key: c for c in session.scalars(select(models.Claim))}
    assert rows["overtime-avoided"].claimed_value == Decimal("10125.0000")
    assert isinstance(rows["shared-savings"].claimed_value, Decimal)
    assert rows["shared-savings"].claim_class == "cash_releasing"  # empty class: from the benefit's flag
    assert rows["automation-revenue"].source == "csv" and rows["automation-revenue"].created_by == "ana"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "benefit,period,claimed_value\nshared-savings,2026-03-31,abc\n",
            r"claims.csv: row 2: claimed_value: 'abc' is not an amount of money; nothing was recorded",
        ),
        (
            "benefit,period,claimed_value\nshared-savings,2026-03-31,1\nshared-savings,31/03/2026,1\n",
            r"claims.csv: row 3: period: '31/03/2026' is not a date like 2026-06-29",
        ),
        ("benefit,period,value\n", r"claims.csv: row 1: missing column claimed_value"),
        (
            "benefit,period,claimed_value,class\nshared-savings,2026-03-31,1,cash\n",
            r"claims.csv: row 2: class: 'cash' is not one of cash_releasing, non_cash_releasing, cost_avoidance",
        ),
        (
            "benefit,period,claimed_value\nshared-savings,2026-03-31,1,2\n",
            r"claims.csv: row 2: more values than the header has columns",
        ),
        (  # the first value was dropped before: the row was recorded as 2
            "benefit,period,claimed_value,claimed_value\nshared-savings,2026-03-31,1,2\n",
            r"^\S*claims.csv: row 1: column 'claimed_value' is in the header 2 times \(columns 3, 4\): which one holds "
            r"the claimed_value is unknown; keep one$",
        ),
        (  # names are compared without their blanks, as they are read
            "benefit,note,period,claimed_value, note \nshared-savings,a,2026-03-31,1,b\n",
            r"claims.csv: row 1: column 'note' is in the header 2 times \(columns 2, 5\)",
        ),
        (  # a decimal comma was read as 125 before
            'benefit,period,claimed_value\nshared-savings,2026-03-31,1\nshared-savings,2026-06-30,"12,5"\n',
            r"claims.csv: row 3: claimed_value: '12,5' is not an amount of money: a thousands separator must come "
            r"between groups of three digits \(1,234,567.50\); write decimals with a point \(12.50, not 12,50\); "
            r"nothing was recorded",
        ),
    ],
)
def test_bad_csv_names_file_row_and_field(tmp_path: Path, content: str, message: str) -> None:
    with pytest.raises(BenefitsError, match=message):
        read_claims_csv(write(tmp_path / "claims.csv", content))


def test_a_bad_row_rejects_the_whole_file(database_url: str, tmp_path: Path) -> None:
    sessions = store(database_url)
    content = CLAIMS_CSV + "shared-cycle-time,2026-03-31,100,,\nnobody,2026-03-31,5,,\nshared-savings,2025-12-01,5,,\n"
    parsed = read_claims_csv(write(tmp_path / "claims.csv", content))
    with pytest.raises(BenefitsError) as caught, sessions.begin() as session:
        record_claims(session, parsed, ClaimSource.csv)
    assert str(caught.value) == (
        f"{tmp_path / 'claims.csv'}: row 6: benefit: shared-cycle-time is operational_efficiency; claims are for "
        "cost_reduction and revenue benefits (and 2 more problems); nothing was recorded"
    )
    assert claim_count(sessions) == 0


SECOND_DECISION = (
    "INSERT INTO claim_decisions (claim_id, decision, decided_by, role, comment, claim_version_id, "
    "claimed_value) SELECT claim_id, 'approved', 'gus', 'finance', 'again', claim_version_id, "
    "claimed_value FROM claim_decisions"
)


def test_claims_versions_and_decisions_are_append_only_in_the_orm_and_the_database(database_url: str) -> None:
    sessions = store(database_url)
    with sessions.begin() as session:
        record_claims(
            session, [ClaimInput("shared-savings", dt.date(2026, 3, 31), Decimal("3000"))], ClaimSource.dashboard, "ana"
        )
        claim_id = session.scalar(select(models.Claim.id))
        decide(session, claim_id, Decision.rejected, "fay", "finance", "no ledger extract attached")
    with (
        pytest.raises(
            BenefitsError,
            match=rf"^claim {claim_id}: already rejected by fay on \d{{4}}-\d\d-\d\d; "
            "a decision is final$",
        ),
        sessions.begin() as session,
    ):
        decide(session, claim_id, Decision.approved, "gus", "finance", "ledger extract for March received")
    with sessions() as session:
        before = [(d.id, d.decision, d.comment, d.claimed_value) for d in history(session, claim_id)]
        version_ids = [v.id for v in session.scalars(select(models.ClaimVersion))]
    assert [d[1:] for d in before] == [("rejected", "no ledger extract attached", Decimal("3000"))]

    with pytest.raises(PermissionError, match="append-only"), sessions.begin() as session:
        history(session, claim_id)[0].comment = "edited"
    with pytest.raises(PermissionError, match="append-only"), sessions.begin() as session:
        session.delete(history(session, claim_id)[0])
    with pytest.raises(PermissionError, match="append-only"), sessions.begin() as session:
        session.scalars(select(models.ClaimVersion)).one().note = "edited"
    for statement in (
        "UPDATE claim_decisions SET decision = 'approved'",
        "DELETE FROM claim_decisions",
        "DELETE FROM claims",
        "UPDATE claims SET claimed_value = 1",
        "UPDATE claims SET note = 'x'",
        "UPDATE claim_versions SET claimed_value = 1",
        "DELETE FROM claim_versions",
        SECOND_DECISION,
    ):
        with pytest.raises(DBAPIError), sessions.begin() as session:
            session.execute(text(statement))
    with sessions() as session:
        assert [(d.id, d.decision, d.comment, d.claimed_value) for d in history(session, claim_id)] == before
        assert [v.id for v in session.scalars(select(models.ClaimVersion))] == version_ids
        assert session.get(models.Claim, claim_id).claimed_value == Decimal("3000")


def test_a_pending_claim_row_may_change_but_never_be_deleted(database_url: str) -> None:
    sessions = store(database_url)
    with sessions.begin() as session:
        record_claims(session, [ClaimInput("shared-savings", dt.date(2026, 3, 31), Decimal("3000"))], ClaimSource.csv)
    with sessions.begin() as session:
        session.execute(text("UPDATE claims SET note = 'pending: may change'"))
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        session.execute(text("DELETE FROM claims"))
    assert claim_count(sessions) == 1


@pytest.mark.postgres
def test_two_deciders_at_once_record_one_decision(postgres_url: str) -> None:
    """Two sessions decide the same claim at the same time (the second while the first has not committed): the
    second waits for the first, then is refused. Both were recorded before (READ COMMITTED)."""
    sessions = store(postgres_url)
    opened = contextlib.ExitStack()
    try:
        with sessions.begin() as session:
            record_claims(
                session, [ClaimInput("shared-savings", dt.date(2026, 3, 31), Decimal("3000"))], ClaimSource.csv, "ana"
            )
            claim_id = session.scalar(select(models.Claim.id))
        first = opened.enter_context(sessions())  # closed (its transaction rolled back if still open) on leaving
        first.begin()
        decide(first, claim_id, Decision.approved, "fay", "finance", "ledger matches")
        outcome: list[BaseException | None] = []

        def second() -> None:
            try:
                with sessions.begin() as session:
                    decide(session, claim_id, Decision.rejected, "gus", "finance", "no extract")
                outcome.append(None)
            except BenefitsError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive()  # waiting for the first decider's lock on the claim
        first.commit()
        thread.join(30)
        assert len(outcome) == 1 and isinstance(outcome[0], BenefitsError)
        assert str(outcome[0]).startswith(f"claim {claim_id}: already approved by fay on ")
        with sessions() as session:
            assert [(d.decision, d.decided_by) for d in history(session, claim_id)] == [("approved", "fay")]
    finally:
        opened.close()
        engine = sessions.kw["bind"]
        engine.dispose()
        with create_engine(postgres_url).begin() as connection:  # leave the shared database empty for the next test
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


def test_only_finance_decides_and_says_why(database_url: str) -> None:
    sessions = store(database_url)
    with sessions.begin() as session:
        record_claims(session, [ClaimInput("shared-savings", dt.date(2026, 3, 31), Decimal("3000"))], ClaimSource.csv)
        claim_id = session.scalar(select(models.Claim.id))
    for role in ("viewer", "pmo"):
        with (
            pytest.raises(NotAllowed, match=f"vic has role {role}; approving or rejecting a claim needs role finance"),
            sessions.begin() as session,
        ):
            decide(session, claim_id, Decision.approved, "vic", role, "looks fine")
    with pytest.raises(BenefitsError, match="comment: say why"), sessions.begin() as session:
        decide(session, claim_id, Decision.approved, "fay", "finance", "  ")
    with pytest.raises(BenefitsError, match="claim 999: no such claim"), sessions.begin() as session:
        decide(session, 999, Decision.approved, "fay", "finance", "ok")
    with sessions.begin() as session:
        decide(session, claim_id, Decision.approved, "root", "admin", "admin holds every role")
        assert len(history(session, claim_id)) == 1


def test_nobody_decides_a_claim_they_recorded(database_url: str) -> None:
    sessions = store(database_url)
    march = dt.date(2026, 3, 31)
    with sessions.begin() as session:
        record_claims(session, [ClaimInput("shared-savings", march, Decimal("3000"))], ClaimSource.csv, "ana")
        record_claims(session, [ClaimInput("shared-savings", march, Decimal("3100"))], ClaimSource.csv, "bob")
        claim_id = session.scalar(select(models.Claim.id))
    for claimant in ("ana", "bob"):  # whoever recorded any version is a claimant
        with (
            pytest.raises(
                NotAllowed,
                match=f"^claim {claim_id}: {claimant} recorded it; a claim is decided by "
                "someone other than its claimant$",
            ),
            sessions.begin() as session,
        ):
            decide(session, claim_id, Decision.approved, claimant, "finance", "mine")
    with sessions.begin() as session:
        decision = decide(session, claim_id, Decision.approved, "fay", "finance", "matches the ledger")
        latest = session.scalars(select(models.ClaimVersion).order_by(models.ClaimVersion.id.desc())).first()
        assert (decision.claim_version_id, decision.claimed_value) == (latest.id, Decimal("3100"))


def test_a_version_recorded_without_a_name_is_credited_to_unknown(database_url: str) -> None:
    sessions = store(database_url)
    march = dt.date(2026, 3, 31)
    with sessions.begin() as session:
        record_claims(session, [ClaimInput("shared-savings", march, Decimal("3000"))], ClaimSource.csv, "ana")
        record_claims(session, [ClaimInput("shared-savings", march, Decimal("3100"))], ClaimSource.csv)
    with sessions() as session:
        claim = session.scalars(select(models.Claim)).one()
        assert [(v.claimed_value, v.created_by) for v in claim.versions] == [
            (Decimal("3000"), "ana"),
            (Decimal("3100"), "unknown"),
        ]
        assert claim.created_by == "unknown"


def test_a_decided_claim_cannot_change(database_url: str) -> None:
    sessions = store(database_url)
    march = dt.date(2026, 3, 31)
    with sessions.begin() as session:
        record_claims(session, [ClaimInput("shared-savings", march, Decimal("3000"))], ClaimSource.csv)
        counts = record_claims(session, [ClaimInput("shared-savings", march, Decimal("3100"))], ClaimSource.csv)
        assert counts.updated == 1  # pending: the new value replaces it
        decide(session, session.scalar(select(models.Claim.id)), Decision.approved, "fay", "finance", "ok")
    with sessions.begin() as session:  # the same value again changes nothing, approved or not
        same = record_claims(session, [ClaimInput("shared-savings", march, Decimal("3100.00"))], ClaimSource.csv)
    assert (same.new, same.updated, same.unchanged) == (0, 0, 1)
    with (
        pytest.raises(BenefitsError, match="is already approved; a decided claim cannot change"),
        sessions.begin() as session,
    ):
        record_claims(
            session, [ClaimInput("shared-savings", march, Decimal("3200"), where="x.csv: row 2")], ClaimSource.csv
        )


def test_report_sets_claims_against_evidence_and_counts_only_approved_value(database_url: str, tmp_path: Path) -> None:
    sessions = store(database_url)
    with sessions.begin() as session:
        record_claims(session, read_claims_csv(write(tmp_path / "claims.csv", CLAIMS_CSV)), ClaimSource.csv)
    with sessions() as session:
        report = claims_report(session)
    lines = {line.benefit: line for line in report.lines}
    shared, automation = lines["shared-savings"], lines["automation-savings"]
    assert shared.reconciliation.evidenced == Decimal("3120.0")  # (1000 - 900) x 52 x 0.6 at 2026-03-02
    assert shared.reconciliation.state == EVIDENCED and shared.reconciliation.variance == Decimal("-120.0")
    assert automation.reconciliation.evidenced == Decimal("2080.0")  # the same reduction, 40% share
    assert automation.reconciliation.state == PARTLY_EVIDENCED and automation.reconciliation.evidenced_share == Decimal(
        "0.52"
    )
    assert lines["overtime-avoided"].reconciliation.state == UNEVIDENCED  # cash-releasing on a non-ledger metric
    assert lines["automation-revenue"].reconciliation.evidenced == Decimal("5000.0")
    assert report.over_attributed == [] and shared.double_counted is None
    run_id = shared.evidence.lines[0].sync_run_id
    assert report.runs[run_id].validation == (
        "passed 1 of 2 expectations; failed expect_column_values_to_be_between (1 rows quarantined, the rest accepted)"
    )
    assert (report.reported, report.validated) == (Decimal("23125.0000"), Decimal(0))

    with sessions.begin() as session:
        decide(session, shared.id, Decision.approved, "fay", "finance", "matches the March ledger")
        decide(session, automation.id, Decision.rejected, "fay", "finance", "only half evidenced")
    with sessions() as session:
        after = claims_report(session, initiative="shared-services")
    assert [line.benefit for line in after.lines] == ["shared-savings", "overtime-avoided"]
    assert after.validated == Decimal("3000.00")
    assert [(d.decided_by, d.decision) for d in after.lines[0].decisions] == [("fay", "approved")]


def test_over_attributed_metric_flags_its_claims(database_url: str, tmp_path: Path) -> None:
    with pytest.warns(Warning, match="110%"):
        sessions = store(database_url, over_attributed_register(tmp_path))
    with sessions.begin() as session:
        record_claims(session, [ClaimInput("automation-savings", dt.date(2026, 3, 31), Decimal("1"))], ClaimSource.csv)
    with sessions() as session:
        report = claims_report(session)
    [found] = report.over_attributed
    assert found.metric == "ledger.shared_costs" and found.total == Decimal("1.1")
    assert report.lines[0].double_counted == found


def test_evidence_pack_links_each_figure_to_its_sync_run(database_url: str, tmp_path: Path) -> None:
    sessions = store(database_url)
    with sessions.begin() as session:
        record_claims(session, read_claims_csv(write(tmp_path / "claims.csv", CLAIMS_CSV)), ClaimSource.csv)
        claim_id = session.scalar(select(models.Claim.id).where(models.Claim.benefit_key == "shared-savings"))
        decide(session, claim_id, Decision.approved, "fay", "finance", "<script>alert(1)</script> checked")
    with sessions() as session:
        report = claims_report(session, "shared-services")
    csv_path, html_path = write_evidence_pack(report, "shared-services", tmp_path / "pack", "GBP")
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert list(rows[0]) == list(CSV_COLUMNS)
    shared = [r for r in rows if r["benefit"] == "shared-savings"]
    assert len(shared) == 1  # a level metric rests on one observation
    assert shared[0]["observation_period"] == "2026-03-02" and shared[0]["observation_value"] == "900.0"
    assert shared[0]["sync_run_id"] == str(report.lines[0].evidence.lines[0].sync_run_id)
    assert shared[0]["validation"].startswith("passed 1 of 2 expectations")
    assert (shared[0]["state"], shared[0]["decided_by"], shared[0]["claimed_value"]) == ("approved", "fay", "3000.0000")
    overtime = [r for r in rows if r["benefit"] == "overtime-avoided"]
    assert [r["observation_period"] for r in overtime] == ["2026-02-02", "2026-03-02"]
    page = html_path.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; checked" in page
    assert "validated (approved) £3,000" in page


def test_migration_0005_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine)
    command.downgrade(migrate.alembic_config(engine), "0004")
    assert not {"claims", "claim_decisions"} & set(inspect(engine).get_table_names())
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    with sessions.begin() as session:
        claim = models.Claim(
            benefit_key="b",
            period=dt.date(2026, 1, 1),
            claimed_value=Decimal("1"),
            claim_class="cost_avoidance",
            source="csv",
        )
        session.add(claim)
        session.flush()
        version = models.ClaimVersion(
            claim_id=claim.id, claimed_value=claim.claimed_value, claim_class=claim.claim_class, source="csv"
        )
        session.add(version)
        session.flush()
        session.add(
            models.ClaimDecision(
                claim_id=claim.id,
                decision="approved",
                decided_by="fay",
                role="finance",
                comment="ok",
                claim_version_id=version.id,
                claimed_value=Decimal("1"),
            )
        )
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        session.execute(text("DELETE FROM claim_decisions"))
    engine.dispose()


def test_migration_0008_gives_each_existing_claim_its_first_version(database_url: str) -> None:
    engine = db.make_engine(database_url)
    migrate.upgrade(engine, "0007")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO claims (benefit_key, period, claimed_value, claim_class, source, note, created_by) "
                "VALUES ('b', '2026-03-30', 1234.5, 'cost_avoidance', 'csv', 'n', 'ana')"
            )
        )
    migrate.upgrade(engine)
    with db.session_factory(engine)() as session:
        [claim] = session.scalars(select(models.Claim))
        assert [(v.claimed_value, v.source, v.created_by, v.sync_run_id) for v in claim.versions] == [
            (Decimal("1234.5"), "csv", "ana", None)
        ]
    command.downgrade(migrate.alembic_config(engine), "0007")
    assert "claim_versions" not in inspect(engine).get_table_names()
    engine.dispose()


def test_a_connector_claim_with_a_misplaced_comma_is_refused_naming_the_record() -> None:
    from benefits.claims.importer import read_claim_records

    records = [
        {"benefit": "shared-savings", "period": "2026-03-31", "claimed_value": "1,250"},
        {"benefit": "shared-savings", "period": "2026-06-30", "claimed_value": "12,50", "source_ref": "L7"},
    ]
    with pytest.raises(BenefitsError) as refused:
        read_claim_records(records, "ledger")
    assert str(refused.value) == (
        "connector ledger: claim 2 (L7): claimed_value: '12,50' is not an amount of money: a thousands separator "
        "must come between groups of three digits (1,234,567.50); write decimals with a point (12.50, not 12,50); "
        "nothing was recorded"
    )
    assert read_claim_records(records[:1], "ledger")[0].claimed_value == Decimal("1250")
