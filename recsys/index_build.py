"""Writing an index build, and clearing away old ones.

A build is one folder holding an Annoy index per (population, slot) that has items:

    <build_id>/manifest.json                  IndexManifest (written last)
    <build_id>/means.npz                      mean raw embedding per population (see recsys.centring)
    <build_id>/<population>__<slot>.ann       Annoy angular index of centred vectors, ids 0..n-1
    <build_id>/<population>__<slot>.keys.npy  int64 database key of each Annoy id
    <build_id>/catalog__<slot>.compat.npy     float32 compatibility vector of each catalog item, in
                                              the keys' order (only with a compatibility model)

    <build_id>/<population>__<slot>.vectors.npy  float32 centred unit vectors in the keys' order
                                              (the library has no Annoy file: it is searched exactly)
    <build_id>/library__<slot>.matches.npy    each library piece's PER_PIECE nearest catalog items
                                              of its slot (positions in the catalog keys; exact),
    <build_id>/library__<slot>.match_similarities.npy     and their cosines
    <build_id>/library_outfits.npy            the library as the build saw it (recsys.library_graph)
    <build_id>/catalog__<slot>.labels.npy     uint16 code of each catalog item's label (its predicted
    <build_id>/labels.json                    colour, which reasons name), and the codes' words
    <build_id>/answers/                       every catalog item's ranked candidates (recsys.answers)

It is written into `<build_id>.part/` and renamed into place, so a reader sees a whole build or none:
the build before it serves until this one, answers included, is complete.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import numpy as np
from annoy import AnnoyIndex
from numpy.typing import NDArray

from .answers import Blending, LibraryPaths, Progress, write_answers
from .arrays import Embedding, KeyArray, new_array, positions_of
from .centring import CENTRE_MIN_ITEMS, centre_rows, population_mean
from .index_manifest import FORMAT_VERSION, MANIFEST_FILE, METRIC, IndexManifest
from .library_graph import LibraryGraph
from .nearest import ItemSearch
from .rank.policy import PER_PIECE, STORED_K, candidate_pool
from .slots import CATALOG, LIBRARY, POPULATIONS, SLOTS, check_population, check_slot
from .spill import RowSpill

MEANS_FILE: Final = "means.npz"
LABELS_FILE: Final = "labels.json"
PART_SUFFIX: Final = ".part"
# Rows centred at a time while feeding Annoy: bounds the extra memory of a 1M-item slot.
_CHUNK_ROWS: Final = 8192
_BUILD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def index_name(population: str, slot: str) -> str:
    return f"{population}__{slot}"


def compat_name(slot: str) -> str:
    """File of the catalog's compatibility vectors of one slot."""
    return f"{index_name('catalog', slot)}.compat.npy"


def count_name(population: str, slot: str) -> str:
    """The key of a (population, slot) in IndexManifest.counts."""
    return f"{population}/{slot}"


class IndexBuilder:
    """Collects embeddings of catalog and library items, then writes them as one build.

    Keys are database keys; a key may appear once per population (a catalog item and a library item
    may share a number). Embeddings are the raw ones the vision model produced; centring happens
    at write time, once the population means are known.
    """

    def __init__(
        self,
        model_spec: str,
        dim: int,
        *,
        centre_min_items: int = CENTRE_MIN_ITEMS,
        scratch: Path | None = None,
    ) -> None:
        if not model_spec:
            raise ValueError("model_spec is required: it keeps two models out of one index")
        if dim < 1:
            raise ValueError(f"dim must be positive, got {dim}")
        self.model_spec = model_spec
        self.dim = dim
        self.centre_min_items = centre_min_items
        # Embeddings stream to scratch files as they arrive: a 1M-item build holds none of them.
        self._scratch = tempfile.TemporaryDirectory(prefix="ctl-build-", dir=scratch)
        self._spills: dict[tuple[str, str], RowSpill] = {}
        self._keys_seen: dict[str, set[int]] = {population: set() for population in POPULATIONS}
        self._totals = {population: np.zeros(dim, dtype=np.float64) for population in POPULATIONS}
        self._compat_model = ""
        self._compat: RowSpill | None = None
        self._blending: Blending | None = None
        self._graph = LibraryGraph(np.zeros((0, 3), dtype=np.int64))
        self._progress: Progress | None = None
        self._label_codes: dict[str, int] = {"": 0}
        self._labelled: list[tuple[NDArray[np.int64], NDArray[np.uint16]]] = []

    def add_labels(self, labels: dict[int, str]) -> None:
        """A word per catalog item that serving reads with its answer (the predicted colour a reason
        names), stored as codes so a worker holds no per-item Python objects. One word per key."""
        keys = np.fromiter(labels.keys(), dtype=np.int64, count=len(labels))
        codes = np.fromiter(
            (self._label_codes.setdefault(word, len(self._label_codes)) for word in labels.values()),
            dtype=np.uint16,
            count=len(labels),
        )
        self._labelled.append((keys, codes))

    def set_library(self, graph: LibraryGraph) -> None:
        """The approved library outfits the build's answers are made from (none: no library paths)."""
        self._graph = graph

    def add_compat(
        self, model_id: str, keys: KeyArray, vectors: NDArray[np.float32], blending: Blending | None = None
    ) -> None:
        """The compatibility model's vectors of catalog items (recsys.compat.model.CompatScorer.embed),
        stored beside the catalog indexes so serving scores the whole catalog with one product.
        Items without one score 0 (a zero row); one model per build. With `blending` (the model's
        slot-pair subspaces and blend weights) the stored answers blend it with the library method."""
        if not model_id:
            raise ValueError("model_id is required: it names the compatibility model of the vectors")
        if self._compat_model and model_id != self._compat_model:
            raise ValueError(f"the build already holds vectors of {self._compat_model}, not {model_id}")
        rows = np.asarray(vectors, dtype=np.float32)
        if rows.ndim != 2 or len(rows) != len(keys):
            raise ValueError(f"expected {len(keys)} compatibility vectors, got shape {rows.shape}")
        if self._compat is not None and rows.shape[1] != self._compat.width:
            raise ValueError("compatibility vectors of one build must have one width")
        if not np.isfinite(rows).all():
            raise ValueError("compatibility vectors have non-finite values")
        self._compat_model = model_id
        self._blending = blending or self._blending
        if self._compat is None:
            self._compat = RowSpill(Path(self._scratch.name) / "compat.f32", rows.shape[1])
        self._compat.append(np.asarray(keys, dtype=np.int64).reshape(-1), rows)

    def add(self, population: str, slot: str, key: int, embedding: Embedding) -> None:
        if isinstance(key, bool) or not isinstance(key, int | np.integer):
            raise TypeError(f"key must be an integer database key, got {key!r}")
        rows = np.asarray(embedding)
        if rows.ndim != 1:
            raise ValueError(f"embedding of {population} item {key} must be 1-d, got shape {rows.shape}")
        self.add_many(population, slot, [int(key)], rows[np.newaxis, :])

    def add_many(
        self,
        population: str,
        slot: str,
        keys: Iterable[int] | KeyArray,
        embeddings: Embedding,
    ) -> None:
        """Add a block of items of one slot: one row of `embeddings` per key."""
        check_population(population)
        check_slot(slot)
        key_array = np.asarray(list(keys) if not isinstance(keys, np.ndarray) else keys)
        if key_array.size and not np.issubdtype(key_array.dtype, np.integer):
            raise TypeError(f"keys must be integer database keys, got dtype {key_array.dtype}")
        key_array = key_array.astype(np.int64).reshape(-1)
        rows = np.asarray(embeddings)
        if rows.ndim != 2 or rows.shape != (len(key_array), self.dim):
            raise ValueError(
                f"expected {len(key_array)} embeddings of dim {self.dim}, got shape {rows.shape}"
            )
        if not np.isfinite(rows).all():
            bad = key_array[~np.isfinite(rows).all(axis=1)]
            raise ValueError(f"{population} items {bad[:5].tolist()} have non-finite embeddings")
        self._claim_keys(population, key_array)
        if (population, slot) not in self._spills:
            path = Path(self._scratch.name) / f"{index_name(population, slot)}.f32"
            self._spills[population, slot] = RowSpill(path, self.dim)
        self._spills[population, slot].append(key_array, rows.astype(np.float32, copy=False))
        self._totals[population] += rows.sum(axis=0, dtype=np.float64)

    def _claim_keys(self, population: str, keys: NDArray[np.int64]) -> None:
        seen = self._keys_seen[population]
        batch = keys.tolist()
        if len(set(batch)) != len(batch) or not seen.isdisjoint(batch):
            repeats = Counter(batch)
            repeated = sorted(key for key, n in repeats.items() if n > 1 or key in seen)
            raise ValueError(f"{population} keys added twice: {repeated[:5]}")
        seen.update(batch)

    def count(self, population: str) -> int:
        return len(self._keys_seen[check_population(population)])

    def write(
        self,
        directory: Path,
        *,
        build_id: str,
        n_trees: int = 50,
        seed: int = 42,
        n_jobs: int = 1,
        progress: Progress | None = None,
    ) -> IndexManifest:
        """Write the build to `directory/<build_id>/`, atomically; returns its manifest. `progress`
        hears (pairs of slots answered, pairs in all) while the answers are worked out.

        `n_jobs=1` keeps a build reproducible from `seed`; Annoy's threaded build (`n_jobs=-1`) is
        faster but its trees depend on thread scheduling.
        """
        if not _BUILD_ID.fullmatch(build_id) or build_id.endswith(PART_SUFFIX):
            raise ValueError(f"build_id {build_id!r} must be a plain folder name (letters, digits, ._-)")
        if n_trees < 1:
            raise ValueError(f"n_trees must be positive, got {n_trees}")
        directory = Path(directory)
        final = directory / build_id
        if final.exists():
            raise FileExistsError(f"index build {build_id!r} already exists in {directory}")
        part = directory / f"{build_id}{PART_SUFFIX}"
        directory.mkdir(parents=True, exist_ok=True)
        if part.exists():  # left behind by a writer that died
            shutil.rmtree(part)
        part.mkdir()
        self._progress = progress
        try:
            manifest = self._write_files(part, build_id=build_id, n_trees=n_trees, seed=seed, n_jobs=n_jobs)
            os.replace(part, final)
        except BaseException:
            shutil.rmtree(part, ignore_errors=True)
            raise
        finally:
            self.close()
        return manifest

    def close(self) -> None:
        """Remove the scratch files (write does; a builder given up on should too)."""
        for spill in [*self._spills.values(), *([self._compat] if self._compat is not None else [])]:
            spill.close()
        self._scratch.cleanup()

    def _write_files(
        self, part: Path, *, build_id: str, n_trees: int, seed: int, n_jobs: int
    ) -> IndexManifest:
        means = {
            population: population_mean(
                self._totals[population], self.count(population), min_items=self.centre_min_items
            )
            for population in POPULATIONS
        }
        np.savez(part / MEANS_FILE, **means)
        counts: dict[str, int] = {}
        for population in POPULATIONS:
            for slot in SLOTS:
                spill = self._spills.get((population, slot))
                if spill is None or not len(spill):
                    continue
                keys = spill.keys()
                name = index_name(population, slot)
                np.save(part / f"{name}.keys.npy", keys)
                vectors = self._write_vectors(part / f"{name}.vectors.npy", spill.rows(), means[population])
                if population == CATALOG:  # the library is searched exactly: it is small
                    self._write_annoy(part / f"{name}.ann", vectors, n_trees, seed, n_jobs)
                counts[count_name(population, slot)] = len(keys)
                if population == CATALOG and self._compat is not None:
                    shape = (len(keys), self._compat.width)
                    compat = new_array(part / compat_name(slot), np.float32, shape, 0.0)
                    self._compat.rows_of(keys, out=compat)
                    compat.flush()
                    del compat
                del vectors
        self._graph.save(part)
        self._write_labels(part, counts)
        answers = self._write_matches_and_answers(part, counts)
        manifest = IndexManifest(
            format_version=FORMAT_VERSION,
            build_id=build_id,
            model_spec=self.model_spec,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            dim=self.dim,
            n_trees=n_trees,
            metric=METRIC,
            counts=counts,
            compat_model=self._compat_model,
            compat_dim=self._compat_width(),
            answers=answers,
            answers_method="blend" if self._compat is not None and self._blending else "library",
        )
        (part / MANIFEST_FILE).write_text(manifest.to_json())
        return manifest

    def _write_matches_and_answers(self, part: Path, counts: dict[str, int]) -> dict[str, int]:
        """Each library piece's nearest catalog items (exact), then every catalog item's answers."""

        def vectors(population: str) -> Callable[[str], tuple[NDArray[np.int64], NDArray[np.float32]]]:
            def read(slot: str) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
                if count_name(population, slot) not in counts:
                    return np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
                name = index_name(population, slot)
                return np.load(part / f"{name}.keys.npy"), np.load(
                    part / f"{name}.vectors.npy", mmap_mode="r"
                )

            return read

        library, catalog = vectors(LIBRARY), vectors(CATALOG)
        for slot in SLOTS:
            piece_keys, pieces = library(slot)
            catalog_keys, items = catalog(slot)
            if len(piece_keys):
                write_piece_matches(part, slot, pieces, catalog_keys, items)

        def piece_matches(slot: str) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
            return read_piece_matches(part, slot, len(library(slot)[0]))

        def compat(slot: str) -> NDArray[np.float32] | None:
            path = part / compat_name(slot)
            return np.load(path, mmap_mode="r") if path.is_file() else None

        paths = LibraryPaths(self._graph, library, lambda slot: catalog(slot)[0], piece_matches)
        return write_answers(
            part,
            paths=paths,
            catalog_vectors=catalog,
            compat_vectors=compat,
            blending=self._blending if self._compat is not None else None,
            pool=candidate_pool(STORED_K),
            progress=self._progress,
        )

    def _write_labels(self, part: Path, counts: dict[str, int]) -> None:
        words = sorted(self._label_codes, key=self._label_codes.__getitem__)
        (part / LABELS_FILE).write_text(json.dumps(words))
        labelled = (
            np.concatenate([keys for keys, _ in self._labelled]) if self._labelled else np.zeros(0, np.int64)
        )
        codes = np.concatenate([c for _, c in self._labelled]) if self._labelled else np.zeros(0, np.uint16)
        for slot in SLOTS:
            if count_name(CATALOG, slot) in counts:
                keys = np.load(part / f"{index_name(CATALOG, slot)}.keys.npy")
                at = positions_of(labelled, keys)
                found = np.zeros(len(keys), dtype=np.uint16)  # 0: "" (no word)
                found[at >= 0] = codes[at[at >= 0]]
                np.save(part / f"{index_name(CATALOG, slot)}.labels.npy", found)

    def _compat_width(self) -> int:
        return self._compat.width if self._compat is not None else 0

    def _write_vectors(
        self, path: Path, rows: NDArray[np.float32], mean: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """The centred unit vectors of one (population, slot), in the keys' order, straight to disk."""
        vectors = new_array(path, np.float32, rows.shape, 0.0)
        for start in range(0, len(rows), _CHUNK_ROWS):
            vectors[start : start + _CHUNK_ROWS] = centre_rows(
                np.asarray(rows[start : start + _CHUNK_ROWS]), mean
            )
        vectors.flush()
        return np.asarray(vectors)

    def _write_annoy(
        self, path: Path, vectors: NDArray[np.float32], n_trees: int, seed: int, n_jobs: int
    ) -> None:
        index = AnnoyIndex(self.dim, METRIC)
        # Built straight into the file: a 1M-item slot does not need a second copy in memory.
        index.on_disk_build(str(path))
        index.set_seed(seed)
        for start in range(0, len(vectors), _CHUNK_ROWS):
            for item, vector in enumerate(np.asarray(vectors[start : start + _CHUNK_ROWS]).tolist(), start):
                index.add_item(item, vector)
        index.build(n_trees, n_jobs=n_jobs)
        index.unload()


def write_piece_matches(
    part: Path,
    slot: str,
    pieces: NDArray[np.float32],
    catalog_keys: NDArray[np.int64],
    catalog: NDArray[np.float32],
) -> None:
    """Each library piece's PER_PIECE nearest catalog items of its slot, by exact search:
    positions in the catalog keys (-1 where the slot has fewer) and cosines."""
    matches = np.full((len(pieces), PER_PIECE), -1, dtype=np.int32)
    similarities = np.zeros((len(pieces), PER_PIECE), dtype=np.float32)
    search = ItemSearch(np.asarray(catalog), catalog_keys, exact_up_to=len(catalog_keys))  # exact
    for rows in search.batches(np.asarray(pieces)):
        found = search.best(np.asarray(pieces[rows]), PER_PIECE)
        matches[rows, : found.columns.shape[1]] = found.columns
        similarities[rows, : found.columns.shape[1]] = found.scores
    name = index_name(LIBRARY, slot)
    np.save(part / f"{name}.matches.npy", matches)
    np.save(part / f"{name}.match_similarities.npy", similarities)


def read_piece_matches(folder: Path, slot: str, count: int) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
    """What write_piece_matches stored (empty arrays for a slot without library pieces)."""
    name = index_name(LIBRARY, slot)
    path = folder / f"{name}.matches.npy"
    if not count or not path.is_file():
        return np.zeros((0, PER_PIECE), np.int32), np.zeros((0, PER_PIECE), np.float32)
    return np.load(path), np.load(folder / f"{name}.match_similarities.npy")


def remove_builds(directory: Path, *, keep: Collection[str], part_grace_seconds: float = 3600.0) -> list[str]:
    """Delete build folders in `directory` whose build id is not in `keep`; returns their names.

    Only folders that hold a manifest (finished builds) or end in `.part` (unfinished ones) are
    touched. A `.part` changed within `part_grace_seconds` is left alone: another process may be
    writing it. A reader that still has a removed build open keeps working: its files are mmapped,
    and an unlinked file lives until the last map of it goes.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed: list[str] = []
    now = time.time()
    for entry in sorted(directory.iterdir()):
        if entry.is_symlink() or not entry.is_dir():
            continue
        if entry.name.endswith(PART_SUFFIX):
            if now - _last_change(entry) < part_grace_seconds:
                continue
        elif entry.name in keep or not (entry / MANIFEST_FILE).is_file():
            continue
        shutil.rmtree(entry)
        removed.append(entry.name)
    return removed


def _last_change(folder: Path) -> float:
    # Annoy writes one big file for minutes without touching the folder, so look at the files too.
    times = [folder.stat().st_mtime]
    times.extend(child.stat().st_mtime for child in folder.iterdir())
    return max(times)
