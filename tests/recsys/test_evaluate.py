from __future__ import annotations

import itertools

import numpy as np
import pytest

from recsys.evaluate import (
    RetrievalReport,
    fitb_accuracy,
    recall_at_k,
    reciprocal_rank,
    roc_auc,
    summarize_retrieval,
)


def test_recall_at_k_counts_relevant_items_in_the_top_k() -> None:
    ranked = [5, 3, 9, 1]
    assert recall_at_k(ranked, {3, 1}, 2) == 0.5
    assert recall_at_k(ranked, {3, 1}, 4) == 1.0
    assert recall_at_k(ranked, [3, 3, 7], 10) == 0.5  # relevant is a set: 3 once, 7 missing
    with pytest.raises(ValueError):
        recall_at_k(ranked, set(), 3)


def test_reciprocal_rank_is_one_over_the_first_hit() -> None:
    assert reciprocal_rank([5, 3, 9], {9, 3}) == 0.5
    assert reciprocal_rank([5, 3, 9], {9}) == pytest.approx(1 / 3)
    assert reciprocal_rank([5, 3, 9], {4}) == 0.0


def test_summarize_retrieval_averages_over_questions() -> None:
    deep_hit = [*range(100, 160), 7]  # relevant 7 at rank 61: missed by both cut-offs
    results = [([7, 1, 2], {7}), ([*range(100, 140), 7], {7}), (deep_hit, {7})]

    report = summarize_retrieval(results)

    assert report.n == 3
    assert report.recall_at_10 == pytest.approx(1 / 3)
    assert report.recall_at_50 == pytest.approx(2 / 3)
    assert report.mrr == pytest.approx((1 + 1 / 41 + 1 / 61) / 3)
    assert summarize_retrieval([]) == RetrievalReport(n=0, recall_at_10=0.0, recall_at_50=0.0, mrr=0.0)


def test_fitb_accuracy_gives_ties_their_expected_share() -> None:
    questions = [
        ([0.1, 0.9, 0.3], 1),  # right
        ([0.5, 0.5, 0.1], 0),  # two-way tie at the top: half
        ([0.9, 0.1], 1),  # wrong
        ([0.2, 0.2, 0.2, 0.2], 3),  # all equal: chance, a quarter
    ]
    assert fitb_accuracy(questions) == pytest.approx((1 + 0.5 + 0 + 0.25) / 4)
    with pytest.raises(ValueError):
        fitb_accuracy([([0.1, 0.2], 2)])
    with pytest.raises(ValueError):
        fitb_accuracy([])


def test_roc_auc_hand_computed() -> None:
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    # Positives 0.5, 0.9 against negatives 0.5, 0.2: pairs 0.5 (tie), 1, 1, 1.
    assert roc_auc([0.5, 0.5, 0.2, 0.9], [True, False, False, True]) == pytest.approx(0.875)
    assert roc_auc([0.3, 0.3, 0.3], [1, 0, 1]) == pytest.approx(0.5)
    assert roc_auc([0.9, 0.1], [0, 1]) == 0.0


def test_roc_auc_matches_counting_every_pair() -> None:
    rng = np.random.default_rng(5)
    scores = rng.integers(0, 6, size=40).astype(float)  # few distinct values: many ties
    labels = rng.integers(0, 2, size=40)
    positives, negatives = scores[labels == 1], scores[labels == 0]
    pairs = [1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(positives, negatives)]

    assert roc_auc(scores, labels) == pytest.approx(sum(pairs) / len(pairs))


def test_roc_auc_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="positive and one negative"):
        roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="0/1"):
        roc_auc([0.1, 0.2], [1, 2])
