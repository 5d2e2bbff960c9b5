"""The register: programmes, initiatives and benefits, loaded from ``portfolio.yaml``.

Structure and types are checked by pydantic; rules across fields (dates in order, a target
in the benefit's direction, references between keys) are checked afterwards. Every problem is
reported, one per line, with the path to the field, the key of the benefit (or initiative, ...) it
belongs to and the value found there, e.g. ``config/portfolio.yaml: initiatives[3].benefits[0]
(crm-win-rate): target.date: must be after the baseline date (got '2020-01-06')``.
:func:`validate_register` is shared with the workbook import (:mod:`benefits.register_io`), which
turns the same problems' paths into sheet and cell names.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from benefits.errors import BenefitsWarning, ConfigError, shorten, shown_problems

REGISTER_FILE = "portfolio.yaml"
EXAMPLE = "run `benefits init --demo` for an example"

Loc = tuple[int | str, ...]
"""The path to a field, as pydantic gives it: ``("initiatives", 3, "benefits", 0, "target", "date")``."""


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


class ValueType(StrEnum):
    """What a benefit's money value is: a rate per year, or an amount banked to date."""

    run_rate = "run_rate"  # recurring: the value at a date is an annual rate; cash accrues over time
    amount = "amount"  # one-off or cumulative: the value at a date is the money banked by then


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


WHOLE_DIGITS = 16
"""A number of the register has at most this many digits before the decimal point: the money columns'
(``benefits.claims.money.MAX_WHOLE_DIGITS``), so that money computed from it stays exact."""


def _in_range(value: float) -> float:
    if abs(value) >= 10.0**WHOLE_DIGITS:
        raise PydanticCustomError(
            "number_range", "must have at most {digits} digits before the decimal point", {"digits": WHOLE_DIGITS}
        )
    return value


Number = Annotated[float, Field(allow_inf_nan=False), AfterValidator(_in_range)]
"""A number of the register (a metric's value, a bound, a value per unit): finite (not .nan or .inf),
with at most :data:`WHOLE_DIGITS` digits before the decimal point. The other configuration files'
numbers (validation.yaml's bounds, forecast.yaml's thresholds, notify.yaml's timeouts) are this type too."""


def _written_date(value: Any) -> Any:
    """A date must be written as one (``2025-09-01``): a number is refused, not read as a Unix timestamp."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
        meant = ""
        if isinstance(value, int) and len(text) == 8:  # 20250901
            try:
                meant = f": did you mean {dt.date(value // 10000, value // 100 % 100, value % 100).isoformat()}?"
            except ValueError:
                meant = ""
        raise PydanticCustomError(
            "date_written", "a date is written YYYY-MM-DD, not as a number{meant}", {"meant": meant}
        )
    return value


Date = Annotated[dt.date, BeforeValidator(_written_date)]
"""A date of the register, written ``YYYY-MM-DD``."""


class Point(_Model):
    """A value of the metric at a date (baseline, target, or a planned point)."""

    value: Number
    date: Date


class ExplicitProfile(_Model):
    """A planned profile given as dated values of the tracked quantity between baseline and target."""

    points: list[Point] = Field(min_length=1)


Profile = Literal["linear", "s_curve"] | ExplicitProfile


class Bounds(_Model):
    """Natural limits of a metric (e.g. 0 and 100 for a percentage)."""

    min: Number | None = None
    max: Number | None = None


class _Sides(Protocol):
    """A range with a min and a max, either open: :class:`Bounds`, or validation.yaml's ranges."""

    @property
    def min(self) -> float | None: ...
    @property
    def max(self) -> float | None: ...


def first_given(ranges: Iterable[_Sides | None]) -> tuple[float | None, float | None]:
    """Per side, (min, max), the first of ``ranges`` that gives it; None where none does (an absent range,
    None, gives neither side). Validation's bounds and the forecast's value ranges are chosen this way."""
    given = [found for found in ranges if found is not None]
    low = next((found.min for found in given if found.min is not None), None)
    high = next((found.max for found in given if found.max is not None), None)
    return low, high


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
    attribution: Annotated[Number, Field(gt=0, le=1)] = 1.0
    cash_releasing: bool = False
    dis_benefit: bool = False
    starts_after: str | None = None
    value_per_unit: Annotated[Number, Field(gt=0)] = 1.0
    bounds: Bounds | None = None
    cadence_days: Annotated[int, Field(gt=0)] | None = None  # how often the metric reports; inferred when absent
    stale_tolerance: Annotated[Number, Field(ge=1)] | None = None  # missed cadences before data_stale (default 2)
    value_type: ValueType | None = None
    """``run_rate`` or ``amount``; absent: ``run_rate`` for a level measure, ``amount`` for a cumulative one
    (``benefits.realisation.value_type``)."""
    change_reason: str | None = None
    """Why the baseline, target, dates, profile or attribution changed: kept with that change when the register
    is loaded (``benefits.store.baselines``); not part of the plan, so it changes no forecast."""

    @field_validator("value_type")
    @classmethod
    def _rate_of_a_level(cls, value_type: ValueType | None, info: ValidationInfo) -> ValueType | None:
        if value_type is ValueType.run_rate and info.data.get("measure") is Measure.cumulative:
            raise PydanticCustomError(
                "value_type", "run_rate needs measure: level (a cumulative metric's total is an amount: use amount)"
            )
        return value_type


class Milestone(_Model):
    """A dated event of an initiative after which benefits may start realising."""

    key: str
    name: str
    date: Date


def _money(value: Any) -> Any:
    """A money amount from YAML: a number as written (never via binary float), or text such as ``1,200,000``;
    text with a currency symbol is refused (every amount is in the register's currency), and so is an amount
    with more whole digits than a money column holds (``1.0e+300``, as ``1e300``)."""
    from benefits.claims.money import check_range, from_float, parse_money, written_currency

    if isinstance(value, float):
        if not math.isfinite(value):
            return value  # refused as not a finite number by the field
        amount = from_float(value)
        try:
            check_range(amount)
        except ValueError as exc:
            raise PydanticCustomError("money", str(exc)) from None
        return amount
    if isinstance(value, str):
        if written_currency(value):
            raise PydanticCustomError("money", "write the amount without a currency symbol (the register's currency)")
        try:
            return parse_money(value)
        except ValueError as exc:
            raise PydanticCustomError("money", str(exc)) from None
    return value


MoneyAmount = Annotated[Decimal, BeforeValidator(_money), Field(ge=0, allow_inf_nan=False)]


class Cost(_Model):
    """A one-off cost: an amount spent at a date (absent: at the initiative's start)."""

    amount: MoneyAmount
    date: Date | None = None


class RunningCost(_Model):
    """A recurring cost per year from ``start`` up to ``end`` (default: the business case horizon)."""

    per_year: MoneyAmount
    start: Date
    end: Date | None = None

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: dt.date | None, info: ValidationInfo) -> dt.date | None:
        start = info.data.get("start")
        if end is not None and start is not None and end <= start:
            raise PydanticCustomError("order", "must be after its start {start}", {"start": start.isoformat()})
        return end


class Investment(_Model):
    """An initiative's costs: one-off (one sum, or phased by date) and running, and the ledger metric
    whose readings are what it has actually spent.

    A plain number in ``portfolio.yaml`` (``investment: 1800000``, as before) is one one-off cost at
    the initiative's start, and so is a plain number as ``one_off``."""

    one_off: list[Cost] = []
    running: list[RunningCost] = []
    horizon: Date | None = None
    """The last day of the business case; absent: the end of the portfolio's ``appraisal_years``-th
    fiscal year from the initiative's first."""
    metric: Annotated[str, Field(min_length=1)] | None = None
    """A metric of the register in its currency (``ledger.crm_spend``) whose readings, delivered by a
    connector, are the money spent in each period: the costs up to its latest reading; the declared
    costs count after it."""

    @model_validator(mode="before")
    @classmethod
    def _from_numbers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            data = {"one_off": data}
        one_off = data.get("one_off")
        if one_off is not None and not isinstance(one_off, list):
            data = {**data, "one_off": [{"amount": one_off}]}
        return data

    def one_off_total(self) -> Decimal:
        """The one-off costs added up."""
        return sum((cost.amount for cost in self.one_off), Decimal(0))


class Initiative(_Model):
    """One change effort with an owner, an investment and a tactic."""

    key: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    name: str
    programme: str
    tactic: Tactic
    owner: Annotated[str, Field(min_length=1)]
    investment: Investment = Investment()
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


def default_fiscal_start_month(currency: str) -> int:
    """The fiscal year's first month when the register names none: April for GBP (the UK's), else January."""
    return 4 if currency.upper() == "GBP" else 1


class Register(_Model):
    """The whole portfolio as declared in ``portfolio.yaml``."""

    name: str
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "GBP"
    programmes: list[Programme] = Field(min_length=1)
    initiatives: list[Initiative] = Field(min_length=1)
    metrics: list[MetricDeclaration] = []
    """The metric catalogue: metrics known besides those the benefits measure."""
    fiscal_year_start_month: Annotated[int, Field(ge=1, le=12)] | None = None
    """The month the fiscal year starts on its 1st; absent: April (4) for a GBP register, else January."""
    discount_rate: Annotated[Decimal, Field(ge=0, lt=1)] = Decimal("0.035")
    """The annual discount rate of the NPV (default 3.5%, the HM Treasury Green Book rate)."""
    appraisal_years: Annotated[int, Field(ge=1, le=60)] = 10
    """Fiscal years a business case runs when its initiative names no ``investment.horizon``."""
    valuation_date: Date | None = None
    """Discounting's year 0 is the fiscal year holding this date; absent: the portfolio's first fiscal year."""

    def fiscal_start_month(self) -> int:
        """The fiscal year's first month: as declared, else April for GBP, January otherwise."""
        if self.fiscal_year_start_month is not None:
            return self.fiscal_year_start_month
        return default_fiscal_start_month(self.currency)

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
    """Load and check ``portfolio.yaml`` from ``config_dir``; raise ConfigError listing its problems, one a line (the
    first :data:`~benefits.errors.SHOWN_PROBLEMS`, then how many more)."""
    path = config_dir / REGISTER_FILE
    data = read_yaml(path)
    if data is None:
        raise ConfigError(f"{path}: the file is empty: declare the portfolio ({EXAMPLE})")
    register, problems = validate_register(data)
    if register is None or problems:
        listed = shown_problems(problems, lambda problem: f"{path}: {describe(problem, data)}")
        raise ConfigError("\n".join(listed))
    _warn_double_counting(path, register)
    return register


@dataclass(frozen=True)
class Problem:
    """One problem of a register: the path to the field, what is wrong, and the value found there."""

    loc: Loc
    message: str
    value: object = None
    """The value to repeat after the message (None: nothing to repeat, e.g. a missing field)."""


def validate_register(data: object) -> tuple[Register | None, list[Problem]]:
    """Check a register's data as read from YAML: the register (None when its structure is invalid) and every problem.

    When pydantic rejects the structure, each benefit that is valid on its own is still checked
    across its fields, so that one pass lists as many problems as can be known.
    """
    nul = list(_nul_characters(data, ()))
    try:
        register = Register.model_validate(data)
    except ValidationError as exc:
        return None, nul + _structure_problems(exc) + list(_checks_of_valid_benefits(data))
    checked = [Problem(loc, message, value_at(data, loc)) for loc, message in check_register(register)]
    return (None if nul else register), nul + checked


def _nul_characters(data: object, loc: Loc) -> Iterator[Problem]:
    """A problem for each text (a key or a value) holding a NUL character (``"\\0"`` in YAML, or one from an
    imported file): no database column holds one, and PostgreSQL refuses the whole register for it."""
    if isinstance(data, str) and "\x00" in data:
        yield Problem(loc, "holds a NUL character (\\0), which no text may hold: remove it", data)
    elif isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and "\x00" in key:
                yield Problem(loc, f"the key {shorten(key)!r} holds a NUL character (\\0): remove it")
            yield from _nul_characters(value, (*loc, key) if isinstance(key, str | int) else loc)
    elif isinstance(data, list):
        for n, item in enumerate(data):
            yield from _nul_characters(item, (*loc, n))


def describe(problem: Problem, data: object) -> str:
    """A problem as one line: ``initiatives[3].benefits[0] (crm-win-rate): target.date: message (got 'value')``."""
    where, field = _split_loc(problem.loc, data)
    return f"{where + ': ' if where else ''}{field}: {problem.message}{got(problem.value, problem.message)}"


def got(value: object, message: str = "") -> str:
    """`` (got 'value')`` repeating a bad value (its first :data:`~benefits.errors.SHOWN` characters), or nothing
    when there is none or the message already quotes it."""
    if value is None or isinstance(value, dict | list):
        return ""
    shown = repr(shorten(str(value)))
    return "" if shown in message else f" (got {shown})"


def clean_loc(loc: tuple[int | str, ...]) -> Loc:
    """A pydantic error's path without its union-member tags (``literal[...]``, ``ExplicitProfile``)."""
    return tuple(
        part
        for part in loc
        if isinstance(part, int)
        or not (part in {"ExplicitProfile"} or part.startswith(("literal[", "function-", "dict[")))
    )


def value_at(data: object, loc: Loc) -> object:
    """The value at ``loc`` in the data as read, or None when there is none there."""
    for part in loc:
        if isinstance(part, int) and isinstance(data, list) and part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data


def _structure_problems(exc: ValidationError) -> list[Problem]:
    """pydantic's errors as problems, one per field (a union's members' complaints about one value count once)."""
    problems: dict[Loc, Problem] = {}
    for error in exc.errors():
        loc = clean_loc(error["loc"])
        value = None if error["type"] == "missing" else error.get("input")
        message = _lower_first(error["msg"])
        if error["type"].startswith("date") and isinstance(value, str):
            from benefits.register_io.dates import iso_hint

            message = iso_hint(value)
        elif error["type"] == "finite_number":  # .nan, .inf, or too large for a float (1e400)
            message = f"must be a finite number, with at most {WHOLE_DIGITS} digits before the decimal point"
        elif error["type"] == "model_type":  # not "instance of Register": the user wrote YAML, not Python
            message = f"should be a mapping (key: value lines), not {_kind(error.get('input'))}"
        elif error["type"] == "string_pattern_mismatch" and loc[-1:] == ("key",):
            message = "a key is lowercase letters, digits, - and _, starting with a letter or digit"
        problems.setdefault(loc, Problem(loc, message, value))
    return list(problems.values())


def _checks_of_valid_benefits(data: object) -> Iterator[Problem]:
    """The rules across fields of each benefit that is valid on its own (the register as a whole is not)."""
    initiatives = value_at(data, ("initiatives",))
    for i, initiative in enumerate(initiatives if isinstance(initiatives, list) else []):
        milestones: dict[str, dt.date] = {}
        found = value_at(initiative, ("milestones",))
        for raw in found if isinstance(found, list) else []:
            try:
                milestone = Milestone.model_validate(raw)
            except ValidationError:
                continue
            milestones.setdefault(milestone.key, milestone.date)
        benefits = value_at(initiative, ("benefits",))
        for b, raw in enumerate(benefits if isinstance(benefits, list) else []):
            try:
                benefit = Benefit.model_validate(raw)
            except ValidationError:
                continue
            for loc, message in _check_benefit(("initiatives", i, "benefits", b), benefit, milestones):
                yield Problem(loc, message, value_at(data, loc))


def _kind(value: object) -> str:
    """What a YAML value is, in the user's words (:func:`benefits.config_yaml.yaml_kind`)."""
    from benefits.config_yaml import yaml_kind

    return yaml_kind(value)


_KEYED = {"programmes", "initiatives", "benefits", "milestones", "metrics", "points"}


def _split_loc(loc: Loc, data: object) -> tuple[str, str]:
    """The innermost keyed element with its key, and the field in it: ``initiatives[0].benefits[2] (x)``, ``unit``."""
    cut = 0
    for n in range(1, len(loc)):
        if isinstance(loc[n], int) and loc[n - 1] in _KEYED - {"points"}:
            cut = n + 1
    where, field = _path(loc[:cut]), _path(loc[cut:])
    if cut:
        element = value_at(data, loc[:cut])
        key = value_at(element, ("name",) if loc[cut - 2] == "metrics" else ("key",))
        if isinstance(key, str) and key:
            where += f" ({key})"
    return where, field or "(the whole entry)" if cut else field or "(top level)"


def _path(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class DoubleCountingWarning(BenefitsWarning):
    """Benefits drawing on one metric are credited with more than 100% of its movement."""


def _warn_double_counting(path: Path, register: Register) -> None:
    """Warn, without failing, for every metric whose benefits' attribution shares add up to over 100%."""
    from benefits.claims.double_counting import over_attributed

    for found in over_attributed((b.key, b.metric, b.attribution) for _, b in register.benefits()):
        warnings.warn(f"{path}: {found.message()}", DoubleCountingWarning, stacklevel=3)


def read_yaml(path: Path) -> object:
    """Parse a YAML configuration file; a missing, unreadable or invalid file (a duplicate key, a date
    that does not exist) is one ConfigError line naming the file (:mod:`benefits.config_yaml`)."""
    from benefits.config_yaml import read_yaml as read  # here: commands that only read the store never parse YAML

    return read(path)


def check_register(register: Register) -> Iterator[tuple[Loc, str]]:
    """Yield (path, problem) for every rule across fields that the register breaks."""
    yield from _duplicates(("programmes",), [p.key for p in register.programmes])
    yield from _duplicates(("initiatives",), [i.key for i in register.initiatives])
    programmes = {p.key for p in register.programmes}
    seen_benefits: set[str] = set()
    for i, initiative in enumerate(register.initiatives):
        where: Loc = ("initiatives", i)
        if initiative.programme not in programmes:
            yield (*where, "programme"), f"unknown programme {initiative.programme!r}"
        yield from _duplicates((*where, "milestones"), [m.key for m in initiative.milestones])
        milestones = {m.key: m.date for m in initiative.milestones}
        for b, benefit in enumerate(initiative.benefits):
            path: Loc = (*where, "benefits", b)
            if benefit.key in seen_benefits:
                yield (*path, "key"), f"duplicate benefit key {benefit.key!r}"
            seen_benefits.add(benefit.key)
            yield from _check_benefit(path, benefit, milestones)
        yield from _check_spend_metric(where, initiative.investment, register)
    yield from _check_metric_units(register)


def _check_spend_metric(where: Loc, investment: Investment, register: Register) -> Iterator[tuple[Loc, str]]:
    """An investment's spend metric is a metric of the register (so its readings are validated and stored)
    whose unit is the register's currency."""
    if investment.metric is None:
        return
    units = {m.name: m.unit for m in register.metrics} | {b.metric: b.unit for _, b in register.benefits()}
    currency, unit = register.currency.upper(), units.get(investment.metric)
    if unit is None:
        yield (
            (*where, "investment", "metric"),
            f"{investment.metric!r} is not a metric of the register: declare it under metrics with unit {currency}",
        )
    elif unit.upper() != currency:
        yield (
            (*where, "investment", "metric"),
            f"{investment.metric!r} is in {unit}, not in the register's money ({currency}): spend is money",
        )


def _check_metric_units(register: Register) -> Iterator[tuple[Loc, str]]:
    """One unit per metric, across the catalogue and every benefit that measures it."""
    units: dict[str, tuple[str, str]] = {}
    for n, declared in enumerate(register.metrics):
        if declared.name in units:
            yield ("metrics", n, "name"), f"duplicate metric {declared.name!r}"
        units.setdefault(declared.name, (declared.unit, f"metrics[{n}]"))
        yield from _check_bounds(("metrics", n), declared.bounds)
    for i, initiative in enumerate(register.initiatives):
        for b, benefit in enumerate(initiative.benefits):
            unit, first = units.setdefault(benefit.metric, (benefit.unit, f"benefit {benefit.key}"))
            if unit != benefit.unit:
                yield (
                    ("initiatives", i, "benefits", b, "unit"),
                    f"{benefit.unit!r} differs from {unit!r}, the unit of {benefit.metric} in {first}",
                )


def _check_benefit(path: Loc, benefit: Benefit, milestones: dict[str, dt.date]) -> Iterator[tuple[Loc, str]]:
    baseline, target = benefit.baseline, benefit.target
    if target.date <= baseline.date:
        yield (*path, "target", "date"), f"must be after the baseline date {baseline.date.isoformat()}"
    sign = 1 if benefit.direction is Direction.increase else -1
    if sign * (target.value - baseline.value) <= 0:
        side = "above" if sign == 1 else "below"
        yield (
            (*path, "target", "value"),
            f"must be {side} the baseline value {baseline.value:g} for direction {benefit.direction.value}",
        )
    if benefit.starts_after is not None:
        if benefit.starts_after not in milestones:
            yield (*path, "starts_after"), f"unknown milestone {benefit.starts_after!r} of this initiative"
        elif not baseline.date <= milestones[benefit.starts_after] < target.date:
            yield (*path, "starts_after"), "milestone date must lie between the baseline and target dates"
    if isinstance(benefit.profile, ExplicitProfile):
        dates = [p.date for p in benefit.profile.points]
        for n, point in enumerate(benefit.profile.points):
            if not baseline.date < point.date < target.date:
                yield (*path, "profile", "points", n, "date"), "must lie between the baseline and target dates"
        if dates != sorted(set(dates)):
            yield (*path, "profile", "points"), "dates must be in increasing order without repeats"
    yield from _check_bounds(path, benefit.bounds)
    yield from _check_money(path, benefit)


def _check_money(path: Loc, benefit: Benefit) -> Iterator[tuple[Loc, str]]:
    """The benefit's planned values in money (the change from the baseline times ``value_per_unit``) fit in a
    money amount: at most :data:`WHOLE_DIGITS` digits before the decimal point."""
    planned: list[tuple[Loc, float]] = [((*path, "target", "value"), benefit.target.value)]
    if isinstance(benefit.profile, ExplicitProfile):
        planned += [((*path, "profile", "points", n, "value"), p.value) for n, p in enumerate(benefit.profile.points)]
    for loc, value in planned:
        worth = abs(value - benefit.baseline.value) * benefit.value_per_unit
        if worth >= 10.0**WHOLE_DIGITS:
            yield (
                loc,
                f"is worth {worth:.3g} in money at value_per_unit {benefit.value_per_unit:g}:"
                f" money has at most {WHOLE_DIGITS} digits before the decimal point",
            )


def _check_bounds(path: Loc, bounds: Bounds | None) -> Iterator[tuple[Loc, str]]:
    if bounds and bounds.min is not None and bounds.max is not None and bounds.min >= bounds.max:
        yield (*path, "bounds", "max"), f"must be greater than bounds.min ({bounds.min:g})"


def _duplicates(where: Loc, keys: list[str]) -> Iterator[tuple[Loc, str]]:
    seen: set[str] = set()
    for n, key in enumerate(keys):
        if key in seen:
            yield (*where, n, "key"), f"duplicate key {key!r}"
        seen.add(key)


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:]
