"""Answers worked out by the build are the answers the live path gives, for every catalog item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from recsys import nearest
from recsys.answers import ANSWER_DEPTH, SIMILAR_DEPTH, Blending
from recsys.index import IndexBuilder, IndexSet
from recsys.library_graph import LibraryGraph
from recsys.rank.blend import BlendWeights
from recsys.rank.complete import CompatScores, Evidence, Method, SlotAnswer, finish_slot, rank_slot
from recsys.rank.filters import CatalogFacts, ShopFilters
from recsys.rank.policy import COMPLEMENTS, EVERY_PATH, STORED_K, candidate_pool
from recsys.rank.reasons import MAX_OUTFITS
from recsys.suggest import complete_the_look
from tests.recsys.worlds import DIM, MODEL_SPEC, random_units

SLOTS = ("top", "bottom", "shoes")
COMPAT_WIDTH = 6
WEIGHTS = BlendWeights(compat=1.0, library=2.0, reached=0.5)


class World:
    """A random catalog and library with outfits, a compatibility model's vectors and pair weights."""

    def __init__(self, tmp_path: Path, *, blend: bool, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        builder = IndexBuilder(MODEL_SPEC, DIM, centre_min_items=1)
        self.raw: dict[int, tuple[str, NDArray[np.float32]]] = {}
        key = 1
        for slot, n in zip(SLOTS, (40, 150, 30), strict=True):  # more bottoms than a stored answer holds
            for vector in random_units(rng, n):
                builder.add("catalog", slot, key, vector)
                self.raw[key] = (slot, vector)
                key += 1
        pieces = []
        for outfit in range(500, 540):
            for slot in SLOTS:
                builder.add("library", slot, key, random_units(rng, 1)[0])
                pieces.append((outfit, key, slot))
                key += 1
        # Outfit 540 holds two tops: a query reaching both counts the outfit once, through the best.
        pieces += [(540, pieces[0][1], "top"), (540, pieces[3][1], "top"), (540, pieces[1][1], "bottom")]
        builder.set_library(LibraryGraph.from_pieces(pieces))
        self.pair = {
            (a, b): rng.uniform(-1, 1, COMPAT_WIDTH).astype(np.float32) for a in SLOTS for b in SLOTS
        }
        self.compat = {k: rng.standard_normal(COMPAT_WIDTH).astype(np.float32) for k in self.raw}
        if blend:
            keys = np.fromiter(self.compat, dtype=np.int64)
            builder.add_compat(
                "compat-1",
                keys,
                np.stack([self.compat[k] for k in keys.tolist()]),
                Blending(lambda a, b: self.pair[(a, b)], WEIGHTS),
            )
        builder.write(tmp_path, build_id="b1", n_trees=5)
        self.index = IndexSet.load(tmp_path / "b1")
        self.method = Method.BLEND if blend else Method.LIBRARY

    def live(self, key: int, wanted: str) -> SlotAnswer:
        slot, vector = self.raw[key]
        pool = candidate_pool(STORED_K)
        library = complete_the_look(
            self.index,
            queries=[(vector, slot)],
            wanted_slot=wanted,
            outfits_for=self.index.graph.pieces_for,
            k=EVERY_PATH,
            exclude_catalog=[key],
        )
        keys = self.index.keys("catalog", wanted)
        compat = CompatScores(
            keys,
            np.stack([self.compat[k] for k in keys.tolist()])
            @ (self.compat[key] * self.pair[(slot, wanted)]),
        )
        return rank_slot(
            method=self.method,
            library=library,
            compat=compat if self.method is Method.BLEND else None,
            blend=WEIGHTS,
            exclude=[key],
            pool=pool,
            **self._options(wanted),
        )

    def stored(self, key: int, wanted: str) -> SlotAnswer | None:
        slot, _ = self.raw[key]
        row = self.index.row_of("catalog", slot, key)
        assert row is not None
        stored = self.index.answers.candidates(slot, wanted, row)
        assert stored is not None
        relevance = stored.relevance(WEIGHTS if self.method is Method.BLEND else None)
        order = np.lexsort((self.index.keys("catalog", wanted)[stored.positions], -relevance))
        positions, relevance = stored.positions[order], relevance[order]
        keys = self.index.keys("catalog", wanted)[positions]
        vectors = self.index.vectors("catalog", slot)
        assert vectors is not None
        weights = self.index.paths.outfit_weights(slot, np.asarray(vectors[row : row + 1]))
        position_of = dict(zip(keys.tolist(), positions.tolist(), strict=True))

        def support(picked: list[int]) -> dict[int, tuple[int, ...]]:
            found = self.index.paths.support(
                weights, wanted, np.asarray([position_of[k] for k in picked]), MAX_OUTFITS
            )
            return dict(zip(picked, found, strict=True))

        return finish_slot(
            ranked=keys.tolist(),
            relevance=relevance.tolist(),
            support=support,  # type: ignore[arg-type]
            complete=len(keys) < ANSWER_DEPTH,
            **self._options(wanted),
        )

    def _options(self, wanted: str) -> dict[str, Any]:
        facts = {k: CatalogFacts(key=k, type_name=f"type-{k % 3}") for k in self.raw}
        return {
            "slot": wanted,
            "k": STORED_K,
            "facts": facts,
            "filters": ShopFilters(),
            "vectors": lambda keys: np.stack([self.compat[k] for k in keys]),
            "diversity": 0.3,
            "evidence": Evidence(pairs=None, query_values=(), candidate_value=lambda k: ""),
        }


def _same(stored: SlotAnswer | None, live: SlotAnswer) -> None:
    assert stored is not None
    assert [r.catalog_item for r in stored.rows] == [r.catalog_item for r in live.rows]
    np.testing.assert_allclose([r.score for r in stored.rows], [r.score for r in live.rows], rtol=1e-5)
    assert [r.reason.outfits for r in stored.rows] == [r.reason.outfits for r in live.rows]


@pytest.mark.parametrize("blend", [True, False], ids=["blend", "library"])
def test_every_stored_answer_is_the_live_answer(tmp_path: Path, blend: bool) -> None:
    world = World(tmp_path, blend=blend)
    assert world.index.manifest.answers_method == world.method.value
    compared = 0
    for key, (slot, _) in world.raw.items():
        for wanted in COMPLEMENTS[slot]:
            if wanted in SLOTS:
                _same(world.stored(key, wanted), world.live(key, wanted))
                compared += 1
    assert compared == 40 * 2 + 150 * 2 + 30 * 2
    assert world.index.manifest.answers == {
        "top/bottom": 40, "top/shoes": 40, "bottom/top": 150, "bottom/shoes": 150,
        "shoes/top": 30, "shoes/bottom": 30,
    }  # fmt: skip


def test_answers_are_stored_as_deep_as_the_depth_and_ranked(tmp_path: Path) -> None:
    world = World(tmp_path, blend=True)
    stored = world.index.answers.candidates("top", "bottom", 0)
    assert stored is not None
    assert len(stored.positions) == ANSWER_DEPTH  # 150 bottoms, compat reaches all of them
    relevance = stored.relevance(WEIGHTS).tolist()
    assert relevance == sorted(relevance, reverse=True)
    assert stored.library_top >= stored.library.max()


def test_filters_that_leave_too_few_stored_candidates_send_the_request_live(tmp_path: Path) -> None:
    world = World(tmp_path, blend=True)
    key = next(k for k, (slot, _) in world.raw.items() if slot == "top")
    options = world._options("bottom")
    row = world.index.row_of("catalog", "top", key)
    stored = world.index.answers.candidates("top", "bottom", row or 0)
    assert stored is not None
    relevance = stored.relevance(WEIGHTS)
    keys = world.index.keys("catalog", "bottom")[stored.positions].tolist()
    options["filters"] = ShopFilters(exclude_types=frozenset({"type-0", "type-1"}))
    answer = finish_slot(
        ranked=keys,
        relevance=list(relevance),
        support=lambda picked: {},
        complete=False,
        **options,
    )
    assert answer is None


def test_similar_items_are_stored_exactly(tmp_path: Path) -> None:
    world = World(tmp_path, blend=False)
    vectors = world.index.vectors("catalog", "bottom")
    keys = world.index.keys("catalog", "bottom")
    assert vectors is not None
    for row in range(len(keys)):
        found = world.index.answers.similar("bottom", row)
        assert found is not None
        positions, similarities = found
        scores = vectors @ vectors[row]
        scores[row] = -np.inf
        exact = np.argsort(-scores)[: len(positions)]
        assert len(positions) == SIMILAR_DEPTH
        np.testing.assert_array_equal(positions, exact)
        np.testing.assert_allclose(similarities, scores[exact], rtol=1e-5)


def test_answers_worked_out_through_cells_are_the_live_answers_when_every_cell_is_probed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 1M-item build searches through k-means cells (recsys.nearest); this small one has few cells
    # and probes all of them, so the path through cells must give exactly the live answers.
    monkeypatch.setattr(nearest, "EXACT_UP_TO", 0)
    world = World(tmp_path, blend=True)
    for key, (slot, _) in world.raw.items():
        for wanted in COMPLEMENTS[slot]:
            if wanted in SLOTS:
                _same(world.stored(key, wanted), world.live(key, wanted))
