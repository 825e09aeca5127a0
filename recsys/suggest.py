"""Complete the look: catalog items that go with the garments a shopper has, learnt from the library.

The stylists' library says which garments were worn together; the catalog says what the shop sells.
For each garment the shopper has (a query: a raw catalog embedding and its slot):

1. find the library items of its slot that look most like it;
2. take the approved library outfits that contain them (the caller reads those from the database);
3. collect those outfits' pieces of the wanted slot;
4. find the catalog items of the wanted slot that look most like each piece.

A catalog item's score sums, over every path query → library item → outfit piece → catalog item, the
product of the two match weights. A piece reached through two library items of the same outfit
counts once per query, through its best one; several queries (the rest of a shopper's outfit) add up.

Match weight: `max(similarity, 0) ** sharpness`. Clipping drops garments that look unlike the query
(a negative cosine is evidence of nothing); the power makes one close match worth more than several
loose ones (with sharpness 3, one path at 0.8 outweighs three at 0.5), which is how a stylist reads
"this outfit has a skirt like yours". The value is a guess to be tuned with recsys.evaluate.
Scores only rank the items of one call; they are not comparable across calls.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .arrays import Embedding, key_array
from .index import IndexSet, Neighbour
from .library_graph import LibraryPiece
from .rank.policy import DEFAULT_SHARPNESS, NEIGHBOURS, PER_PIECE, match_weight
from .slots import CATALOG, LIBRARY, check_slot


@dataclass(frozen=True)
class Suggestion:
    catalog_item: int
    score: float
    outfits: tuple[int, ...]  # library outfits that support it, strongest first


# Per library item key: every piece of every approved outfit that contains it.
OutfitsFor = Callable[[Sequence[int]], Mapping[int, Sequence[LibraryPiece]]]


def complete_the_look(
    index: IndexSet,
    *,
    queries: Sequence[tuple[Embedding, str]],
    wanted_slot: str,
    outfits_for: OutfitsFor,
    k: int,
    neighbours: int = NEIGHBOURS,
    per_piece: int = PER_PIECE,
    exclude_catalog: Collection[int] = (),
    exclude_outfits: Collection[int] = (),
    sharpness: float = DEFAULT_SHARPNESS,
) -> list[Suggestion]:
    """Top-k catalog items of `wanted_slot` for the garments in `queries`, best first.

    `outfits_for` is called once, with every library item reached. `exclude_catalog` removes catalog
    items from the answer (the shopper's own garments); `exclude_outfits` ignores library outfits
    (evaluation holds out the outfit a question came from). No side effects.
    """
    check_slot(wanted_slot)
    for name, value in (("k", k), ("neighbours", neighbours), ("per_piece", per_piece)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if sharpness <= 0:
        raise ValueError(f"sharpness must be positive, got {sharpness}")
    reached = [_library_matches(index, embedding, slot, neighbours, sharpness) for embedding, slot in queries]
    library_items = sorted({key for matches in reached for key in matches})
    if not library_items:
        return []
    pieces_of = outfits_for(library_items)
    path_weights = _piece_weights(reached, pieces_of, wanted_slot, set(exclude_outfits))
    catalog_matches = _catalog_matches(
        index, {piece for _, piece in path_weights}, wanted_slot, per_piece, sharpness
    )
    return _rank(path_weights, catalog_matches, k, key_array(exclude_catalog))


def library_scores(
    index: IndexSet,
    *,
    queries: Sequence[tuple[Embedding, str]],
    candidates: Sequence[Embedding],
    wanted_slot: str,
    outfits_for: OutfitsFor,
    query_population: str = CATALOG,
    candidate_population: str = CATALOG,
    neighbours: int = NEIGHBOURS,
    exclude_outfits: Collection[int] = (),
    sharpness: float = DEFAULT_SHARPNESS,
) -> NDArray[np.float64]:
    """The library method's score of given candidates (raw embeddings of `candidate_population`):
    the same paths as complete_the_look, but each piece is compared with every candidate directly
    instead of searching the catalog. A candidate no path reaches scores 0.

    Scores a fixed candidate list (fill-in-the-blank, fitting the blend on library garments) rather
    than ranking the catalog. No side effects.
    """
    check_slot(wanted_slot)
    if not len(candidates):
        return np.zeros(0, dtype=np.float64)
    reached = [
        _library_matches(index, embedding, slot, neighbours, sharpness, population=query_population)
        for embedding, slot in queries
    ]
    library_items = sorted({key for matches in reached for key in matches})
    if not library_items:
        return np.zeros(len(candidates), dtype=np.float64)
    path_weights = _piece_weights(reached, outfits_for(library_items), wanted_slot, set(exclude_outfits))
    pieces = sorted({piece for _, piece in path_weights})
    vectors = {piece: index.vector(LIBRARY, wanted_slot, piece) for piece in pieces}
    known = [piece for piece in pieces if vectors[piece] is not None]
    if not known:
        return np.zeros(len(candidates), dtype=np.float64)
    piece_weight = dict.fromkeys(known, 0.0)
    for (_, piece), weight in path_weights.items():
        if piece in piece_weight:
            piece_weight[piece] += weight
    centred = np.stack([index.center(candidate_population, c) for c in candidates])
    piece_matrix = np.stack([vectors[piece] for piece in known])  # type: ignore[misc]
    matches = match_weight((piece_matrix @ centred.T).astype(np.float32), sharpness)  # (pieces, candidates)
    return np.asarray([piece_weight[p] for p in known]) @ matches


def similar_items(
    index: IndexSet,
    *,
    embedding: Embedding,
    slot: str,
    k: int,
    exclude: Collection[int] = (),
) -> list[Neighbour]:
    """Catalog items of `slot` that look most like a catalog garment (raw embedding), best first."""
    check_slot(slot)
    return index.nearest(CATALOG, slot, embedding, k, exclude=exclude)


def _library_matches(
    index: IndexSet,
    embedding: Embedding,
    slot: str,
    neighbours: int,
    sharpness: float,
    *,
    population: str = CATALOG,
) -> dict[int, float]:
    """Library items of the query's slot that look like it, with their match weight (> 0 only)."""
    check_slot(slot)
    query = index.center(population, embedding)  # centred with the mean of the query's own population
    keys, similarities = index.search(LIBRARY, slot, query, neighbours, centred=True)
    weights = match_weight(similarities, sharpness)
    kept = weights > 0
    return dict(zip(keys[kept].tolist(), weights[kept].tolist(), strict=True))


def _piece_weights(
    reached: Sequence[dict[int, float]],
    pieces_of: Mapping[int, Sequence[LibraryPiece]],
    wanted_slot: str,
    exclude_outfits: Collection[int],
) -> dict[tuple[int, int], float]:
    """(outfit, piece) -> sum over queries of the best weight with which the query reached it.

    The piece → catalog weight does not depend on the query or on the library item that led to the
    outfit, so the query side can be summed first and each piece searched once.
    """
    totals: dict[tuple[int, int], float] = {}
    for matches in reached:
        best: dict[tuple[int, int], float] = {}
        for library_item, weight in matches.items():
            for piece in pieces_of.get(library_item, ()):
                # The matched item is the query's stand-in in the outfit, not what completes it.
                if (
                    piece.slot != wanted_slot
                    or piece.outfit in exclude_outfits
                    or piece.library_item == library_item
                ):
                    continue
                path = (piece.outfit, piece.library_item)
                if weight > best.get(path, 0.0):
                    best[path] = weight
        for path, weight in best.items():
            totals[path] = totals.get(path, 0.0) + weight
    return totals


def _catalog_matches(
    index: IndexSet,
    pieces: Collection[int],
    wanted_slot: str,
    per_piece: int,
    sharpness: float,
) -> dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]]:
    """Per library piece: the catalog items of the wanted slot that look like it, and their weights.

    Searches are memoised per build (IndexSet.piece_matches); the shopper's own garments are dropped
    later, from the ranking, so one search serves every request that reaches the piece.
    """
    matches: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
    for piece in sorted(pieces):
        found = index.piece_matches(wanted_slot, piece, per_piece)
        if found is None:  # approved after the build, or no embedding yet: the next build has it
            continue
        keys, similarities = found
        weights = match_weight(similarities, sharpness)
        kept = weights > 0
        if kept.any():
            matches[piece] = (keys[kept], weights[kept])
    return matches


def _rank(
    path_weights: Mapping[tuple[int, int], float],
    catalog_matches: Mapping[int, tuple[NDArray[np.int64], NDArray[np.float64]]],
    k: int,
    exclude_catalog: NDArray[np.int64],
) -> list[Suggestion]:
    paths = [
        (outfit, piece, weight)
        for (outfit, piece), weight in path_weights.items()
        if piece in catalog_matches
    ]
    if not paths:
        return []
    # One row per path x catalog match, built with a few array calls (a request has ~1,000 paths).
    lengths = np.array([len(catalog_matches[piece][0]) for _, piece, _ in paths])
    items = np.concatenate([catalog_matches[piece][0] for _, piece, _ in paths])
    scores = np.concatenate([catalog_matches[piece][1] for _, piece, _ in paths]) * np.repeat(
        np.array([weight for _, _, weight in paths]), lengths
    )
    outfits = np.repeat(np.array([outfit for outfit, _, _ in paths], dtype=np.int64), lengths)
    if len(exclude_catalog):
        kept = ~np.isin(items, exclude_catalog)
        items, scores, outfits = items[kept], scores[kept], outfits[kept]
        if not len(items):
            return []

    unique_items, item_of_row = np.unique(items, return_inverse=True)
    item_scores = np.bincount(item_of_row, weights=scores)
    top = np.lexsort((unique_items, -item_scores))[:k]  # ties: lower key first

    # Supporting outfits of the top items only: sum each outfit's paths, strongest first. A (rank,
    # outfit) pair is one int64 (rank * span + outfit): a 1-D unique, far cheaper than unique rows.
    rank_of_item = np.full(len(unique_items), -1, dtype=np.int64)
    rank_of_item[top] = np.arange(len(top))
    row_rank = rank_of_item[item_of_row.reshape(-1)]
    in_top = row_rank >= 0
    span = int(outfits.max(initial=0)) + 1
    pairs, pair_of_row = np.unique(row_rank[in_top] * span + outfits[in_top], return_inverse=True)
    support = np.bincount(pair_of_row.reshape(-1), weights=scores[in_top])
    pair_rank, pair_outfit = np.divmod(pairs, span)
    order = np.lexsort((pair_outfit, -support, pair_rank))
    bounds = np.searchsorted(pair_rank[order], np.arange(len(top) + 1)).tolist()
    by_rank = pair_outfit[order].tolist()

    return [
        Suggestion(catalog_item=key, score=score, outfits=tuple(by_rank[bounds[rank] : bounds[rank + 1]]))
        for rank, (key, score) in enumerate(
            zip(unique_items[top].tolist(), item_scores[top].tolist(), strict=True)
        )
    ]
