"""An example benefits plugin: the ``acme`` connector, weekly ledger figures for one metric.

A real connector would call the ACME API in ``check`` and ``records``; this one yields the
weekly values its settings list, so that the example runs anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector, ConnectorError, MetricInfo

__version__ = "0.1.0"
BENEFITS_PLUGIN_API = "1.0"  # the plugin API this plugin is written for: `benefits plugins` shows it


class AcmeSettings(BaseModel):
    """What connectors.yaml holds under ``settings:`` for an ``acme`` connector."""

    model_config = ConfigDict(extra="forbid")  # a misspelt setting is an error, not ignored
    metric: str = Field(min_length=1)
    unit: str = "GBP"
    start: dt.date = Field(description="The Monday of the first value.")
    values: list[float] = Field(min_length=1, description="One value per week from `start`.")


class AcmeLedger(Connector):
    """Weekly figures of one ledger metric from the ACME finance system."""

    type: ClassVar[str] = "acme"
    Settings = AcmeSettings
    settings: AcmeSettings

    def check(self) -> None:
        """Fail when the first week is after the sync date: there would be nothing to read."""
        if self.settings.start > self.context.as_of:
            raise ConnectorError(f"start {self.settings.start} is after the sync date {self.context.as_of}")

    def discover(self) -> list[MetricInfo]:
        return [MetricInfo(self.settings.metric, self.settings.unit)]

    def records(self) -> Iterator[dict[str, Any]]:
        """One record per week up to the sync date; the framework validates and stores them."""
        for week, value in enumerate(self.settings.values):
            period = self.settings.start + dt.timedelta(weeks=week)
            if period > self.context.as_of:
                break
            yield {"metric": self.settings.metric, "period": period.isoformat(), "value": value,
                   "unit": self.settings.unit, "source_ref": f"acme:ledger:week-{week + 1}"}


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The ``acme`` connector."""
    return [AcmeLedger]
