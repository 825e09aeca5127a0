"""The k best items for a block of queries at once, as an index build works them out ahead of time.

Up to EXACT_UP_TO items, exactly: one float32 product per block of queries. Past that a 1M-item
catalog would take hours of products on a CPU (every item against every item), so the items are cut
into k-means cells (inverted lists): each query scores the cells' centroids, then the items of its
`probe` best cells exactly, and keeps its k best of those. What it misses is an item in a cell it did
not probe; the build's benchmark measures recall@10 against exact search (bench/bench_scale.py).
Scores of the items kept are exact float32 products either way, and ties go to the lower key
(recsys.arrays.top_columns), so both ways rank what they find the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from .arrays import batch_product, narrowed, top_columns

# Above this many items a search goes through cells; at or below it, exact.
EXACT_UP_TO: Final = 150_000
# Items per cell, about: a query probing PROBE cells scores ~PROBE * CELL_SIZE items, not all.
CELL_SIZE: Final = 256
PROBE: Final = 48
# Scores held at once while searching exactly (256 MB).
_BATCH_FLOATS: Final = 64 * 2**20
# Queries searched through cells at once: each cell's items meet many of them in one product.
_CELL_QUERIES: Final = 8192
_KMEANS_SAMPLE: Final = 64 * 1024
_KMEANS_ROUNDS: Final = 8


@dataclass(frozen=True)
class Found:
    """Per query row: positions of its k best items (best first, -1 padded) and their scores."""

    columns: NDArray[np.int64]
    scores: NDArray[np.float32]


class ItemSearch:
    """The k best items by dot product for blocks of queries, over one fixed matrix of items."""

    def __init__(
        self,
        items: NDArray[np.float32],
        keys: NDArray[np.int64],
        *,
        exact_up_to: int | None = None,
        cell_size: int = CELL_SIZE,
        probe: int = PROBE,
        seed: int = 0,
    ) -> None:
        self.items = items
        self.keys = keys
        self.exact = len(items) <= (EXACT_UP_TO if exact_up_to is None else exact_up_to)
        self.probe = probe
        if not self.exact:
            cells = max(2, len(items) // cell_size)
            self._centroids = _kmeans(np.asarray(items), cells, seed=seed)
            assigned = _nearest_centroid(np.asarray(items), self._centroids)
            self._order = np.argsort(assigned, kind="stable")
            self._starts = np.searchsorted(assigned[self._order], np.arange(cells + 1))

    def query_batches(self, n_queries: int) -> list[tuple[int, int]]:
        """Blocks of query rows whose scores fit the memory a build allows; through cells, large
        blocks: each cell is then scored against many queries in one product."""
        size = max(16, min(4096, _BATCH_FLOATS // max(len(self.items), 1))) if self.exact else _CELL_QUERIES
        return [(start, min(n_queries, start + size)) for start in range(0, n_queries, size)]

    def best(self, queries: NDArray[np.float32], k: int, *, skip: NDArray[np.int64] | None = None) -> Found:
        """Each query's k best items; `skip` (one position per query, -1: none) is left out (an item
        asked about itself)."""
        k = min(k, len(self.items) - (1 if skip is not None else 0))
        if k <= 0 or not len(queries):
            return Found(np.full((len(queries), 0), -1, np.int64), np.zeros((len(queries), 0), np.float32))
        if self.exact:
            scores = batch_product(queries, self.items)
            if skip is not None:
                rows = np.flatnonzero(skip >= 0)
                scores[rows, skip[rows]] = -np.inf
            columns = top_columns(scores, self.keys, k, batch=True)
            return Found(columns, np.take_along_axis(scores, columns, axis=1))
        return self._best_in_cells(np.asarray(queries, dtype=np.float32), k, skip)

    def _best_in_cells(self, queries: NDArray[np.float32], k: int, skip: NDArray[np.int64] | None) -> Found:
        probe = min(self.probe, len(self._centroids))
        cells = narrowed(batch_product(queries, self._centroids), probe)
        # Candidates per query: up to k from each probed cell, scored exactly, in one buffer.
        columns = np.full((len(queries), probe * k), -1, dtype=np.int64)
        scores = np.full((len(queries), probe * k), -np.inf, dtype=np.float32)
        flat = cells.ravel()
        pairs = np.argsort(flat, kind="stable")  # (query, probe rank) pairs grouped by cell
        bounds = np.flatnonzero(np.diff(flat[pairs])) + 1
        for group in np.split(pairs, bounds):
            cell = int(flat[group[0]])
            members = self._order[self._starts[cell] : self._starts[cell + 1]]
            if not len(members):
                continue
            rows, rank = np.divmod(group, probe)
            block = batch_product(queries[rows], np.asarray(self.items[members]))
            if skip is not None:
                block[skip[rows][:, None] == members[None, :]] = -np.inf
            width = min(k, len(members))
            best = (
                narrowed(block, width)
                if width < len(members)
                else np.broadcast_to(np.arange(width), block.shape)
            )
            at = rank[:, None] * k + np.arange(width)[None, :]
            columns[rows[:, None], at] = members[best]
            scores[rows[:, None], at] = np.take_along_axis(block, best, axis=1)
        order = top_columns(scores, self.keys[np.maximum(columns, 0)], k, batch=True)
        picked = np.take_along_axis(columns, order, axis=1)
        picked_scores = np.take_along_axis(scores, order, axis=1)
        missing = ~np.isfinite(picked_scores)
        picked[missing] = -1
        picked_scores[missing] = 0.0
        return Found(picked, picked_scores)


def _kmeans(items: NDArray[np.float32], cells: int, *, seed: int) -> NDArray[np.float32]:
    """Centroids of `cells` k-means cells, fitted on a sample (Lloyd's rounds; an empty cell takes a
    random item again)."""
    rng = np.random.default_rng(seed)
    sample = items[
        np.sort(rng.choice(len(items), min(len(items), max(_KMEANS_SAMPLE, 4 * cells)), replace=False))
    ]
    centroids: NDArray[np.float32] = sample[rng.choice(len(sample), cells, replace=False)].astype(np.float32)
    for _ in range(_KMEANS_ROUNDS):
        assigned = _nearest_centroid(sample, centroids)
        order = np.argsort(assigned, kind="stable")
        counts = np.bincount(assigned, minlength=cells)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        filled = counts > 0
        sums = np.add.reduceat(sample[order].astype(np.float64), starts[filled], axis=0)
        centroids[filled] = (sums / counts[filled][:, None]).astype(np.float32)
        empty = ~filled
        centroids[empty] = sample[rng.choice(len(sample), int(empty.sum()), replace=False)]
    return centroids


def _nearest_centroid(items: NDArray[Any], centroids: NDArray[np.float32]) -> NDArray[np.int64]:
    """Each item's nearest centroid (squared L2), a block of items at a time."""
    half_norms = 0.5 * (centroids.astype(np.float32) ** 2).sum(axis=1)
    found = np.empty(len(items), dtype=np.int64)
    step = max(1, _BATCH_FLOATS // max(len(centroids), 1))
    for start in range(0, len(items), step):
        block = batch_product(np.asarray(items[start : start + step], dtype=np.float32), centroids)
        found[start : start + step] = np.argmax(block - half_norms[None, :], axis=1)
    return found
