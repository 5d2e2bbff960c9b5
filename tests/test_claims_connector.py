"""Claims delivered by a connector's ``claims()``, on a real SQLite file and the real PostgreSQL.

Recorded in the sync run's transaction with source ``connector``, created by the connector
instance and linked to the run; idempotent across syncs; a restated value is a new version; one
bad claim fails the run (nothing of it written) with a reason naming the connector and the claim.
"""

from __future__ import annotations

import csv
import datetime as dt
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import psutil
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from benefits.claims import Decision
from benefits.claims.evidence_pack import write_evidence_pack
from benefits.claims.ledger import claims_report
from benefits.claims.signoff import decide
from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector
from benefits.plugins.manager import plugin_manager
from benefits.register import load_register
from benefits.store import db, migrate, models, repository
from benefits.sync.runner import sync_all
from benefits.sync.writer import SyncReport

AS_OF = dt.date(2026, 11, 23)
WEEKS = [(AS_OF - dt.timedelta(weeks=w)).isoformat() for w in range(3, 0, -1)]
CONNECTORS = "connectors:\n  - {name: crm-claims, type: test-claiming}\n"
GOOD = [
    {
        "benefit": "crm-upsell-revenue",
        "period": "2026-06-29",
        "claimed_value": "250,000.50",
        "class": "non_cash_releasing",
        "note": "Q2 upsell",
        "source_ref": "crm:claims:17",
    },
    {"benefit": "procurement-savings", "period": dt.date(2026, 9, 28), "claimed_value": Decimal("700000")},
]


class Claiming(Connector):
    """Three weekly ledger values and the claims in ``Claiming.script`` (a float there: seconds to sleep)."""

    type: ClassVar[str] = "test-claiming"
    script: ClassVar[list[Any]] = []

    def records(self) -> Iterator[dict[str, Any]]:
        for week in WEEKS:
            yield {"metric": "ledger.it_opex_weekly", "period": week, "value": 100.0, "unit": "GBP"}

    def claims(self) -> Iterator[Any]:
        for item in Claiming.script:
            if isinstance(item, float):
                time.sleep(item)
            else:
                yield item


@pytest.fixture
def claiming() -> Iterator[None]:
    plugin = SimpleNamespace(register_connectors=hookimpl(lambda: [Claiming]))
    plugin_manager().register(plugin, name="test-claiming")
    Claiming.script = list(GOOD)
    yield
    plugin_manager().unregister(name="test-claiming")


def _sync(config: Path, sessions: sessionmaker[Session]) -> SyncReport:
    [report] = sync_all(sessions, config, load_register(config), AS_OF)
    return report


def _store(config: Path, url: str) -> sessionmaker[Session]:
    (config / "connectors.yaml").write_text(CONNECTORS)
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    sessions = db.session_factory(engine)
    with sessions.begin() as session:
        repository.save_register(session, load_register(config))
    return sessions


def _count(sessions: sessionmaker[Session], model: type[models.Base]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_claims_are_recorded_with_their_sync_run_once(
    demo_config: Path, database_url: str, claiming: None, tmp_path: Path
) -> None:
    sessions = _store(demo_config, database_url)
    first = _sync(demo_config, sessions)
    assert (first.status, first.rows_accepted, first.claims_new) == ("succeeded", 3, 2)
    with sessions() as session:
        claims = {c.benefit_key: c for c in session.scalars(select(models.Claim))}
        run_id = session.scalar(select(models.SyncRun.id))
        [version] = claims["crm-upsell-revenue"].versions
    upsell = claims["crm-upsell-revenue"]
    assert upsell.claimed_value == Decimal("250000.5") and isinstance(upsell.claimed_value, Decimal)
    assert (upsell.source, upsell.created_by, upsell.claim_class) == ("connector", "crm-claims", "non_cash_releasing")
    assert claims["procurement-savings"].claim_class == "cash_releasing"  # no class: from the benefit's flag
    assert (version.sync_run_id, version.source_ref, version.claimed_value) == (
        run_id,
        "crm:claims:17",
        Decimal("250000.5"),
    )

    again = _sync(demo_config, sessions)
    assert (again.status, again.claims_new, again.claims_updated, again.claims_unchanged) == ("succeeded", 0, 0, 2)
    assert (_count(sessions, models.Claim), _count(sessions, models.ClaimVersion)) == (2, 2)
    with sessions() as session:
        [line] = [line for line in claims_report(session).lines if line.benefit == "crm-upsell-revenue"]
    assert (line.source, line.created_by, line.sync_run_id, line.source_ref) == (
        "connector",
        "crm-claims",
        run_id,
        "crm:claims:17",
    )
    with sessions() as session:
        report = claims_report(session, "crm-modernisation")
    [csv_path, html_path] = write_evidence_pack(report, "crm-modernisation", tmp_path, "GBP")
    [row] = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert (row["claim_source"], row["claim_source_ref"], row["claim_sync_run_id"]) == (
        "connector",
        "crm:claims:17",
        str(run_id),
    )
    assert f"connector (crm-claims); crm:claims:17; sync run {run_id}: crm-claims, succeeded" in html_path.read_text()


def test_a_restated_claim_is_a_new_version_until_finance_decides(
    demo_config: Path, database_url: str, claiming: None
) -> None:
    sessions = _store(demo_config, database_url)
    _sync(demo_config, sessions)
    Claiming.script = [{**GOOD[0], "claimed_value": "260000"}, GOOD[1]]
    restated = _sync(demo_config, sessions)
    assert (restated.claims_updated, restated.claims_unchanged) == (1, 1)
    with sessions() as session:
        upsell = session.scalars(select(models.Claim).where(models.Claim.benefit_key == "crm-upsell-revenue")).one()
        runs = list(session.scalars(select(models.SyncRun.id).order_by(models.SyncRun.id)))
        assert upsell.claimed_value == Decimal("260000")
        assert [(v.claimed_value, v.sync_run_id) for v in upsell.versions] == [
            (Decimal("250000.5"), runs[0]),
            (Decimal("260000"), runs[1]),
        ]
        decide(session, upsell.id, Decision.approved, "fay", "finance", "CRM extract checked")
        session.commit()

    Claiming.script = [{**GOOD[0], "claimed_value": "999999"}, GOOD[1]]
    refused = _sync(demo_config, sessions)
    assert refused.status == "failed"
    assert refused.error == (
        f"connector crm-claims: claim 1 (crm:claims:17): claimed_value: claim {upsell.id} (crm-upsell-revenue at "
        "2026-06-29) is already approved; a decided claim cannot change; nothing was recorded"
    )
    with sessions() as session:
        assert session.get_one(models.Claim, upsell.id).claimed_value == Decimal("260000")
        assert len(session.get_one(models.Claim, upsell.id).versions) == 2
        failed_run = session.scalars(select(models.SyncRun).order_by(models.SyncRun.id.desc())).first()
        assert failed_run is not None and failed_run.status == "failed" and failed_run.error == refused.error
        assert failed_run.id not in set(session.scalars(select(models.Observation.sync_run_id)))


@pytest.mark.parametrize(
    ("claim", "reason"),
    [
        (
            {"benefit": "nobody", "period": "2026-06-29", "claimed_value": "1"},
            "benefit: 'nobody' is not in the register (run `benefits init` after editing it)",
        ),
        (
            {"benefit": "cloud-dual-running", "period": "2026-06-29", "claimed_value": "1"},
            "benefit: cloud-dual-running is a dis-benefit; claims are for savings and revenue",
        ),
        (
            {"benefit": "crm-handling-time", "period": "2026-06-29", "claimed_value": "1"},
            "benefit: crm-handling-time is operational_efficiency; claims are for cost_reduction and revenue benefits",
        ),
        (
            {"benefit": "crm-upsell-revenue", "period": "29/06/2026", "claimed_value": "1"},
            "period: '29/06/2026' is not a date like 2026-06-29",
        ),
        (
            {"benefit": "crm-upsell-revenue", "period": "2025-01-05", "claimed_value": "1"},
            "period: 2025-01-05 must be after the benefit's baseline date 2025-09-01",
        ),
        (
            {
                "benefit": "crm-upsell-revenue",
                "period": "2026-11-30",
                "claimed_value": "1",
            },  # after the sync's as-of date
            "period: 2026-11-30 is in the future (after 2026-11-23); claim value once it is realised",
        ),
        (
            {"benefit": "crm-upsell-revenue", "period": "2026-06-29", "claimed_value": "$1"},
            "claimed_value: '$1' is in USD; this register's money is GBP",
        ),
        (
            {"benefit": "crm-upsell-revenue", "period": "2026-06-29", "claimed_value": Decimal("1E+16")},
            "claimed_value: 10000000000000000 is out of range: at most 16 digits before the decimal point",
        ),
        (
            {"benefit": "crm-upsell-revenue", "period": "2026-06-29", "claimed_value": 1234.5},
            "claimed_value: 1234.5 is a float; yield a Decimal or text so that no cent is lost",
        ),
        (
            {"benefit": "crm-upsell-revenue", "period": "2026-06-29", "claimed_value": "lots"},
            "claimed_value: 'lots' is not an amount of money",
        ),
        (
            {"benefit": "crm-upsell-revenue", "period": "2026-06-29", "claimed_value": "1", "value": 2},
            "unknown key value (a claim has benefit, period, claimed_value, class, note, source_ref)",
        ),
        ("crm-upsell-revenue,2026-06-29,1", "is a str, not a dict"),
    ],
)
def test_a_bad_claim_fails_the_run_naming_connector_and_claim(
    demo_config: Path, database_url: str, claiming: None, claim: Any, reason: str
) -> None:
    sessions = _store(demo_config, database_url)
    Claiming.script = [GOOD[1], claim]
    report = _sync(demo_config, sessions)
    assert report.status == "failed"
    assert report.error is not None and report.error.startswith(f"connector crm-claims: claim 2: {reason}")
    assert report.error.endswith("; nothing was recorded") and "\n" not in report.error
    assert (_count(sessions, models.Claim), _count(sessions, models.Observation)) == (0, 0)


def test_a_sync_without_claims_touches_none(demo_config: Path, database_url: str, claiming: None) -> None:
    sessions = _store(demo_config, database_url)
    Claiming.script = []
    report = _sync(demo_config, sessions)
    assert (report.status, report.rows_accepted, report.claims_new) == ("succeeded", 3, 0)
    assert _count(sessions, models.Claim) == 0


def test_claims_that_hang_past_the_timeout_fail_the_run(demo_config: Path, sqlite_url: str, claiming: None) -> None:
    sessions = _store(demo_config, sqlite_url)
    (demo_config / "connectors.yaml").write_text(
        "connectors:\n  - {name: crm-claims, type: test-claiming, timeout: 0.5}\n"
    )
    Claiming.script = [GOOD[0], 5.0, GOOD[1]]
    threads, children = set(threading.enumerate()), set(psutil.Process().children(recursive=True))
    report = _sync(demo_config, sessions)
    assert (report.status, report.error) == (
        "failed",
        "claims() timed out after 0.5 s (set `timeout:` for this connector in connectors.yaml)",
    )
    assert set(psutil.Process().children(recursive=True)) <= children, "the claims() process is gone"
    assert set(threading.enumerate()) <= threads
    assert (_count(sessions, models.Claim), _count(sessions, models.Observation)) == (0, 0)
