from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from recsys.index import (
    FORMAT_VERSION,
    IndexBuilder,
    IndexManifest,
    IndexNotFound,
    IndexSet,
    ManifestMismatch,
    remove_builds,
)
from recsys.index_build import PART_SUFFIX
from tests.recsys.worlds import DIM, MODEL_SPEC, Item, build, random_units


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _population(rng: np.random.Generator, population: str, slot: str, first_key: int, n: int) -> list[Item]:
    return [(population, slot, first_key + i, row) for i, row in enumerate(random_units(rng, n))]


def test_build_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    catalog_tops = _population(rng, "catalog", "top", 100, 20)
    items = (
        catalog_tops
        + _population(rng, "catalog", "bottom", 200, 15)
        + _population(rng, "library", "top", 100, 12)
    )

    index = build(tmp_path, items)

    manifest = index.manifest
    assert manifest.format_version == FORMAT_VERSION
    assert (manifest.build_id, manifest.model_spec, manifest.dim, manifest.metric) == (
        "b1",
        MODEL_SPEC,
        DIM,
        "angular",
    )
    assert manifest.counts == {"catalog/top": 20, "catalog/bottom": 15, "library/top": 12}
    assert manifest.created_at.endswith("+00:00")
    assert index.slots("catalog") == ("top", "bottom")
    assert index.slots("library") == ("top",)
    assert index.count("catalog", "bottom") == 15 and index.count("library", "bottom") == 0
    assert ("library", "top") in index and ("library", "bottom") not in index
    assert sorted(index.keys("catalog", "top").tolist()) == list(range(100, 120))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b1"]

    _, _, key, embedding = catalog_tops[3]
    best = index.nearest("catalog", "top", embedding, 1)[0]
    assert best.key == key and best.similarity == pytest.approx(1.0, abs=1e-5)
    stored = index.vector("catalog", "top", key)
    assert stored is not None
    np.testing.assert_allclose(stored, index.center("catalog", embedding), atol=1e-6)
    assert index.vector("catalog", "top", 999) is None
    assert index.vector("catalog", "dress", key) is None


def test_similarity_is_cosine_of_centred_vectors(tmp_path: Path, rng: np.random.Generator) -> None:
    items = _population(rng, "catalog", "top", 0, 30)
    index = build(tmp_path, items)
    query = items[0][3]

    found = index.nearest("catalog", "top", query, 5)

    centred_query = index.center("catalog", query)
    for neighbour in found:
        stored = index.vector("catalog", "top", neighbour.key)
        assert stored is not None
        assert neighbour.similarity == pytest.approx(float(centred_query @ stored), abs=1e-5)
    assert [n.similarity for n in found] == sorted((n.similarity for n in found), reverse=True)


def test_manifest_json_round_trip() -> None:
    manifest = IndexManifest(
        format_version=1,
        build_id="b9",
        model_spec="m@1",
        created_at="2025-01-01T00:00:00+00:00",
        dim=8,
        n_trees=5,
        metric="angular",
        counts={"catalog/top": 3},
    )
    assert IndexManifest.from_json(manifest.to_json()) == manifest
    with pytest.raises(ValueError, match="dim"):
        IndexManifest.from_json(manifest.to_json().replace('"dim": 8', '"dim": "8"'))


def test_load_refuses_another_model_spec(tmp_path: Path, rng: np.random.Generator) -> None:
    build(tmp_path, _population(rng, "catalog", "top", 0, 3))

    with pytest.raises(
        ManifestMismatch, match=r"expected model spec 'other@v2', found 'test-model@v1'.*rebuild"
    ):
        IndexSet.load(tmp_path / "b1", expect_model_spec="other@v2")


def test_load_refuses_another_format_version(tmp_path: Path, rng: np.random.Generator) -> None:
    build(tmp_path, _population(rng, "catalog", "top", 0, 3))
    manifest_path = tmp_path / "b1" / "manifest.json"
    data = json.loads(manifest_path.read_text())
    data["format_version"] = FORMAT_VERSION + 1
    manifest_path.write_text(json.dumps(data))

    with pytest.raises(
        ManifestMismatch,
        match=f"expected format version {FORMAT_VERSION}, found {FORMAT_VERSION + 1}; rebuild the index",
    ):
        IndexSet.load(tmp_path / "b1")


def test_missing_build_or_file_raises_index_not_found(tmp_path: Path, rng: np.random.Generator) -> None:
    with pytest.raises(IndexNotFound):
        IndexSet.load(tmp_path / "nothing-here")
    build(tmp_path, _population(rng, "catalog", "top", 0, 3))
    (tmp_path / "b1" / "catalog__top.ann").unlink()

    with pytest.raises(IndexNotFound, match=r"catalog__top\.ann"):
        IndexSet.load(tmp_path / "b1")


def test_failed_write_leaves_no_build_folder(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = IndexBuilder(MODEL_SPEC, DIM)
    for population, slot, key, embedding in _population(rng, "catalog", "top", 0, 5) + _population(
        rng, "library", "top", 0, 5
    ):
        builder.add(population, slot, key, embedding)
    seen_while_writing: list[list[str]] = []

    def write_then_fail(self: IndexBuilder, *args: object, **kwargs: object) -> None:
        seen_while_writing.append(sorted(p.name for p in tmp_path.iterdir()))
        raise OSError("disk full")

    monkeypatch.setattr(IndexBuilder, "_write_annoy", write_then_fail)

    with pytest.raises(OSError, match="disk full"):
        builder.write(tmp_path, build_id="b1")

    assert seen_while_writing == [["b1.part"]]
    assert list(tmp_path.iterdir()) == []


def test_write_replaces_a_part_left_by_a_dead_writer(tmp_path: Path, rng: np.random.Generator) -> None:
    (tmp_path / "b1.part").mkdir()
    (tmp_path / "b1.part" / "junk.ann").write_text("half a build")

    index = build(tmp_path, _population(rng, "catalog", "top", 0, 3))

    assert index.count("catalog", "top") == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b1"]


def test_write_refuses_an_existing_build_id(tmp_path: Path, rng: np.random.Generator) -> None:
    build(tmp_path, _population(rng, "catalog", "top", 0, 3))
    with pytest.raises(FileExistsError):
        IndexBuilder(MODEL_SPEC, DIM).write(tmp_path, build_id="b1")


def test_empty_build_loads_and_finds_nothing(tmp_path: Path) -> None:
    manifest = IndexBuilder(MODEL_SPEC, DIM).write(tmp_path, build_id="empty")

    index = IndexSet.load(tmp_path / "empty")

    assert manifest.counts == {} and index.manifest == manifest
    assert index.slots("catalog") == () and index.slots("library") == ()
    assert index.nearest("catalog", "top", random_units(np.random.default_rng(0), 1)[0], 5) == []


def test_builder_rejects_bad_items() -> None:
    builder = IndexBuilder(MODEL_SPEC, DIM)
    good = random_units(np.random.default_rng(0), 1)[0]
    builder.add("catalog", "top", 1, good)
    builder.add("library", "top", 1, good)  # the same key in the other population is another item

    with pytest.raises(ValueError, match="population"):
        builder.add("shop", "top", 2, good)
    with pytest.raises(ValueError, match="slot"):
        builder.add("catalog", "hat", 2, good)
    with pytest.raises(ValueError, match="dim"):
        builder.add("catalog", "top", 2, good[:-1])
    with pytest.raises(ValueError, match="non-finite"):
        builder.add("catalog", "top", 2, np.full(DIM, np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match=r"added twice: \[1\]"):
        builder.add("catalog", "bottom", 1, good)
    with pytest.raises(ValueError, match=r"added twice: \[5\]"):
        builder.add_many("catalog", "top", [5, 5], np.stack([good, good]))
    with pytest.raises(ValueError, match="build_id"):
        builder.write(Path("/nonexistent"), build_id="../escape")
    assert builder.count("catalog") == 1


def test_exclude_still_returns_k(tmp_path: Path, rng: np.random.Generator) -> None:
    items = _population(rng, "catalog", "top", 0, 60)
    index = build(tmp_path, items)
    query = items[0][3]
    first = [n.key for n in index.nearest("catalog", "top", query, 8)]

    found = index.nearest("catalog", "top", query, 8, exclude={*first[:5], 12345})

    assert len(found) == 8
    assert not {n.key for n in found} & set(first[:5])
    assert [n.key for n in found][:3] == first[5:]


def test_k_larger_than_the_index_returns_everything_left(tmp_path: Path, rng: np.random.Generator) -> None:
    index = build(tmp_path, _population(rng, "catalog", "top", 0, 4))

    found = index.nearest("catalog", "top", random_units(rng, 1)[0], 10, exclude=[0])

    assert sorted(n.key for n in found) == [1, 2, 3]


def test_unknown_slot_finds_nothing(tmp_path: Path, rng: np.random.Generator) -> None:
    index = build(tmp_path, _population(rng, "catalog", "top", 0, 4))
    assert index.nearest("catalog", "shoes", random_units(rng, 1)[0], 3) == []


def test_a_constant_offset_on_a_population_changes_no_match(tmp_path: Path, rng: np.random.Generator) -> None:
    # A shop that photographs everything on a grey background: the same garments, shifted.
    catalog = random_units(rng, 40)
    library = random_units(rng, 30)
    offset = (3.0 * random_units(rng, 1)[0]).astype(np.float32)

    def world(catalog_rows: NDArray[np.float32], build_id: str) -> IndexSet:
        items = [("catalog", "bottom", 100 + i, row) for i, row in enumerate(catalog_rows)]
        items += [("library", "bottom", 500 + i, row) for i, row in enumerate(library)]
        return build(tmp_path, items, build_id=build_id, centre_min_items=10)

    plain, shifted = world(catalog, "plain"), world(catalog + offset, "shifted")

    everything = 40  # ask for the whole index so Annoy's approximation cannot differ between builds
    for i in range(0, 40, 7):
        before = plain.nearest("catalog", "bottom", catalog[i], everything)
        after = shifted.nearest("catalog", "bottom", catalog[i] + offset, everything)
        assert [n.key for n in after[:5]] == [n.key for n in before[:5]]
        np.testing.assert_allclose([n.similarity for n in after], [n.similarity for n in before], atol=1e-4)
    for key in range(500, 530, 6):  # a library piece looking for catalog items: the cross-population match
        plain_vector, shifted_vector = (
            plain.vector("library", "bottom", key),
            shifted.vector("library", "bottom", key),
        )
        assert plain_vector is not None and shifted_vector is not None
        before = plain.nearest("catalog", "bottom", plain_vector, everything, centred=True)
        after = shifted.nearest("catalog", "bottom", shifted_vector, everything, centred=True)
        assert [n.key for n in after[:5]] == [n.key for n in before[:5]]


def test_a_small_population_is_not_centred(tmp_path: Path, rng: np.random.Generator) -> None:
    items = _population(rng, "catalog", "top", 0, 3)
    raw = (items[0][3] * 2).astype(np.float32)

    index = build(tmp_path, items, centre_min_items=10)

    np.testing.assert_allclose(index.center("catalog", raw), items[0][3], atol=1e-6)


def test_remove_builds_keeps_the_kept_and_fresh_parts(tmp_path: Path, rng: np.random.Generator) -> None:
    for build_id in ("b1", "b2", "b3"):
        build(tmp_path, _population(rng, "catalog", "top", 0, 3), build_id=build_id)
    stale, fresh, other = tmp_path / f"b4{PART_SUFFIX}", tmp_path / f"b5{PART_SUFFIX}", tmp_path / "notes"
    for folder in (stale, fresh, other):
        folder.mkdir()
    (stale / "catalog__top.ann").write_text("")
    two_hours_ago = time.time() - 7200
    os.utime(stale / "catalog__top.ann", (two_hours_ago, two_hours_ago))
    os.utime(stale, (two_hours_ago, two_hours_ago))

    removed = remove_builds(tmp_path, keep={"b3"})

    assert removed == ["b1", "b2", f"b4{PART_SUFFIX}"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b3", f"b5{PART_SUFFIX}", "notes"]
    assert remove_builds(tmp_path / "missing", keep=()) == []


def test_piece_matches_are_found_exactly_when_the_build_is_made(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    items = _population(rng, "catalog", "bottom", 100, 50) + _population(rng, "library", "bottom", 500, 5)
    index = build(tmp_path, items)
    found = index.piece_matches("bottom", 500, 4)
    assert found is not None
    keys, similarities = found
    vector = index.vector("library", "bottom", 500)
    catalog = index.vectors("catalog", "bottom")
    assert vector is not None and catalog is not None
    exact = np.argsort(-(catalog @ vector))[:4]
    np.testing.assert_array_equal(keys, index.keys("catalog", "bottom")[exact])
    np.testing.assert_allclose(similarities, (catalog @ vector)[exact], rtol=1e-5)
    assert index.piece_matches("bottom", 999, 4) is None  # not a library piece of this build
    assert index.piece_matches("top", 500, 4) is None


def test_a_build_keeps_the_compat_vectors_of_its_catalog(tmp_path: Path, rng: np.random.Generator) -> None:
    items = _population(rng, "catalog", "top", 100, 6) + _population(rng, "library", "top", 100, 4)
    builder = IndexBuilder(MODEL_SPEC, DIM, centre_min_items=1)
    for population, slot, key, embedding in items:
        builder.add(population, slot, key, embedding)
    compat = rng.standard_normal((5, 3)).astype(np.float32)
    builder.add_compat("compat-1", np.arange(100, 105), compat)  # item 105 has none: a zero row
    builder.write(tmp_path, build_id="b1", n_trees=5)
    index = IndexSet.load(tmp_path / "b1")

    assert (index.compat_model, index.manifest.compat_dim) == ("compat-1", 3)
    np.testing.assert_allclose(index.compat_vector("top", 102), compat[2])  # type: ignore[arg-type]
    assert index.compat_vector("top", 105).tolist() == [0.0, 0.0, 0.0]  # type: ignore[union-attr]
    assert index.compat_vector("top", 999) is None and index.compat_vectors("bottom") is None
    rows = index.compat_vectors("top")
    assert rows is not None and rows.shape == (6, 3)
    np.testing.assert_allclose(rows[list(index.keys("catalog", "top")).index(101)], compat[1])


def test_a_build_without_a_compat_model_reads_as_none(tmp_path: Path, rng: np.random.Generator) -> None:
    index = build(tmp_path, _population(rng, "catalog", "top", 1, 3))
    assert index.compat_model == "" and index.compat_vectors("top") is None
    older = json.loads((tmp_path / "b1" / "manifest.json").read_text())
    del older["compat_model"], older["compat_dim"]  # a build written before the field existed
    assert IndexManifest.from_json(json.dumps(older)).compat_model == ""


def test_compat_vectors_must_fit_the_build(tmp_path: Path, rng: np.random.Generator) -> None:
    builder = IndexBuilder(MODEL_SPEC, DIM)
    with pytest.raises(ValueError, match="expected 2 compatibility vectors"):
        builder.add_compat("m", np.arange(2), np.zeros((3, 4), np.float32))
    builder.add_compat("m", np.arange(2), np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="already holds vectors of m"):
        builder.add_compat("other", np.arange(2), np.zeros((2, 4), np.float32))
    items = _population(rng, "catalog", "top", 0, 3)
    for population, slot, key, embedding in items:
        builder.add(population, slot, key, embedding)
    builder.write(tmp_path, build_id="b1", n_trees=2)
    np.save(tmp_path / "b1" / "catalog__top.compat.npy", np.zeros((2, 4), np.float32))  # damaged
    with pytest.raises(ManifestMismatch, match="compatibility vectors"):
        IndexSet.load(tmp_path / "b1")


def test_a_build_streams_its_rows_through_scratch_files_it_removes(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    builder = IndexBuilder(MODEL_SPEC, DIM, centre_min_items=1, scratch=scratch)
    rows = random_units(rng, 9)
    keys = np.array([30, 10, 20, 60, 40, 50, 90, 70, 80])
    for start in (0, 3, 6):  # blocks as a database cursor hands them over
        builder.add_many("catalog", "top", keys[start : start + 3], rows[start : start + 3])
    compat = rng.standard_normal((9, 3)).astype(np.float32)
    builder.add_compat("compat-1", keys[5:], compat[5:])  # compat blocks in another order
    builder.add_compat("compat-1", keys[:4], compat[:4])  # and key 40 (row 4) never gets one
    builder.add_labels({30: "navy", 10: "camel"})
    builder.add_labels({90: "navy"})
    assert len(list(scratch.iterdir())) == 1  # the spill folder, while collecting

    builder.write(tmp_path / "builds", build_id="b1", n_trees=3)

    assert list(scratch.iterdir()) == []
    index = IndexSet.load(tmp_path / "builds" / "b1")
    assert index.keys("catalog", "top").tolist() == keys.tolist()  # the order they came in
    for row, key in enumerate(keys.tolist()):
        stored = index.vector("catalog", "top", key)
        assert stored is not None
        np.testing.assert_allclose(stored, index.center("catalog", rows[row]), atol=1e-6)
        expected = np.zeros(3, np.float32) if key == 40 else compat[row]
        np.testing.assert_allclose(index.compat_vector("top", key), expected)  # type: ignore[arg-type]
    words = json.loads((tmp_path / "builds" / "b1" / "labels.json").read_text())
    codes = np.load(tmp_path / "builds" / "b1" / "catalog__top.labels.npy")
    assert [words[code] for code in codes] == ["navy", "camel", "", "", "", "", "navy", "", ""]
