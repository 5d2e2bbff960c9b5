"""Baseline change control: register revisions of each benefit's baseline, target, start, profile and attribution.

Each load of the register (``repository.save_register``: `benefits init`, `benefits run`) calls
:func:`record`. A benefit seen for the first time gets an ``original`` revision: its approved
baseline. A later load that changes one of the :data:`FIELDS` records a ``rebaselined`` revision
with each changed field's value before and after, who loaded it, why (the benefit's
``change_reason`` in the register when it was not used before, else the load's ``--reason``) and
the latest forecast run at the time, so that `benefits status --changes` can tell a re-baselined
benefit from a plain status change. Revisions are append-only (database triggers, and events in
``benefits.store.models``). :func:`history` and :func:`summaries` read them back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from benefits import register as reg
from benefits.store import models

FIELDS: dict[str, str] = {
    "baseline_value": "baseline value",
    "baseline_date": "baseline date",
    "target_value": "target value",
    "target_date": "target date",
    "starts_after": "starts after milestone",
    "start_date": "ramp start",
    "profile": "profile",
    "attribution": "attribution",
}
"""The fields under change control, with their names in words."""
ORIGINAL, REBASELINED = "original", "rebaselined"
UNKNOWN = "unknown"
"""Who loaded the register when nobody said (a library caller without ``by``)."""
BEFORE_CONTROL = "the baseline stored before change control began"
"""The reason of the ``original`` revision of a benefit stored before the register was revised."""


def tracked(benefit: reg.Benefit, start: dt.date) -> dict[str, Any]:
    """The benefit's values under change control, as JSON values; ``start`` is the date its ramp starts
    (``Register.benefit_start``), kept only when a milestone moves it away from the baseline date."""
    return {
        "baseline_value": benefit.baseline.value,
        "baseline_date": benefit.baseline.date.isoformat(),
        "target_value": benefit.target.value,
        "target_date": benefit.target.date.isoformat(),
        "starts_after": benefit.starts_after,
        "start_date": start.isoformat() if start != benefit.baseline.date else None,
        "profile": _profile(benefit.profile),
        "attribution": benefit.attribution,
    }


def _profile(profile: reg.Profile) -> str:
    if isinstance(profile, str):
        return profile
    return "points " + ", ".join(f"{point.date.isoformat()}: {shown(point.value)}" for point in profile.points)


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Each field of :data:`FIELDS` whose value differs: ``{field, before, after}``, in that order."""
    return [
        {"field": f, "before": before.get(f), "after": after.get(f)} for f in FIELDS if before.get(f) != after.get(f)
    ]


@dataclass
class _Latest:
    values: dict[str, Any]
    reasons: set[str] = field(default_factory=set)


def record(session: Session, register: reg.Register, by: str = "", reason: str = "") -> list[models.RegisterRevision]:
    """Add the register revisions that loading ``register`` makes, by ``by`` (``unknown`` when empty):
    an ``original`` for each benefit never recorded, a ``rebaselined`` one for each benefit whose
    tracked values differ from its latest revision. Call it before the stored benefits are updated:
    a benefit stored before change control first gets its stored values as its ``original``.

    A re-baselining's reason is the benefit's ``change_reason`` unless an earlier revision of that
    benefit already gave it (a reason explains one change), else ``reason``; it may stay empty."""
    who = by or UNKNOWN
    run = session.scalar(select(func.max(models.ForecastRun.id)))
    known: dict[str, _Latest] = {}
    for revision in session.scalars(select(models.RegisterRevision).order_by(models.RegisterRevision.id)):
        seen = known.setdefault(revision.benefit_key, _Latest(revision.values))
        seen.values = revision.values
        seen.reasons.add(revision.reason)
    added: list[models.RegisterRevision] = []
    for row in session.scalars(select(models.Benefit).order_by(models.Benefit.id)):
        if row.key not in known:  # stored before change control: its stored values are its original
            values = tracked(reg.Benefit.model_validate(row.spec), row.start_date)
            added.append(_revision(row.key, ORIGINAL, values, [], who, BEFORE_CONTROL, run))
            known[row.key] = _Latest(values, {BEFORE_CONTROL})
    for initiative, benefit in register.benefits():
        values = tracked(benefit, register.benefit_start(initiative, benefit))
        latest = known.get(benefit.key)
        if latest is None:
            added.append(_revision(benefit.key, ORIGINAL, values, [], who, benefit.change_reason or reason, run))
        elif changes := differences(latest.values, values):
            given = benefit.change_reason if benefit.change_reason not in latest.reasons else None
            added.append(_revision(benefit.key, REBASELINED, values, changes, who, given or reason, run))
    session.add_all(added)
    return added


def _revision(
    key: str, kind: str, values: dict[str, Any], changes: list[dict[str, Any]], who: str, why: str, run: int | None
) -> models.RegisterRevision:
    return models.RegisterRevision(
        benefit_key=key,
        kind=kind,
        values=values,
        changes=changes,
        recorded_by=who,
        reason=why,
        after_forecast_run_id=run,
    )


def history(session: Session, benefit: str | None = None) -> list[models.RegisterRevision]:
    """Every register revision (or only ``benefit``'s), oldest first."""
    query = select(models.RegisterRevision).order_by(models.RegisterRevision.id)
    if benefit is not None:
        query = query.where(models.RegisterRevision.benefit_key == benefit)
    return list(session.scalars(query))


def describe(changes: Iterable[dict[str, Any]]) -> str:
    """Changed fields in words: ``target value 5.5 → 6.5; target date 2027-01-04 → 2027-06-28``."""
    return "; ".join(f"{FIELDS[c['field']]} {shown(c['before'])} → {shown(c['after'])}" for c in changes)


def shown(value: Any) -> str:
    """A tracked value in words: a whole number without ``.0`` (never an exponent), ``none`` for an absent one."""
    if value is None:
        return "none"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def when(recorded_at: dt.datetime) -> str:
    """A revision's time as ISO 8601 in UTC to the second (SQLite returns it without a zone: it is UTC)."""
    aware = recorded_at if recorded_at.tzinfo else recorded_at.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Baselines:
    """A benefit's change control at a glance: its original values, and its latest re-baselining."""

    original: dict[str, Any]
    rebaselines: int = 0
    latest: models.RegisterRevision | None = None
    since: bool = False
    """Re-baselined after the forecast run that `status --changes` compares with."""


def summaries(session: Session, keys: list[str] | None, compared_run: int | None) -> dict[str, Baselines]:
    """Per benefit (of ``keys``, or all) with a revision: its :class:`Baselines`. A re-baselining counts
    as ``since`` when it was recorded after ``compared_run`` started (None: no run yet, none counts)."""
    query = select(models.RegisterRevision).order_by(models.RegisterRevision.id)
    if keys is not None:
        query = query.where(models.RegisterRevision.benefit_key.in_(keys))
    found: dict[str, Baselines] = {}
    for revision in session.scalars(query):
        seen = found.get(revision.benefit_key)
        if seen is None:
            found[revision.benefit_key] = Baselines(revision.values)
        elif revision.kind == REBASELINED:
            after = revision.after_forecast_run_id
            since = seen.since or (compared_run is not None and after is not None and after >= compared_run)
            found[revision.benefit_key] = Baselines(seen.original, seen.rebaselines + 1, revision, since)
    return found


def announcement(revision: models.RegisterRevision) -> str:
    """One line on a re-baselining just recorded: ``re-baselined crm-win-rate: target value 5.5 → 6.5 (why: …)``."""
    why = f"why: {revision.reason}" if revision.reason else "no reason given"
    return f"re-baselined {revision.benefit_key}: {describe(revision.changes)} ({why})"


def missing_reason(revision: models.RegisterRevision) -> str | None:
    """A warning when a re-baselining was recorded without a reason (None otherwise)."""
    if revision.kind != REBASELINED or revision.reason:
        return None
    return (
        f"{revision.benefit_key} was re-baselined without a reason: next time give `--reason TEXT`, "
        "or the benefit's change_reason in portfolio.yaml (the Change reason column of the workbook)"
    )
