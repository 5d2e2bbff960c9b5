"""Prophet's model without Prophet's preprocessing: our Stan inputs, starting values, fitted
parameters and predictive samples against Prophet's own, on real fits (no mocks)."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest

from benefits.forecast import quiet_prophet, stan
from benefits.forecast.fitting import predictive_samples

BOUNDS = (0.0, 100.0)


@pytest.fixture(autouse=True)
def _quiet() -> None:
    quiet_prophet()  # pytest restores warning filters around each test


def series(n: int, logistic: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` weekly periods and values: a noisy line that starts to bend halfway, or a noisy S-curve inside 0..100."""
    rng = np.random.default_rng(seed)
    periods = pd.date_range("2024-01-08", periods=n, freq="7D").to_numpy()
    weeks = np.arange(n, dtype=float)
    if logistic:
        values = np.clip(20 + 60 / (1 + np.exp(-(weeks - n / 2) / 10)) + rng.normal(0, 1.5, n), 0, 100)
    else:
        bend = 30 * np.maximum(weeks - n / 2, 0) * np.sin(weeks / 9)
        values = 1_000 + 30 * weeks + bend + rng.normal(0, 50, n)
    return periods, values


def prophet_for(
    periods: np.ndarray, values: np.ndarray, yearly: bool, logistic: bool, weekly: bool = False, **kwargs: object
) -> tuple[Any, pd.DataFrame]:
    from prophet import Prophet

    model = Prophet(
        growth="logistic" if logistic else "linear",
        yearly_seasonality=yearly,
        weekly_seasonality=weekly,
        daily_seasonality=False,
        changepoint_prior_scale=0.1,
        **kwargs,
    )
    history = pd.DataFrame({"ds": periods, "y": values})
    if logistic:
        history["floor"], history["cap"] = BOUNDS
    return model, history


CASES = [  # (points, yearly, logistic): short series get fewer changepoints, two points a dummy one
    (2, False, False),
    (3, False, True),
    (6, False, False),
    (20, False, True),
    (60, False, False),
    (104, False, True),
    (105, True, False),
    (156, True, True),
]


@pytest.mark.parametrize(("n", "yearly", "logistic"), CASES)
def test_stan_data_and_starting_values_equal_prophets(n: int, yearly: bool, logistic: bool) -> None:
    periods, values = series(n, logistic)
    design = stan.design(periods, values, yearly=yearly, tau=0.1, limits=BOUNDS if logistic else None)
    model, history = prophet_for(periods, values, yearly, logistic)
    inputs = model.preprocess(history)
    theirs = dataclasses.asdict(inputs)
    theirs["X"] = inputs.X.to_numpy()
    ours = design.stan_data()
    assert set(ours) == set(theirs)
    for name, value in ours.items():
        expected = np.asarray(theirs[name], dtype=float)
        assert np.asarray(value, dtype=float).shape == expected.shape, name
        np.testing.assert_allclose(np.asarray(value, dtype=float), expected, rtol=1e-12, atol=1e-12, err_msg=name)
    start, their_start = design.initial_params(), model.calculate_initial_params(inputs.K)
    for name in ("k", "m", "sigma_obs", "delta", "beta"):
        expected = np.asarray(getattr(their_start, name), dtype=float)
        np.testing.assert_allclose(getattr(start, name), expected, rtol=1e-12, err_msg=name)
    assert (design.y_scale, design.start, design.span) == (model.y_scale, model.start, model.t_scale)
    assert design.changepoints == (0 if n == 2 else min(25, int(n * 0.8) - 1))


@pytest.mark.parametrize(
    ("n", "yearly", "logistic"), [(3, False, False), (20, False, True), (60, False, False), (156, True, True)]
)
def test_fitted_parameters_equal_prophets(n: int, yearly: bool, logistic: bool) -> None:
    periods, values = series(n, logistic, seed=n)
    design = stan.design(periods, values, yearly=yearly, tau=0.1, limits=BOUNDS if logistic else None)
    ours = stan.fit(design, seed=7)
    model, history = prophet_for(periods, values, yearly, logistic)
    model.fit(history, algorithm="LBFGS", seed=7)
    for name in ("k", "m", "sigma_obs", "delta", "beta"):
        np.testing.assert_allclose(
            np.ravel(getattr(ours, name)), np.ravel(model.params[name]), rtol=1e-6, atol=1e-9, err_msg=name
        )


@pytest.mark.parametrize(("n", "yearly"), [(60, False), (130, True)])
def test_a_level_shift_is_fitted_as_prophets_own_step_regressor(n: int, yearly: bool) -> None:
    """A level shift (``shifts``) is the step regressor Prophet's ``add_regressor`` would add
    (prior scale 10, not standardised): the same Stan data and fitted parameters."""
    periods, values = series(n, logistic=False, seed=n)
    at = n - 12
    values = values + np.where(np.arange(n) >= at, -800.0, 0.0)
    design = stan.design(periods, values, yearly=yearly, tau=0.1, shifts=periods[[at]])
    model, history = prophet_for(periods, values, yearly, False)
    model.add_regressor("step", prior_scale=stan.SHIFT_PRIOR_SCALE, standardize=False, mode="additive")
    history["step"] = (np.arange(n) >= at).astype(float)
    model.fit(history, algorithm="LBFGS", seed=7)
    assert design.X.shape[1] == (21 if yearly else 1)
    np.testing.assert_array_equal(design.X[:, -1], history["step"].to_numpy())
    ours = stan.fit(design, seed=7)
    for name in ("k", "m", "sigma_obs", "delta", "beta"):
        np.testing.assert_allclose(
            np.ravel(getattr(ours, name)), np.ravel(model.params[name]), rtol=1e-6, atol=1e-9, err_msg=name
        )
    future = pd.date_range(periods[-1], periods=5, freq="7D").to_numpy()[1:]
    np.testing.assert_array_equal(design.features(future)[:, -1], np.ones(4))  # the step lasts


@pytest.mark.parametrize(("days", "yearly"), [(90, False), (800, True)])
def test_daily_readings_get_prophets_weekly_seasonality(days: int, yearly: bool) -> None:
    """Readings more often than weekly (a daily ticket count, quieter at weekends) are fitted with
    Prophet's weekly seasonality (order 3, after the yearly one): the same Stan data and fitted
    parameters as Prophet with ``weekly_seasonality=True``."""
    rng = np.random.default_rng(days)
    periods = pd.date_range("2024-01-01", periods=days, freq="D").to_numpy()
    weekend = pd.DatetimeIndex(periods).day_of_week >= 5
    values = 200.0 - 0.05 * np.arange(days) - 80.0 * weekend + rng.normal(0.0, 5.0, days)
    design = stan.design(periods, values, yearly=yearly, tau=0.1, weekly=True)
    model, history = prophet_for(periods, values, yearly, False, weekly=True)
    inputs = model.preprocess(history)
    np.testing.assert_allclose(design.X, inputs.X.to_numpy(), rtol=1e-12, atol=1e-12)
    assert design.stan_data()["sigmas"] == list(inputs.sigmas)
    ours = stan.fit(design, seed=7)
    model, history = prophet_for(periods, values, yearly, False, weekly=True)  # preprocess counts as a fit
    model.fit(history, algorithm="LBFGS", seed=7)
    for name in ("k", "m", "sigma_obs", "delta", "beta"):
        np.testing.assert_allclose(
            np.ravel(getattr(ours, name)), np.ravel(model.params[name]), rtol=1e-5, atol=1e-8, err_msg=name
        )


def test_a_constant_series_is_not_optimised_as_prophet_does() -> None:
    periods, _ = series(30, logistic=False)
    values = np.full(30, 5_000.0)
    params = stan.fit(stan.design(periods, values, yearly=False, tau=0.1), seed=1)
    model, history = prophet_for(periods, values, False, False)
    model.fit(history)
    theirs = {name: float(np.ravel(model.params[name])[0]) for name in ("k", "m", "sigma_obs")}
    assert (params.k, params.m, params.sigma_obs) == (theirs["k"], theirs["m"], theirs["sigma_obs"]) == (0.0, 1.0, 1e-9)


def test_prophets_refusals_are_kept() -> None:
    periods, values = series(5, logistic=False)
    with pytest.raises(ValueError, match="less than 2 non-NaN rows"):
        stan.design(periods[:1], values[:1], yearly=False, tau=0.1)
    with pytest.raises(ValueError, match="cap must be greater than floor"):
        stan.design(periods, values, yearly=False, tau=0.1, limits=(5.0, 5.0))


def test_a_stan_failure_is_raised_with_stans_reason() -> None:
    periods, values = series(30, logistic=False)
    reason = r"^Stan optimisation failed: .*tau is -1, but must be greater than or equal to 0"
    with pytest.raises(RuntimeError, match=reason):
        stan.fit(stan.design(periods, values, yearly=False, tau=-1.0), seed=1)


def test_a_warm_start_keeps_only_what_fits_as_prophet_does() -> None:
    periods, values = series(60, logistic=False, seed=3)
    design = stan.design(periods, values, yearly=False, tau=0.1)
    previous = stan.fit(stan.design(periods[:-1], values[:-1], yearly=False, tau=0.1), seed=1).as_json()
    odd = {**previous, "delta": [0.1, 0.2], "k": "steep"}  # of the wrong shape and kind: Prophet's start instead
    for warm in (previous, odd):
        ours = stan.fit(design, seed=1, warm=warm)
        model, history = prophet_for(periods, values, False, False)
        init = {**warm, "delta": np.asarray(warm["delta"]), "beta": np.asarray(warm["beta"])}
        model.fit(history, algorithm="LBFGS", seed=1, init=init)
        for name in ("k", "m", "sigma_obs", "delta", "beta"):
            np.testing.assert_allclose(
                np.ravel(getattr(ours, name)), np.ravel(model.params[name]), rtol=1e-6, atol=1e-9, err_msg=name
            )


@pytest.mark.parametrize(("n", "yearly", "logistic"), [(120, True, False), (90, False, True)])
def test_own_samples_follow_prophets_generative_model(n: int, yearly: bool, logistic: bool) -> None:
    periods, values = series(n, logistic, seed=18)
    if logistic:
        values = np.clip(values * 0.8, *BOUNDS)  # still rising at the end: trend changes matter
    model, history = prophet_for(periods, values, yearly, logistic, uncertainty_samples=4_000)
    model.fit(history, algorithm="LBFGS", seed=1)
    future = pd.date_range(periods[-1] + np.timedelta64(7, "D"), periods=40, freq="7D")
    rows = pd.DataFrame({"ds": future})
    if logistic:
        rows["floor"], rows["cap"] = BOUNDS
    np.random.seed(0)
    theirs = model.predictive_samples(rows)["yhat"]
    design = stan.design(periods, values, yearly=yearly, tau=0.1, limits=BOUNDS if logistic else None)
    params = stan.fit(design, seed=1)
    ours = predictive_samples(design, params, future.to_numpy(), 4_000, np.random.default_rng(0), trend_window=1)
    assert ours.shape == theirs.shape == (40, 4_000)
    width = float(np.mean(np.quantile(theirs, 0.9, axis=1) - np.quantile(theirs, 0.1, axis=1)))
    assert width > 0
    for q in (0.1, 0.5, 0.9):  # the same distribution, up to Monte Carlo noise
        gap = np.abs(np.quantile(ours, q, axis=1) - np.quantile(theirs, q, axis=1))
        assert gap.max() < 0.1 * width, q
