"""SQLAlchemy 2.0 models for the vocabulary: register, observations, sync runs, quarantine, forecasts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """The one declarative base of the store."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


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
    investment: Mapped[float] = mapped_column(Float, default=0.0)
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
    validation: Mapped[dict[str, Any] | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)


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


class ForecastRun(Base):
    """One forecast of every benefit, kept so that weeks can be compared."""

    __tablename__ = "forecast_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    benefits_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
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
    path: Mapped[list[Any]] = mapped_column(default=list, comment="[{period, yhat, lower, upper}] of the tracked quantity")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    run: Mapped[ForecastRun] = relationship(back_populates="forecasts")
