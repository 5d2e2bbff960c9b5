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

The names below are imported on first use (PEP 562): reading ``validation.yaml``
(:mod:`benefits.validation.config`, which the forecast's settings do) imports neither pandas
nor Great Expectations.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
    from benefits.validation.rules import (
        ValidationRules,
        default_expectations,
        load_rules,
        validate_batch,
        validate_batch_with,
    )
    from benefits.validation.run import Validator, build_suite

_EXPORTS = {
    "VALIDATION_FILE": "config",
    "ValidationConfig": "config",
    "load_validation_config": "config",
    "BATCH_COLUMNS": "frame",
    "NUMBER_PATTERN": "frame",
    "SOURCE_REF": "frame",
    "batch_frame": "frame",
    "prepare_frame": "frame",
    "FIELD_OF_COLUMN": "results",
    "REASONS": "results",
    "UNREADABLE_REASONS": "results",
    "QuarantineEntry": "results",
    "RowWarning": "results",
    "ValidationOutcome": "results",
    "ValidationRules": "rules",
    "default_expectations": "rules",
    "load_rules": "rules",
    "validate_batch": "rules",
    "validate_batch_with": "rules",
    "Validator": "run",
    "build_suite": "run",
}

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


def __getattr__(name: str) -> Any:
    """The public name ``name``, imported from its module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"benefits.validation.{_EXPORTS[name]}"), name)
