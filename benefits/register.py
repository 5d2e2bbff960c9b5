"""The register: programmes, initiatives and benefits, loaded from ``portfolio.yaml``.

Structure and types are checked by pydantic; rules across fields (dates in order, a target
in the benefit's direction, references between keys) are checked afterwards so that every
problem is reported with the path to the field, e.g.
``config/portfolio.yaml: initiatives[3].benefits[0].target.date: must be after the baseline date``.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benefits.errors import BenefitsWarning, ConfigError

REGISTER_FILE = "portfolio.yaml"


class Tactic(StrEnum):
    """The eight tactics an initiative can follow."""

    digital_strategy = "digital_strategy"
    data_driven_insight = "data_driven_insight"
    customer_experience = "customer_experience"
    employee_experience = "employee_experience"
    optimised_processes = "optimised_processes"
    integrated_systems = "integrated_systems"
    scalable_architecture = "scalable_architecture"
    innovation = "innovation"


class Category(StrEnum):
    """The four business outcomes a benefit contributes to."""

    revenue = "revenue"
    cost_reduction = "cost_reduction"
    operational_efficiency = "operational_efficiency"
    people_capability = "people_capability"


class Direction(StrEnum):
    """Which way the metric moves when the benefit is realised."""

    increase = "increase"
    decrease = "decrease"


class Measure(StrEnum):
    """How observations add up: a flow summed per period, or a level read at the latest period."""

    cumulative = "cumulative"
    level = "level"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Point(_Model):
    """A value of the metric at a date (baseline, target, or a planned point)."""

    value: float
    date: dt.date


class ExplicitProfile(_Model):
    """A planned profile given as dated values of the tracked quantity between baseline and target."""

    points: list[Point] = Field(min_length=1)


Profile = Literal["linear", "s_curve"] | ExplicitProfile


class Bounds(_Model):
    """Natural limits of a metric (e.g. 0 and 100 for a percentage)."""

    min: float | None = None
    max: float | None = None


class Benefit(_Model):
    """One promised outcome of an initiative."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    name: str
    category: Category
    metric: Annotated[str, Field(min_length=1)]
    unit: Annotated[str, Field(min_length=1)]
    direction: Direction
    measure: Measure
    baseline: Point
    target: Point
    profile: Profile = "linear"
    owner: Annotated[str, Field(min_length=1)]
    attribution: Annotated[float, Field(gt=0, le=1)] = 1.0
    cash_releasing: bool = False
    dis_benefit: bool = False
    starts_after: str | None = None
    value_per_unit: Annotated[float, Field(gt=0)] = 1.0
    bounds: Bounds | None = None
    cadence_days: Annotated[int, Field(gt=0)] | None = None  # how often the metric reports; inferred when absent
    stale_tolerance: Annotated[float, Field(ge=1)] | None = None  # missed cadences before data_stale (default 2)


class Milestone(_Model):
    """A dated event of an initiative after which benefits may start realising."""

    key: str
    name: str
    date: dt.date


class Initiative(_Model):
    """One change effort with an owner, an investment and a tactic."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    name: str
    programme: str
    tactic: Tactic
    owner: Annotated[str, Field(min_length=1)]
    investment: Annotated[float, Field(ge=0)] = 0.0
    milestones: list[Milestone] = []
    benefits: list[Benefit] = []


class Programme(_Model):
    """A group of initiatives serving a strategic outcome."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    name: str
    outcome: str = ""


class MetricDeclaration(_Model):
    """A metric the connectors deliver that no benefit needs to measure (yet): known, so its
    observations are validated and stored, and listed by ``benefits metrics --unused``."""

    name: Annotated[str, Field(min_length=1)]
    unit: Annotated[str, Field(min_length=1)]
    bounds: Bounds | None = None


class Register(_Model):
    """The whole portfolio as declared in ``portfolio.yaml``."""

    name: str
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "GBP"
    programmes: list[Programme] = Field(min_length=1)
    initiatives: list[Initiative] = Field(min_length=1)
    metrics: list[MetricDeclaration] = []
    """The metric catalogue: metrics known besides those the benefits measure."""

    def benefits(self) -> Iterator[tuple[Initiative, Benefit]]:
        """Every benefit with the initiative it belongs to."""
        for initiative in self.initiatives:
            for benefit in initiative.benefits:
                yield initiative, benefit

    def unused_metrics(self) -> list[MetricDeclaration]:
        """The catalogue's metrics that no benefit measures."""
        measured = {b.metric for _, b in self.benefits()}
        return [m for m in self.metrics if m.name not in measured]

    def benefit_start(self, initiative: Initiative, benefit: Benefit) -> dt.date:
        """The date from which the benefit's planned ramp starts (its milestone, else its baseline)."""
        if benefit.starts_after:
            for milestone in initiative.milestones:
                if milestone.key == benefit.starts_after:
                    return milestone.date
        return benefit.baseline.date


def load_register(config_dir: Path) -> Register:
    """Load and check ``portfolio.yaml`` from ``config_dir``; raise ConfigError with one line."""
    path = config_dir / REGISTER_FILE
    data = read_yaml(path)
    try:
        register = Register.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(
            _one_line(path, _format_loc(first["loc"]), _lower_first(first["msg"]), exc.error_count())
        ) from None
    problems = list(check_register(register))
    if problems:
        where, message = problems[0]
        raise ConfigError(_one_line(path, where, message, len(problems)))
    _warn_double_counting(path, register)
    return register


class DoubleCountingWarning(BenefitsWarning):
    """Benefits drawing on one metric are credited with more than 100% of its movement."""


def _warn_double_counting(path: Path, register: Register) -> None:
    """Warn, without failing, for every metric whose benefits' attribution shares add up to over 100%."""
    from benefits.claims.double_counting import over_attributed

    for found in over_attributed((b.key, b.metric, b.attribution) for _, b in register.benefits()):
        warnings.warn(f"{path}: {found.message()}", DoubleCountingWarning, stacklevel=3)


def read_yaml(path: Path) -> object:
    """Parse a YAML file, turning a missing file or a syntax error into one ConfigError line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (run `benefits init --demo` for an example)") from None
    import yaml  # here: commands that only read the store (`benefits status`) never parse YAML

    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(f"{path}: {line}invalid YAML: {exc.problem}") from None


def check_register(register: Register) -> Iterator[tuple[str, str]]:
    """Yield (path, problem) for every rule across fields that the register breaks."""
    yield from _duplicates("programmes", [p.key for p in register.programmes])
    yield from _duplicates("initiatives", [i.key for i in register.initiatives])
    programmes = {p.key for p in register.programmes}
    seen_benefits: set[str] = set()
    for i, initiative in enumerate(register.initiatives):
        where = f"initiatives[{i}]"
        if initiative.programme not in programmes:
            yield f"{where}.programme", f"unknown programme {initiative.programme!r}"
        yield from _duplicates(f"{where}.milestones", [m.key for m in initiative.milestones])
        milestones = {m.key: m.date for m in initiative.milestones}
        for b, benefit in enumerate(initiative.benefits):
            path = f"{where}.benefits[{b}]"
            if benefit.key in seen_benefits:
                yield f"{path}.key", f"duplicate benefit key {benefit.key!r}"
            seen_benefits.add(benefit.key)
            yield from _check_benefit(path, benefit, milestones)
    yield from _check_metric_units(register)


def _check_metric_units(register: Register) -> Iterator[tuple[str, str]]:
    """One unit per metric, across the catalogue and every benefit that measures it."""
    units: dict[str, tuple[str, str]] = {}
    for n, declared in enumerate(register.metrics):
        if declared.name in units:
            yield f"metrics[{n}].name", f"duplicate metric {declared.name!r}"
        units.setdefault(declared.name, (declared.unit, f"metrics[{n}]"))
        yield from _check_bounds(f"metrics[{n}]", declared.bounds)
    for i, initiative in enumerate(register.initiatives):
        for b, benefit in enumerate(initiative.benefits):
            where = f"initiatives[{i}].benefits[{b}]"
            unit, first = units.setdefault(benefit.metric, (benefit.unit, where))
            if unit != benefit.unit:
                yield (
                    f"{where}.unit",
                    f"{benefit.unit!r} differs from {unit!r}, the unit of {benefit.metric} in {first}",
                )


def _check_benefit(path: str, benefit: Benefit, milestones: dict[str, dt.date]) -> Iterator[tuple[str, str]]:
    baseline, target = benefit.baseline, benefit.target
    if target.date <= baseline.date:
        yield f"{path}.target.date", "must be after the baseline date"
    sign = 1 if benefit.direction is Direction.increase else -1
    if sign * (target.value - baseline.value) <= 0:
        side = "above" if sign == 1 else "below"
        yield f"{path}.target.value", f"must be {side} the baseline value for direction {benefit.direction.value}"
    if benefit.starts_after is not None:
        if benefit.starts_after not in milestones:
            yield f"{path}.starts_after", f"unknown milestone {benefit.starts_after!r} of this initiative"
        elif not baseline.date <= milestones[benefit.starts_after] < target.date:
            yield f"{path}.starts_after", "milestone date must lie between the baseline and target dates"
    if isinstance(benefit.profile, ExplicitProfile):
        dates = [p.date for p in benefit.profile.points]
        for n, point in enumerate(benefit.profile.points):
            if not baseline.date < point.date < target.date:
                yield f"{path}.profile.points[{n}].date", "must lie between the baseline and target dates"
        if dates != sorted(set(dates)):
            yield f"{path}.profile.points", "dates must be in increasing order without repeats"
    yield from _check_bounds(path, benefit.bounds)


def _check_bounds(path: str, bounds: Bounds | None) -> Iterator[tuple[str, str]]:
    if bounds and bounds.min is not None and bounds.max is not None and bounds.min >= bounds.max:
        yield f"{path}.bounds.max", "must be greater than bounds.min"


def _duplicates(where: str, keys: list[str]) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    for n, key in enumerate(keys):
        if key in seen:
            yield f"{where}[{n}].key", f"duplicate key {key!r}"
        seen.add(key)


def _format_loc(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in {"ExplicitProfile", "literal['linear','s_curve']"} or part.startswith(("literal[", "function-")):
            continue
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]


def _one_line(path: Path, where: str, message: str, count: int) -> str:
    more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    return f"{path}: {where}: {message}{more}"
