"""Prophet's model, fitted without Prophet's preprocessing.

``Prophet.fit`` spent most of a weekly series' fit in pandas (scales, changepoints, seasonality
frames, component matrices) and in cmdstanpy's JSON writer, not in Stan. :func:`design` builds
the same Stan inputs with numpy for the models the forecast uses — linear or logistic growth
(``floor``/``cap`` constant), yearly seasonality or none, weekly seasonality for readings more
often than weekly (as Prophet's ``auto`` adds it), steps of the level where the series
shifted (``shifts``: extra regressors, as Prophet's ``add_regressor`` would add), no holidays,
Prophet's defaults otherwise (25 changepoints over the first 80% of the history, absmax scaling, prior
scale 10) — and :func:`fit` runs Prophet's compiled Stan model on them with CmdStan's command
line: LBFGS, then Newton if LBFGS fails, as Prophet does. ``tests/test_forecast_stan.py`` checks the inputs,
initial values and fitted parameters against Prophet's own.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import orjson

N_CHANGEPOINTS = 25
CHANGEPOINT_RANGE = 0.8
YEARLY_PERIOD = 365.25
YEARLY_ORDER = 10
WEEKLY_PERIOD = 7.0
WEEKLY_ORDER = 3
SEASONALITY_PRIOR_SCALE = 10.0
#: The prior scale of a level shift's step (scaled units, as Prophet's regressors default to).
SHIFT_PRIOR_SCALE = 10.0
_EPOCH = np.datetime64("1970-01-01", "ns")
_DAY = np.timedelta64(86_400, "s")
_SHM = "/dev/shm"


@dataclasses.dataclass(frozen=True)
class Params:
    """Prophet's MAP parameters in its scaled units."""

    k: float
    m: float
    delta: np.ndarray
    sigma_obs: float
    beta: np.ndarray

    def as_json(self) -> dict[str, Any]:
        """JSON-safe: scalars as floats, vectors as lists of floats."""
        return {
            "k": float(self.k),
            "m": float(self.m),
            "sigma_obs": float(self.sigma_obs),
            "delta": [float(v) for v in self.delta],
            "beta": [float(v) for v in self.beta],
        }


@dataclasses.dataclass(frozen=True, eq=False)
class Design:
    """A weekly history in Prophet's scaled units: what its Stan model is fitted on."""

    start: np.datetime64
    """The first period (t = 0)."""
    span: np.timedelta64
    """From the first to the last period (t = 1)."""
    y_scale: float
    floor: float
    cap: float | None
    """Scaled capacity ``(cap - floor) / y_scale`` for logistic growth, None for linear."""
    t: np.ndarray
    y: np.ndarray
    """``(value - floor) / y_scale``."""
    changepoints: int
    """Potential changepoints (0: Prophet's dummy changepoint at t = 0 is fitted, then folded into k)."""
    changepoints_t: np.ndarray
    yearly: bool
    X: np.ndarray
    tau: float
    """The changepoint prior scale."""
    shifts: np.ndarray = dataclasses.field(default_factory=lambda: np.empty(0, dtype="datetime64[ns]"))
    """The periods from which the level shifted (a step regressor each, 1 from that period on)."""
    weekly: bool = False
    """Whether weekly seasonality is fitted (readings more often than weekly)."""
    yearly_order: int = YEARLY_ORDER
    """The order of the yearly Fourier series (Prophet's 10; lower for readings too sparse to show it)."""

    @property
    def logistic(self) -> bool:
        """Whether growth is logistic."""
        return self.cap is not None

    def time(self, dates: np.ndarray) -> np.ndarray:
        """Prophet's t of ``dates`` (datetime64): 0 at the first period, 1 at the last."""
        return (np.asarray(dates, dtype="datetime64[ns]") - self.start) / self.span

    def features(self, dates: np.ndarray) -> np.ndarray:
        """The seasonality features of ``dates`` and a step for each level shift, shape (len(dates), K)."""
        return features(
            np.asarray(dates, dtype="datetime64[ns]"), self.yearly, self.shifts, self.weekly, self.yearly_order
        )

    def stan_data(self) -> dict[str, Any]:
        """The data block of Prophet's Stan model (what ``Prophet.preprocess`` returns), JSON-safe."""
        n, k = self.X.shape
        steps = len(self.shifts)
        if not self.yearly and not self.weekly and not steps:  # Prophet's column of zeros, in no component
            sigmas, additive = [1.0], [0]
        else:
            sigmas = [SEASONALITY_PRIOR_SCALE] * (k - steps) + [SHIFT_PRIOR_SCALE] * steps
            additive = [1] * k
        return {
            "T": n,
            "S": len(self.changepoints_t),
            "K": k,
            "tau": self.tau,
            "trend_indicator": 1 if self.logistic else 0,
            "y": self.y.tolist(),
            "t": self.t.tolist(),
            "cap": np.full(n, self.cap if self.logistic else 0.0).tolist(),
            "t_change": self.changepoints_t.tolist(),
            "s_a": additive,
            "s_m": [0] * k,
            "X": self.X.tolist(),
            "sigmas": sigmas,
        }

    def initial_params(self) -> Params:
        """Prophet's starting point: the trend through the first and last points, nothing else."""
        span = self.t[-1] - self.t[0]
        if self.cap is None:
            k = (self.y[-1] - self.y[0]) / span
            m = self.y[0] - k * self.t[0]
        else:
            c = self.cap  # Prophet's logistic_growth_init, with a constant capacity
            y0 = max(0.01 * c, min(0.99 * c, self.y[0]))
            y1 = max(0.01 * c, min(0.99 * c, self.y[-1]))
            r0, r1 = c / y0, c / y1
            if abs(r0 - r1) <= 0.01:
                r0 = 1.05 * r0
            l0, l1 = np.log(r0 - 1), np.log(r1 - 1)
            m = l0 * span / (l0 - l1)
            k = (l0 - l1) / span
        return Params(float(k), float(m), np.zeros(len(self.changepoints_t)), 1.0, np.zeros(self.X.shape[1]))


def design(
    periods: np.ndarray,
    values: np.ndarray,
    *,
    yearly: bool,
    tau: float,
    limits: tuple[float, float] | None = None,
    changepoint_range: float = CHANGEPOINT_RANGE,
    shifts: np.ndarray | None = None,
    weekly: bool = False,
    yearly_order: int = YEARLY_ORDER,
) -> Design:
    """Prophet's inputs for sorted, distinct ``periods`` (datetime64) and finite ``values``.

    ``limits`` (floor, cap) selects logistic growth; ``changepoint_range`` is the share of the
    history (by rows) that holds potential changepoints (Prophet's ``changepoint_range``);
    ``shifts`` are the periods from which the level shifted, each fitted as a step; ``weekly``
    adds Prophet's weekly seasonality (order 3) after the yearly one, whose order is
    ``yearly_order``. Raises
    ValueError as Prophet does for fewer than two rows or a cap not above the floor.
    """
    periods = np.asarray(periods, dtype="datetime64[ns]")
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        raise ValueError("Dataframe has less than 2 non-NaN rows.")
    floor = 0.0 if limits is None else float(limits[0])
    if limits is not None and not limits[1] > limits[0]:
        raise ValueError("cap must be greater than floor (which defaults to 0).")
    y_scale = float(np.abs(values - floor).max()) or 1.0
    start, span = periods[0], periods[-1] - periods[0]
    steps = np.empty(0, dtype="datetime64[ns]") if shifts is None else np.asarray(shifts, dtype="datetime64[ns]")
    t = (periods - start) / span
    history = int(np.floor(len(t) * changepoint_range))
    changepoints = min(N_CHANGEPOINTS, history - 1)
    if changepoints > 0:
        index = np.linspace(0, history - 1, changepoints + 1).round().astype(int)[1:]
        changepoints_t = np.sort(t[index])
    else:
        changepoints, changepoints_t = 0, np.zeros(1)
    return Design(
        start=start,
        span=span,
        y_scale=y_scale,
        floor=floor,
        cap=None if limits is None else (float(limits[1]) - floor) / y_scale,
        t=t,
        y=(values - floor) / y_scale,
        changepoints=changepoints,
        changepoints_t=changepoints_t,
        yearly=yearly,
        X=features(periods, yearly, steps, weekly, yearly_order),
        tau=float(tau),
        shifts=steps,
        weekly=weekly,
        yearly_order=yearly_order,
    )


def features(
    dates: np.ndarray, yearly: bool, shifts: np.ndarray, weekly: bool = False, yearly_order: int = YEARLY_ORDER
) -> np.ndarray:
    """Prophet's features of ``dates``: the yearly ones, the weekly ones, then for each level shift a
    step (1 from its period on, as an extra regressor Prophet does not standardise), or its single
    column of zeros when there is none of them."""
    steps = (dates[:, None] >= shifts[None, :]).astype(float)
    if not yearly and not weekly and len(shifts):
        return steps
    return np.concatenate([seasonal_features(dates, yearly, weekly, yearly_order), steps], axis=1)


def seasonal_features(
    dates: np.ndarray, yearly: bool, weekly: bool = False, yearly_order: int = YEARLY_ORDER
) -> np.ndarray:
    """Prophet's yearly (order ``yearly_order``, Prophet's 10) and weekly (order 3) Fourier features
    of ``dates``, in that order, or its single column of zeros when there is neither."""
    if not yearly and not weekly:
        return np.zeros((len(dates), 1))
    days = (dates - _EPOCH) / _DAY
    seasons = ((yearly, YEARLY_PERIOD, yearly_order), (weekly, WEEKLY_PERIOD, WEEKLY_ORDER))
    return np.concatenate([_fourier(days, period, order) for on, period, order in seasons if on], axis=1)


def _fourier(days: np.ndarray, period: float, order: int) -> np.ndarray:
    """Prophet's ``fourier_series``: sin and cos of orders 1..``order`` of ``period`` days, interleaved."""
    x = np.pi * 2 * days
    out = np.empty((len(days), 2 * order))
    for i in range(order):
        c = (i + 1) / period * x
        out[:, 2 * i] = np.sin(c)
        out[:, 2 * i + 1] = np.cos(c)
    return out


def fit(design: Design, seed: int, warm: Mapping[str, Any] | None = None) -> Params:
    """MAP parameters of Prophet's Stan model on ``design``.

    ``warm`` (a previous :meth:`Params.as_json`) replaces each starting value whose shape still
    fits, as Prophet's ``init=`` does. A constant linear series is not optimised (Prophet's
    shortcut: the starting values with ``sigma_obs`` 1e-9). Raises RuntimeError when Stan fails.
    """
    start = design.initial_params()
    if not design.logistic and design.y.min() == design.y.max():
        return dataclasses.replace(start, sigma_obs=1e-9)
    if warm is not None:
        start = _warm(start, warm)
    params = _optimize(design, start, seed)
    if design.changepoints == 0:  # Prophet folds the dummy changepoint's delta into the rate
        params = dataclasses.replace(params, k=params.k + float(params.delta.sum()), delta=np.zeros_like(params.delta))
    return params


def _warm(start: Params, warm: Mapping[str, Any]) -> Params:
    """Prophet's ``sanitize_custom_inits``: each warm value whose type and shape fit, else the default."""
    values: dict[str, Any] = {}
    for name in ("k", "m", "sigma_obs"):
        try:
            values[name] = float(warm[name])
        except (KeyError, TypeError, ValueError):
            values[name] = getattr(start, name)
    for name in ("delta", "beta"):
        try:
            vector = np.asarray(warm[name], dtype=float)
        except (KeyError, TypeError, ValueError):
            vector = np.empty(0)
        values[name] = vector if vector.shape == getattr(start, name).shape else getattr(start, name)
    return Params(**values)


def _optimize(design: Design, start: Params, seed: int) -> Params:
    """Run Prophet's Stan model through CmdStan's command line: LBFGS, then Newton if LBFGS fails
    (Prophet's fallback). cmdstanpy would add ~3 ms of Python per fit (its JSON writer, a polling
    read of Stan's console, CSV metadata parsing) to Stan's own ~5 ms. Each fit has its own
    temporary folder, so parallel fits never share a file, and nothing is left behind."""
    with tempfile.TemporaryDirectory(prefix="benefits-stan-", dir=_scratch()) as name:
        folder = Path(name)
        data, init, output = folder / "data.json", folder / "init.json", folder / "output.csv"
        data.write_bytes(orjson.dumps(design.stan_data()))
        init.write_bytes(orjson.dumps(start.as_json()))
        console, errors = folder / "console.txt", folder / "errors.txt"
        for algorithm in ("lbfgs", "newton"):
            with console.open("w") as out, errors.open("w") as err:
                code = subprocess.call(
                    [
                        _executable(),
                        "method=optimize",
                        f"algorithm={algorithm}",
                        "iter=10000",
                        f"init={init}",
                        "random",
                        f"seed={seed}",
                        "data",
                        f"file={data}",
                        "output",
                        f"file={output}",
                        "refresh=0",
                    ],
                    cwd=folder,
                    stdout=out,
                    stderr=err,
                )
            if code == 0:
                return _read_params(output.read_text())
        said = [line.strip() for line in errors.read_text().splitlines() if line.strip()]
        said = said or [line.strip() for line in console.read_text().splitlines() if line.strip()]
        raise RuntimeError(f"Stan optimisation failed: {said[-1] if said else f'exit code {code}'}")


@functools.cache
def _scratch() -> str | None:
    """Where the per-fit folders go: Linux's memory-backed ``/dev/shm`` when writable (a folder
    with its files costs ~0.3 ms there against ~2 ms on a busy disk), else the temporary directory."""
    return _SHM if os.path.isdir(_SHM) and os.access(_SHM, os.W_OK) else None


def _read_params(csv: str) -> Params:
    """The parameters from the header and the one row of a CmdStan optimisation CSV file."""
    header, row = (line for line in csv.splitlines() if line and not line.startswith("#"))
    names = header.split(",")
    values = np.array(row.split(","), dtype=float)
    delta = [i for i, name in enumerate(names) if name.startswith("delta.")]
    beta = [i for i, name in enumerate(names) if name.startswith("beta.")]
    return Params(
        k=float(values[names.index("k")]),
        m=float(values[names.index("m")]),
        delta=values[delta],
        sigma_obs=float(values[names.index("sigma_obs")]),
        beta=values[beta],
    )


#: Environment variable naming a compiled Stan model to run instead of Prophet's own (read once per process).
MODEL_ENV = "BENEFITS_STAN_MODEL"


@functools.cache
def _executable() -> str:
    """Prophet's compiled Stan model, found without importing prophet (~0.4 s per process), or the
    executable named by ``BENEFITS_STAN_MODEL``."""
    if os.environ.get(MODEL_ENV):
        named = os.environ[MODEL_ENV]
        if not (os.path.isfile(named) and os.access(named, os.X_OK)):
            raise RuntimeError(f"{MODEL_ENV}={named} is not an executable file: unset it or name Prophet's Stan model")
        return named
    spec = importlib.util.find_spec("prophet")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        exe = Path(location, "stan_model", "prophet_model.bin")
        if exe.is_file():
            return str(exe)
    raise RuntimeError("Prophet's compiled Stan model (prophet/stan_model/prophet_model.bin) is not installed")
