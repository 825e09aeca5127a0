"""Answers the index build worked out ahead of time (recsys.answers), read for one request.

A request about one catalog item, with the build's own method and k up to STORED_K, reads its
ranked candidates per slot from the build instead of ranking the catalog; outfits.suggestions then
applies the request's filters, diversity and k to them exactly as to a live ranking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from recsys.answers import ANSWER_DEPTH, Candidates
from recsys.fresh import FreshItems
from recsys.index import IndexSet
from recsys.rank.blend import BlendWeights
from recsys.rank.complete import Method
from recsys.rank.policy import STORED_K
from recsys.rank.reasons import MAX_OUTFITS
from recsys.slots import CATALOG

if TYPE_CHECKING:
    from .shopper_garments import ShopperGarment


@dataclass(frozen=True)
class StoredSlot:
    """One slot's stored candidates (with any fresh items merged in), best first, and where their
    supporting outfits come from."""

    slot: str
    keys: NDArray[np.int64]
    relevance: NDArray[np.float64]
    positions: NDArray[np.int64]  # in the slot's catalog keys; -1 for a fresh item
    complete: bool  # every candidate there is (fewer than ANSWER_DEPTH were stored)
    query: _Query

    def support(self, picked: Sequence[int]) -> Mapping[int, Sequence[int]]:
        """The library outfits behind each picked candidate, strongest first."""
        position_of = dict(zip(self.keys.tolist(), self.positions.tolist(), strict=True))
        built = [key for key in picked if position_of[key] >= 0]
        outfits = self.query.index.paths.support(
            self.query.outfit_weights(),
            self.slot,
            np.asarray([position_of[key] for key in built], dtype=np.int64),
            MAX_OUTFITS,
        )
        found: dict[int, Sequence[int]] = dict(zip(built, outfits, strict=True))
        fresh = self.query.fresh.slot(self.slot) if self.query.fresh is not None else None
        missing = [key for key in picked if key not in found]
        if missing and fresh is not None:
            columns = np.asarray(
                [int(np.flatnonzero(fresh.keys == key)[0]) for key in missing], dtype=np.int64
            )
            graph = self.query.index.graph
            outfits = fresh.supports(self.query.outfit_weights(), graph.outfits, columns, MAX_OUTFITS)
            found.update(zip(missing, outfits, strict=True))
        return found


class _Query:
    """The shopper's catalog item as the build holds it; its library reach is worked out once."""

    def __init__(self, index: IndexSet, slot: str, row: int, fresh: FreshItems | None) -> None:
        self.index, self.slot, self.row, self.fresh = index, slot, row, fresh
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
    *,
    fresh: FreshItems | None = None,
    pair_weight: Callable[[str, str], NDArray[np.float32]] | None = None,
) -> dict[str, StoredSlot]:
    """The stored candidates of each slot the build answered for this request, ranked by relevance
    (the blend's `weights`, or the library score), with the catalog items analysed since the build
    (`fresh`) merged in; {} when the request is not one a build answers ahead of time (several
    garments, a photo, another method, a larger k, an item added or changed since the build)."""
    if len(garments) != 1 or garments[0].catalog_item is None or k > STORED_K:
        return {}
    if method.value != index.manifest.answers_method:
        return {}
    garment = garments[0]
    assert garment.catalog_item is not None
    row = index.row_of(CATALOG, garment.slot, garment.catalog_item)
    if row is None or (fresh is not None and garment.catalog_item in fresh):
        return {}
    query = _Query(index, garment.slot, row, fresh)
    blend = weights if method is Method.BLEND else None
    found: dict[str, StoredSlot] = {}
    for slot in slots:
        stored = index.answers.candidates(garment.slot, slot, row)
        if stored is None:
            continue
        keys = index.keys(CATALOG, slot)[stored.positions]
        positions, library, compat, top = stored.positions, stored.library, stored.compat, stored.library_top
        added = fresh.slot(slot) if fresh is not None else None
        if added is not None and fresh is not None:
            kept = ~np.isin(keys, fresh.keys)  # the build's entry of a changed item is stale
            fresh_library = added.library_scores(query.outfit_weights())
            fresh_compat = np.zeros(len(added.keys), dtype=np.float32)
            own = index.compat_vector(garment.slot, garment.catalog_item)
            if blend is not None and added.compat is not None and own is not None and pair_weight is not None:
                fresh_compat = added.compat @ (own * pair_weight(garment.slot, slot))
            # The library method ranks only what a path reaches; the blend, every item it scores.
            take = fresh_library > 0 if blend is None else np.ones(len(added.keys), dtype=bool)
            keys = np.concatenate([keys[kept], added.keys[take]])
            positions = np.concatenate([positions[kept], np.full(int(take.sum()), -1, dtype=np.int64)])
            library = np.concatenate([library[kept], fresh_library[take].astype(np.float32)])
            compat = np.concatenate([compat[kept], fresh_compat[take].astype(np.float32)])
            top = max(top, float(fresh_library.max(initial=0.0)))
        if not len(keys):  # nothing to rank: the live path says why
            continue
        relevance = Candidates(positions, library, compat, top).relevance(blend)
        # Re-ranked from the stored scores (float32): equal to the build's order but for exact ties.
        order = np.lexsort((keys, -relevance))
        found[slot] = StoredSlot(
            slot=slot,
            keys=keys[order],
            relevance=relevance[order],
            positions=positions[order],
            complete=len(stored.positions) < ANSWER_DEPTH,
            query=query,
        )
    return found
