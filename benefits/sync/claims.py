"""Claims intake: the claims a connector delivers during its sync, recorded with the sync run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from benefits.errors import BenefitsError
from benefits.plugins.connector import Connector, delivers_claims
from benefits.sync.reading import Logs, read_claims

if TYPE_CHECKING:  # pragma: no cover - typing only
    from benefits.claims.importer import RecordCounts


def record_connector_claims(
    session: Session, connector: Connector, run_id: int, logs: Logs | None = None
) -> RecordCounts:
    """Read the connector's claims (within its timeout), check them all, then record them with the run.

    Claims are recorded with source ``connector``, created by the connector instance's name and
    linked to sync run ``run_id``. Any bad claim (an unknown or non-claimable benefit, a period
    not after the baseline or after the sync's as-of date, a value that is not a positive Decimal, an
    amount in another currency or out of range, a change to a decided claim)
    raises a BenefitsError naming the connector, the claim and the field: the caller's
    transaction then writes nothing of the run, and the run fails with that reason. ``logs`` receives
    what the connector logs while ``claims()`` runs.
    """
    from benefits.claims import ClaimSource
    from benefits.claims.importer import RecordCounts, read_claim_records, record_claims

    if not delivers_claims(type(connector)):
        return RecordCounts(0, 0, 0)
    records = read_claims(connector, logs)
    try:
        claims = read_claim_records(records, connector.name)
        return record_claims(
            session, claims, ClaimSource.connector, connector.name, sync_run_id=run_id, today=connector.context.as_of
        )
    except BenefitsError as exc:
        raise BenefitsError(connector.mask(str(exc))) from None
