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

# Above this many items a search goes through cells; at or below it, exact. A search through cells
# scores some 16k items a query, so exact search of a slot this size costs only ~2.5x that; a 100k
# catalog (34k tops) is still searched exactly, a 1M one's shoes (49k) no longer.
EXACT_UP_TO: Final = 40_000
# Items per cell, about. Each query probes its PROBE best cells; the queries that share a best cell
# are scored together against the cells they probe, at most _UNION * PROBE of them (the most
# probed): some 16k items of a 267k slot. On a synthetic 267k x 640 slot (clustered like garments)
# that found 0.991 of the exact 10 best, 12x faster than exact search; probing 32 found no more
# (0.989) at half the speed (bench/bench_nearest.py, issue-8 note; bench/bench_scale.py measures
# recall on real-like data).
CELL_SIZE: Final = 256
PROBE: Final = 16
_UNION: Final = 4
# Scores held at once while searching exactly (256 MB).
_BATCH_FLOATS: Final = 64 * 2**20
# Queries searched through cells at once, grouped by home cell: a group meets its cells' items in
# one product.
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
            cell_of = _best_centroid(np.asarray(items), self._centroids, squared_l2=True)
            self._order = np.argsort(cell_of, kind="stable")
            self._starts = np.searchsorted(cell_of[self._order], np.arange(cells + 1))

    def batches(
        self, queries: NDArray[np.float32], *, scale: NDArray[np.float32] | None = None
    ) -> list[NDArray[np.int64]]:
        """The query rows to search together, block by block (every row once). Exact: blocks of
        rows in order, as many as the scores' memory allows. Through cells: rows grouped by the cell
        each query scores best, so the queries of a block share the cells they probe and meet them
        in few, large products. `scale` multiplies every query first (a slot pair's subspace),
        a block at a time."""
        n = len(queries)
        if self.exact:
            size = max(16, min(4096, _BATCH_FLOATS // max(len(self.items), 1)))
            return [np.arange(start, min(n, start + size)) for start in range(0, n, size)]
        home = _best_centroid(queries, self._centroids, squared_l2=False, scale=scale)
        order = np.argsort(home, kind="stable")
        return [order[start : start + _CELL_QUERIES] for start in range(0, n, _CELL_QUERIES)]

    def best(self, queries: NDArray[np.float32], k: int, *, skip: NDArray[np.int64] | None = None) -> Found:
        """Each query's k best items; `skip` (one position per query, -1: none) is left out (an item
        asked about itself)."""
        k = min(k, len(self.items) - (1 if skip is not None else 0))
        if k <= 0 or not len(queries):
            return Found(np.full((len(queries), 0), -1, np.int64), np.zeros((len(queries), 0), np.float32))
        queries = np.asarray(queries, dtype=np.float32)
        if self.exact:
            scores = batch_product(queries, self.items)
            if skip is not None:
                rows = np.flatnonzero(skip >= 0)
                scores[rows, skip[rows]] = -np.inf
            columns = top_columns(scores, self.keys, k, batch=True)
            return Found(columns, np.take_along_axis(scores, columns, axis=1))
        return self._best_in_cells(queries, k, skip)

    def _best_in_cells(self, queries: NDArray[np.float32], k: int, skip: NDArray[np.int64] | None) -> Found:
        cell_scores = batch_product(queries, self._centroids)
        probe = min(self.probe, len(self._centroids))
        probed = narrowed(cell_scores, probe)
        home = np.argmax(cell_scores, axis=1)
        columns = np.full((len(queries), k), -1, dtype=np.int64)
        scores = np.zeros((len(queries), k), dtype=np.float32)
        order = np.argsort(home, kind="stable")
        for group in np.split(order, np.flatnonzero(np.diff(home[order])) + 1):
            # The cells the group's queries probe, the most probed first, at most _UNION * probe of
            # them (a query whose cells are rare in its group may lose some: what recall measures).
            cells, counts = np.unique(probed[group], return_counts=True)
            cells = cells[np.argsort(-counts, kind="stable")[: _UNION * probe]]
            members = np.concatenate([self._order[self._starts[c] : self._starts[c + 1]] for c in cells])
            items = np.asarray(self.items[members])
            # A popular cell's queries in parts, so one product's scores stay within _BATCH_FLOATS.
            for part in np.array_split(group, -(-len(group) * len(members) // _BATCH_FLOATS)):
                block = batch_product(queries[part], items)
                if skip is not None:
                    block[skip[part][:, None] == members[None, :]] = -np.inf
                best = top_columns(block, self.keys[members], min(k, len(members)), batch=True)
                found = np.take_along_axis(block, best, axis=1)
                kept = np.isfinite(found)
                width = best.shape[1]
                columns[part, :width] = np.where(kept, members[best], -1)
                scores[part, :width] = np.where(kept, found, 0.0)
        return Found(columns, scores)


def _kmeans(items: NDArray[np.float32], cells: int, *, seed: int) -> NDArray[np.float32]:
    """Centroids of `cells` k-means cells, fitted on a sample (Lloyd's rounds; an empty cell takes a
    random item again)."""
    rng = np.random.default_rng(seed)
    sample = items[
        np.sort(rng.choice(len(items), min(len(items), max(_KMEANS_SAMPLE, 4 * cells)), replace=False))
    ]
    centroids: NDArray[np.float32] = sample[rng.choice(len(sample), cells, replace=False)].astype(np.float32)
    for _ in range(_KMEANS_ROUNDS):
        assigned = _best_centroid(sample, centroids, squared_l2=True)
        order = np.argsort(assigned, kind="stable")
        counts = np.bincount(assigned, minlength=cells)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        filled = counts > 0
        sums = np.add.reduceat(sample[order].astype(np.float64), starts[filled], axis=0)
        centroids[filled] = (sums / counts[filled][:, None]).astype(np.float32)
        empty = ~filled
        centroids[empty] = sample[rng.choice(len(sample), int(empty.sum()), replace=False)]
    return centroids


def _best_centroid(
    items: NDArray[Any],
    centroids: NDArray[np.float32],
    *,
    squared_l2: bool,
    scale: NDArray[np.float32] | None = None,
) -> NDArray[np.int64]:
    """Each row's centroid: the nearest (squared L2: an item's own cell), or the one it scores best
    (dot product: a query's home cell), a block of rows (times `scale`) at a time."""
    offset = (
        0.5 * (centroids.astype(np.float32) ** 2).sum(axis=1)
        if squared_l2
        else np.zeros(len(centroids), np.float32)
    )
    found = np.empty(len(items), dtype=np.int64)
    step = max(1, _BATCH_FLOATS // max(len(centroids), 1))
    for start in range(0, len(items), step):
        rows = np.asarray(items[start : start + step], dtype=np.float32)
        block = batch_product(rows * scale if scale is not None else rows, centroids)
        found[start : start + step] = np.argmax(block - offset[None, :], axis=1)
    return found
