"""Nearest-neighbour search over catalog and library garments, one Annoy index per (population, slot).

Builds are written by `IndexBuilder` (recsys.index_build) and read by `IndexSet`; `IndexCache` keeps
the active build loaded in a web process. Embeddings are centred per population before they are
indexed or used as a query: see recsys.centring for why and how.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from annoy import AnnoyIndex
from numpy.typing import NDArray

from .answers import AnswerSheet, LibraryPaths
from .arrays import Embedding, KeyArray, key_array, top_columns
from .centring import CENTRE_MIN_ITEMS, centre_rows
from .index_build import (
    LABELS_FILE,
    MEANS_FILE,
    IndexBuilder,
    compat_name,
    count_name,
    index_name,
    read_piece_matches,
    remove_builds,
)
from .index_manifest import (
    FORMAT_VERSION,
    METRIC,
    IndexManifest,
    IndexNotFound,
    ManifestMismatch,
    read_manifest,
)
from .library_graph import LibraryGraph
from .rank.policy import PER_PIECE
from .slots import CATALOG, LIBRARY, POPULATIONS, SLOTS, check_population

__all__ = [
    "CENTRE_MIN_ITEMS",
    "FORMAT_VERSION",
    "POPULATIONS",
    "IndexBuilder",
    "IndexCache",
    "IndexManifest",
    "IndexNotFound",
    "IndexSet",
    "ManifestMismatch",
    "Neighbour",
    "index_cache",
    "remove_builds",
]

# Keys and similarities of a search, best first.
Matches = tuple[NDArray[np.int64], NDArray[np.float32]]
_NO_KEYS: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
_NO_SIMILARITIES: NDArray[np.float32] = np.zeros(0, dtype=np.float32)
_NO_KEYS.flags.writeable = _NO_SIMILARITIES.flags.writeable = False  # shared by every empty answer


@dataclass(frozen=True)
class Neighbour:
    key: int  # database key of the catalog or library item
    similarity: float  # cosine of the centred vectors, in [-1, 1]


class _SlotIndex:
    """One slot of a population: its keys, centred vectors and (catalog only) Annoy index.

    Keys are looked up through a sorted copy and `searchsorted` rather than a dict: at 1M items a dict
    costs ~100 MB of Python objects in every web worker, the sorted arrays 16 MB.
    """

    __slots__ = ("_sorted_ids", "_sorted_keys", "annoy", "keys", "vectors")

    def __init__(
        self, annoy: AnnoyIndex | None, keys: NDArray[np.int64], vectors: NDArray[np.float32]
    ) -> None:
        self.annoy = annoy
        self.keys = keys
        self.keys.flags.writeable = False
        self.vectors = vectors  # memory-mapped, read-only
        self._sorted_ids = np.argsort(keys, kind="stable")
        self._sorted_keys = keys[self._sorted_ids]

    def __len__(self) -> int:
        return len(self.keys)

    def id_of(self, key: int) -> int | None:
        at = int(np.searchsorted(self._sorted_keys, key))
        if at < len(self._sorted_keys) and self._sorted_keys[at] == key:
            return int(self._sorted_ids[at])
        return None

    def ids_of(self, keys: NDArray[np.int64]) -> NDArray[np.int64]:
        """id_of for many keys at once (-1 where the index does not hold one)."""
        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self._sorted_keys, keys), len(self._sorted_keys) - 1)
        return np.where(self._sorted_keys[at] == keys, self._sorted_ids[at], -1).astype(np.int64)

    def count_present(self, keys: NDArray[np.int64]) -> int:
        if not len(keys) or not len(self.keys):
            return 0
        at = np.minimum(np.searchsorted(self._sorted_keys, keys), len(self._sorted_keys) - 1)
        return int(np.count_nonzero(self._sorted_keys[at] == keys))


class IndexSet:
    """A loaded build: every (population, slot) index, the population means and the manifest.

    Safe to share between threads: searches only read the memory-mapped Annoy files.
    """

    def __init__(
        self,
        build_dir: Path,
        manifest: IndexManifest,
        means: dict[str, NDArray[np.float32]],
        indexes: dict[tuple[str, str], _SlotIndex],
        compat: dict[str, NDArray[np.float32]] | None = None,
        piece_matches: dict[str, tuple[NDArray[np.int32], NDArray[np.float32]]] | None = None,
        graph: LibraryGraph | None = None,
    ) -> None:
        self.build_dir = build_dir
        self.manifest = manifest
        self._means = means
        self._indexes = indexes
        self._compat = compat or {}
        self._piece_matches = piece_matches or {}
        # The library as this build saw it, and the answers it worked out ahead of time.
        self.graph = graph if graph is not None else LibraryGraph(np.zeros((0, 3), dtype=np.int64))
        self.answers = AnswerSheet(build_dir)
        self._labels: list[str] | None = None
        self._label_codes: dict[str, NDArray[np.uint16]] = {}
        self.paths = LibraryPaths(
            self.graph,
            lambda slot: (self.keys(LIBRARY, slot), self._library_vectors(slot)),
            lambda slot: self.keys(CATALOG, slot),
            lambda slot: self._piece_matches.get(slot) or _no_matches(),
        )

    @classmethod
    def load(cls, build_dir: Path, *, expect_model_spec: str | None = None) -> IndexSet:
        """Open a build; ManifestMismatch if it is another format or model, IndexNotFound if incomplete."""
        build_dir = Path(build_dir)
        manifest = read_manifest(build_dir, expect_model_spec=expect_model_spec)
        means = _load_means(build_dir, manifest.dim)
        indexes: dict[tuple[str, str], _SlotIndex] = {}
        for name, count in manifest.counts.items():
            population, _, slot = name.partition("/")
            if population not in POPULATIONS or slot not in SLOTS:
                raise ManifestMismatch(
                    f"{build_dir}: manifest names unknown index {name!r}; rebuild the index"
                )
            indexes[(population, slot)] = _load_slot_index(build_dir, manifest, population, slot, count)
        compat = {
            slot: _load_compat(build_dir, manifest, slot, len(index))
            for (population, slot), index in indexes.items()
            if population == CATALOG and manifest.compat_model
        }
        piece_matches = {
            slot: read_piece_matches(build_dir, slot, len(index))
            for (population, slot), index in indexes.items()
            if population == LIBRARY
        }
        return cls(build_dir, manifest, means, indexes, compat, piece_matches, LibraryGraph.load(build_dir))

    def slots(self, population: str) -> tuple[str, ...]:
        """Slots of `population` that have an index (at least one item), in SLOTS order."""
        check_population(population)
        return tuple(slot for slot in SLOTS if (population, slot) in self._indexes)

    def count(self, population: str, slot: str) -> int:
        index = self._indexes.get((population, slot))
        return 0 if index is None else len(index)

    def __contains__(self, population_slot: object) -> bool:
        """`("catalog", "top") in index_set`: that slot has an index."""
        return population_slot in self._indexes

    def keys(self, population: str, slot: str) -> NDArray[np.int64]:
        """Database keys in one index (read-only; position = Annoy id)."""
        index = self._indexes.get((population, slot))
        return _NO_KEYS if index is None else index.keys

    def center(self, population: str, embedding: Embedding) -> NDArray[np.float32]:
        """A raw embedding of an item of `population`, centred with that population's mean, unit length."""
        mean = self._means[check_population(population)]
        return centre_rows(self._checked(embedding), mean)

    def vector(self, population: str, slot: str, key: int) -> NDArray[np.float32] | None:
        """The centred unit vector indexed for `key`, or None if that index does not hold it."""
        index = self._indexes.get((population, slot))
        item = None if index is None else index.id_of(key)
        if index is None or item is None:
            return None
        return np.asarray(index.vectors[item], dtype=np.float32)

    def vectors(self, population: str, slot: str) -> NDArray[np.float32] | None:
        """Every centred vector of one index, in its keys' order (read-only, memory-mapped)."""
        index = self._indexes.get((population, slot))
        return None if index is None else index.vectors

    def label(self, slot: str, key: int) -> str:
        """The word the build stored for a catalog item (its predicted colour), "" when none."""
        index = self._indexes.get((CATALOG, slot))
        row = None if index is None else index.id_of(key)
        if row is None:
            return ""
        if self._labels is None:
            path = self.build_dir / LABELS_FILE
            self._labels = json.loads(path.read_text()) if path.is_file() else [""]
        codes = self._label_codes.get(slot)
        if codes is None:
            path = self.build_dir / f"{index_name(CATALOG, slot)}.labels.npy"
            codes = self._label_codes[slot] = (
                np.load(path, mmap_mode="r") if path.is_file() else np.zeros(0, np.uint16)
            )
        return self._labels[int(codes[row])] if row < len(codes) else ""

    def row_of(self, population: str, slot: str, key: int) -> int | None:
        """Position of `key` in `keys(population, slot)` (None if that index does not hold it)."""
        index = self._indexes.get((population, slot))
        return None if index is None else index.id_of(key)

    def rows_of(self, population: str, slot: str, keys: NDArray[np.int64]) -> NDArray[np.int64]:
        """row_of for many keys at once (-1 where the index does not hold one)."""
        index = self._indexes.get((population, slot))
        return np.full(len(keys), -1, dtype=np.int64) if index is None else index.ids_of(keys)

    @property
    def compat_model(self) -> str:
        """The compatibility model whose catalog vectors this build holds ("" when none)."""
        return self.manifest.compat_model

    def compat_vectors(self, slot: str) -> NDArray[np.float32] | None:
        """The catalog's compatibility vectors of `slot`, one row per key of `keys("catalog", slot)`
        (read-only, memory-mapped); None when the build has none for that slot."""
        return self._compat.get(slot)

    def compat_vector(self, slot: str, key: int) -> NDArray[np.float32] | None:
        """One catalog item's compatibility vector, or None if the build does not hold it."""
        index, vectors = self._indexes.get((CATALOG, slot)), self._compat.get(slot)
        item = None if index is None else index.id_of(key)
        if vectors is None or item is None:
            return None
        return np.asarray(vectors[item], dtype=np.float32)

    def nearest(
        self,
        population: str,
        slot: str,
        embedding: Embedding,
        k: int,
        *,
        exclude: Collection[int] = (),
        centred: bool = False,
    ) -> list[Neighbour]:
        """The k items of (population, slot) most like `embedding`, best first.

        A raw embedding (`centred=False`) is taken to come from `population` itself and is centred
        with its mean. To search the other population, centre the query with its own population
        first (`center`) and pass `centred=True`.
        """
        keys, similarities = self.search(population, slot, embedding, k, exclude=exclude, centred=centred)
        return [
            Neighbour(key, similarity)
            for key, similarity in zip(keys.tolist(), similarities.tolist(), strict=True)
        ]

    def search(
        self,
        population: str,
        slot: str,
        embedding: Embedding,
        k: int,
        *,
        exclude: Collection[int] | KeyArray = (),
        centred: bool = False,
        search_k: int = -1,
        exact: bool = False,
    ) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """`nearest` as two arrays (keys, similarities), for callers that go on with numpy.

        The library is searched exactly; the catalog through Annoy, where `search_k` is the nodes
        inspected per query (-1 for n_trees * (k + excluded)), unless `exact` (a product with every
        vector of the slot: a few ms per 100k items).
        """
        check_population(population)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        index = self._indexes.get((population, slot))
        if index is None:
            return _NO_KEYS, _NO_SIMILARITIES
        query = self._checked(embedding) if centred else self.center(population, embedding)
        excluded = key_array(exclude)
        # Ask for more by the number of excluded items actually in this index, so k remain after.
        wanted = min(k + index.count_present(excluded), len(index))
        if index.annoy is None or exact:
            scores = np.asarray(index.vectors @ query)[np.newaxis, :]
            ids = top_columns(scores, index.keys, wanted)[0]
            keys, similarities = index.keys[ids], np.clip(scores[0, ids], -1.0, 1.0)
        else:
            found, distances = index.annoy.get_nns_by_vector(
                query.tolist(), wanted, search_k, include_distances=True
            )
            keys = index.keys[np.asarray(found, dtype=np.int64)]
            # Annoy's angular distance is |u - v| of the unit vectors, so cos = 1 - d^2 / 2.
            similarities = np.clip(1.0 - np.square(np.asarray(distances, dtype=np.float32)) / 2.0, -1.0, 1.0)
        if len(excluded):
            kept = ~np.isin(keys, excluded)
            keys, similarities = keys[kept], similarities[kept]
        # Annoy orders equal distances arbitrarily; key order makes results repeatable.
        order = np.lexsort((keys, -similarities))[:k]
        return keys[order], similarities[order].astype(np.float32, copy=False)

    def piece_matches(self, slot: str, piece: int, k: int = PER_PIECE) -> Matches | None:
        """The k catalog items of `slot` most like library item `piece` (None if not indexed): found
        exactly when the build was made, for k up to PER_PIECE."""
        library = self._indexes.get((LIBRARY, slot))
        row = None if library is None else library.id_of(piece)
        catalog = self._indexes.get((CATALOG, slot))
        if row is None or catalog is None or slot not in self._piece_matches:
            return None
        if k > PER_PIECE:
            vector = self.vector(LIBRARY, slot, piece)
            assert vector is not None
            return self.search(CATALOG, slot, vector, k, centred=True)
        positions, similarities = self._piece_matches[slot]
        found = positions[row][:k]
        kept = found >= 0
        return catalog.keys[found[kept]], similarities[row][:k][kept]

    def _library_vectors(self, slot: str) -> NDArray[np.float32]:
        vectors = self.vectors(LIBRARY, slot)
        return np.zeros((0, self.manifest.dim), np.float32) if vectors is None else vectors

    def _checked(self, embedding: Embedding) -> NDArray[np.float32]:
        vector = np.asarray(embedding, dtype=np.float32)
        if vector.shape != (self.manifest.dim,):
            raise ValueError(f"expected an embedding of shape ({self.manifest.dim},), got {vector.shape}")
        if not np.isfinite(vector).all():
            raise ValueError("embedding has non-finite values")
        return vector


class IndexCache:
    """Keeps the active build loaded for the life of a process.

    The web process asks on every request with the active build's folder. The same folder returns
    the loaded IndexSet without taking the lock; a new folder loads once (under the lock, so
    concurrent requests do not load it twice) and replaces the old set, which is freed when the
    last request holding it finishes. Build folders never change after they are written, so the
    folder's path is all the cache needs to compare.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: tuple[str, IndexSet] | None = None

    def get(self, build_dir: Path, *, expect_model_spec: str | None = None) -> IndexSet:
        wanted = os.path.abspath(build_dir)
        current = self._current  # one read: another thread may swap it at any moment
        if current is None or current[0] != wanted:
            with self._lock:
                current = self._current
                if current is None or current[0] != wanted:
                    current = (wanted, IndexSet.load(Path(wanted), expect_model_spec=expect_model_spec))
                    self._current = current
        index_set = current[1]
        if expect_model_spec is not None and index_set.manifest.model_spec != expect_model_spec:
            raise ManifestMismatch(
                f"{wanted}: expected model spec {expect_model_spec!r}, "
                f"found {index_set.manifest.model_spec!r}; rebuild the index"
            )
        return index_set

    def current(self) -> IndexSet | None:
        """The build this process has loaded, if any (served while a newer one is pulled)."""
        current = self._current
        return current[1] if current is not None else None

    def clear(self) -> None:
        with self._lock:
            self._current = None


# The one cache of a process (web worker, Celery worker); tests make their own.
index_cache = IndexCache()


def _no_matches() -> tuple[NDArray[np.int32], NDArray[np.float32]]:
    return np.zeros((0, PER_PIECE), np.int32), np.zeros((0, PER_PIECE), np.float32)


def _load_means(build_dir: Path, dim: int) -> dict[str, NDArray[np.float32]]:
    path = build_dir / MEANS_FILE
    if not path.is_file():
        raise IndexNotFound(f"index build {build_dir} is missing {MEANS_FILE}")
    with np.load(path) as stored:
        means = {population: np.asarray(stored[population], dtype=np.float32) for population in POPULATIONS}
    for population, mean in means.items():
        if mean.shape != (dim,):
            raise ManifestMismatch(
                f"{path}: expected a {population} mean of shape ({dim},), found {mean.shape}; "
                "rebuild the index"
            )
    return means


def _load_compat(build_dir: Path, manifest: IndexManifest, slot: str, count: int) -> NDArray[np.float32]:
    path = build_dir / compat_name(slot)
    if not path.is_file():
        raise IndexNotFound(f"index build {build_dir} is missing {path.name}")
    # mmap: every web worker shares the page cache, as with the Annoy files.
    vectors: NDArray[np.float32] = np.load(path, mmap_mode="r")
    if vectors.shape != (count, manifest.compat_dim) or vectors.dtype != np.float32:
        raise ManifestMismatch(
            f"{build_dir}: expected {count} compatibility vectors of width {manifest.compat_dim} in "
            f"{path.name}, found shape {vectors.shape}; rebuild the index"
        )
    return vectors


def _load_slot_index(
    build_dir: Path, manifest: IndexManifest, population: str, slot: str, count: int
) -> _SlotIndex:
    name = index_name(population, slot)
    ann_path, keys_path = build_dir / f"{name}.ann", build_dir / f"{name}.keys.npy"
    vectors_path = build_dir / f"{name}.vectors.npy"
    for path in (keys_path, vectors_path, *([ann_path] if population == CATALOG else [])):
        if not path.is_file():
            raise IndexNotFound(f"index build {build_dir} is missing {path.name}")
    keys = np.load(keys_path).astype(np.int64, copy=False)
    # mmap: the page cache is shared by every worker process.
    vectors: NDArray[np.float32] = np.load(vectors_path, mmap_mode="r")
    annoy = None
    if population == CATALOG:
        annoy = AnnoyIndex(manifest.dim, METRIC)
        annoy.load(str(ann_path))
    found = {len(keys), len(vectors), count if annoy is None else annoy.get_n_items()}
    if found != {count} or vectors.shape[1:] != (manifest.dim,):
        raise ManifestMismatch(
            f"{build_dir}: expected {count} items of dim {manifest.dim} in {count_name(population, slot)}, "
            f"found keys, vectors {vectors.shape} and Annoy items {sorted(found)}; rebuild the index"
        )
    return _SlotIndex(annoy, keys, vectors)
