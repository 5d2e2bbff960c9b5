"""A benefits plugin for the SkillsCloud learning API: staff trained on AI tools, week by week.

The API wants a bearer token, pages by cursor (``meta.next_cursor``, sent back as ``?cursor=``)
and filters by ``?updated_since=YYYY-MM-DD``; the framework's REST helper does all three.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import SecretStr

from benefits.plugins import hookimpl
from benefits.plugins.connector import Connector
from benefits.plugins.http import CursorPaginator, RestConnector, RestSettings

__version__ = "0.1.0"
BENEFITS_PLUGIN_API = "1.0"  # the plugin API this plugin is written for: `benefits plugins` shows it


class SkillsCloudSettings(RestSettings):
    """``base_url``, ``timeout``, ``retries`` and ``backoff`` come from RestSettings."""

    token: SecretStr  # required, and secret: masked in every error, log and stored sync run
    team: str = "all"


class SkillsCloudTraining(RestConnector):
    """Weekly counts of agents trained on AI tools; only weeks updated since the bookmark are fetched."""

    type: ClassVar[str] = "skillscloud"
    Settings = SkillsCloudSettings
    settings: SkillsCloudSettings
    path = "/v1/completions"
    records_path = "data"
    paginator = CursorPaginator("meta.next_cursor", param="cursor")

    def params(self) -> dict[str, str]:
        return {"team": self.settings.team}

    def record(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "metric": "hr.ai_trained_agents",
            "period": item["week"],
            "value": item["trained"],
            "unit": "people",
            "source_ref": f"skillscloud:{item['id']}",
        }


@hookimpl
def register_connectors() -> list[type[Connector]]:
    """The ``skillscloud`` connector."""
    return [SkillsCloudTraining]
