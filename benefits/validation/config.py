"""``validation.yaml``: bounds per metric and unit, the period window, the jump check (pydantic).

The file is optional; without it the defaults below apply. Errors are one line naming the file
and the field, like every other configuration file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from benefits.errors import ConfigError
from benefits.register import Number

VALIDATION_FILE = "validation.yaml"


class Range(BaseModel):
    """Bounds of a value; either side may be left open. Each is a finite number (not .nan or .inf)."""

    model_config = ConfigDict(extra="forbid")
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class BoundsConfig(BaseModel):
    """Value bounds: per metric, per unit, and a default for everything else.

    For each side (min, max) the first one given wins: ``metrics``, then the register's
    ``bounds:`` of a benefit measuring the metric, then ``units``, then ``default``.
    """

    model_config = ConfigDict(extra="forbid")
    default: Range = Range(min=-1e12, max=1e12)
    units: dict[str, Range] = {}
    metrics: dict[str, Range] = {}


class JumpConfig(BaseModel):
    """The jump check: a period-on-period change far outside the series' usual change warns."""

    model_config = ConfigDict(extra="forbid")
    max_score: Annotated[Number, Field(gt=0)] = 12.0
    """How many robust standard deviations of the series' changes a change may be away from the
    series' median change before it is a warning."""
    min_changes: Annotated[int, Field(ge=2, le=100_000)] = 8
    """Series with fewer changes than this are not judged (at most 100000: the store compares it as a number)."""


class ValidationConfig(BaseModel):
    """The whole validation.yaml."""

    model_config = ConfigDict(extra="forbid")
    window_before_baseline_days: Annotated[int, Field(ge=0, le=36_525)] = 366
    """A period more than this many days before the earliest baseline of its metric is rejected (at most
    36525, a hundred years: a longer window cannot be counted back from a date)."""
    bounds: BoundsConfig = BoundsConfig()
    jump: JumpConfig = JumpConfig()


def load_validation_config(config_dir: Path) -> ValidationConfig:
    """Read ``validation.yaml`` from ``config_dir`` (defaults when absent); one-line ConfigError on bad input."""
    from benefits.config_yaml import read_mapping

    path = config_dir / VALIDATION_FILE
    if not path.exists():
        return ValidationConfig()
    try:
        return ValidationConfig.model_validate(read_mapping(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{path}: {where}: {message[:1].lower()}{message[1:]}") from None
