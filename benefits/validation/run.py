"""Running Great Expectations: one ephemeral context and suite per :class:`Validator`, reused per chunk.

Great Expectations is imported lazily (:func:`gx`), inside the validating code path: ``import
benefits.validation`` must stay fast because the CLI imports it (GX takes ~4-5 s to import).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from benefits.errors import BenefitsError
from benefits.plugins.connector import UNREADABLE
from benefits.validation.frame import is_missing, prepare_frame
from benefits.validation.results import (
    QuarantineEntry,
    ReasonMaker,
    Rows,
    RowWarning,
    ValidationOutcome,
    accepted_frame,
    describe,
    is_warning,
    statistics_entry,
    statistics_key,
    unexpected_rows,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    from great_expectations.expectations import Expectation

    from benefits.validation.rules import ValidationRules

#: Every failing row, named by ``row``. ``exclude_unexpected_values`` drops the failing values
#: (we read them from our own frames) and makes GX report ``[{"row": [...]}]``; on 100k failing
#: rows it halves the run, most of which is GX serialising the result into its in-memory store.
_RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["row"],
    "exclude_unexpected_values": True,
}


def gx() -> Any:
    """The ``great_expectations`` module, imported on first use with analytics off."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx_module
    import great_expectations.expectations  # binds gx.expectations

    return gx_module


def build_suite(context: Any, expectations: Sequence[Expectation], name: str = "benefits.batch") -> Any:
    """Add an expectation suite holding ``expectations`` to ``context`` and return it."""
    suite = context.suites.add(gx().ExpectationSuite(name=name))
    for expectation in expectations:
        # A suite takes ownership (sets ``id``); add a copy so that callers can reuse theirs.
        suite.add_expectation(expectation.copy(update={"id": None}, deep=True))
    return suite


class Validator:
    """Validates batches against one suite: one GX context for all the chunks of a sync run.

    Every expectation must be row-level (a column map, column pair map or multicolumn map
    expectation), so that failing rows are identified by ``row``. Rows failing a critical
    expectation are quarantined with every reason; rows failing only warning-severity ones are
    accepted and listed in ``warnings``. An expectation that errored, or that failed without
    naming rows, fails the whole batch with a :class:`BenefitsError`.
    """

    def __init__(self, expectations: Sequence[Expectation], rules: ValidationRules | None = None) -> None:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._rules = rules
        context = gx().get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        asset = context.data_sources.add_pandas("benefits").add_dataframe_asset("batch")
        self._suite = build_suite(context, expectations)
        self._definition = context.validation_definitions.add(
            gx().ValidationDefinition(
                name="benefits.batch", data=asset.add_batch_definition_whole_dataframe("whole batch"), suite=self._suite
            )
        )

    def validate(
        self, batch: pd.DataFrame, history: Callable[[pd.DataFrame], pd.DataFrame | None] | None = None
    ) -> ValidationOutcome:
        """Validate one batch frame (see :func:`benefits.validation.batch_frame`).

        ``history``, given the typed frame, returns the stored values of its series (see
        :meth:`ValidationRules.add_columns`); the sync reads them from the store.
        """
        frame = prepare_frame(batch)
        if self._rules is not None:
            frame = self._rules.add_columns(frame, history(frame) if history is not None else None)
        rows = Rows(batch, frame)
        failed: dict[int, list[str]] = {}
        warned: dict[int, list[str]] = {}
        statistics: dict[str, dict] = {}
        for expectation, result in self._run(frame):
            statistics[statistics_key(expectation, statistics)] = statistics_entry(expectation, result)
            if result.success:
                continue
            reason_for = ReasonMaker(expectation, rows)
            found = warned if is_warning(expectation) else failed
            for row in unexpected_rows(result):
                reason = reason_for(row)
                reasons = found.setdefault(row, [])
                if reason not in reasons:
                    reasons.append(reason)

        failed |= _unreadable(batch)
        rejected = frame["row"].isin(list(failed)).to_numpy()
        quarantined = [
            QuarantineEntry(row, rows.record(row), failed[row]) for row in frame.loc[rejected, "row"].tolist()
        ]
        warnings = [
            RowWarning(row, rows.record(row), reasons) for row, reasons in sorted(warned.items()) if row not in failed
        ]
        outcome = ValidationOutcome(
            rows_read=len(batch),
            accepted=accepted_frame(frame.loc[~rejected]),
            quarantined=quarantined,
            statistics=statistics,
            success=not quarantined,
            warnings=warnings,
        )
        assert outcome.rows_read == len(outcome.accepted) + len(outcome.quarantined)
        return outcome

    def _run(self, frame: pd.DataFrame) -> list[tuple[Any, Any]]:
        """Run the suite on ``frame``; return (expectation, result) pairs in suite order."""
        run = self._definition.run(batch_parameters={"dataframe": frame}, result_format=_RESULT_FORMAT)
        by_id = {result.expectation_config.id: result for result in run.results}
        pairs = []
        for expectation in self._suite.expectations:
            result = by_id.get(expectation.id)
            if result is None:
                raise BenefitsError(f"validation: {describe(expectation)} returned no result")
            error = _error_message(result)
            if error is not None:
                raise BenefitsError(f"validation: {describe(expectation)} errored: {error}")
            if not result.success and "unexpected_index_list" not in (result.result or {}):
                raise BenefitsError(f"validation: {describe(expectation)} failed for the whole batch")
            pairs.append((expectation, result))
        return pairs


def _unreadable(batch: pd.DataFrame) -> dict[int, list[str]]:
    """The rows a connector could not read (an ``unreadable`` record: a file or line), each with its reason alone."""
    if UNREADABLE not in batch.columns:
        return {}
    reasons = zip(batch["row"].tolist(), batch[UNREADABLE].tolist(), strict=True)
    return {int(row): [str(reason)] for row, reason in reasons if not is_missing(reason)}


def _error_message(result: Any) -> str | None:
    """The first error of an expectation result, in either shape GX reports it, else None.

    GX reports ``{"raised_exception": True, "exception_message": ...}`` for an expectation that
    raised, but an error while computing a metric (a missing column, say) comes back keyed by an
    internal metric id: ``{"MetricConfigurationID(...)": {"raised_exception": True, ...}}``.
    """
    info = result.exception_info or {}
    candidates = [info] + [v for v in info.values() if isinstance(v, Mapping)]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            message = str(candidate.get("exception_message") or "unknown error")
            return " ".join(message.split())
    return None
