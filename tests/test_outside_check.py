"""The outside check's generators (``bench/outside.py``): seeded, well-formed benefits of shapes the
training generators lack, with outcomes both ways."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from benefits.testing.generators import DEFAULT_AS_OF


@pytest.fixture(scope="module")
def outside() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "bench" / "outside.py"
    spec = importlib.util.spec_from_file_location("bench_outside", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["growth", "adoption", "cadence2", "scale"])
def test_each_generator_gives_seeded_well_formed_benefits_that_land_and_miss(outside: ModuleType, name: str) -> None:
    make = outside.OUTSIDE[name]
    items = make(16, 1)
    again = make(16, 1)
    assert len(items) == 16 and len({item.benefit.key for item in items}) == 16
    assert [(i.benefit.key, i.landed) for i in items] == [(i.benefit.key, i.landed) for i in again]
    assert len({item.regime for item in items}) >= 3
    for item in items:
        periods = list(item.observations["period"])
        values = item.observations["value"].to_numpy(dtype=float)
        assert periods == sorted(set(periods)), item.benefit.key  # unique, in order, as validation requires
        assert periods[-1] <= DEFAULT_AS_OF and np.isfinite(values).all()
        assert item.truth["period"].max() >= item.benefit.target.date  # the outcome is known
    landed = [item.landed for seed in (1, 2) for item in make(16, seed)]
    assert 0 < sum(landed) < len(landed)
