"""Double counting: several benefits credited with more than 100% of one metric's movement.

Each benefit takes its ``attribution`` share of its metric's improvement. When the shares of the
benefits drawing on one metric add up to more than 1, the same saving is counted more than once.
Shares are added as Decimal so that 0.7 + 0.2 + 0.1 is exactly 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from benefits.claims.money import from_float


@dataclass(frozen=True)
class OverAttribution:
    """A metric whose benefits' attribution shares add up to more than 100%."""

    metric: str
    total: Decimal  # sum of the shares, > 1
    shares: tuple[tuple[str, Decimal], ...]  # (benefit key, share), in register order

    @property
    def benefits(self) -> tuple[str, ...]:
        """The keys of the benefits that draw on the metric."""
        return tuple(key for key, _ in self.shares)

    def message(self) -> str:
        """One line saying which metric, which benefits and by how much."""
        parts = ", ".join(f"{key} {_pct(share)}" for key, share in self.shares)
        return (
            f"metric {self.metric}: attribution shares add up to {_pct(self.total)} ({parts}); "
            "the same saving may be counted twice"
        )


def over_attributed(shares: Iterable[tuple[str, str, float | Decimal]]) -> list[OverAttribution]:
    """Every metric whose (benefit key, metric, attribution share) triples add up to more than 1."""
    by_metric: dict[str, list[tuple[str, Decimal]]] = {}
    for key, metric, share in shares:
        exact = share if isinstance(share, Decimal) else from_float(share)
        by_metric.setdefault(metric, []).append((key, exact))
    found = []
    for metric, entries in by_metric.items():
        total = sum((share for _, share in entries), Decimal(0))
        if total > 1:
            found.append(OverAttribution(metric, total, tuple(entries)))
    return found


def _pct(share: Decimal) -> str:
    return f"{(100 * share).normalize():f}%"
