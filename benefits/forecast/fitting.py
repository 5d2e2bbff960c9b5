"""Prophet fitting and sampling: sampled future paths of a benefit's tracked quantity Q.

- ``cumulative`` measures: Prophet is fitted on the period values; predictive samples of the
  future period values are drawn for every future week up to the horizon; each sampled path is
  ``Q now + cumulative sum`` of its period values.
- ``level`` measures: Prophet is fitted on the values themselves (logistic growth between
  ``bounds.min`` and ``bounds.max`` when both are set); each sample is a path of Q. Readings far
  from their neighbours are left out of the fit.
- Linear growth is sampled by :func:`linear_predictive_samples` from the MAP parameters (Prophet's
  own generative model without its per-call feature frames); logistic growth by Prophet's
  ``predictive_samples``.
- For linear growth each path also draws the trend's slope and offset from their (Laplace)
  posterior given the fitted changepoints (``ForecastSettings.parameter_uncertainty``).

A fit can start from the parameters of the benefit's previous fit (``warm``); Prophet keeps its
own defaults for any parameter whose shape no longer matches (e.g. a different number of
changepoints).
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import threading
import warnings
from typing import Any

import numpy as np
import pandas as pd

from benefits import register
from benefits.forecast.series import level_outliers
from benefits.forecast.settings import ForecastSettings

_TWO_YEARS_DAYS = 730
_PARAMS = ("k", "m", "sigma_obs", "delta", "beta")
# Prophet samples with NumPy's global generator: threads of one process (a Dask worker with
# several threads) must not interleave their seeded sections.
_GLOBAL_RNG = threading.Lock()


@dataclasses.dataclass(frozen=True)
class Samples:
    """Sampled paths of Q, shape (len(future), samples), and what the fit left behind."""

    paths: np.ndarray
    excluded: int
    """Observations left out of the fit as outliers (level measures only)."""
    params: dict[str, Any]
    """The fitted parameters (JSON-safe), to warm-start the next fit."""


def quiet_prophet() -> None:
    """Silence cmdstanpy's logging, prophet's below errors, and the deprecation warnings that
    prophet's own use of pandas raises (not ours to fix). Process-wide and idempotent: a
    ``catch_warnings`` block would not be thread-safe in a multi-threaded Dask worker."""
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=r"prophet(\.|$)")
    logging.getLogger("cmdstanpy").disabled = True
    for name in ("prophet", "prophet.forecaster", "prophet.models"):
        logger = logging.getLogger(name)
        if logger.level < logging.ERROR:
            logger.setLevel(logging.ERROR)  # also the "falling back to Newton" warning: the fit goes on


def sample_paths(
    benefit: register.Benefit,
    observed: pd.DataFrame,
    future: pd.DatetimeIndex,
    q_now: float,
    settings: ForecastSettings,
    seed: int,
    warm: dict[str, Any] | None = None,
) -> Samples:
    """Fit Prophet to ``observed`` and sample paths of Q at the ``future`` weeks.

    Raises whatever Prophet or Stan raises, and RuntimeError for non-finite samples.
    """
    quiet_prophet()
    from prophet import Prophet  # imported here: ~1 s, only the forecasting path pays it

    bounds = benefit.bounds
    level = benefit.measure is register.Measure.level
    logistic = level and bounds is not None and bounds.min is not None and bounds.max is not None
    outliers = level_outliers(observed["value"].to_numpy()) if level else np.zeros(len(observed), dtype=bool)
    fitted = observed[~outliers]
    span_days = (fitted["period"].iloc[-1] - fitted["period"].iloc[0]).days
    model = Prophet(
        growth="logistic" if logistic else "linear",
        yearly_seasonality=span_days >= _TWO_YEARS_DAYS,
        weekly_seasonality=False,
        daily_seasonality=False,
        uncertainty_samples=settings.samples,
        interval_width=settings.interval,
        changepoint_prior_scale=settings.changepoint_prior_scale,
    )
    history = pd.DataFrame({"ds": fitted["period"], "y": fitted["value"]})
    rows = pd.DataFrame({"ds": future})
    if logistic:
        assert bounds is not None and bounds.min is not None and bounds.max is not None
        for frame in (history, rows):
            frame["cap"] = float(bounds.max)
            frame["floor"] = float(bounds.min)
    _fit(model, history, seed, warm if settings.warm_start else None)
    if logistic:
        with _GLOBAL_RNG:
            state = np.random.get_state()
            np.random.seed(seed & 0xFFFFFFFF)
            try:
                draws = np.asarray(model.predictive_samples(rows)["yhat"], dtype=float)
            finally:
                np.random.set_state(state)
    else:
        draws = linear_predictive_samples(model, future, settings.samples, np.random.default_rng(seed))
    if settings.parameter_uncertainty and not logistic:
        draws = draws + _trend_parameter_draws(model, future, draws.shape[1], seed)

    if level:
        paths = draws
        if bounds is not None and (bounds.min is not None or bounds.max is not None):
            paths = np.clip(paths, bounds.min, bounds.max)
    else:
        paths = q_now + np.cumsum(draws, axis=0)
    if paths.shape != (len(future), paths.shape[1]) or not np.isfinite(paths).all():
        raise RuntimeError("Prophet returned non-finite samples")
    return Samples(paths=paths, excluded=int(outliers.sum()), params=fitted_params(model))


def linear_predictive_samples(model: Any, future: pd.DatetimeIndex, n: int, rng: np.random.Generator) -> np.ndarray:
    """Prophet's predictive samples of a fitted linear-growth model at ``future`` dates after its
    history, shape (len(future), n), computed directly from its MAP parameters.

    The same generative model as ``Prophet.predictive_samples`` (future trend changes with the
    history's changepoint rate and mean absolute change, additive seasonality, Gaussian noise),
    without rebuilding Prophet's feature frames for every call, which took a quarter of each
    benefit's forecast. Uses ``rng`` instead of NumPy's global generator.
    """
    from prophet import Prophet

    params = {name: np.asarray(model.params[name], dtype=float).reshape(-1) for name in ("k", "m", "delta", "sigma_obs", "beta")}
    t = ((future - model.start) / model.t_scale).to_numpy(dtype=float)
    changepoints = np.asarray(model.changepoints_t, dtype=float)
    expected = Prophet.piecewise_linear(t, params["delta"], params["k"][0], params["m"][0], changepoints)
    step = float(np.diff(t).mean()) if len(t) > 1 else float(np.diff(np.asarray(model.history["t"])).mean())
    likelihood = len(changepoints) * step
    mean_delta = float(np.mean(np.abs(params["delta"]))) + 1e-8
    changes = rng.laplace(0.0, mean_delta, size=(n, len(t))) * (rng.uniform(size=(n, len(t))) < likelihood)
    changes = (np.hstack([np.zeros((n, 1)), changes])[:, :-1] + changes) / 2.0
    trend = expected + changes.cumsum(axis=1).cumsum(axis=1) * step
    dates = pd.Series(future)
    features = [Prophet.fourier_series(dates, props["period"], props["fourier_order"]) for props in model.seasonalities.values()]
    seasonal = np.hstack(features) @ params["beta"] if features else np.zeros(len(t))
    noise = rng.normal(0.0, params["sigma_obs"][0], size=(n, len(t)))
    return (float(model.y_scale) * (trend + seasonal + noise)).T


def _fit(model: Any, history: pd.DataFrame, seed: int, warm: dict[str, Any] | None) -> None:
    """MAP fit with LBFGS in a temporary output directory, optionally warm-started."""
    kwargs: dict[str, Any] = {"algorithm": "LBFGS", "seed": seed & 0x7FFFFFFF}
    if warm and set(_PARAMS) <= set(warm):
        kwargs["init"] = {name: np.asarray(warm[name], dtype=float) for name in _PARAMS}
    # Own output directory per fit: cmdstanpy otherwise keeps every fit's CSV files until the
    # process exits, and parallel workers can clash on file names.
    with tempfile.TemporaryDirectory(prefix="benefits-prophet-") as output_dir:
        # kwargs of Prophet.fit go to CmdStanModel.optimize: LBFGS instead of the Newton default
        # under 100 points (~6x faster). Prophet still falls back to Newton if LBFGS fails.
        model.fit(history, output_dir=output_dir, **kwargs)
        model.stan_fit = None  # its CSV files are about to go
        model.stan_backend.stan_fit = None


def fitted_params(model: Any) -> dict[str, Any]:
    """A fitted model's MAP parameters as JSON-safe lists (scalars as floats)."""
    out: dict[str, Any] = {}
    for name in _PARAMS:
        values = np.asarray(model.params[name], dtype=float).reshape(-1)
        out[name] = float(values[0]) if name in ("k", "m", "sigma_obs") else [float(v) for v in values]
    return out


def _trend_parameter_draws(model: Any, future: pd.DatetimeIndex, n: int, seed: int) -> np.ndarray:
    """Draws of ``y_scale * (dk * t + dm)`` at the future weeks, shape (len(future), n).

    For linear growth Prophet's trend is ``(k + sum of passed deltas) * t + (m + offsets)``, linear
    in the initial slope k and offset m. Given the MAP changepoints, noise level and seasonality,
    the posterior of (k, m) is Gaussian: precision ``X'X / sigma^2`` (X = [t, 1] over the history,
    scaled units) plus the N(0, 5) priors. Adding its draws to Prophet's samples carries the
    uncertainty of the fitted trend into the forecast.
    """
    t_hist = np.asarray(model.history["t"], dtype=float)
    sigma = float(np.asarray(model.params["sigma_obs"]).reshape(-1)[0])
    design = np.column_stack([t_hist, np.ones_like(t_hist)])
    precision = design.T @ design / max(sigma, 1e-12) ** 2 + np.eye(2) / 25.0
    cov = np.linalg.inv(precision)
    rng = np.random.default_rng(seed)
    dk, dm = rng.multivariate_normal(np.zeros(2), cov, size=n, method="cholesky").T
    t_future = ((future - model.start) / model.t_scale).to_numpy(dtype=float)
    return float(model.y_scale) * (np.outer(t_future, dk) + dm[None, :])
