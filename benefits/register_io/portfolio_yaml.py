"""A register written as ``portfolio.yaml``, in the demo's style: defaults left out, dates as dates,
small entries (baseline, target, bounds, programmes, milestones, points, metrics) on one line."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from enum import Enum
from typing import Any

import yaml

from benefits.register import Register

_FLOW = {"baseline", "target", "bounds", "programmes", "milestones", "points", "metrics"}


class _Flow(dict[str, Any]):
    """A mapping written on one line: ``{value: 22, date: 2025-09-01}``."""


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]  # libyaml's when built with it
    """The safe dumper, with one-line mappings, enums as their values and decimals as numbers."""


_Dumper.add_representer(_Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))
_Dumper.add_multi_representer(Enum, lambda d, data: d.represent_str(str(data.value)))
_Dumper.add_representer(Decimal, lambda d, data: d.represent_scalar("tag:yaml.org,2002:float", str(data)))


def register_yaml(register: Register, source: str) -> str:
    """The register as the text of ``portfolio.yaml``, headed by a comment naming where it came from."""
    data = register.model_dump(mode="python", exclude_defaults=True)
    for initiative in data["initiatives"]:
        initiative.update(_one_number(initiative.get("investment")))
    data = _shape(data, "")
    header = (
        f"# Written by `benefits register import {source}` on {dt.date.today().isoformat()}.\n"
        "# Edit the workbook and import it again (`--force`), or edit this file: both are checked the same way.\n"
    )
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def _one_number(investment: Any) -> dict[str, Any]:
    """``investment: 1800000`` for an investment that is one sum (costs by date keep their mapping)."""
    if isinstance(investment, dict) and set(investment) == {"one_off"} and len(investment["one_off"]) == 1:
        (cost,) = investment["one_off"]
        if set(cost) == {"amount"}:
            return {"investment": cost["amount"]}
    return {}


def _shape(value: Any, key: str) -> Any:
    """Whole numbers as integers (``1200000``, not ``1200000.0``); small mappings marked to be written on one line."""
    if isinstance(value, float | Decimal) and math.isfinite(value) and value == int(value):
        return int(value)
    if isinstance(value, list):
        return [_shape(item, key) for item in value]
    if isinstance(value, dict):
        shaped = {k: _shape(v, k) for k, v in value.items()}
        flat = key in _FLOW and not any(isinstance(v, dict | list) for v in shaped.values())
        return _Flow(shaped) if flat else shaped
    return value
