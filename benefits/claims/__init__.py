"""Finance claims: a claimed value per benefit and period, reconciled with ledger evidence and signed off.

One module per responsibility, each small:

- :mod:`benefits.claims.money` — Decimal parsing, the float boundary, rounding once for display;
- :mod:`benefits.claims.reconciliation` — pure evidence and variance maths over observations;
- :mod:`benefits.claims.double_counting` — attribution shares of one metric adding up to over 100%;
- :mod:`benefits.claims.importer` — claims from CSV (all rows or none), the dashboard or a connector;
- :mod:`benefits.claims.signoff` — append-only approve/reject decisions by the finance role;
- :mod:`benefits.claims.ledger` — reading claims with their evidence, runs and decisions from the store;
- :mod:`benefits.claims.listing` — `benefits claims list` as a table, CSV or JSON;
- :mod:`benefits.claims.evidence_pack` — the per-initiative export (CSV and HTML).

This package's ``__init__`` imports nothing heavy: :mod:`benefits.register` uses the
double-counting check while loading the register.
"""

from enum import StrEnum


class ClaimClass(StrEnum):
    """How a claimed saving shows in the accounts."""

    cash_releasing = "cash_releasing"  # a budget line goes down: needs a matching ledger reduction
    non_cash_releasing = "non_cash_releasing"  # capacity or time freed, no budget released
    cost_avoidance = "cost_avoidance"  # a cost that would have arisen and did not


class ClaimSource(StrEnum):
    """Where a claimed value came from."""

    dashboard = "dashboard"
    csv = "csv"
    connector = "connector"


class Decision(StrEnum):
    """A finance decision on a claim."""

    approved = "approved"
    rejected = "rejected"


PENDING = "pending"
SIGN_OFF_ROLES = ("finance",)  # admin holds every role
