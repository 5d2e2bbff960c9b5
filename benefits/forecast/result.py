"""The result of one benefit's forecast (:class:`BenefitForecast`), kept apart from the model that
computes it so that reading or copying stored forecasts needs neither pandas nor a fit."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any


@dataclasses.dataclass(frozen=True)
class BenefitForecast:
    """The forecast of one benefit at one date."""

    status: str
    """achieved | on_track | at_risk | off_track | insufficient_data | no_data | failed"""
    message: str
    """One human sentence."""
    points: int
    """Observations used."""
    p_on_time: float | None
    """Probability of reaching the target improvement by the target date (dis-benefit: of staying within it)."""
    expected_landing: dt.date | None
    """First week the median path reaches the target value (achieved: the week it was first reached)."""
    forecast_at_target_date: float | None
    """Median tracked quantity Q at the target date, in the metric's unit (not improvement)."""
    lower_at_target_date: float | None
    upper_at_target_date: float | None
    path: list[dict]
    """Weekly future points ``{"period", "yhat", "lower", "upper"}`` of Q up to the horizon; JSON-safe."""
    fit_params: dict[str, Any] | None = None
    """Prophet's fitted parameters (JSON-safe) when a fit ran: the next run's warm start."""
    p_model: float | None = None
    """The model's own probability, before leaning on the reference class."""
    reference_weight: float | None = None
    """How much ``p_on_time`` leans on the reference class's landing rate (0..1)."""
    trust: str = ""
    """One plain sentence on how far this forecast can be trusted."""
    raw: dict[str, Any] | None = None
    """The raw forecast before calibration (JSON-safe): ``lower``, ``median``, ``upper`` per future
    period, the fitted ``noise``, ``excluded`` outliers, the level's ``shifts``, the ``excursions``
    left out of the fit (first and last period of each) and Prophet's ``params``; a later run
    with the same inputs re-calibrates it without fitting."""

    @property
    def failed(self) -> bool:
        """Whether Prophet or Stan failed on this benefit (status ``failed``)."""
        return self.status == "failed"
