"""Per-benefit forecasts: Prophet trajectories and the probability of landing on time."""

from benefits.forecast.model import (
    STATUSES,
    BenefitForecast,
    ForecastSettings,
    fingerprint,
    forecast_benefit,
    quiet_prophet,
)

__all__ = [
    "STATUSES",
    "BenefitForecast",
    "ForecastSettings",
    "fingerprint",
    "forecast_benefit",
    "quiet_prophet",
]
