"""Diversity: maximal marginal relevance, so a row of eight is eight different looks.

Greedy MMR (Carbonell & Goldstein, 1998): each next pick maximises

    (1 - diversity) * relevance - diversity * (highest similarity to what is already picked)

with relevance rescaled to [0, 1] within the candidates, so `diversity` means the same whatever
the scores' scale. diversity=0 keeps the ranking as it is; 1 picks the most different each time.
Similarity is the cosine of the garments' embeddings (six white trainers are near one another).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray


def mmr(scores: Sequence[float], vectors: NDArray[np.float32], k: int, *, diversity: float) -> list[int]:
    """Positions of `k` candidates in MMR order (the first is always the most relevant)."""
    if not 0.0 <= diversity <= 1.0:
        raise ValueError(f"diversity must be between 0 and 1, got {diversity}")
    relevance = np.asarray(scores, dtype=np.float64)
    if len(relevance) != len(vectors):
        raise ValueError(f"{len(relevance)} scores but {len(vectors)} vectors")
    n = len(relevance)
    if k < 1 or n == 0:
        return []
    if diversity == 0.0:
        order: list[int] = np.lexsort((np.arange(n), -relevance))[:k].tolist()
        return order
    spread = relevance.max() - relevance.min()
    relevance = (relevance - relevance.min()) / spread if spread > 0 else np.ones(n)
    unit = np.asarray(vectors, dtype=np.float64)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    picked: list[int] = []
    closest = np.full(n, -np.inf)  # each candidate's highest similarity to the picked ones
    available = np.ones(n, dtype=bool)
    for _ in range(min(k, n)):
        redundancy = np.where(np.isfinite(closest), closest, 0.0)
        value = (1.0 - diversity) * relevance - diversity * redundancy
        value[~available] = -np.inf
        best = int(np.argmax(value))
        picked.append(best)
        available[best] = False
        closest = np.maximum(closest, unit @ unit[best])
    return picked
