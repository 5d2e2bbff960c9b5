"""The forecast's settings: status thresholds, sampling, and where they are configured.

The defaults apply unless the configuration folder holds a ``forecast.yaml`` with any of the
fields of :class:`ForecastSettings`, for example::

    on_track: 0.75      # p_on_time at or above this is on_track
    at_risk: 0.4        # at or above this (and below on_track) is at_risk, else off_track
    min_points: 3       # fewer observations give insufficient_data
"""

from __future__ import annotations

import functools
import importlib.metadata
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from benefits.register import Benefit, Bounds, Number, first_given

#: Bump when the forecasting method changes, so that stored forecasts are recomputed.
METHOD_VERSION = "18"

#: Every status a forecast can have; ``failed`` is a fit that raised (its reason is the message).
STATUSES = ("achieved", "on_track", "at_risk", "off_track", "insufficient_data", "no_data", "failed")

SETTINGS_FILE = "forecast.yaml"


@functools.cache
def prophet_version() -> str:
    """The installed Prophet's version: its model is part of every forecast's inputs."""
    try:
        return importlib.metadata.version("prophet")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


class ForecastSettings(BaseModel):
    """Thresholds and sampling settings of the forecast; every number is finite (not .nan or .inf)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    on_track: Number = Field(0.7, ge=0.0, le=1.0)
    """p_on_time at or above this is ``on_track``."""
    at_risk: Number = Field(0.4, ge=0.0, le=1.0)
    """p_on_time at or above this (and below ``on_track``) is ``at_risk``; below is ``off_track``."""
    min_points: int = Field(3, ge=1)
    """Fewer observations than this give ``insufficient_data``. Three is the fewest whose fit
    says anything beyond a straight line; a forecast with so few leans on its reference class and
    on the prior widening (docs/forecasting.md, "min_points")."""
    samples: int = Field(300, ge=10, le=100_000)
    """Predictive samples (paths) drawn per benefit."""
    margin_weeks: int = Field(13, ge=0, le=520)
    """The horizon is the target date plus this many weeks (at most 520, ten years)."""
    interval: Number = Field(0.8, gt=0.0, lt=1.0)
    """Width of the reported interval (0.8: 10th to 90th percentile)."""
    parameter_uncertainty: bool = True
    """Add the estimation uncertainty of the trend's slope and offset to the samples (linear growth).

    Prophet's MAP fit samples only future trend changes and noise, not the uncertainty of the
    fitted slope, so its paths are far too narrow when a trend is extrapolated over months and
    p_on_time becomes nearly 0 or 1. With this on, each path also draws (slope, offset) from the
    Laplace approximation of their posterior given the fitted changepoints and noise level."""
    residual_persistence: bool = True
    """Carry the persistence of the fitted residuals into the forecast (an AR(1) on what Prophet's
    trend and seasonality leave unexplained): a reading above the trend today makes the next ones
    likely above it too, and a cumulative measure sums such runs. Prophet draws independent noise
    each period, which on real KPI series put the median too far from today's value at short
    horizons and made a cumulative sum's interval far too narrow (docs/forecasting.md)."""
    changepoint_prior_scale: Number = Field(0.1, gt=0.0)
    """Prophet's changepoint prior (Prophet's default is 0.05): larger lets the trend bend more and
    widens future trend changes. 0.1 gave the lowest Brier score on the calibration set
    (docs/forecasting.md)."""
    history_weeks: int = Field(156, ge=13, le=5_200)
    """The model learns from up to this many weeks of observations before the as-of date,
    including those before the baseline (seasonality and noise); the realised value still counts
    only what follows the baseline. At most 5200 (a hundred years)."""
    calibration_benefits: int = Field(120, ge=0)
    """Benefits backtested in each run to calibrate every forecast's interval and probability
    (all of them in a smaller portfolio; 0 uses the documented prior alone). Backtests whose
    inputs did not change are reused from earlier runs."""
    calibration_origins: int = Field(3, ge=1, le=12)
    """Backtest origins per calibrated benefit: the starts of the last quarters before the as-of date."""
    reference_weight: Number = Field(0.5, ge=0.0, le=1.0)
    """The most the probability leans on its reference class's landing rate (when history is
    short against the horizon): p = (1 - w) p_model + w rate, w = reference_weight x H / (H + 2S)
    with H the weeks to the target date and S the weeks of history."""
    regime_share: Number = Field(0.5, ge=0.0, le=1.0)
    """The most weight a damped-trend hypothesis (the benefit stalls or plateaus) gets beside the
    fitted trend: ``regime_share * H / (H + S)`` for H weeks to the target date and S weeks of
    delivery so far (for a cumulative measure, of its flow if that was seen for longer). Regime
    changes not yet visible in the history are the main way forecasts miss (docs/forecasting.md);
    0 trusts the fitted trend alone."""
    damping_weeks: Number = Field(26.0, gt=0.0)
    """Time constant of the damped-trend hypothesis (its change fades by e after this many weeks),
    and of the damping of a cumulative measure's fitted flow trend beyond the history."""
    metric_ranges: dict[str, Bounds] = {}
    """The values each metric's readings can take, per metric name: :func:`load_settings` copies
    validation.yaml's ``bounds.metrics`` here. A level benefit's forecast (interval, median, path)
    never leaves its range (see :meth:`value_range`)."""
    unit_ranges: dict[str, Bounds] = {}
    """The same per unit (validation.yaml's ``bounds.units``, e.g. ``"%": {min: 0, max: 100}``)."""
    warm_start: bool = False
    """Start the optimiser from the benefit's previous fitted parameters (kept with every forecast)
    when their shapes fit. Off by default: measured at 156 weekly points it saved no time
    (~400 ms either way under load) and moved p_on_time by 0.04 on average (up to 0.3), as LBFGS
    stops at a slightly different optimum; see docs/forecasting.md."""

    @model_validator(mode="after")
    def _thresholds_in_order(self) -> ForecastSettings:
        if self.at_risk > self.on_track:
            raise ValueError("at_risk must not be above on_track")
        return self

    def value_range(self, benefit: Benefit) -> tuple[float | None, float | None]:
        """The (min, max) ``benefit``'s metric can read: per side the first given of its metric's
        range, the benefit's declared ``bounds`` and its unit's range, in validation's order (so the
        forecast never shows a value validation would reject); None where all are open."""
        return first_given([self.metric_ranges.get(benefit.metric), benefit.bounds, self.unit_ranges.get(benefit.unit)])


def status_for(p: float, settings: ForecastSettings) -> str:
    """The status of a probability of landing under the settings' thresholds."""
    if p >= settings.on_track:
        return "on_track"
    if p >= settings.at_risk:
        return "at_risk"
    return "off_track"


def load_settings(config_dir: Path) -> ForecastSettings:
    """The settings of ``config_dir/forecast.yaml`` (the defaults when there is no such file), with
    the value ranges of ``config_dir/validation.yaml`` (``metric_ranges``, ``unit_ranges``; a range
    forecast.yaml gives wins).

    Raises ConfigError naming the file and field when either file is invalid.
    """
    from benefits.errors import ConfigError
    from benefits.register import read_yaml

    ranges = _validation_ranges(config_dir)
    path = config_dir / SETTINGS_FILE
    data = read_yaml(path) if path.exists() else None
    if data is None:
        return ForecastSettings.model_validate(ranges)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of forecast settings")
    try:
        return ForecastSettings.model_validate({**ranges, **data})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{path}: {where}: {message[:1].lower()}{message[1:]}") from None


def _validation_ranges(config_dir: Path) -> dict[str, dict[str, dict[str, float | None]]]:
    """validation.yaml's per-metric and per-unit bounds, as ``metric_ranges`` and ``unit_ranges``
    (its catch-all ``default`` bound is a guard against mis-keyed readings, not a range of values)."""
    from benefits.validation.config import load_validation_config

    bounds = load_validation_config(config_dir).bounds
    return {
        "metric_ranges": {name: found.model_dump() for name, found in bounds.metrics.items()},
        "unit_ranges": {unit: found.model_dump() for unit, found in bounds.units.items()},
    }
