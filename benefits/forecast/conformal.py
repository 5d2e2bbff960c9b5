"""Calibrating the forecast's spread on its own track record: normalised conformal errors.

A raw forecast (Prophet's sampled paths) gives, at each future date, a median ``m`` and an 80%
interval ``[lo, hi]``. A rolling-origin backtest compares such raw forecasts, made from past
origins with only the data known then, with what was observed later. Each comparison gives a
*normalised error*::

    r = (actual - m) / (hi - m)   when actual >= m
    r = (actual - m) / (m - lo)   otherwise

so ``-1 <= r <= 1`` exactly when the raw interval held the actual value. Errors are *oriented*:
``r`` is multiplied by the benefit's orientation (+1 when meeting its target means rising, -1 when
it means falling), so that a positive error always means "better for the benefit than the
forecast said". Pooled in value terms, a portfolio whose forecasts are too pessimistic for rising
and for falling benefits alike shows two opposite biases that cancel into one wide, centred
spread; oriented, they are one bias that the calibrated median corrects. The calibrated
predictive distribution at a date is ``m + r * w`` for ``r`` drawn from the errors seen at a
similar horizon (``w`` the upper or lower half-width by the sign of ``r``): its 10th and 90th
percentiles are the calibrated 80% interval, its median the calibrated median (it corrects a
bias the backtests show), and its share beyond the target the probability of landing.

This is split-conformal prediction with the model's own half-widths as the normalising scale
(Lei et al. 2018, "Distribution-free predictive inference for regression"; MAPIE's
``ResidualNormalisedScore``; statsforecast's ``ConformalIntervals`` use raw residuals per horizon
instead). Errors are pooled per measure kind (``cumulative`` or ``level``), horizon band and stage,
as a portfolio rarely holds enough history for one benefit alone, each weighed by the time between
its metric's readings (a daily metric's thirty errors a month count as a monthly metric's one).

When a band has few backtested errors (a young portfolio), the empirical errors are blended with
a documented **prior**: a Student-t distribution with 3 degrees of freedom scaled by
:data:`PRIOR_SCALE`, weighted as :data:`PRIOR_WEIGHT` pseudo-errors. Its scale was chosen so
that the raw Prophet interval of our forecasts is widened as much as the measured under-coverage
of raw Prophet intervals on sets we did not tune on requires (docs/forecasting.md).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import math
from collections.abc import Iterable, Mapping

import numpy as np

#: Horizon bands, in days: up to 8 weeks, a quarter, half a year, a year, beyond.
HORIZON_EDGES = (0, 56, 119, 210, 392)
KINDS = ("cumulative", "level")
#: A forecast is *established* when its benefit has been delivering for at least as long as the
#: horizon ahead, else *young*: young forecasts miss by more, so their errors are kept apart. A
#: backtest origin before the benefit started delivering is *pending*: a benefit moves once it
#: starts, which the history before its start cannot show, so those errors (large, and in the
#: benefit's favour) would otherwise bias the forecasts of benefits already delivering.
STAGES = ("pending", "young", "established")
#: The stages a group with too few errors borrows from, nearest first.
_BORROW = {
    "pending": ("young", "established"),
    "young": ("established", "pending"),
    "established": ("young", "pending"),
}
#: Scale of the prior's Student-t(3) normalised errors: with 2.2, P(|r| <= 1) = 0.55 (the raw
#: interval is expected to hold about half of the outcomes) and the calibrated 80% interval is
#: 2.2 x 1.64 = 3.6 raw half-widths.
PRIOR_SCALE = 2.2
PRIOR_DF = 3
#: How many backtested errors the prior counts as.
PRIOR_WEIGHT = 40.0
#: A band with fewer errors borrows the errors of the nearest shorter band that has enough.
MIN_BAND_ERRORS = 30
_PRIOR_POINTS = 199
#: How many quantiles of a group's errors a calibration keeps (and stores).
STORED_POINTS = 400


def horizon_band(days: float) -> int:
    """The band (0..4) of a horizon in days."""
    return max(bisect.bisect_right(HORIZON_EDGES, days) - 1, 0)


def normalised_errors(
    actual: np.ndarray | float,
    median: np.ndarray | float,
    lower: np.ndarray | float,
    upper: np.ndarray | float,
    orientation: int = 1,
) -> np.ndarray:
    """``r`` of each (actual, raw median, raw lower, raw upper), times ``orientation`` (-1 for a
    benefit whose target is met by falling); half-widths of zero count as tiny."""
    actual, median = np.asarray(actual, dtype=float), np.asarray(median, dtype=float)
    above = actual >= median
    width = np.where(above, np.asarray(upper, dtype=float) - median, median - np.asarray(lower, dtype=float))
    width = np.maximum(width, 1e-9 * (np.abs(median) + 1.0))
    return orientation * (actual - median) / width


@functools.cache
def _prior_sample() -> np.ndarray:
    """Evenly spaced quantiles of the prior (Student-t(3) x PRIOR_SCALE), by bisection on the
    t(3) distribution's closed-form CDF (scipy.stats costs a second to import)."""
    probs = (np.arange(_PRIOR_POINTS) + 0.5) / _PRIOR_POINTS
    low, high = np.full(_PRIOR_POINTS, -100.0), np.full(_PRIOR_POINTS, 100.0)
    for _ in range(60):
        mid = (low + high) / 2.0
        below = _t3_cdf(mid) < probs
        low, high = np.where(below, mid, low), np.where(below, high, mid)
    return PRIOR_SCALE * (low + high) / 2.0


def _t3_cdf(x: np.ndarray) -> np.ndarray:
    """The CDF of Student's t with 3 degrees of freedom."""
    u = x / np.sqrt(3.0)
    return 0.5 + (u / (1.0 + u * u) + np.arctan(u)) / np.pi


@dataclasses.dataclass(frozen=True)
class Band:
    """The calibrated error distribution of one (kind, horizon band): sorted values and cumulative weights."""

    values: np.ndarray
    cumulative: np.ndarray
    empirical: np.ndarray
    """The backtested errors in it (own or borrowed from a shorter band), sorted: at most
    ``STORED_POINTS`` weighted quantiles of them (:func:`_weighted_sample`), as the store keeps them."""
    errors: int
    """How many backtested errors it stands for (0: the prior alone)."""

    def quantile(self, q: float | np.ndarray) -> np.ndarray:
        """Weighted quantiles of r."""
        index = np.searchsorted(self.cumulative, np.asarray(q, dtype=float) * self.cumulative[-1], side="left")
        return self.values[np.clip(index, 0, len(self.values) - 1)]

    def share_at_least(self, z: float) -> float:
        """Weighted share of r >= z."""
        below = int(np.searchsorted(self.values, z, side="left"))
        total = float(self.cumulative[-1])
        return 1.0 - (float(self.cumulative[below - 1]) / total if below else 0.0)

    def share_at_most(self, z: float) -> float:
        """Weighted share of r <= z."""
        upto = int(np.searchsorted(self.values, z, side="right"))
        return float(self.cumulative[upto - 1]) / float(self.cumulative[-1]) if upto else 0.0

    def share_beyond(self, z: float, orientation: int) -> float:
        """Weighted share of value-space errors ``orientation * r`` at or above ``z``."""
        return self.share_at_least(z) if orientation > 0 else self.share_at_most(-z)


@dataclasses.dataclass(frozen=True)
class Calibration:
    """Normalised errors by (kind, horizon band), each blended with the prior."""

    bands: Mapping[tuple[str, int, str], Band]
    errors: int
    """Backtested errors behind it in all."""
    benefits: int
    """Benefits whose backtests gave them."""

    def band(self, kind: str, days: float, delivering_days: float = np.inf) -> Band:
        """The band of ``kind`` at a horizon of ``days``, for a benefit delivering for ``delivering_days``."""
        return self.bands[(kind, horizon_band(days), stage(days, delivering_days))]

    def to_json(self) -> dict:
        """A compact JSON form: per band its error count and the (at most ``STORED_POINTS``)
        quantiles of its errors it keeps."""
        bands = {}
        for (kind, b, st), band in sorted(self.bands.items()):
            bands[f"{kind}:{b}:{st}"] = {"errors": band.errors, "r": np.round(band.empirical, 4).tolist()}
        return {"errors": self.errors, "benefits": self.benefits, "bands": bands}

    @classmethod
    def from_json(cls, data: Mapping) -> Calibration:
        """The calibration of :meth:`to_json` (the prior where ``data`` has no band)."""
        prior = _prior_sample()
        bands = {}
        for key in _keys():
            stored = (data.get("bands") or {}).get(":".join(map(str, key))) or {"errors": 0, "r": []}
            bands[key] = _blend(np.asarray(stored["r"], dtype=float), prior, int(stored["errors"]))
        return cls(bands=bands, errors=int(data.get("errors", 0)), benefits=int(data.get("benefits", 0)))

    @functools.cached_property
    def digest(self) -> str:
        """A short stable text of the calibration, for input fingerprints (computed once)."""
        parts = [
            f"{k}:{b}:{st}:{band.errors}:{np.round(band.quantile(np.array([0.1, 0.5, 0.9])), 4).tolist()}"
            for (k, b, st), band in sorted(self.bands.items())
        ]
        return ";".join(parts)


def stage(days: float, delivering_days: float) -> str:
    """``pending`` before the benefit delivers, ``established`` when it has delivered for at least
    ``days`` (the horizon), else ``young``."""
    if delivering_days <= 0:
        return "pending"
    return "established" if delivering_days >= days else "young"


def _keys() -> list[tuple[str, int, str]]:
    return [(k, b, st) for k in KINDS for b in range(len(HORIZON_EDGES)) for st in STAGES]


def calibrate(errors: Iterable[tuple[str, float, float, float, float]], benefits: int = 0) -> Calibration:
    """The calibration of backtested errors ``(kind, horizon days, r, delivering days, days between
    readings)``; with none, the prior alone.

    Errors are grouped by measure kind, horizon band and stage (a Mondrian split, Vovk et al.
    2005). A group with fewer than ``MIN_BAND_ERRORS`` errors borrows those of the nearest shorter
    band of the same stage that has enough, else of the nearest other stage (:data:`_BORROW`).
    Each error weighs the time between its metric's readings (over the mean of all of them): a
    daily metric gives thirty errors where a monthly one gives one, and counted alike the
    portfolio's daily metrics would set every band (:func:`_weighted_sample`).
    """
    prior = _prior_sample()
    groups: dict[tuple[str, int, str], list[tuple[float, float]]] = {key: [] for key in _keys()}
    for kind, days, r, delivering, gap in errors:
        if np.isfinite(r):
            groups[(kind, horizon_band(days), stage(days, delivering))].append((float(r), float(gap)))
    gaps = [gap for group in groups.values() for _, gap in group]
    mean_gap = float(np.mean(gaps)) if gaps else 1.0
    bands = {}
    for kind, b, st in _keys():
        candidates = [(kind, shorter, s) for s in (st, *_BORROW[st]) for shorter in range(b, -1, -1)]
        used = next((groups[c] for c in candidates if len(groups[c]) >= MIN_BAND_ERRORS), [])
        values = np.array([r for r, _ in used], dtype=float)
        weights = np.array([max(gap, 1e-9) / mean_gap for _, gap in used], dtype=float)
        bands[(kind, b, st)] = _blend(_weighted_sample(values, weights, STORED_POINTS), prior, len(used))
    return Calibration(bands=bands, errors=len(gaps), benefits=benefits)


def _weighted_sample(values: np.ndarray, weights: np.ndarray, points: int) -> np.ndarray:
    """Up to ``points`` evenly spaced weighted quantiles of ``values``: what a calibration keeps of
    a group's errors, in memory as in the store (all of them, sorted, when they are no more than
    ``points`` and weigh alike)."""
    if not len(values):
        return values
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    m = min(len(values), points)
    index = np.searchsorted(cumulative, (np.arange(m) + 0.5) / m * cumulative[-1], side="left")
    return values[order][np.clip(index, 0, len(values) - 1)]


def _blend(empirical: np.ndarray, prior: np.ndarray, errors: int | None = None) -> Band:
    """The empirical errors (standing for ``errors`` errors in all, default one each) and the
    prior (``PRIOR_WEIGHT`` in all), sorted."""
    errors = len(empirical) if errors is None else errors
    weight = errors / len(empirical) if len(empirical) else 1.0
    values = np.concatenate([empirical, prior])
    weights = np.concatenate([np.full(len(empirical), weight), np.full(len(prior), PRIOR_WEIGHT / len(prior))])
    order = np.argsort(values, kind="stable")
    return Band(values=values[order], cumulative=np.cumsum(weights[order]), empirical=np.sort(empirical), errors=errors)


PRIOR = calibrate([])
"""The calibration of a portfolio with no backtest yet."""


@dataclasses.dataclass(frozen=True)
class Calibrated:
    """A raw forecast at some dates after calibration."""

    median: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def apply(
    band_of: list[Band],
    median: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    floor: np.ndarray,
    interval: float,
    orientation: int = 1,
) -> Calibrated:
    """Calibrated median and ``interval`` bounds at dates whose bands are ``band_of``, for a
    benefit of ``orientation`` (see :func:`normalised_errors`).

    ``floor`` is the smallest half-width at each date (the noise alone), so that a raw interval
    of zero width (a constant history) still widens.
    """
    w_lo = np.maximum(median - lower, floor)
    w_hi = np.maximum(upper - median, floor)
    tail = (1.0 - interval) / 2.0
    qs = np.array([tail, 0.5, 1.0 - tail])
    r = _quantiles(band_of, qs) if orientation > 0 else -_quantiles(band_of, 1.0 - qs)
    # an error above the median is in upper half-widths, below it in lower ones: a band whose
    # errors all fall on one side puts both bounds on that side
    shift = np.where(r >= 0, r * w_hi[:, None], r * w_lo[:, None])
    return Calibrated(median=median + shift[:, 1], lower=median + shift[:, 0], upper=median + shift[:, 2])


def _quantiles(band_of: list[Band], qs: np.ndarray) -> np.ndarray:
    """The ``qs`` quantiles of each date's band, shape (dates, len(qs)); each band computed once."""
    found: dict[int, np.ndarray] = {}
    for band in band_of:
        if id(band) not in found:
            found[id(band)] = band.quantile(qs)
    return np.array([found[id(band)] for band in band_of]).reshape(len(band_of), len(qs))


@dataclasses.dataclass(frozen=True)
class Predictive:
    """Calibrated predictive distributions at several dates: per date, sorted values and their
    cumulative weights (summing to 1)."""

    values: np.ndarray
    cumulative: np.ndarray

    def quantiles(self, qs: Iterable[float]) -> np.ndarray:
        """The ``qs`` quantiles at each date, shape (len(qs), dates)."""
        rows = np.arange(len(self.values))
        out = []
        for q in qs:
            index = np.array([np.searchsorted(c, q, side="left") for c in self.cumulative])
            out.append(self.values[rows, np.clip(index, 0, self.values.shape[1] - 1)])
        return np.array(out)

    def share_at_least(self, date: int, value: float) -> float:
        """P(Q >= value) at the ``date``-th date."""
        below = int(np.searchsorted(self.values[date], value, side="left"))
        return 1.0 - (float(self.cumulative[date][below - 1]) if below else 0.0)

    def mixed(self, values: np.ndarray, weights: np.ndarray) -> Predictive:
        """The linear pool of this distribution and another given by its equally weighted
        ``values`` at each date (shape (dates, k)), which weighs ``weights`` (one per date, 0..1)
        against this one's 1 - weight."""
        own = np.diff(self.cumulative, axis=1, prepend=0.0) * (1.0 - weights[:, None])
        other = np.repeat(weights[:, None] / values.shape[1], values.shape[1], axis=1)
        merged, mass = np.concatenate([self.values, values], axis=1), np.concatenate([own, other], axis=1)
        order = np.argsort(merged, axis=1, kind="stable")
        cumulative = np.cumsum(np.take_along_axis(mass, order, axis=1), axis=1)
        return Predictive(np.take_along_axis(merged, order, axis=1), cumulative / cumulative[:, -1:])


def predictive(
    band_of: list[Band],
    components: list[tuple[float, np.ndarray]],
    w_lo: np.ndarray,
    w_hi: np.ndarray,
    orientation: int = 1,
    grid: int = 201,
) -> Predictive:
    """The calibrated distribution ``median_k + r * w`` of a mixture of trend hypotheses
    ``components`` (weight, median at each date) sharing the half-widths ``w_lo``/``w_hi``, with
    ``r`` from each date's band (``grid`` evenly spaced quantiles) turned back into value terms by
    the benefit's ``orientation``."""
    r = orientation * _quantiles(band_of, (np.arange(grid) + 0.5) / grid)
    spread = np.where(r >= 0, r * w_hi[:, None], r * w_lo[:, None])
    values = np.concatenate([median[:, None] + spread for _, median in components], axis=1)
    weights = np.concatenate([np.full(r.shape, weight / grid) for weight, _ in components], axis=1)
    order = np.argsort(values, axis=1, kind="stable")
    cumulative = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
    return Predictive(np.take_along_axis(values, order, axis=1), cumulative / cumulative[:, -1:])


def probability_at_least(
    band: Band, median: float, lower: float, upper: float, floor: float, value: float, orientation: int = 1
) -> float:
    """P(Q >= value) under the calibrated distribution ``median + r * w`` of a benefit of
    ``orientation``. A side of no width (every sampled path at the median there, as whole
    payments can be) holds no value but the median."""
    w_lo = max(median - lower, floor)
    w_hi = max(upper - median, floor)
    gap = value - median
    width = w_hi if gap >= 0 else w_lo
    z = gap / width if width > 0 else (0.0 if gap == 0 else math.copysign(math.inf, gap))
    return band.share_beyond(z, orientation)
