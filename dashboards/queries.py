"""Everything the dashboard reads from the store, as plain data for the figures and pages.

With ``benefits.dashboards.snapshot`` and ``benefits.dashboards.quality`` this is where the dashboard reads the
store; pages and figures never query it themselves. The portfolio-wide figures come from the
snapshot (``benefits.status.positions``, the rows `benefits status` prints, cached per data
version); one benefit's series from ``benefits.store.repository``, its tracked quantity and plan
from ``benefits.realisation``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from benefits import realisation
from benefits.claims.ledger import ClaimedValue, claimed_value_by_initiative
from benefits.dashboards.cache import cached
from benefits.dashboards.snapshot import FILTERS, Filters, cached_snapshot
from benefits.register import Benefit
from benefits.status import STATUSES, StatusRow
from benefits.store import models, repository
from benefits.value import DEFAULT_CORRELATION, DEFAULT_SAMPLES

if TYPE_CHECKING:  # the value report's modules are imported when it is built
    from benefits.value.report import ValueReport

DEFAULT_CURRENCY = "GBP"  # the register's own default, used before a register is stored


class StoreUnavailable(Exception):
    """The store cannot be read (no tables yet, or the database is unreachable)."""


@dataclass(frozen=True)
class PortfolioSummary:
    """Planned and realised value across the portfolio (or its filtered part) at ``as_of``."""

    as_of: dt.date
    currency: str
    filters: Filters
    benefits: pd.DataFrame  # the snapshot rows that pass the filters (benefits.dashboards.snapshot.COLUMNS)
    # initiative, name, benefits, planned/realised/reported/validated_value, cash_to_date, planned_cash_to_date,
    # run_rate
    initiatives: pd.DataFrame
    categories: pd.DataFrame  # category, benefits, planned_value, realised_value
    status_counts: dict[str, int]  # every status, in STATUSES order
    planned_value: float  # money value at the date: a run-rate benefit's annual rate, an amount's total
    realised_value: float
    cash: CashTotals  # money banked to date apart from the run-rate (benefits status's figures, added up)
    reported_value: Decimal  # claimed value: each benefit's latest claim (benefits.claims.ledger)
    validated_value: Decimal  # approved claimed value: each benefit's latest approved claim
    changes: pd.DataFrame  # benefits re-baselined or whose status changed since the previous forecast run
    options: dict[str, list[str]]  # the values each filter can take, from the whole portfolio
    labels: dict[str, dict[str, str]]  # readable names of filter values (programme key -> name)
    total: int  # benefits in the whole portfolio


@dataclass(frozen=True)
class CashTotals:
    """Cash banked to date and the annual run-rate of some benefits: sums of their status rows' exact
    ``cash_to_date``, ``planned_cash_to_date`` and ``run_rate`` (the run-rate benefits' planned rate
    is their ``planned_value``); never added to each other."""

    cash_to_date: Decimal
    planned_cash_to_date: Decimal
    run_rate: Decimal | None  # None when no benefit is a run-rate
    planned_run_rate: float | None
    run_rate_benefits: int

    @classmethod
    def of(cls, frame: pd.DataFrame) -> CashTotals:
        """The totals of snapshot rows (``benefits.dashboards.snapshot.COLUMNS``)."""
        return cls._added(_records(frame, _CASH_COLUMNS))

    @classmethod
    def by(cls, frame: pd.DataFrame, key: str) -> dict[Any, CashTotals]:
        """The totals of snapshot rows per value of the column ``key``, in order of first appearance."""
        groups: dict[Any, list[dict[str, Any]]] = {}
        for row in _records(frame, (key, *_CASH_COLUMNS)):
            groups.setdefault(row[key], []).append(row)
        return {group: cls._added(rows) for group, rows in groups.items()}

    @classmethod
    def _added(cls, rows: list[dict[str, Any]]) -> CashTotals:
        rates = [row for row in rows if row["value_type"] == "run_rate"]
        return cls(
            cash_to_date=sum((row["cash_to_date"] for row in rows), Decimal(0)),
            planned_cash_to_date=sum((row["planned_cash_to_date"] for row in rows), Decimal(0)),
            run_rate=sum((row["run_rate"] or Decimal(0) for row in rates), Decimal(0)) if rates else None,
            planned_run_rate=round(sum(float(row["planned_value"]) for row in rates), 2) if rates else None,
            run_rate_benefits=len(rates),
        )


_CASH_COLUMNS = ("value_type", "cash_to_date", "planned_cash_to_date", "run_rate", "planned_value")


def _records(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """``frame[list(columns)].to_dict("records")``, built from the columns as plain lists (pandas boxes each
    cell on its own: ~15 ms for the portfolio's 1,000 rows, against ~1 ms)."""
    lists = [frame[column].tolist() for column in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*lists, strict=True)]


@dataclass(frozen=True)
class BenefitDetail:
    """One benefit's status with its tracked quantity over time: actual, planned and forecast."""

    row: StatusRow
    initiative_name: str
    as_of: dt.date
    currency: str
    baseline_date: dt.date
    baseline_value: float
    start_date: dt.date
    target_date: dt.date
    target_value: float
    actuals: pd.DataFrame  # period, q
    planned: pd.DataFrame  # period, q
    forecast: pd.DataFrame  # period, yhat, lower, upper (empty when not forecast)
    forecast_as_of: dt.date | None
    history: pd.DataFrame  # as_of, p_on_time, status: the benefit in every forecast run, oldest first
    revisions: pd.DataFrame  # period, source, value, replaced: earlier values the source restated
    last_period: str | None  # the latest observed period up to as_of
    stale_message: str  # why the metric is stale at as_of (benefits.staleness), empty when it is not
    trust: str = ""  # the latest forecast's sentence on how far it can be trusted ("" when none)
    reference_weight: float | None = None  # how much its probability leans on comparable benefits (0..1)
    p_model: float | None = None  # the model's own probability, before comparable benefits
    forecast_p_on_time: float | None = None  # the latest forecast's own probability (shown when the data went stale)
    forecast_landing: dt.date | None = None  # the latest forecast's own expected landing
    forecast_at_target: float | None = None  # the latest forecast's own value at the target date
    lineage: tuple[repository.Lineage, ...] = ()  # where the latest readings came from, newest first


@dataclass(frozen=True)
class InitiativeDetail:
    """An initiative's benefits (snapshot rows) with each benefit's (actuals, planned) series."""

    as_of: dt.date
    currency: str
    benefits: pd.DataFrame
    series: dict[str, tuple[pd.DataFrame, pd.DataFrame]]


def currency(session: Session) -> str:
    """The register's currency code (GBP before a register is stored)."""
    stored = repository.portfolio(session)
    return stored.currency if stored else DEFAULT_CURRENCY


def portfolio_summary(session: Session, as_of: dt.date | None = None, filters: Filters = Filters()) -> PortfolioSummary:
    """Per-initiative and per-category planned vs realised value, counts by status and changes (re-baselined
    or another status)."""
    as_of = as_of or dt.date.today()
    with reading():
        everything = cached_snapshot(session, as_of)
        money = currency(session)
        frame = filters.apply(everything)
        claimed = claimed_value_by_initiative(session, set(frame["benefit"]) if filters.active else None)
    initiatives = _totals(frame, "initiative")
    names = dict(zip(frame["initiative"], frame["initiative_name"], strict=True))
    initiatives.insert(1, "name", [names[key] for key in initiatives["initiative"]])
    nothing = ClaimedValue(Decimal(0), Decimal(0))
    initiatives["reported_value"] = [claimed.get(k, nothing).reported for k in initiatives["initiative"]]
    initiatives["validated_value"] = [claimed.get(k, nothing).validated for k in initiatives["initiative"]]
    cash = CashTotals.by(frame, "initiative")
    initiatives["cash_to_date"] = [cash[k].cash_to_date for k in initiatives["initiative"]]
    initiatives["planned_cash_to_date"] = [cash[k].planned_cash_to_date for k in initiatives["initiative"]]
    initiatives["run_rate"] = [cash[k].run_rate for k in initiatives["initiative"]]
    counts = frame["status"].value_counts().to_dict()
    status_counts = {s: int(counts.pop(s, 0)) for s in STATUSES} | {k: int(v) for k, v in counts.items()}
    changed = frame["change"].notna()  # benefits.status.changed's rows
    return PortfolioSummary(
        as_of=as_of,
        currency=money,
        filters=filters,
        benefits=frame,
        initiatives=initiatives,
        categories=_totals(frame, "category"),
        status_counts=status_counts,
        planned_value=round(float(frame["planned_value"].sum()), 2),
        realised_value=round(float(frame["realised_value"].sum()), 2),
        cash=CashTotals.of(frame),
        reported_value=sum((c.reported for c in claimed.values()), Decimal(0)),
        validated_value=sum((c.validated for c in claimed.values()), Decimal(0)),
        changes=frame[changed],
        options={name: sorted(everything[name].dropna().unique().tolist()) for name in FILTERS},
        labels={"programme": dict(zip(everything["programme"], everything["programme_name"], strict=True))},
        total=len(everything),
    )


def value_report(session: Session, as_of: dt.date | None = None) -> ValueReport:
    """`benefits value`'s report at ``as_of`` (default today) with the default roll-up (correlation and
    draws): the business case and the P10/P50/P90 of the portfolio's cash by each fiscal year's end.
    Read from the report the weekly job keeps in the store (``benefits.value.kept``; computed and kept
    there when the data changed since, through a connection of its own, which commits it), and kept in
    memory per data version (``benefits.dashboards.cache``)."""
    from benefits.value.kept import kept_report

    when = as_of or dt.date.today()

    def kept() -> ValueReport:
        with session.get_bind().engine.connect() as connection:
            return kept_report(connection, when, None, DEFAULT_CORRELATION, DEFAULT_SAMPLES)

    with reading():
        return cached(session, "value", when, kept)


def status_row(row: Mapping[str, Any]) -> StatusRow:
    """A snapshot row as the ``benefits status`` row it agrees with."""
    return StatusRow(**{name: row[name] for name in StatusRow.__dataclass_fields__})


def benefit_detail(session: Session, key: str, as_of: dt.date | None = None) -> BenefitDetail | None:
    """One benefit's status, actuals, planned profile, latest forecast, probability history and
    revisions; None for an unknown key."""
    as_of = as_of or dt.date.today()
    with reading():
        stored = session.scalars(select(models.Benefit).where(models.Benefit.key == key)).first()
        if stored is None:
            return None
        row = cached_snapshot(session, as_of, benefit=key).iloc[0].to_dict()
        benefit = repository.declared_benefit(stored)
        observations = repository.observations(session, stored.metric)
        runs = repository.forecast_runs(session, limit=1)
        forecast = None
        if runs:
            query = select(models.Forecast).where(
                models.Forecast.forecast_run_id == runs[0].id, models.Forecast.benefit_key == key
            )
            forecast = session.scalars(query).first()
        history = probability_history(session, key)
        revisions = revision_frame(session, stored.metric)
        lineage = tuple(repository.lineage(session, stored.metric, as_of))
        money = currency(session)
    return BenefitDetail(
        row=status_row(row),
        initiative_name=row["initiative_name"],
        as_of=as_of,
        currency=money,
        baseline_date=benefit.baseline.date,
        baseline_value=benefit.baseline.value,
        start_date=stored.start_date,
        target_date=benefit.target.date,
        target_value=benefit.target.value,
        actuals=realisation.tracked_series(benefit, observations, as_of),
        planned=planned_series(benefit, stored.start_date),
        forecast=forecast_frame(forecast.path if forecast else []),
        forecast_as_of=runs[0].as_of if forecast else None,
        history=history,
        revisions=revisions,
        last_period=row["last_period"],
        stale_message=row["message"] if row["status"] == "data_stale" else "",  # the snapshot's staleness message
        trust=forecast.trust if forecast else "",
        reference_weight=forecast.reference_weight if forecast else None,
        p_model=forecast.p_model if forecast else None,
        forecast_p_on_time=forecast.p_on_time if forecast else None,
        forecast_landing=forecast.expected_landing if forecast else None,
        forecast_at_target=forecast.forecast_at_target_date if forecast else None,
        lineage=lineage,
    )


def probability_history(session: Session, key: str) -> pd.DataFrame:
    """The benefit's probability of landing and status in every finished forecast run, oldest first
    (one point per forecast date, from ``repository.forecast_history``)."""
    points = repository.forecast_history(session, key).get(key, [])
    return pd.DataFrame([(p.as_of, p.p_on_time, p.status) for p in points], columns=["as_of", "p_on_time", "status"])


def revision_frame(session: Session, metric: str) -> pd.DataFrame:
    """Earlier values of the metric's observations that a source restated, newest first."""
    rows = [(r.period, r.source, r.value, r.replaced_by_sync_run_id) for r in repository.revisions(session, metric)]
    frame = pd.DataFrame(rows, columns=["period", "source", "value", "replaced_by_sync_run"])
    return frame.sort_values(["period", "replaced_by_sync_run"], ascending=False).reset_index(drop=True)


def initiative_detail(session: Session, key: str, as_of: dt.date | None = None) -> InitiativeDetail | None:
    """An initiative's benefits at ``as_of``, each with its tracked and planned series; None when unknown."""
    as_of = as_of or dt.date.today()
    with reading():
        rows = cached_snapshot(session, as_of, initiative=key)
        if rows.empty:
            return None
        stored = session.scalars(select(models.Benefit).where(models.Benefit.key.in_(rows["benefit"].tolist()))).all()
        points = repository.observation_points(session, {row.metric for row in stored})  # one query, not one each
        series = {}
        for row in stored:
            benefit = repository.declared_benefit(row)
            observed = pd.DataFrame(
                points.get(row.metric, []), columns=["period", "value"]
            )  # as observations() reads it
            series[row.key] = (
                realisation.tracked_series(benefit, observed, as_of),
                planned_series(benefit, row.start_date),
            )
        money = currency(session)
    return InitiativeDetail(as_of=as_of, currency=money, benefits=rows, series=series)


def planned_series(benefit: Benefit, start: dt.date) -> pd.DataFrame:
    """The planned Q weekly from the baseline date to the target date, with the start date included."""
    weekly = pd.date_range(benefit.baseline.date, benefit.target.date, freq="7D").date
    dates = sorted({*weekly, benefit.baseline.date, start, benefit.target.date})
    return pd.DataFrame(
        {"period": dates, "q": realisation.planned_values(benefit, start, dates)},
        columns=["period", "q"],
    )


def forecast_frame(path: list[Any]) -> pd.DataFrame:
    """A stored forecast path (``[{period, yhat, lower, upper}]``) as a DataFrame sorted by period."""
    columns = ["period", "yhat", "lower", "upper"]
    frame = pd.DataFrame([p for p in path if isinstance(p, dict)], columns=columns)
    if frame.empty:
        return frame
    frame["period"] = pd.to_datetime(frame["period"]).dt.date
    for column in columns[1:]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame.sort_values("period").reset_index(drop=True)


def _totals(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Benefit count and planned/realised value per ``by``, in order of first appearance."""
    grouped = frame.groupby(by, sort=False)  # one sum of both columns: named aggregations cost ~3x as much
    totals = grouped[["planned_value", "realised_value"]].sum()
    totals.insert(0, "benefits", grouped.size())
    return totals.round(2).reset_index()


@contextmanager
def reading() -> Iterator[None]:
    """Turn a database error inside the block into StoreUnavailable, saying what to do."""
    try:
        yield
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
        raise StoreUnavailable(
            f"cannot read the store ({reason}): run `benefits db upgrade`, then `benefits run`"
        ) from exc
