"""Validate connector batches with Great Expectations: row-level quarantine with every reason.

The batch is the connector's raw output (:func:`batch_frame`): columns ``row`` (the record
number within the sync run), ``metric``, ``period``, ``value``, ``unit``, the optional
``source_ref`` and any further key the connector gave, object dtype, verbatim.
:func:`validate_batch` prepares a typed frame, runs an expectation suite built in code against it
(an ephemeral GX context) and turns the GX results into our own types at once:
:class:`ValidationOutcome` with the accepted rows, a :class:`QuarantineEntry` per rejected row
carrying every reason that row failed, and a :class:`RowWarning` per accepted row that failed a
warning-severity expectation (the jump check).

Modules: ``frame`` (records -> batch frame -> typed frame), ``rules`` (the expectations and the
register-derived columns), ``config`` (validation.yaml), ``run`` (GX), ``results`` (our types,
reasons, statistics). A sync validates chunk after chunk with one :class:`Validator`.

To re-validate rows (quarantine retry), build the same rules the sync uses and call
:func:`validate_batch`::

    rules = load_rules(config_dir, register)
    outcome = validate_batch(batch_frame(records), as_of=as_of, rules=rules)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from benefits.validation.config import VALIDATION_FILE, ValidationConfig, load_validation_config
from benefits.validation.frame import BATCH_COLUMNS, NUMBER_PATTERN, SOURCE_REF, batch_frame, prepare_frame
from benefits.validation.results import (
    FIELD_OF_COLUMN,
    REASONS,
    UNREADABLE_REASONS,
    QuarantineEntry,
    RowWarning,
    ValidationOutcome,
)
from benefits.validation.rules import ValidationRules, default_expectations, load_rules
from benefits.validation.run import Validator, build_suite

if TYPE_CHECKING:  # pragma: no cover - typing only; GX is imported lazily
    from great_expectations.expectations import Expectation

__all__ = [
    "BATCH_COLUMNS",
    "FIELD_OF_COLUMN",
    "NUMBER_PATTERN",
    "REASONS",
    "SOURCE_REF",
    "UNREADABLE_REASONS",
    "VALIDATION_FILE",
    "QuarantineEntry",
    "RowWarning",
    "ValidationConfig",
    "ValidationOutcome",
    "ValidationRules",
    "Validator",
    "batch_frame",
    "build_suite",
    "default_expectations",
    "load_rules",
    "load_validation_config",
    "prepare_frame",
    "validate_batch",
    "validate_batch_with",
]


def validate_batch(batch: pd.DataFrame, *, as_of: dt.date, rules: ValidationRules | None = None) -> ValidationOutcome:
    """Validate one batch against the default expectations as of ``as_of`` (and ``rules``' checks)."""
    return validate_batch_with(batch, default_expectations(as_of=as_of, rules=rules), rules)


def validate_batch_with(
    batch: pd.DataFrame, expectations: Sequence[Expectation], rules: ValidationRules | None = None
) -> ValidationOutcome:
    """Validate ``batch`` against ``expectations`` (GX expectation objects on the typed frame)."""
    return Validator(expectations, rules).validate(batch)
