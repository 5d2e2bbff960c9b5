"""connectors.yaml: the schema of each connector instance, and building the connectors it names."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from benefits.errors import ConfigError
from benefits.plugins.connector import Connector, SyncContext, Timeout
from benefits.plugins.manager import connector_class
from benefits.plugins.secrets import expand_settings, guard, settings_error

CONNECTORS_FILE = "connectors.yaml"
NAME_LENGTH = 100
"""The longest connector name: the width of the stored sync runs' ``connector`` column (a SQLite store's sync lock
file, ``<database>.sync-<name>.lock``, is named after it too, and a file name has at most 255 bytes)."""


class Policy(StrEnum):
    """What a connector's batch with failing rows does (``policy:`` in connectors.yaml)."""

    accept_valid_rows = "accept_valid_rows"
    reject_batch = "reject_batch"


class ConnectorConfig(BaseModel):
    """One connector instance in connectors.yaml."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")]
    type: str
    settings: dict[str, Any] = {}
    timeout: Timeout | None = None
    """Seconds the framework waits for the source in all: a finite number above 0, at most a day (a larger one
    cannot be waited for: it overflowed the wait, and failed the sync instead of the settings check)."""
    policy: Policy = Policy.accept_valid_rows
    """What a batch with failing rows does: load the valid rows, or quarantine the whole batch."""


class ConnectorsFile(BaseModel):
    """The whole connectors.yaml."""

    model_config = ConfigDict(extra="forbid")
    connectors: list[ConnectorConfig] = []


def load_connectors(config_dir: Path, context: SyncContext) -> list[Connector]:
    """Build every connector instance of connectors.yaml, checking each one's settings first."""
    from benefits.config_yaml import read_mapping  # here: commands that only read the store never parse YAML

    path = config_dir / CONNECTORS_FILE
    try:
        parsed = ConnectorsFile.model_validate(read_mapping(path))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in first["loc"]).replace(".[", "[")
        raise ConfigError(f"{path}: {where}: {first['msg'][:1].lower()}{first['msg'][1:]}") from None
    position: dict[str, int] = {}
    connectors = []
    for n, item in enumerate(parsed.connectors):
        if position.setdefault(item.name, n) != n:
            raise ConfigError(f"{path}: connectors[{n}].name: duplicate connector name {item.name!r}")
        if len(item.name) > NAME_LENGTH:
            raise ConfigError(
                f"{path}: connectors[{n}].name: a connector name has at most {NAME_LENGTH} characters, not "
                f"{len(item.name)} ({item.name[:20]}...): its sync runs are stored under it"
            )
        try:
            cls = connector_class(item.type)
        except ConfigError as exc:
            raise ConfigError(f"{path}: connectors[{n}].type: {exc}") from None
        try:  # ${NAME} is filled from the environment before validation; the values are masked everywhere
            expanded, secrets = expand_settings(item.settings)
            settings = cls.Settings.model_validate(expanded)
        except ConfigError as exc:
            raise ConfigError(f"{path}: connectors[{n}].{exc}") from None
        except ValidationError as exc:
            raise ConfigError(f"{path}: connectors[{n}].{settings_error(exc, item.settings, secrets)}") from None
        connector = guard(cls(item.name, settings, context), secrets)
        if item.timeout is not None:
            connector.timeout = item.timeout
        connector.policy = item.policy.value
        connectors.append(connector)
    return connectors
