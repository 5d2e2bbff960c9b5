"""What every batch must meet: the expectations, and the register-derived columns they check.

:func:`default_expectations` lists the GX expectations on the typed frame. Without
:class:`ValidationRules` they cover the shape of a batch (fields present and readable, finite
numbers, unique (metric, period), no future period). With rules (:func:`load_rules`: the
register, ``validation.yaml`` and the ``register_expectations`` hook) they also check that the
metric is known to the register, the unit is the metric's declared unit, the value is within the
metric's bounds, the period is not long before the metric's baseline, and they warn on a jump.
The register-derived checks compare columns that :meth:`ValidationRules.add_columns` adds to the
typed frame (``declared_unit``, ``min_value``, ``max_value``, ``earliest_period``,
``previous_period``, ``previous_value``, ``change``, ``jump_score``; ``metric_hint`` for reasons).
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from benefits.validation.config import VALIDATION_FILE, JumpConfig, ValidationConfig, load_validation_config
from benefits.validation.frame import NUMBER_PATTERN
from benefits.validation.results import ValidationOutcome
from benefits.validation.run import Validator, gx

if TYPE_CHECKING:  # pragma: no cover - typing only; GX and the register are imported lazily
    from great_expectations.expectations import Expectation

    from benefits.register import Bounds, Register


@dataclass(frozen=True)
class MetricRule:
    """What the register and validation.yaml say about one metric."""

    unit: str
    earliest_period: dt.date | None  # None: no baseline, so no window (a catalogue-only metric)
    min_value: float | None
    max_value: float | None


@dataclass(frozen=True)
class ValidationRules:
    """The register-derived checks of one sync: known metrics, units, bounds, window, jumps."""

    metrics: dict[str, MetricRule]
    window_days: int
    jump: JumpConfig
    extra: tuple[Any, ...] = ()  # expectations added by plugins (register_expectations)

    @classmethod
    def from_register(cls, register: Register, config: ValidationConfig, extra: Sequence[Any] = ()) -> ValidationRules:
        """Rules for every metric a benefit of ``register`` measures and every metric of its catalogue.

        A catalogue metric that no benefit measures has no baseline, so no window.
        """
        window = dt.timedelta(days=config.window_before_baseline_days)
        metrics: dict[str, MetricRule] = {}
        for _, benefit in register.benefits():
            earliest = benefit.baseline.date - window
            known = metrics.get(benefit.metric)
            if known is not None and known.earliest_period is not None:
                earliest = min(earliest, known.earliest_period)
            low, high = _limits(config, benefit.metric, benefit.unit, benefit.bounds)
            metrics[benefit.metric] = MetricRule(benefit.unit, earliest, low, high)
        for declared in register.unused_metrics():
            low, high = _limits(config, declared.name, declared.unit, declared.bounds)
            metrics[declared.name] = MetricRule(declared.unit, None, low, high)
        return cls(metrics, config.window_before_baseline_days, config.jump, tuple(extra))

    def add_columns(self, frame: pd.DataFrame, history: pd.DataFrame | None = None) -> pd.DataFrame:
        """The typed frame with the register-derived columns the rule expectations compare.

        ``history`` (``metric``, ``period`` datetime64, ``value``), the stored values of the same
        series, lets the jump check judge a batch that holds only the latest periods.
        """
        metric = frame["metric"]
        rule = {
            name: (r.unit, np.datetime64(r.earliest_period, "ns"), r.min_value, r.max_value)
            for name, r in self.metrics.items()
        }
        names = metric.tolist()
        looked_up = [rule.get(m) for m in names]
        frame = frame.copy()
        frame["metric_hint"] = self._metric_hints(names, looked_up)
        frame["declared_unit"] = np.array([r[0] if r else None for r in looked_up], dtype=object)
        frame["earliest_period"] = np.array(
            [r[1] if r else np.datetime64("NaT") for r in looked_up], dtype="datetime64[ns]"
        )
        # Bounds judge finite values only: the finite-number check already rejects the others.
        finite = np.isfinite(frame["value"].to_numpy())
        lows = np.array([r[2] if r and r[2] is not None else np.nan for r in looked_up], dtype="float64")
        highs = np.array([r[3] if r and r[3] is not None else np.nan for r in looked_up], dtype="float64")
        frame["min_value"] = np.where(finite, lows, np.nan)
        frame["max_value"] = np.where(finite, highs, np.nan)
        return _with_jumps(frame, self.jump, history)

    def _metric_hints(self, names: list[Any], looked_up: list[Any]) -> np.ndarray:
        """Per row, for a metric the register does not know but knows under another case or spacing, a hint
        naming the register's spelling (``""`` for every other row)."""
        hints = np.full(len(names), "", dtype=object)
        unknown = [
            i
            for i, (name, found) in enumerate(zip(names, looked_up, strict=True))
            if found is None and isinstance(name, str) and name
        ]
        if unknown:
            spelled = {_folded(known): known for known in self.metrics}
            for i in unknown:
                known = spelled.get(_folded(names[i]))
                if known is not None:
                    hints[i] = f": the register has {known!r} (a metric's name must match exactly, case included)"
        return hints

    def expectations(self) -> list[Expectation]:
        """The register-derived expectations, then the plugins' ones."""
        gxe = gx().expectations
        either = "either_value_is_missing"
        return [
            gxe.ExpectColumnValuesToBeInSet(
                column="metric",
                value_set=sorted(self.metrics),
                meta={
                    "reason": "metric: {raw} is not a metric of the register"
                    " (no benefit measures it and portfolio.yaml's metrics: does not declare it){at.metric_hint}"
                },
            ),
            gxe.ExpectColumnPairValuesToBeEqual(
                column_A="unit",
                column_B="declared_unit",
                ignore_row_if=either,
                meta={"reason": "unit: '{at.unit}' is not '{at.declared_unit}', the unit of {at.metric}"},
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="value",
                column_B="min_value",
                or_equal=True,
                ignore_row_if=either,
                meta={"reason": "value: {at.value} is below {at.min_value}, the minimum for {at.metric}"},
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="max_value",
                column_B="value",
                or_equal=True,
                ignore_row_if=either,
                meta={"reason": "value: {at.value} is above {at.max_value}, the maximum for {at.metric}"},
            ),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="period",
                column_B="earliest_period",
                or_equal=True,
                ignore_row_if=either,
                meta={
                    "reason": f"period: {{at.period}} is before {{at.earliest_period}}, {self.window_days} days "
                    "before the baseline of {at.metric}"
                },
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="jump_score",
                max_value=self.jump.max_score,
                severity="warning",
                meta={
                    "reason": "value: {at.value} changes by {at.change} since {at.previous_period} "
                    "({at.previous_value}), far outside the usual change of {at.metric}"
                },
            ),
            *self.extra,
        ]


def _folded(name: str) -> str:
    """A metric name without case or blanks, to find the register's spelling of a misspelt one."""
    return "".join(name.split()).casefold()


def default_expectations(*, as_of: dt.date, rules: ValidationRules | None = None) -> list[Expectation]:
    """The expectations every batch must meet, on the columns of :func:`prepare_frame`.

    With ``rules``, the register-derived and plugin expectations follow (they need the columns of
    :meth:`ValidationRules.add_columns`).
    """
    gxe = gx().expectations
    as_of = _as_date(as_of)
    shape = [
        gxe.ExpectColumnValuesToNotBeNull(column="metric"),
        gxe.ExpectColumnValuesToNotBeNull(column="period"),
        gxe.ExpectColumnValuesToNotBeNull(column="value_text"),
        gxe.ExpectColumnValuesToNotBeNull(column="unit"),
        gxe.ExpectColumnValuesToMatchRegex(
            column="value_text",
            regex=NUMBER_PATTERN,
            meta={"reason": "{field}: {raw} is not a number{number_format_hint}"},
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="value",
            min_value=-sys.float_info.max,
            max_value=sys.float_info.max,
            meta={"reason": "{field}: {raw} is not a finite number"},
        ),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["metric", "period"],
            ignore_row_if="any_value_is_missing",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="period",
            max_value=dt.datetime.combine(as_of, dt.time()),
            meta={"reason": "{field}: {value} is in the future (after {max_value})"},
        ),
    ]
    return shape if rules is None else [*shape, *rules.expectations()]


def load_rules(config_dir: Path, register: Register) -> ValidationRules:
    """The rules of a sync: the register, ``validation.yaml`` in ``config_dir`` and every plugin's
    ``register_expectations``. Use it with :func:`validate_batch` to re-validate rows (quarantine retry)."""
    config = load_validation_config(config_dir)
    _warn_bounds_of_nothing(config_dir / VALIDATION_FILE, config, register)
    return ValidationRules.from_register(register, config, _plugin_expectations(register))


def _warn_bounds_of_nothing(path: Path, config: ValidationConfig, register: Register) -> None:
    """Warn, without failing, for each metric that validation.yaml bounds and the register does not know: its
    bounds apply to nothing (a misspelt name, or a metric since removed), so the rows they meant to check do not
    meet them. (A unit's bounds are a catalogue a portfolio may not use whole: not warned about.)"""
    import warnings

    from benefits.errors import BenefitsWarning

    known = {b.metric for _, b in register.benefits()} | {m.name for m in register.metrics}
    for name in sorted(set(config.bounds.metrics) - known):
        warnings.warn(
            f"{path}: bounds.metrics: {name!r} is not a metric of the register (no benefit measures it and "
            "portfolio.yaml's metrics: does not declare it), so its bounds check nothing: correct the name or "
            "remove them",
            BenefitsWarning,
            stacklevel=3,
        )


def _plugin_expectations(register: Register) -> list[Expectation]:
    """Every plugin's ``register_expectations``, or a ConfigError naming each plugin whose hook raised or returned
    something other than a list of GX expectations: its checks cannot be left out (rows they reject would load)."""
    from great_expectations.expectations import Expectation

    from benefits.errors import ConfigError, shorten
    from benefits.plugins.manager import FIX_PLUGIN, answers

    found, problems = answers("register_expectations", register=register)
    extra: list[Expectation] = []
    for name, answer in found.items():
        if answer is None:  # pluggy's own call leaves out a plugin that answers None
            continue
        if isinstance(answer, list | tuple) and all(isinstance(e, Expectation) for e in answer):
            extra.extend(answer)
        else:
            problems[name] = (
                f"plugin {name}: register_expectations() returned {shorten(repr(answer))}, not a list of Great "
                f"Expectations expectations: {FIX_PLUGIN}"
            )
    if problems:
        raise ConfigError("\n".join(problems.values()))
    return extra


def _limits(
    config: ValidationConfig, metric: str, unit: str, declared: Bounds | None
) -> tuple[float | None, float | None]:
    """A metric's (min, max): per side the first given of validation.yaml's metric bounds, the
    register's bounds, validation.yaml's unit bounds and its default (:func:`benefits.register.first_given`)."""
    from benefits.register import first_given  # imported with the register this is called for

    return first_given(
        [config.bounds.metrics.get(metric), declared, config.bounds.units.get(unit), config.bounds.default]
    )


def _with_jumps(frame: pd.DataFrame, jump: JumpConfig, history: pd.DataFrame | None) -> pd.DataFrame:
    """Add each row's change since the previous period of its metric and its robust score.

    Within one metric's series (ordered by period, rows with a missing metric, period or value
    left out) ``change`` is the difference to the previous value and ``jump_score`` is how far
    that change is from the series' median change, in robust standard deviations: the larger of
    1.4826 x the median and 1/0.6745 x the 75th percentile of the absolute deviations from the
    median change (both estimate a normal standard deviation; the second keeps a usable spread for
    a series of mostly unchanged values), at least 1e-9 x the series' mean absolute value. NaN
    where there is no previous value or the series has fewer than ``jump.min_changes`` changes.
    Stored values in ``history`` join the series (a batch row wins over a stored value of the same
    period), but only the batch's rows are scored.
    """
    usable = frame[["metric", "period", "value"]].dropna()
    usable = usable[np.isfinite(usable["value"])]
    if history is not None and not history.empty:
        stored = history[["metric", "period", "value"]].set_axis(range(-len(history), 0))  # no batch row's label
        # in the batch's unit of time: seconds when a period such as 0001-01-01 does not fit nanoseconds
        stored = stored.astype({"period": usable["period"].dtype})
        fresh = pd.MultiIndex.from_frame(usable[["metric", "period"]])
        stored = stored[~pd.MultiIndex.from_frame(stored[["metric", "period"]]).isin(fresh)]
        usable = pd.concat([stored, usable])
    # Group by integer codes of the metric, found once: grouping by the strings factorises them every time.
    codes = pd.factorize(usable["metric"])[0]
    order = np.lexsort((usable["period"].to_numpy(), codes))  # stable: equal keys keep their order
    usable = usable.iloc[order]
    metric = pd.Series(codes[order], index=usable.index)
    groups = usable.groupby(metric, sort=False)
    change = groups["value"].diff()
    previous_value = groups["value"].shift()
    previous_period = groups["period"].shift()
    centre = change.groupby(metric).transform("median")
    deviation = (change - centre).abs()
    by_metric = deviation.groupby(metric)
    p75 = metric.map(by_metric.quantile(0.75))
    spread = np.maximum(by_metric.transform("median") * 1.4826, p75 / 0.6745)
    level = usable["value"].abs().groupby(metric).transform("mean")
    changes = change.groupby(metric).transform("count")
    scale = np.maximum(spread, 1e-9 * np.maximum(level, 1.0))
    score = ((change - centre).abs() / scale).where(changes >= jump.min_changes)
    frame["previous_period"] = previous_period.reindex(frame.index).astype(frame["period"].dtype)
    frame["previous_value"] = previous_value.reindex(frame.index).astype("float64")
    frame["change"] = change.reindex(frame.index).astype("float64")
    frame["jump_score"] = score.reindex(frame.index).astype("float64")
    return frame


def _as_date(value: dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"as_of must be a datetime.date, not {type(value).__name__}")


def validate_batch(batch: pd.DataFrame, *, as_of: dt.date, rules: ValidationRules | None = None) -> ValidationOutcome:
    """Validate one batch against the default expectations as of ``as_of`` (and ``rules``' checks)."""
    return validate_batch_with(batch, default_expectations(as_of=as_of, rules=rules), rules)


def validate_batch_with(
    batch: pd.DataFrame, expectations: Sequence[Expectation], rules: ValidationRules | None = None
) -> ValidationOutcome:
    """Validate ``batch`` against ``expectations`` (GX expectation objects on the typed frame)."""
    return Validator(expectations, rules).validate(batch)
