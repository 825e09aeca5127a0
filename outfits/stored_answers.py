"""Answers the index build worked out ahead of time (recsys.answers), read for one request.

A request about one catalog item, with the build's own method and k up to STORED_K, reads its
ranked candidates per slot from the build instead of ranking the catalog; outfits.suggestions then
applies the request's filters, diversity and k to them exactly as to a live ranking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from recsys.answers import ANSWER_DEPTH
from recsys.index import IndexSet
from recsys.rank.blend import BlendWeights
from recsys.rank.complete import Method
from recsys.rank.policy import STORED_K
from recsys.rank.reasons import MAX_OUTFITS
from recsys.slots import CATALOG

if TYPE_CHECKING:
    from .suggestions import ShopperGarment


@dataclass(frozen=True)
class StoredSlot:
    """One slot's stored candidates, best first, and where their supporting outfits come from."""

    slot: str
    keys: NDArray[np.int64]
    relevance: NDArray[np.float64]
    positions: NDArray[np.int64]  # in the slot's catalog keys
    complete: bool  # every candidate there is (fewer than ANSWER_DEPTH were stored)
    query: _Query

    def support(self, picked: Sequence[int]) -> Mapping[int, Sequence[int]]:
        """The library outfits behind each picked candidate, strongest first."""
        position_of = dict(zip(self.keys.tolist(), self.positions.tolist(), strict=True))
        positions = np.asarray([position_of[key] for key in picked], dtype=np.int64)
        outfits = self.query.index.paths.support(
            self.query.outfit_weights(), self.slot, positions, MAX_OUTFITS
        )
        return dict(zip(picked, outfits, strict=True))


class _Query:
    """The shopper's catalog item as the build holds it; its library reach is worked out once."""

    def __init__(self, index: IndexSet, slot: str, row: int) -> None:
        self.index, self.slot, self.row = index, slot, row
        self._weights: sparse.csr_matrix | None = None

    def outfit_weights(self) -> sparse.csr_matrix:
        if self._weights is None:
            vectors = self.index.vectors(CATALOG, self.slot)
            assert vectors is not None
            self._weights = self.index.paths.outfit_weights(
                self.slot, np.asarray(vectors[self.row : self.row + 1])
            )
        return self._weights


def candidates(
    index: IndexSet,
    garments: Sequence[ShopperGarment],
    method: Method,
    k: int,
    slots: Sequence[str],
    weights: BlendWeights | None,
) -> dict[str, StoredSlot]:
    """The stored candidates of each slot the build answered for this request, ranked by relevance
    (the blend's `weights`, or the library score); {} when the request is not one a build answers
    ahead of time (several garments, a photo, another method, a larger k, an item added since)."""
    if len(garments) != 1 or garments[0].catalog_item is None or k > STORED_K:
        return {}
    if method.value != index.manifest.answers_method:
        return {}
    garment = garments[0]
    assert garment.catalog_item is not None
    row = index.row_of(CATALOG, garment.slot, garment.catalog_item)
    if row is None:
        return {}
    query = _Query(index, garment.slot, row)
    found: dict[str, StoredSlot] = {}
    for slot in slots:
        stored = index.answers.candidates(garment.slot, slot, row)
        if stored is None or not len(stored.positions):  # nothing to rank: the live path says why
            continue
        relevance = stored.relevance(weights if method is Method.BLEND else None)
        # Re-ranked from the stored scores (float32): equal to the build's order but for exact ties.
        order = np.lexsort((index.keys(CATALOG, slot)[stored.positions], -relevance))
        positions = stored.positions[order]
        found[slot] = StoredSlot(
            slot=slot,
            keys=index.keys(CATALOG, slot)[positions],
            relevance=relevance[order],
            positions=positions,
            complete=len(positions) < ANSWER_DEPTH,
            query=query,
        )
    return found
