"""Scores against known outcomes: AUC and interval coverage on hand-computed inputs."""

from __future__ import annotations

import pytest

from benefits.forecast.scores import auc, coverage, covered


def test_auc_of_a_perfect_a_reversed_and_a_useless_ranking() -> None:
    landed = [False, False, True, True]
    assert auc([0.1, 0.2, 0.8, 0.9], landed) == 1.0
    assert auc([0.9, 0.8, 0.2, 0.1], landed) == 0.0
    assert auc([0.5, 0.5, 0.5, 0.5], landed) == 0.5  # ties count half


def test_auc_against_hand_counted_pairs() -> None:
    # landed: 0.7, 0.4, 0.4; not landed: 0.6, 0.4. Pairs (landed above not landed):
    # 0.7 beats both (2); each 0.4 loses to 0.6 (0) and ties 0.4 (0.5) -> 2 + 0.5 + 0.5 = 3 of 6
    assert auc([0.7, 0.6, 0.4, 0.4, 0.4], [True, False, True, False, True]) == pytest.approx(3 / 6)


def test_auc_needs_both_outcomes_and_matching_lengths() -> None:
    assert auc([0.2, 0.9], [True, True]) is None
    assert auc([0.2, 0.9], [False, False]) is None
    with pytest.raises(ValueError, match="as many probabilities as outcomes"):
        auc([0.2], [True, False])


def test_coverage_counts_values_inside_their_interval_bounds_included() -> None:
    actual = [5.0, 10.0, 0.0, 7.5]
    lower = [4.0, 10.0, 1.0, 5.0]
    upper = [6.0, 12.0, 2.0, 7.5]
    assert covered(actual, lower, upper).tolist() == [True, True, False, True]
    assert coverage(actual, lower, upper) == 0.75
    assert coverage([], [], []) is None


def test_coverage_rejects_mismatched_or_inverted_intervals() -> None:
    with pytest.raises(ValueError, match="as many actual values"):
        coverage([1.0], [0.0, 0.0], [2.0])
    with pytest.raises(ValueError, match="lower bound is above"):
        coverage([1.0], [2.0], [0.0])
