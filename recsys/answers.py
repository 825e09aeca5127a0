"""Answers worked out ahead of time: every catalog item's ranked candidates for every slot it needs.

A catalog item's complete-the-look answer depends only on the item, the library and the models, and
those change only when a build is made. So the build ranks, for every catalog item and every slot
that completes it (recsys.rank.policy.COMPLEMENTS), the candidates the live path would rank for it
alone — every catalog item a library path reaches, the compatibility model's best `pool`, ordered
by their blend — and stores the first `ANSWER_DEPTH` of them beside the indexes. A request then only applies
its filters, diversity and k to the stored list (outfits.suggestions); what cannot be answered from
it (another method, a partial outfit, a photo, filters that leave too few) takes the live path.

The math is recsys.suggest's, in batches of queries and as sparse products:

    B[q, o]   best match weight of query q to a library item of its slot held by outfit o
              (exact search over the library: it is small)
    M[o, c]   sum over the outfit's pieces p of the wanted slot of the weight of catalog item c
              among p's `PER_PIECE` nearest (exact, worked out once per build)
    S = B @ M the library score of every catalog item c for every query q

so a million items take minutes, not the hours of a million calls. Tests hold the two to the same
answers.

    <build_id>/answers/<slot>__<wanted>.npy         int32 (items of slot, depth) positions in the
                                                    wanted slot's catalog keys, best first (-1: none)
    <build_id>/answers/<slot>__<wanted>.library.npy float32 library score of each,
    <build_id>/answers/<slot>__<wanted>.compat.npy  float32 compatibility score of each (0: no model)
    <build_id>/answers/<slot>__<wanted>.top.npy     float32 per item: the largest library score of
                                                    all its candidates (the blend scales by it)
    <build_id>/answers/<slot>.similar.npy           int32 (items of slot, SIMILAR_DEPTH) positions of
                                                    the catalog items that look most like each (exact)
    <build_id>/answers/<slot>.similarities.npy      float32 cosine of each
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from .arrays import batch_product, new_array, top_columns
from .library_graph import LibraryGraph
from .nearest import Found, ItemSearch
from .rank.blend import BlendWeights, blend_rows, blend_scores
from .rank.policy import COMPLEMENTS, DEFAULT_SHARPNESS, NEIGHBOURS
from .slots import SLOTS

ANSWERS_DIR: Final = "answers"
# Candidates stored per (item, slot): a request for k <= STORED_K keeps k * DIVERSITY_POOL of them
# after its filters; filters that leave fewer send it to the live path.
ANSWER_DEPTH: Final = 64
# Catalog items that look alike, stored per item: a request for k <= STORED_K asks for k * OVERFETCH
# to leave room for the sold-out ones, and a little more.
SIMILAR_DEPTH: Final = 32
# Scores of at most this many floats are held at once while ranking (256 MB).
_BATCH_FLOATS: Final = 64 * 2**20

# Progress callback: (pairs of slots done, pairs in all).
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Blending:
    """What the build knows of the compatibility model: its pair subspaces and the blend weights."""

    pair_weight: Callable[[str, str], NDArray[np.float32]]
    weights: BlendWeights


def library_outfit_weights(
    library_vectors: NDArray[np.float32],
    library_keys: NDArray[np.int64],
    item_outfits: sparse.csr_matrix,
    queries: NDArray[np.float32],
    *,
    neighbours: int,
    sharpness: float,
) -> sparse.csr_matrix:
    """B: per query (centred rows), the best match weight to each outfit through its `neighbours`
    nearest library items of the query's slot (max(cos, 0) ** sharpness; 0 where none reaches)."""
    if not len(library_keys) or not len(queries):
        return sparse.csr_matrix((len(queries), item_outfits.shape[1]))
    similarities = queries @ library_vectors.T
    near = top_columns(similarities, library_keys, neighbours)
    weights = np.power(
        np.clip(np.take_along_axis(similarities, near, axis=1), 0.0, None).astype(np.float64), sharpness
    )
    rows = np.repeat(np.arange(len(queries)), near.shape[1])
    reach = sparse.csr_matrix(
        (weights.ravel(), (rows, near.ravel())), shape=(len(queries), len(library_keys))
    )
    reach.eliminate_zeros()
    # Max, not sum, over the library items an outfit holds: expand each (query, item) to its outfits.
    paths = (reach.tocoo(), item_outfits)
    query_rows, item_columns, weight = paths[0].row, paths[0].col, paths[0].data
    starts, ends = item_outfits.indptr[item_columns], item_outfits.indptr[item_columns + 1]
    counts = ends - starts
    outfit_columns = item_outfits.indices[_ranges(starts, counts)]
    query_rows, weight = np.repeat(query_rows, counts), np.repeat(weight, counts)
    best = sparse.coo_matrix(
        (weight, (query_rows, outfit_columns)), shape=(len(queries), item_outfits.shape[1])
    )
    return _max_duplicates(best)


def _ranges(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenated aranges starts[i] .. starts[i] + counts[i]."""
    if not len(counts) or counts.sum() == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    found: NDArray[np.int64] = np.arange(int(counts.sum()), dtype=np.int64) + offsets
    return found


def _max_duplicates(matrix: sparse.coo_matrix) -> sparse.csr_matrix:
    """A CSR matrix keeping the largest of duplicate entries (scipy sums them)."""
    if not matrix.nnz:
        return matrix.tocsr()
    order = np.lexsort((-matrix.data, matrix.col, matrix.row))
    rows, cols, data = matrix.row[order], matrix.col[order], matrix.data[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return sparse.csr_matrix((data[first], (rows[first], cols[first])), shape=matrix.shape)


def outfit_catalog_weights(
    graph: LibraryGraph,
    slot: str,
    piece_keys: NDArray[np.int64],
    matches: NDArray[np.int32],
    match_similarities: NDArray[np.float32],
    n_catalog: int,
    *,
    sharpness: float,
) -> sparse.csr_matrix:
    """M: (outfits x catalog items of `slot`) the sum over each outfit's pieces of `slot` of their
    match weight to the catalog item. `matches` holds each piece's nearest catalog positions."""
    weights = np.power(np.clip(match_similarities.astype(np.float64), 0.0, None), sharpness)
    weights[matches < 0] = 0.0
    rows = np.repeat(np.arange(len(piece_keys)), matches.shape[1])
    piece_catalog = sparse.csr_matrix(
        (weights.ravel(), (rows, np.maximum(matches, 0).ravel())), shape=(len(piece_keys), n_catalog)
    )
    piece_catalog.eliminate_zeros()
    return (graph.outfit_pieces(slot, piece_keys) @ piece_catalog).tocsr()


def padded_rows(scores: sparse.csr_matrix) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Each row's entries of a sparse score matrix as (columns, scores), -1 and 0 padded, in no
    particular order: the blend ranks them all (a sort here took a fifth of a 1M build's pair time)."""
    scores = scores.tocsr()
    scores.sum_duplicates()
    counts = np.diff(scores.indptr)
    rows = np.repeat(np.arange(scores.shape[0]), counts)
    rank = np.arange(scores.nnz) - scores.indptr[rows]
    width = int(counts.max(initial=0))
    columns = np.full((scores.shape[0], width), -1, dtype=np.int64)
    values = np.zeros((scores.shape[0], width), dtype=np.float64)
    columns[rows, rank] = scores.indices
    values[rows, rank] = scores.data
    return columns, values


@dataclass(frozen=True)
class Candidates:
    """One query's ranked candidates of one slot, as the build stores them: positions in the slot's
    catalog keys, each one's library score and compatibility score (zeros without a model), and the
    largest library score among all the candidates there were (the blend scales by it)."""

    positions: NDArray[np.int64]
    library: NDArray[np.float32]
    compat: NDArray[np.float32]
    library_top: float

    def relevance(self, weights: BlendWeights | None) -> NDArray[np.float64]:
        """The ranking's relevance: the blend with a compatibility model, else the library score."""
        if weights is None:
            return self.library.astype(np.float64)
        return blend_scores(weights, self.compat, self.library, library_top=self.library_top)


def blended_rows(
    library_columns: NDArray[np.int64],
    library_values: NDArray[np.float64],
    compat_library: NDArray[np.float32] | None,
    compat_best: Found | None,
    keys: NDArray[np.int64],
    *,
    depth: int,
    weights: BlendWeights | None,
) -> tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Each query's ranked candidates (one row each), as recsys.rank.complete.rank_slot ranks them:
    every catalog item a library path reaches (-1 padded; `compat_library`: their compatibility
    scores) and, with a compatibility model, its best items (`compat_best`), by relevance, `depth`
    deep. Returns positions (-1: none), library and compatibility scores, and each row's largest
    library score."""
    rows = len(library_columns)
    on_path = library_columns >= 0
    library = np.where(on_path, library_values, 0.0)
    top = library.max(axis=1, initial=0.0)
    if compat_library is None or compat_best is None:
        columns, valid, compat = library_columns, on_path, np.zeros(library.shape, dtype=np.float64)
        relevance = library.copy()
    else:
        # A compatibility pick a library path also reached is already a candidate.
        width = len(keys) + 1
        reached_codes = (np.arange(rows)[:, None] * width + library_columns)[on_path]
        best_codes = np.arange(rows)[:, None] * width + compat_best.columns
        fresh_pick = (compat_best.columns >= 0) & ~np.isin(best_codes, reached_codes)
        columns = np.concatenate([library_columns, compat_best.columns], axis=1)
        valid = np.concatenate([on_path, fresh_pick], axis=1)
        library = np.concatenate([library, np.zeros(compat_best.columns.shape)], axis=1)
        compat = np.concatenate([compat_library, compat_best.scores], axis=1).astype(np.float64)
        relevance = blend_rows(weights or BlendWeights(), compat, library, top)
    relevance = np.where(valid, relevance, -np.inf)
    order = np.lexsort((keys[np.maximum(columns, 0)], -relevance), axis=1)[:, :depth]
    picked = np.take_along_axis(columns, order, axis=1)
    kept = np.isfinite(np.take_along_axis(relevance, order, axis=1))
    width = order.shape[1]
    positions = np.full((rows, depth), -1, dtype=np.int64)
    positions[:, :width] = np.where(kept, picked, -1)
    library_out = np.zeros((rows, depth), dtype=np.float32)
    library_out[:, :width] = np.where(kept, np.take_along_axis(library, order, axis=1), 0.0)
    compat_out = np.zeros((rows, depth), dtype=np.float32)
    compat_out[:, :width] = np.where(kept, np.take_along_axis(compat, order, axis=1), 0.0)
    return positions, library_out, compat_out, top.astype(np.float32)


class ReachedScores:
    """Compatibility scores of the catalog items library paths reach, for blocks of queries.

    Whatever the catalog's size, a path ends on one of a library piece's few nearest catalog items,
    so one slot pair's reachable items are a fixed set of a few thousand. Their vectors are read
    once, and a block of queries meets them in one product. Gathering each (query, item) pair's
    vector instead read thousands of rows a query: a third of a 1M build's slot-pair time.
    """

    def __init__(self, items: NDArray[np.float32], reachable: NDArray[np.int64]) -> None:
        self.reachable = np.unique(reachable)  # positions in `items`, sorted
        self.vectors = np.asarray(items[self.reachable], dtype=np.float32)

    def at(self, queries: NDArray[np.float32], columns: NDArray[np.int64]) -> NDArray[np.float32]:
        """queries[r] . items[columns[r, j]] for every entry (0 where the column is -1); every
        column must be reachable."""
        found = np.zeros(columns.shape, dtype=np.float32)
        if not len(self.reachable):
            return found
        at = np.searchsorted(self.reachable, np.maximum(columns, 0))
        step = max(1, _BATCH_FLOATS // len(self.reachable))
        for start in range(0, len(queries), step):
            part = slice(start, start + step)
            scores = batch_product(queries[part], self.vectors)
            found[part] = np.where(columns[part] >= 0, np.take_along_axis(scores, at[part], axis=1), 0.0)
        return found


# Reads of the build being written or served: (keys, centred vectors) of one slot.
SlotVectors = Callable[[str], tuple[NDArray[np.int64], NDArray[np.float32]]]


class LibraryPaths:
    """The library method's matrices of one build, made once and kept: which outfits hold each
    library item of a slot, and what each outfit adds to each catalog item of a wanted slot."""

    def __init__(
        self,
        graph: LibraryGraph,
        library: SlotVectors,
        catalog_keys: Callable[[str], NDArray[np.int64]],
        piece_matches: Callable[[str], tuple[NDArray[np.int32], NDArray[np.float32]]],
        *,
        neighbours: int = NEIGHBOURS,
        sharpness: float = DEFAULT_SHARPNESS,
    ) -> None:
        self.graph = graph
        self._library = library
        self._catalog_keys = catalog_keys
        self._piece_matches = piece_matches
        self.neighbours = neighbours
        self.sharpness = sharpness
        self._reach: dict[str, sparse.csr_matrix] = {}
        self._to_catalog: dict[str, sparse.csr_matrix] = {}

    def outfit_weights(self, slot: str, queries: NDArray[np.float32]) -> sparse.csr_matrix:
        """B for centred queries of `slot` (one row each)."""
        keys, vectors = self._library(slot)
        if slot not in self._reach:
            self._reach[slot] = self.graph.item_outfits(keys)
        return library_outfit_weights(
            vectors, keys, self._reach[slot], queries, neighbours=self.neighbours, sharpness=self.sharpness
        )

    def to_catalog(self, wanted: str) -> sparse.csr_matrix:
        """M of the wanted slot, in CSC form: columns are read per candidate."""
        if wanted not in self._to_catalog:
            piece_keys, _ = self._library(wanted)
            matches, similarities = self._piece_matches(wanted)
            self._to_catalog[wanted] = outfit_catalog_weights(
                self.graph,
                wanted,
                piece_keys,
                matches,
                similarities,
                len(self._catalog_keys(wanted)),
                sharpness=self.sharpness,
            ).tocsc()
        return self._to_catalog[wanted]

    def support(
        self, outfit_weights: sparse.csr_matrix, wanted: str, positions: NDArray[np.int64], most: int
    ) -> list[tuple[int, ...]]:
        """Per candidate (positions in the wanted slot's catalog keys), the library outfits whose
        paths reach it from a one-row B, strongest first (equal: lower key first), at most `most`."""
        to_catalog = self.to_catalog(wanted)
        reach = np.asarray(outfit_weights.toarray()).reshape(-1)
        found: list[tuple[int, ...]] = []
        for position in positions.tolist():
            start, stop = to_catalog.indptr[position], to_catalog.indptr[position + 1]
            outfits = to_catalog.indices[start:stop]
            weights = to_catalog.data[start:stop] * reach[outfits]
            reached = weights > 0
            keys = self.graph.outfits[outfits[reached]]
            found.append(tuple(int(key) for key in keys[np.lexsort((keys, -weights[reached]))][:most]))
        return found


def write_answers(
    folder: Path,
    *,
    paths: LibraryPaths,
    catalog_vectors: SlotVectors,
    compat_vectors: Callable[[str], NDArray[np.float32] | None],
    blending: Blending | None,
    pool: int,
    depth: int = ANSWER_DEPTH,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Rank and store every catalog item's candidates for every slot that completes it; returns the
    number of items answered per "slot/wanted" pair. The callables read the build being written."""
    out = folder / ANSWERS_DIR
    out.mkdir(exist_ok=True)
    pairs = [
        (slot, wanted)
        for slot in COMPLEMENTS
        for wanted in COMPLEMENTS[slot]
        if len(catalog_vectors(slot)[0]) and len(catalog_vectors(wanted)[0])
    ]
    counts: dict[str, int] = {}
    steps = len(pairs) + len(SLOTS)
    for done, slot in enumerate(SLOTS):
        if progress is not None:
            progress(done, steps)
        keys, vectors = catalog_vectors(slot)
        if len(keys):
            _write_similar(out, slot, keys, vectors)
    # Per wanted slot: its compatibility vectors' search, and the scores of the items paths reach.
    searches: dict[str, tuple[ItemSearch, ReachedScores]] = {}
    weights_slot, query_weights = "", sparse.csr_matrix((0, 0))
    for done, (slot, wanted) in enumerate(pairs, len(SLOTS)):
        if progress is not None:
            progress(done, steps)
        query_keys, queries = catalog_vectors(slot)
        wanted_keys, _ = catalog_vectors(wanted)
        if slot != weights_slot:  # pairs come slot by slot: B once for all the slots one completes
            weights_slot, query_weights = slot, _slot_outfit_weights(paths, slot, queries)
        to_catalog = paths.to_catalog(wanted).tocsr()
        query_compat, wanted_compat = compat_vectors(slot), compat_vectors(wanted)
        pair_weight = (
            blending.pair_weight(slot, wanted)
            if blending is not None and query_compat is not None and wanted_compat is not None
            else None
        )
        search = reached_scores = None
        if pair_weight is not None and wanted_compat is not None:
            if wanted not in searches:
                items = np.asarray(wanted_compat)
                searches[wanted] = (
                    ItemSearch(items, wanted_keys),
                    ReachedScores(items, to_catalog.indices.astype(np.int64)),
                )
            search, reached_scores = searches[wanted]
        shape = (len(query_keys), depth)
        name = f"{slot}__{wanted}"
        columns = new_array(out / f"{name}.npy", np.int32, shape, -1)
        library_scores = new_array(out / f"{name}.library.npy", np.float32, shape, 0.0)
        compat_scores = new_array(out / f"{name}.compat.npy", np.float32, shape, 0.0)
        tops = new_array(out / f"{name}.top.npy", np.float32, (len(query_keys),), 0.0)
        blocks = (
            search.batches(np.asarray(query_compat), scale=pair_weight)
            if search
            else _batches(len(query_keys), len(wanted_keys))
        )
        for rows in blocks:
            reached = query_weights[rows] @ to_catalog
            library_columns, library_values = padded_rows(reached)
            compat_library = compat_best = None
            if reached_scores is not None and search is not None and query_compat is not None:
                weighted = np.asarray(query_compat[rows]) * pair_weight
                compat_best = search.best(weighted, pool)
                compat_library = reached_scores.at(weighted, library_columns)
            found = blended_rows(
                library_columns,
                library_values,
                compat_library,
                compat_best,
                wanted_keys,
                depth=depth,
                weights=blending.weights if blending else None,
            )
            columns[rows], library_scores[rows], compat_scores[rows], tops[rows] = found
        for array in (columns, library_scores, compat_scores, tops):
            array.flush()
        counts[f"{slot}/{wanted}"] = len(query_keys)
        del columns, library_scores, compat_scores, tops
    if progress is not None:
        progress(steps, steps)
    return counts


def _write_similar(out: Path, slot: str, keys: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
    """Each catalog item's SIMILAR_DEPTH most alike items of its slot, itself left out."""
    columns = new_array(out / f"{slot}.similar.npy", np.int32, (len(keys), SIMILAR_DEPTH), -1)
    similarities = new_array(out / f"{slot}.similarities.npy", np.float32, (len(keys), SIMILAR_DEPTH), 0.0)
    everything = np.asarray(vectors)
    search = ItemSearch(everything, keys)
    for rows in search.batches(everything):
        found = search.best(everything[rows], SIMILAR_DEPTH, skip=rows)
        width = found.columns.shape[1]
        columns[rows, :width] = found.columns
        similarities[rows, :width] = found.scores
    columns.flush()
    similarities.flush()


def _slot_outfit_weights(paths: LibraryPaths, slot: str, queries: NDArray[np.float32]) -> sparse.csr_matrix:
    """B of every catalog item of `slot` (a few dozen outfits a row), worked out a block at a time."""
    blocks = [paths.outfit_weights(slot, np.asarray(queries[rows])) for rows in _batches(len(queries), 1)]
    return sparse.vstack(blocks, format="csr")


def _batches(n: int, width: int) -> list[NDArray[np.int64]]:
    """Blocks of query rows whose scores over `width` items fit the memory a build allows."""
    size = max(16, min(4096, _BATCH_FLOATS // max(width, 1)))
    return [np.arange(start, min(n, start + size)) for start in range(0, n, size)]


class AnswerSheet:
    """A build's stored answers, memory-mapped: every web worker shares the page cache."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder / ANSWERS_DIR
        self._arrays: dict[str, tuple[NDArray[Any], ...] | None] = {}

    def candidates(self, slot: str, wanted: str, row: int) -> Candidates | None:
        """Stored candidates of the wanted slot for the item at `row` of its slot's keys, best first;
        None when the build stored no answers for this pair."""
        arrays = self._load(f"{slot}__{wanted}", ("", ".library", ".compat", ".top"))
        if arrays is None:
            return None
        positions, library, compat, tops = arrays
        kept = positions[row] >= 0
        return Candidates(
            np.asarray(positions[row][kept], dtype=np.int64),
            np.asarray(library[row][kept]),
            np.asarray(compat[row][kept]),
            float(tops[row]),
        )

    def similar(self, slot: str, row: int) -> tuple[NDArray[np.int64], NDArray[np.float32]] | None:
        """Stored (positions in the slot's catalog keys, cosine) of the items most like the item at
        `row`, best first; None when the build stored none."""
        arrays = self._load(slot, (".similar", ".similarities"))
        if arrays is None:
            return None
        positions, similarities = arrays
        kept = positions[row] >= 0
        return np.asarray(positions[row][kept], dtype=np.int64), np.asarray(similarities[row][kept])

    def _load(self, name: str, parts: tuple[str, ...]) -> tuple[NDArray[Any], ...] | None:
        if name not in self._arrays:
            paths = [self._folder / f"{name}{part}.npy" for part in parts]
            self._arrays[name] = (
                tuple(np.load(path, mmap_mode="r") for path in paths) if paths[0].is_file() else None
            )
        return self._arrays[name]
