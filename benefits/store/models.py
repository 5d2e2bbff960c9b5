"""SQLAlchemy 2.0 models for the vocabulary: register, observations, sync runs, quarantine, forecasts, claims."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator, TypeEngine

MONEY_PRECISION, MONEY_SCALE = 20, 4  # digits in all, digits after the point: at most 16 before it
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


class Money(TypeDecorator[Decimal]):
    """An exact amount of money: ``NUMERIC(20, 4)`` on PostgreSQL, decimal text on SQLite.

    SQLite keeps a ``NUMERIC`` column as a binary float (``12345678901234.56`` reads back as
    ``…34.5605``), so there the Decimal is stored as its text, always with four decimal places
    (``3000.0000``, as PostgreSQL returns it). SQL arithmetic on the SQLite text would be float
    arithmetic again: add money up in Python.
    """

    impl = Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Text on SQLite, NUMERIC(20, 4) elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(MONEY_PRECISION, MONEY_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | str | None:
        """The Decimal with four places; its text on SQLite."""
        if value is None:
            return None
        exact = Decimal(value).quantize(MONEY_QUANTUM)
        return f"{exact:f}" if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """The stored amount as a Decimal (SQLite's text parsed, never through float)."""
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    """The one declarative base of the store."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Portfolio(Base):
    """The register's own settings: its name and the currency of every money value (one row)."""

    __tablename__ = "portfolio"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=lambda: dt.datetime.now(dt.UTC)
    )  # every change of the row moves it (to the microsecond): readers take it as the register's version
    finance: Mapped[dict[str, Any] | None] = mapped_column(
        comment="fiscal year start month, discount rate, appraisal years, valuation date (JSON)"
    )


class Programme(Base):
    """A group of initiatives."""

    __tablename__ = "programmes"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(Text, default="")
    initiatives: Mapped[list[Initiative]] = relationship(back_populates="programme")


class Initiative(Base):
    """One change effort with an owner, an investment and a tactic."""

    __tablename__ = "initiatives"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    programme_id: Mapped[int] = mapped_column(ForeignKey("programmes.id"))
    tactic: Mapped[str] = mapped_column(String(40))
    owner: Mapped[str] = mapped_column(String(200))
    investment: Mapped[float] = mapped_column(Float, default=0.0)  # the one-off total, for older readers
    investment_plan: Mapped[dict[str, Any] | None] = mapped_column(
        comment="the investment as declared in the register (JSON, amounts as decimal text)"
    )
    programme: Mapped[Programme] = relationship(back_populates="initiatives")
    milestones: Mapped[list[Milestone]] = relationship(cascade="all, delete-orphan")
    benefits: Mapped[list[Benefit]] = relationship(back_populates="initiative", cascade="all, delete-orphan")


class Milestone(Base):
    """A dated event of an initiative after which benefits may start realising."""

    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("initiative_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"))
    key: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    date: Mapped[dt.date] = mapped_column(Date)


class Benefit(Base):
    """One promised outcome of an initiative, as declared in the register."""

    __tablename__ = "benefits"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiatives.id"))
    category: Mapped[str] = mapped_column(String(40))
    metric: Mapped[str] = mapped_column(String(200), index=True)
    unit: Mapped[str] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(10))
    measure: Mapped[str] = mapped_column(String(12))
    baseline_value: Mapped[float] = mapped_column(Float)
    baseline_date: Mapped[dt.date] = mapped_column(Date)
    target_value: Mapped[float] = mapped_column(Float)
    target_date: Mapped[dt.date] = mapped_column(Date)
    start_date: Mapped[dt.date] = mapped_column(Date)
    owner: Mapped[str] = mapped_column(String(200))
    attribution: Mapped[float] = mapped_column(Float, default=1.0)
    cash_releasing: Mapped[bool] = mapped_column(default=False)
    dis_benefit: Mapped[bool] = mapped_column(default=False)
    value_per_unit: Mapped[float] = mapped_column(Float, default=1.0)
    spec: Mapped[dict[str, Any]] = mapped_column(comment="the benefit as declared in the register (JSON)")
    initiative: Mapped[Initiative] = relationship(back_populates="benefits")


class Metric(Base):
    """A named measure in a source system; ``used`` when a benefit of the register measures it."""

    __tablename__ = "metrics"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    unit: Mapped[str] = mapped_column(String(40))
    used: Mapped[bool] = mapped_column(default=False)


class SyncRun(Base):
    """One pull by one connector, with its row counts and validation result."""

    __tablename__ = "sync_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    connector: Mapped[str] = mapped_column(String(100), index=True)
    connector_type: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="running")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_quarantined: Mapped[int] = mapped_column(Integer, default=0)
    rows_restated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_warned: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", comment="accepted rows that failed a warning-severity expectation"
    )
    policy: Mapped[str] = mapped_column(
        String(20),
        default="accept_valid_rows",
        server_default="accept_valid_rows",
        comment="accept_valid_rows or reject_batch (connectors.yaml)",
    )
    validation_success: Mapped[bool | None] = mapped_column(
        comment="every row passed every critical expectation; NULL until validated"
    )
    validation: Mapped[dict[str, Any] | None] = mapped_column()
    """Per expectation, keyed ``<expectation_type>(<columns>)``: ``{expectation, column, severity,
    success, unexpected_count}`` summed over the run's chunks (see benefits.sync)."""
    error: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(
        String(20),
        default="sync",
        server_default="sync",
        comment="sync (a connector pull) or retry (quarantined rows re-validated)",
    )
    log: Mapped[list[Any] | None] = mapped_column(
        comment="what the connector logged during the run, masked: one '<level>: <message>' line each, at most 100"
    )


class Observation(Base):
    """One value of one metric for one period, from one connector (its ``source``)."""

    __tablename__ = "observations"
    __table_args__ = (UniqueConstraint("metric", "period", "source", name="uq_observation_metric_period_source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(200), index=True)
    period: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(100))
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"))
    source_ref: Mapped[str | None] = mapped_column(
        String(500), comment="the connector's pointer to the row (e.g. file:line)"
    )


class ObservationRevision(Base):
    """An earlier value of an observation, kept when the source restated it."""

    __tablename__ = "observation_revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(200), index=True)
    period: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(40))
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), comment="the sync run that loaded this value")
    replaced_by_sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"))
    source_ref: Mapped[str | None] = mapped_column(
        String(500), comment="the connector's pointer to the row of this value"
    )


class ConnectorState(Base):
    """Incremental state of one connector instance, kept by the framework."""

    __tablename__ = "connector_state"
    connector: Mapped[str] = mapped_column(String(100), primary_key=True)
    bookmark: Mapped[dt.date | None] = mapped_column(Date, comment="latest period accepted from this connector")
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class QuarantinedRow(Base):
    """A rejected row, kept whole with every reason, re-playable once fixed."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(primary_key=True)
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    row_number: Mapped[int] = mapped_column(Integer)
    record: Mapped[dict[str, Any]] = mapped_column()
    reasons: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    source_ref: Mapped[str | None] = mapped_column(
        String(500), comment="the connector's pointer to the row (e.g. file:line)"
    )
    retry_sync_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_runs.id"),
        comment="the quarantine retry that last re-validated this row (its reasons are that run's)",
    )
    resolved_sync_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_runs.id"),
        index=True,
        comment="the quarantine retry that loaded this row; NULL while it is held",
    )
    resolved_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime(timezone=True),
        index=True,
        comment="when a retry loaded the row or a person resolved it; NULL while it is held",
    )
    resolved_by: Mapped[str | None] = mapped_column(
        String(200), comment="who resolved the row by hand (`benefits quarantine resolve`); NULL when a retry loaded it"
    )
    resolution_note: Mapped[str | None] = mapped_column(Text, comment="why the row was resolved by hand")


class ValidationWarning(Base):
    """An accepted row that failed a warning-severity expectation (the jump check): loaded, and shown."""

    __tablename__ = "validation_warnings"
    id: Mapped[int] = mapped_column(primary_key=True)
    sync_run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    row_number: Mapped[int] = mapped_column(Integer)
    source_ref: Mapped[str | None] = mapped_column(String(500))
    record: Mapped[dict[str, Any]] = mapped_column()
    reasons: Mapped[list[Any]] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ForecastRun(Base):
    """One forecast of every benefit, kept so that weeks can be compared."""

    __tablename__ = "forecast_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    benefits_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    reused_count: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", comment="forecasts reused because their inputs had not changed"
    )
    scheduler: Mapped[str | None] = mapped_column(String(200), comment="Dask scheduler address; NULL when run locally")
    calibration: Mapped[dict[str, Any] | None] = mapped_column(
        comment="the run's calibration: backtested errors, interval coverage by horizon, reliability of p"
    )
    inputs: Mapped[str | None] = mapped_column(
        String(64), comment="digest of the run's inputs: the store's data, as-of date, settings and versions"
    )
    forecasts: Mapped[list[Forecast]] = relationship(back_populates="run", cascade="all, delete-orphan")


class Forecast(Base):
    """The forecast of one benefit in one forecast run."""

    __tablename__ = "forecasts"
    __table_args__ = (UniqueConstraint("forecast_run_id", "benefit_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    forecast_run_id: Mapped[int] = mapped_column(ForeignKey("forecast_runs.id"), index=True)
    benefit_key: Mapped[str] = mapped_column(String(100), index=True)
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[int] = mapped_column(Integer, default=0)
    p_on_time: Mapped[float | None] = mapped_column(Float)
    expected_landing: Mapped[dt.date | None] = mapped_column(Date)
    forecast_at_target_date: Mapped[float | None] = mapped_column(Float)
    lower_at_target_date: Mapped[float | None] = mapped_column(Float)
    upper_at_target_date: Mapped[float | None] = mapped_column(Float)
    path: Mapped[list[Any]] = mapped_column(
        default=list, comment="[{period, yhat, lower, upper}] of the tracked quantity"
    )
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    fit_params: Mapped[dict[str, Any] | None] = mapped_column(
        comment="Prophet's fitted parameters: the warm start of the next fit"
    )
    reused: Mapped[bool] = mapped_column(default=False, server_default=false())
    p_model: Mapped[float | None] = mapped_column(Float, comment="the model's probability before the reference class")
    reference_weight: Mapped[float | None] = mapped_column(
        Float, comment="how much p_on_time leans on the reference class"
    )
    trust: Mapped[str] = mapped_column(
        Text, default="", server_default="", comment="how far the forecast can be trusted, in words"
    )
    raw: Mapped[dict[str, Any] | None] = mapped_column(
        comment="the raw forecast before calibration: re-calibrated, not refitted, by a later run"
    )
    context: Mapped[str] = mapped_column(
        String(64),
        default="",
        server_default="",
        comment="digest of the calibration and reference class the forecast used",
    )
    run: Mapped[ForecastRun] = relationship(back_populates="forecasts")


class ForecastBacktest(Base):
    """A raw forecast of one benefit from a past origin, kept to calibrate later forecasts.

    Its ``path`` depends only on the observations up to ``origin`` (hashed in ``fingerprint``),
    so later runs reuse it and compare it with whatever has been observed since.
    """

    __tablename__ = "forecast_backtests"
    __table_args__ = (UniqueConstraint("benefit_key", "origin", "fingerprint"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_key: Mapped[str] = mapped_column(String(100), index=True)
    origin: Mapped[dt.date] = mapped_column(Date)
    fingerprint: Mapped[str] = mapped_column(String(64))
    noise: Mapped[float] = mapped_column(Float)
    path: Mapped[list[Any]] = mapped_column(
        comment="[{period, yhat, lower, upper}] raw, from the last observation up to the origin"
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Claim(Base):
    """A stated realised value (money) of a benefit at a period, awaiting finance sign-off."""

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("benefit_key", "period", name="uq_claim_benefit_period"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_key: Mapped[str] = mapped_column(String(100), index=True)
    period: Mapped[dt.date] = mapped_column(Date)
    claimed_value: Mapped[Decimal] = mapped_column(Money())
    claim_class: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    decisions: Mapped[list[ClaimDecision]] = relationship(order_by="ClaimDecision.id", viewonly=True)
    versions: Mapped[list[ClaimVersion]] = relationship(order_by="ClaimVersion.id", viewonly=True)


class ClaimVersion(Base):
    """One recorded value of a claim: appended when the claim is recorded and each time a new value replaces it.

    The claim row holds the latest version; earlier ones stay here, with where each came from
    (a connector's sync run and its ``source_ref``, a CSV file's row, or the dashboard).
    """

    __tablename__ = "claim_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    claimed_value: Mapped[Decimal] = mapped_column(Money())
    claim_class: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    source_ref: Mapped[str | None] = mapped_column(
        String(500), comment="where the value came from (a connector's pointer, file: row)"
    )
    sync_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("sync_runs.id"),
        index=True,
        comment="the sync run whose connector delivered this value; NULL for CSV and dashboard",
    )
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ClaimDecision(Base):
    """One finance decision on a claim; append-only (database triggers and the events below refuse changes)."""

    __tablename__ = "claim_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text)
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    claim_version_id: Mapped[int] = mapped_column(
        ForeignKey("claim_versions.id"), index=True, comment="the recorded value of the claim that was decided on"
    )
    claimed_value: Mapped[Decimal] = mapped_column(Money(), comment="the claimed value that was decided on")


class SignOffSetting(Base):
    """One change of the sign-off rules by an admin, kept for good; the latest row is in force (none: the defaults)."""

    __tablename__ = "sign_off_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    claimant_may_decide: Mapped[bool] = mapped_column(
        comment="true: whoever recorded a claim may also decide it (a team too small to separate the duties)"
    )
    set_by: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text)
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RegisterRevision(Base):
    """One load of the register that set or changed a benefit's baseline, target, dates, profile or
    attribution: its first values (``original``) or a re-baselining, with who, when and why.

    Append-only (database triggers and the events below refuse changes); written by
    ``benefits.store.baselines``.
    """

    __tablename__ = "register_revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_key: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(20), comment="original (the first approved values) or rebaselined")
    values: Mapped[dict[str, Any]] = mapped_column(
        comment="the tracked fields after this revision (baseline, target, start, profile, attribution; JSON)"
    )
    changes: Mapped[list[Any]] = mapped_column(comment="[{field, before, after}] of a re-baselining; [] for original")
    recorded_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="", comment="why; empty when no reason was given")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    after_forecast_run_id: Mapped[int | None] = mapped_column(  # no foreign key: a revision outlives any pruning
        Integer,
        comment="the latest forecast run when recorded (NULL before the first): the runs after it see the change",
    )


class PositionSnapshot(Base):
    """Every benefit's position at one date, as computed from the store when its ``inputs`` were as
    recorded (``benefits.store.snapshots``): `benefits status` and the dashboard read it while the
    inputs and the rows' layout are unchanged. Written whole in one transaction; older ones are pruned."""

    __tablename__ = "position_snapshots"
    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    inputs: Mapped[str] = mapped_column(Text, comment="the store's data version when computed: see snapshots.inputs")
    layout: Mapped[str] = mapped_column(String(64), comment="digest of the rows' fields and the package version")
    benefits: Mapped[int] = mapped_column(Integer, comment="how many rows it holds")
    metrics: Mapped[str] = mapped_column(Text, comment="every metric's health at the date (JSON: MetricSummary)")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PositionSnapshotRow(Base):
    """One benefit's position in a snapshot, in register order (``ordinal``), as JSON."""

    __tablename__ = "position_snapshot_rows"
    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("position_snapshots.id", ondelete="CASCADE"), index=True)
    ordinal: Mapped[int] = mapped_column(Integer)
    benefit_key: Mapped[str] = mapped_column(String(100))
    initiative_key: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text, comment="the position's fields (JSON; money as decimal text)")


class ValueReportSnapshot(Base):
    """`benefits value`'s report at one date with one set of options, as computed from the store when its
    ``inputs`` were as recorded (``benefits.store.snapshots``, ``benefits.value.kept``): later runs read it
    while the inputs, options and layout are unchanged. Older ones are pruned."""

    __tablename__ = "value_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    inputs: Mapped[str] = mapped_column(Text, comment="the store's data version when computed: see snapshots.inputs")
    options: Mapped[str] = mapped_column(String(100), comment="the roll-up's correlation and draws")
    layout: Mapped[str] = mapped_column(String(64), comment="digest of the report's fields and the package version")
    payload: Mapped[str] = mapped_column(Text, comment="the report (JSON; money as decimal text)")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DigestDelivery(Base):
    """One owner's digest delivered (e-mailed or posted to the webhook) for one date: a re-send of the same
    digest skips it (``benefits.digest``), so a digest run again after a partial failure sends only what was not
    delivered. Kept, never changed."""

    __tablename__ = "digest_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    owner: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(10), comment="e-mail or webhook")
    recipient: Mapped[str] = mapped_column(String(320), comment="the e-mail address, or the webhook's scheme and host")
    content: Mapped[str] = mapped_column(
        String(64), comment="sha256 of where it went (the webhook's whole URL), its subject and its text"
    )
    sent_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


@event.listens_for(ClaimDecision, "before_update")
@event.listens_for(ClaimDecision, "before_delete")
def _refuse_decision_change(_mapper: Any, _connection: Any, target: ClaimDecision) -> None:
    """No ORM path edits or deletes the sign-off history."""
    raise PermissionError(f"claim decision {target.id} is append-only: it cannot be changed or deleted")


@event.listens_for(ClaimVersion, "before_update")
@event.listens_for(ClaimVersion, "before_delete")
def _refuse_version_change(_mapper: Any, _connection: Any, target: ClaimVersion) -> None:
    """No ORM path edits or deletes a recorded value of a claim."""
    raise PermissionError(f"claim version {target.id} is append-only: it cannot be changed or deleted")


@event.listens_for(SignOffSetting, "before_update")
@event.listens_for(SignOffSetting, "before_delete")
def _refuse_setting_change(_mapper: Any, _connection: Any, target: SignOffSetting) -> None:
    """No ORM path edits or deletes a recorded change of the sign-off rules."""
    raise PermissionError(f"sign-off setting {target.id} is append-only: it cannot be changed or deleted")


from benefits.store import commentary as _commentary  # noqa: E402,F401  (its models join Base.metadata)


@event.listens_for(RegisterRevision, "before_update")
@event.listens_for(RegisterRevision, "before_delete")
def _refuse_register_revision_change(_mapper: Any, _connection: Any, target: RegisterRevision) -> None:
    """No ORM path edits or deletes a recorded revision of the register."""
    raise PermissionError(f"register revision {target.id} is append-only: it cannot be changed or deleted")
