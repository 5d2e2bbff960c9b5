"""Per-benefit forecasts: Prophet trajectories and the probability of landing on time.

Modules, by responsibility: ``settings`` (thresholds, ``forecast.yaml``), ``series`` (the
observations that count), ``stan`` (Prophet's model: Stan inputs built with numpy, fitted by its
compiled Stan program), ``fitting`` (fit and sampled paths), ``probability`` (paths to
probability, landing and interval), ``messages`` (the human sentence), ``fingerprints`` (inputs
hash and seed), ``result`` (one benefit's forecast), ``model`` (one benefit, end to end),
``runs`` (a run's report, and a run on unchanged inputs copied whole), ``runner`` (every
benefit, in parallel or on Dask, kept per run), ``backtest`` and ``calibration`` (how far the
probability can be trusted).

The names below are imported on first use: importing a light module of the package (its
settings, a run on unchanged inputs) does not import pandas and the model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benefits.forecast.fingerprints import fingerprint
    from benefits.forecast.fitting import quiet_prophet
    from benefits.forecast.model import forecast_benefit
    from benefits.forecast.result import BenefitForecast
    from benefits.forecast.settings import STATUSES, ForecastSettings, load_settings

_EXPORTS = {
    "STATUSES": "settings",
    "BenefitForecast": "result",
    "ForecastSettings": "settings",
    "fingerprint": "fingerprints",
    "forecast_benefit": "model",
    "load_settings": "settings",
    "quiet_prophet": "fitting",
}

__all__ = [
    "STATUSES",
    "BenefitForecast",
    "ForecastSettings",
    "fingerprint",
    "forecast_benefit",
    "load_settings",
    "quiet_prophet",
]


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"benefits.forecast.{_EXPORTS[name]}"), name)
