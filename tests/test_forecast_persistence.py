"""Residual persistence: the forecast carries an AR(1) of what the trend and seasonality leave
unexplained (benefits.forecast.fitting.residual_persistence), real Stan fits on seeded series."""

from __future__ import annotations

import numpy as np
import pytest

from benefits.forecast import stan
from benefits.forecast.fitting import predictive_samples, residual_persistence

WEEKS = np.arange("2024-01-01", "2027-06-07", 7, dtype="datetime64[D]").astype("datetime64[ns]")


def fitted(values: np.ndarray) -> tuple[stan.Design, stan.Params]:
    design = stan.design(WEEKS[: len(values)], values, yearly=False, tau=0.1)
    return design, stan.fit(design, seed=1)


def ar1(phi: float, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + rng.normal(0.0, 1.0)
    return out


def test_independent_noise_gives_little_persistence_and_persistent_noise_much() -> None:
    trend = 100.0 + 0.2 * np.arange(100)
    calm, _ = residual_persistence(*fitted(trend + np.random.default_rng(4).normal(0.0, 1.0, 100)))
    sticky, _ = residual_persistence(*fitted(trend + 3.0 * ar1(0.9, 100, 4)))
    assert calm < 0.3
    assert sticky > 0.5


def test_a_reading_above_the_trend_today_keeps_the_next_ones_above_it() -> None:
    values = 100.0 + 0.2 * np.arange(100) + 3.0 * ar1(0.9, 100, 5)
    values[-6:] += 8.0  # the latest readings sit well above the fitted trend
    design, params = fitted(values)
    phi, last = residual_persistence(design, params)
    future = WEEKS[100:160]
    carried = predictive_samples(design, params, future, 2_000, np.random.default_rng(0), phi, last)
    independent = predictive_samples(design, params, future, 2_000, np.random.default_rng(0))
    # the next week's median sits phi x the last residual above Prophet's independent noise's
    shift = float(np.median(carried[0]) - np.median(independent[0]))
    assert last > 0
    assert shift == pytest.approx(design.y_scale * phi * last, rel=0.25)
    # the persistence fades: four weeks on, the shift is smaller
    assert float(np.median(carried[3]) - np.median(independent[3])) < shift
    # knowing today's reading narrows next week's spread; a year on, the noise is as wide as ever
    assert np.std(carried[0]) < np.std(independent[0])
    assert np.std(carried[59]) == pytest.approx(np.std(independent[59]), rel=0.25)


def test_too_few_readings_give_independent_noise() -> None:
    assert residual_persistence(*fitted(np.arange(6, dtype=float))) == (0.0, 0.0)
