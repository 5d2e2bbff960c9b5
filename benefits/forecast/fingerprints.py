"""The fingerprint of a forecast's inputs, and the random seed derived from them."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pandas as pd

from benefits import register
from benefits.forecast import series
from benefits.forecast.settings import METHOD_VERSION, ForecastSettings, prophet_version


def fingerprint(
    benefit: register.Benefit,
    start: dt.date,
    observations: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings,
) -> str:
    """SHA-256 (hex) of everything the forecast depends on.

    Only the observations the model learns from (:func:`series.history` up to ``as_of``, after
    de-duplication) enter the hash, with the benefit, its start, the settings, the method version
    and Prophet's version. ``as_of`` itself enters only as whether the target date has passed:
    running again a day later with no new observation gives the same fingerprint, and the
    stored forecast is reused.
    """
    return window_fingerprint(
        benefit, start, series.history(benefit, observations, as_of, settings, start), as_of, settings
    )


def window_fingerprint(
    benefit: register.Benefit,
    start: dt.date,
    window: pd.DataFrame | series.Readings,
    as_of: dt.date,
    settings: ForecastSettings,
    context: str = "",
) -> str:
    """:func:`fingerprint` of observations already reduced by :func:`series.window` (or
    :func:`series.history`, or either's :class:`series.Readings`); ``context`` is anything else
    the forecast depends on (the run's calibration and the benefit's reference class)."""
    payload = {
        "method": METHOD_VERSION,
        "prophet": prophet_version(),
        "benefit": benefit.model_dump(mode="json", exclude={"change_reason"}),  # words, not the plan
        "start": start.isoformat(),
        "target_passed": as_of > benefit.target.date,
        # of the value ranges, only this benefit's: a range of another metric changes nothing here
        "settings": settings.model_dump(mode="json", exclude={"metric_ranges", "unit_ranges"}),
        "observations": len(window),
        "context": context,
    }
    value_range = settings.value_range(benefit)
    if value_range != (None, None):  # none: the same digest (and samples) as before ranges existed
        payload["value_range"] = value_range
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode())
    # the observations as their exact bytes (periods in ns, values as IEEE doubles, little-endian)
    if isinstance(window, pd.DataFrame):
        window = series.Readings(
            window["period"].to_numpy(dtype="datetime64[ns]"), window["value"].to_numpy(dtype=float)
        )
    digest.update(window.period.astype("datetime64[ns]").astype("<i8").tobytes())
    digest.update(window.value.astype("<f8").tobytes())
    return digest.hexdigest()


def seed(
    benefit: register.Benefit,
    start: dt.date,
    window: pd.DataFrame,
    as_of: dt.date,
    settings: ForecastSettings,
) -> int:
    """Random seed from the inputs that shape the samples (not the status thresholds), so the
    same inputs give the same forecast and a status never flips from Monte Carlo noise alone."""
    sampling = ForecastSettings(
        samples=settings.samples,
        margin_weeks=settings.margin_weeks,
        parameter_uncertainty=settings.parameter_uncertainty,
        changepoint_prior_scale=settings.changepoint_prior_scale,
    )
    return int(window_fingerprint(benefit, start, window, as_of, sampling)[:8], 16)
