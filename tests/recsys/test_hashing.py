from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from recsys.centring import centre_rows
from recsys.hashing import HashIndex, ItqCoder, default_shortlist, hamming_distances

DIM = 64
BITS = 32


def clustered_units(rng: np.random.Generator, n: int, *, clusters: int = 40) -> NDArray[np.float32]:
    """Centred unit vectors in `clusters` overlapping groups, with a decaying spectrum like embeddings.

    Spread as wide as the centres: the 10th neighbour of a point has cosine ~0.6, so Hamming order
    alone gets only ~60% of the top 10 from a short list of 20 and the exact re-rank matters.
    """
    centres = rng.standard_normal((clusters, DIM))
    rows = centres[rng.integers(clusters, size=n)] + rng.standard_normal((n, DIM))
    rows *= np.linspace(1.0, 0.2, DIM)  # some directions matter more: PCA has something to find
    return centre_rows(rows.astype(np.float32), rows.mean(axis=0).astype(np.float32))


def exact_top(vectors: NDArray[np.float32], queries: NDArray[np.float32], k: int) -> NDArray[np.intp]:
    return np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :k]


@pytest.fixture(scope="module")
def world() -> NDArray[np.float32]:
    return clustered_units(np.random.default_rng(3), 2050)


@pytest.fixture(scope="module")
def items(world: NDArray[np.float32]) -> NDArray[np.float32]:
    return world[:2000]


@pytest.fixture(scope="module")
def queries(world: NDArray[np.float32]) -> NDArray[np.float32]:
    """Held out: not in the index, from the same clusters."""
    return world[2000:]


@pytest.fixture(scope="module")
def index(items: NDArray[np.float32]) -> HashIndex:
    # Keys unlike positions, so a test would catch a position returned as a key.
    return HashIndex.build(items, np.arange(len(items)) * 10 + 7, bits=BITS, seed=0)


def test_codes_are_deterministic_for_a_seed(items: NDArray[np.float32]) -> None:
    first = ItqCoder.fit(items, bits=BITS, seed=5, max_fit_rows=1000)
    second = ItqCoder.fit(items, bits=BITS, seed=5, max_fit_rows=1000)
    other = ItqCoder.fit(items, bits=BITS, seed=6, max_fit_rows=1000)

    codes = first.encode(items)
    assert codes.dtype == np.uint8 and codes.shape == (len(items), BITS // 8)
    assert np.array_equal(codes, second.encode(items))
    assert np.array_equal(first.rotation, second.rotation)
    assert not np.array_equal(first.rotation, other.rotation)


def test_itq_rotation_is_orthogonal_and_lowers_quantization_loss(items: NDArray[np.float32]) -> None:
    # Same seed, same starting rotation: the only difference is the 50 alternating steps.
    start = ItqCoder.fit(items, bits=BITS, iterations=0, seed=1)
    learned = ItqCoder.fit(items, bits=BITS, iterations=50, seed=1)

    rotation = learned.rotation.astype(np.float64)
    assert np.allclose(rotation @ rotation.T, np.eye(BITS), atol=1e-5)
    assert learned.quantization_loss(items) < 0.9 * start.quantization_loss(items)


def test_bits_are_balanced(index: HashIndex) -> None:
    # Zero-mean PCA projections: every bit is set for roughly half the items.
    share_set = np.unpackbits(index.codes, axis=1).mean(axis=0)
    assert share_set.min() > 0.2 and share_set.max() < 0.8


@pytest.mark.parametrize("bits", [24, 64, 72])  # under, exactly and over one 64-bit word
def test_hamming_distance_counts_differing_bits(bits: int) -> None:
    rng = np.random.default_rng(bits)
    codes = rng.integers(0, 256, size=(300, bits // 8), dtype=np.uint8)

    distances = hamming_distances(codes, codes[17])

    naive = (np.unpackbits(codes, axis=1) != np.unpackbits(codes[17])).sum(axis=1)
    assert distances[17] == 0
    assert np.array_equal(distances, naive)


def test_hamming_distance_of_a_vector_to_itself_is_zero(index: HashIndex, items: NDArray[np.float32]) -> None:
    codes = index.coder.encode(items[:5])

    for row, code in enumerate(codes):
        assert hamming_distances(codes, code)[row] == 0
        assert hamming_distances(index.codes, code)[row] == 0


def test_recall_at_10_against_exact_search_is_high_on_clustered_data(
    index: HashIndex, items: NDArray[np.float32], queries: NDArray[np.float32]
) -> None:
    exact = index.keys[exact_top(items, queries, 10)]

    def recall(shortlist: int) -> float:
        found, _ = index.search_many(queries, 10, shortlist=shortlist)
        return float(np.mean([len(np.intersect1d(f, e)) / 10 for f, e in zip(found, exact, strict=True)]))

    assert recall(400) >= 0.9
    assert recall(20) < 0.8  # not a trivial world: Hamming order alone is far from exact


def test_search_returns_exact_cosines_in_descending_order(
    index: HashIndex, items: NDArray[np.float32], queries: NDArray[np.float32]
) -> None:
    query = 3.0 * queries[0]  # any length: the cosine does not depend on it

    keys, similarities = index.search(query, 10)

    positions = (keys - 7) // 10
    assert similarities.dtype == np.float32 and len(keys) == 10
    assert np.allclose(similarities, items[positions] @ queries[0], atol=1e-6)
    assert np.all(np.diff(similarities) <= 0)


def test_whole_index_as_shortlist_is_exact_search(
    index: HashIndex, items: NDArray[np.float32], queries: NDArray[np.float32]
) -> None:
    keys, _ = index.search(queries[1], 10, shortlist=len(items))

    assert np.array_equal(keys, index.keys[exact_top(items, queries[1:2], 10)[0]])


def test_shortlist_is_the_items_nearest_in_hamming_distance(
    index: HashIndex, queries: NDArray[np.float32]
) -> None:
    distances = hamming_distances(index.codes, index.coder.encode(queries[:1])[0])
    cut_off = np.sort(distances)[99]

    # k = shortlist: every item of the short list comes back, re-ranked.
    keys, _ = index.search(queries[0], 100, shortlist=100)

    positions = (keys - 7) // 10
    assert len(set(positions.tolist())) == 100
    assert distances[positions].max() == cut_off
    assert set(np.flatnonzero(distances < cut_off).tolist()) <= set(positions.tolist())


def test_search_many_gives_the_answers_of_search(index: HashIndex, queries: NDArray[np.float32]) -> None:
    keys, similarities = index.search_many(queries[:8], 5, shortlist=60)

    assert keys.shape == similarities.shape == (8, 5)
    for row, query in enumerate(queries[:8]):
        one_keys, one_similarities = index.search(query, 5, shortlist=60)
        assert np.array_equal(keys[row], one_keys)
        assert np.array_equal(similarities[row], one_similarities)


def test_k_beyond_the_index_returns_every_item(items: NDArray[np.float32]) -> None:
    small = HashIndex.build(items[:40], np.arange(40), bits=BITS)

    keys, similarities = small.search(items[0], 100, shortlist=100)

    assert sorted(keys.tolist()) == list(range(40))
    assert keys[0] == 0 and similarities[0] == pytest.approx(1.0, abs=1e-6)


def test_default_shortlist_is_twenty_per_result_and_at_least_200() -> None:
    assert default_shortlist(1) == 200
    assert default_shortlist(50) == 1000


def test_save_and_load_round_trip(tmp_path: Path, index: HashIndex, queries: NDArray[np.float32]) -> None:
    path = tmp_path / "top.hash.npz"

    index.save(path)
    loaded = HashIndex.load(path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["top.hash.npz"]
    assert np.array_equal(loaded.codes, index.codes) and np.array_equal(loaded.keys, index.keys)
    keys, similarities = loaded.search(queries[2], 10)
    want_keys, want_similarities = index.search(queries[2], 10)
    assert np.array_equal(keys, want_keys) and np.array_equal(similarities, want_similarities)


def test_load_rejects_another_format(tmp_path: Path, index: HashIndex) -> None:
    path = tmp_path / "coder.npz"
    arrays = index.coder.arrays()
    arrays["format_version"] = np.asarray(99)
    with path.open("wb") as handle:
        np.savez(handle, **arrays)

    with pytest.raises(ValueError, match="format 99"):
        ItqCoder.load(path)


def test_index_leaves_the_callers_arrays_writeable(items: NDArray[np.float32]) -> None:
    vectors = items[:300].copy()

    built = HashIndex.build(vectors, np.arange(300), bits=BITS)

    assert vectors.flags.writeable and not built.vectors.flags.writeable


@pytest.mark.parametrize(
    ("bits", "message"),
    [
        (12, "multiple of 8"),
        (0, "multiple of 8"),
        (DIM + 8, "cannot exceed the embedding dim"),
    ],
)
def test_fit_rejects_bad_bits(items: NDArray[np.float32], bits: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ItqCoder.fit(items, bits=bits)


def test_fit_rejects_too_few_vectors(items: NDArray[np.float32]) -> None:
    with pytest.raises(ValueError, match="need at least 32 vectors"):
        ItqCoder.fit(items[:20], bits=BITS)


def test_fit_rejects_non_finite_vectors(items: NDArray[np.float32]) -> None:
    broken = items[:100].copy()
    broken[3, 5] = np.nan

    with pytest.raises(ValueError, match="non-finite"):
        ItqCoder.fit(broken, bits=BITS)


def test_search_rejects_a_query_of_the_wrong_dim(index: HashIndex) -> None:
    with pytest.raises(ValueError, match=r"expected a query of shape \(64,\)"):
        index.search(np.zeros(DIM + 1, dtype=np.float32), 5)
    with pytest.raises(ValueError, match=r"expected queries of shape \(n, 64\)"):
        index.search_many(np.zeros((2, DIM - 1), dtype=np.float32), 5)


@pytest.mark.parametrize(
    ("k", "shortlist", "message"), [(0, None, "k must be at least 1"), (10, 5, "at least k")]
)
def test_search_rejects_bad_k_and_shortlist(
    index: HashIndex, queries: NDArray[np.float32], k: int, shortlist: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        index.search(queries[0], k, shortlist=shortlist)
    with pytest.raises(ValueError, match=message):
        index.search_many(queries[:2], k, shortlist=shortlist)


def test_index_rejects_vectors_that_are_not_unit_length(index: HashIndex, items: NDArray[np.float32]) -> None:
    with pytest.raises(ValueError, match="centred unit vectors"):
        HashIndex(index.coder, index.codes, items * 2.0, index.keys)


def test_index_rejects_codes_of_another_coder(index: HashIndex, items: NDArray[np.float32]) -> None:
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        HashIndex(index.coder, np.zeros((len(items), 8), dtype=np.uint8), items, index.keys)
    with pytest.raises(ValueError, match="one row per item"):
        HashIndex(index.coder, index.codes[:10], items, index.keys)
