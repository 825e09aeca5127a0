"""Offline metrics for retrieval (complete the look), fill-in-the-blank and compatibility scores."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


def recall_at_k(ranked: Sequence[int], relevant: Collection[int], k: int) -> float:
    """Fraction of the relevant items that appear in the first k of `ranked`."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    wanted = set(relevant)
    if not wanted:
        raise ValueError("recall is undefined without a relevant item")
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def reciprocal_rank(ranked: Sequence[int], relevant: Collection[int]) -> float:
    """1 / (1-based rank of the first relevant item), 0 when none is ranked."""
    wanted = set(relevant)
    for position, item in enumerate(ranked, start=1):
        if item in wanted:
            return 1.0 / position
    return 0.0


@dataclass(frozen=True)
class RetrievalReport:
    n: int  # questions; the averages are 0.0 when there are none
    recall_at_10: float
    recall_at_50: float
    mrr: float


def summarize_retrieval(results: Iterable[tuple[Sequence[int], Collection[int]]]) -> RetrievalReport:
    """Mean recall@10, recall@50 and MRR over (ranked answer, relevant items) pairs."""
    n = 0
    recall_10 = recall_50 = rr = 0.0
    for ranked, relevant in results:
        n += 1
        recall_10 += recall_at_k(ranked, relevant, 10)
        recall_50 += recall_at_k(ranked, relevant, 50)
        rr += reciprocal_rank(ranked, relevant)
    if n == 0:
        return RetrievalReport(n=0, recall_at_10=0.0, recall_at_50=0.0, mrr=0.0)
    return RetrievalReport(n=n, recall_at_10=recall_10 / n, recall_at_50=recall_50 / n, mrr=rr / n)


def fitb_accuracy(questions: Iterable[tuple[Sequence[float], int]]) -> float:
    """Fill-in-the-blank accuracy: each question is (score per candidate, index of the right one).

    A question counts as answered when the right candidate has the top score. When t candidates
    share the top score and the right one is among them it counts 1/t: the expected accuracy of
    breaking the tie at random, so a model that scores everything equal gets chance, not 100%.
    """
    total = 0.0
    n = 0
    for scores, answer in questions:
        values = np.asarray(scores, dtype=np.float64)
        if values.ndim != 1 or not 0 <= answer < len(values):
            raise ValueError(f"answer {answer} is not one of {len(values)} candidates")
        if not np.isfinite(values).all():
            raise ValueError("candidate scores must be finite")
        n += 1
        top = values.max()
        if values[answer] == top:
            total += 1.0 / int(np.count_nonzero(values == top))
    if n == 0:
        raise ValueError("fill-in-the-blank accuracy needs at least one question")
    return total / n


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve: the chance a random positive scores above a random negative.

    Computed from ranks (Mann-Whitney U); tied scores share their average rank, so a tie between a
    positive and a negative counts one half.
    """
    values = np.asarray(scores, dtype=np.float64).reshape(-1)
    truth = np.asarray(labels).reshape(-1)
    if values.shape != truth.shape:
        raise ValueError(f"{len(values)} scores but {len(truth)} labels")
    if not np.isin(truth, (0, 1)).all():
        raise ValueError("labels must be 0/1 or booleans")
    if not np.isfinite(values).all():
        raise ValueError("scores must be finite")
    positive = truth.astype(bool)
    n_positive = int(positive.sum())
    n_negative = len(truth) - n_positive
    if n_positive == 0 or n_negative == 0:
        raise ValueError("ROC AUC needs at least one positive and one negative label")
    _, value_of, counts = np.unique(values, return_inverse=True, return_counts=True)
    last_rank = np.cumsum(counts)
    average_rank = last_rank - (counts - 1) / 2.0  # 1-based ranks; ties get the middle of their run
    positive_ranks = float(average_rank[value_of.reshape(-1)][positive].sum())
    return (positive_ranks - n_positive * (n_positive + 1) / 2.0) / (n_positive * n_negative)
