"""Catalog items analysed since the active build: searched exactly beside it until a build folds
them in.

Annoy cannot add to a built index, and a build's answers are worked out for the items it held. An
item added or changed since (a new photo, a bulk upsert) is a *fresh* item:

- its own questions are ranked live (the build has no answer for it, or an answer for its old photo);
- it is a candidate in every answer, stored or live: scored against the query as a build would
  score it — its library score through the library pieces it would be one of the PER_PIECE nearest
  matches of, its compatibility score against the query — and merged with the build's candidates;
- where the build holds it with an older photo, the build's entry is dropped for the fresh one.

Scores of the build's own candidates are not revised (a fresh item that pushes an old one out of a
piece's nearest matches leaves the old one's score as it was) until the next build: the buffer is
folded in by a background build once it passes a threshold (outfits.fresh_items).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from .answers import LibraryPaths, outfit_catalog_weights
from .arrays import top_columns
from .index import IndexSet
from .rank.policy import DEFAULT_SHARPNESS, PER_PIECE
from .slots import CATALOG, LIBRARY


@dataclass(frozen=True)
class FreshSlot:
    """The fresh items of one slot: keys, centred vectors, compatibility vectors (None: no model),
    and M: what each library outfit adds to each of them (outfits x items)."""

    keys: NDArray[np.int64]
    vectors: NDArray[np.float32]
    compat: NDArray[np.float32] | None
    to_fresh: sparse.csc_matrix

    def library_scores(self, outfit_weights: sparse.csr_matrix) -> NDArray[np.float64]:
        """Each fresh item's library score for a query's B (one row)."""
        return np.asarray((outfit_weights @ self.to_fresh).toarray()).reshape(-1)

    def supports(
        self,
        outfit_weights: sparse.csr_matrix,
        graph_outfits: NDArray[np.int64],
        columns: NDArray[np.int64],
        most: int,
    ) -> list[tuple[int, ...]]:
        """For each fresh item of `columns`, the library outfits whose paths reach it, strongest first
        (equal: lower key first), at most `most`: all at once, one sparse product."""
        paths = self.to_fresh[:, columns].multiply(outfit_weights.T).tocsc()
        paths.eliminate_zeros()
        column_of = np.repeat(np.arange(len(columns)), np.diff(paths.indptr))
        outfits = graph_outfits[paths.indices]
        order = np.lexsort((outfits, -paths.data, column_of))
        rank = np.arange(len(order)) - paths.indptr[column_of[order]]
        top = order[rank < most]
        found: list[list[int]] = [[] for _ in range(len(columns))]
        for column, outfit in zip(column_of[top].tolist(), outfits[top].tolist(), strict=True):
            found[column].append(outfit)
        return [tuple(outfit_list) for outfit_list in found]


class FreshItems:
    """The fresh items of one build, per slot, ready to score against any query."""

    def __init__(
        self,
        index: IndexSet,
        keys: NDArray[np.int64],
        slots: list[str],
        embeddings: NDArray[np.float32],
        compat: NDArray[np.float32] | None,
        *,
        sharpness: float = DEFAULT_SHARPNESS,
    ) -> None:
        self.keys = np.asarray(keys, dtype=np.int64)
        self._members = set(self.keys.tolist())
        self._slots: dict[str, FreshSlot] = {}
        for slot in sorted(set(slots)):
            rows = np.asarray([i for i, s in enumerate(slots) if s == slot], dtype=np.int64)
            vectors = (
                np.stack([index.center(CATALOG, embeddings[i]) for i in rows])
                if len(rows)
                else embeddings[:0]
            )
            self._slots[slot] = FreshSlot(
                keys=self.keys[rows],
                vectors=vectors.astype(np.float32),
                compat=None if compat is None else compat[rows],
                to_fresh=_outfits_to_fresh(index, slot, vectors.astype(np.float32), sharpness),
            )

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key: object) -> bool:
        # A set: the live path asks once per candidate (thousands per request).
        return isinstance(key, int | np.integer) and int(key) in self._members

    def slot(self, slot: str) -> FreshSlot | None:
        return self._slots.get(slot)

    def vector(self, slot: str, key: int) -> NDArray[np.float32] | None:
        """What diversity compares for a fresh item: its compatibility vector, else its centred one."""
        found = self._slots.get(slot)
        at = None if found is None else np.flatnonzero(found.keys == key)
        if found is None or at is None or not len(at):
            return None
        vector: NDArray[np.float32] = (
            found.compat[at[0]] if found.compat is not None else found.vectors[at[0]]
        )
        return vector

    def similar(
        self, slot: str, vector: NDArray[np.float32], k: int, exclude: int | None = None
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The k fresh items of `slot` most like a centred vector, best first."""
        found = self._slots.get(slot)
        if found is None or not len(found.keys):
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        scores = found.vectors @ vector
        if exclude is not None:
            scores = np.where(found.keys == exclude, -np.inf, scores)
        best = top_columns(scores[np.newaxis, :], found.keys, k)[0]
        best = best[np.isfinite(scores[best])]
        return found.keys[best], scores[best].astype(np.float32)


def _outfits_to_fresh(
    index: IndexSet, slot: str, vectors: NDArray[np.float32], sharpness: float
) -> sparse.csc_matrix:
    """M for fresh items: a fresh item counts for a library piece of its slot where it is at least as
    close as the piece's PER_PIECE-th nearest catalog item in the build (it would be one of them)."""
    pieces = index.vectors(LIBRARY, slot)
    piece_keys = index.keys(LIBRARY, slot)
    if pieces is None or not len(piece_keys) or not len(vectors):
        return sparse.csc_matrix((len(index.graph), len(vectors)))
    similarities = np.asarray(pieces) @ vectors.T  # (pieces, fresh)
    threshold = np.full(len(piece_keys), -np.inf, dtype=np.float32)
    for row, key in enumerate(piece_keys.tolist()):
        found = index.piece_matches(slot, key, PER_PIECE)
        if found is not None and len(found[1]) >= PER_PIECE:
            threshold[row] = found[1][-1]
    close = similarities >= threshold[:, np.newaxis]
    matches = np.where(close, similarities, -1.0).astype(np.float32)
    return outfit_catalog_weights(
        index.graph,
        slot,
        piece_keys,
        np.where(close, np.arange(len(vectors))[np.newaxis, :], -1).astype(np.int32),
        matches,
        len(vectors),
        sharpness=sharpness,
    ).tocsc()


def outfit_weights_of(
    paths: LibraryPaths, queries: list[tuple[NDArray[np.float32], str]]
) -> sparse.csr_matrix:
    """B of a whole partial outfit: each garment's (centred vector, slot) best outfit weights, summed
    (the library method adds up over the shopper's garments)."""
    total: sparse.csr_matrix | None = None
    for vector, slot in queries:
        weights = paths.outfit_weights(slot, vector[np.newaxis, :].astype(np.float32))
        total = weights if total is None else total + weights
    assert total is not None
    return total
