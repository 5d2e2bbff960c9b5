"""Per-benefit forecasts: Prophet trajectories and the probability of landing on time.

Modules, by responsibility: ``settings`` (thresholds, ``forecast.yaml``), ``series`` (the
observations that count), ``stan`` (Prophet's model: Stan inputs built with numpy, fitted by its
compiled Stan program), ``fitting`` (fit and sampled paths), ``probability`` (paths to
probability, landing and interval), ``messages`` (the human sentence), ``fingerprints`` (inputs
hash and seed), ``model`` (one benefit, end to end), ``runner`` (every benefit, in parallel or on
Dask, kept per run), ``backtest`` and ``calibration`` (how far the probability can be trusted).
"""

from benefits.forecast.fingerprints import fingerprint
from benefits.forecast.fitting import quiet_prophet
from benefits.forecast.model import BenefitForecast, forecast_benefit
from benefits.forecast.settings import STATUSES, ForecastSettings, load_settings

__all__ = [
    "STATUSES",
    "BenefitForecast",
    "ForecastSettings",
    "fingerprint",
    "forecast_benefit",
    "load_settings",
    "quiet_prophet",
]
