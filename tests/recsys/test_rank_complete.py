"""One slot's ranking: the methods' candidates, the blend, filters, diversity, reasons, empty answers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from recsys.rank.blend import BlendWeights
from recsys.rank.complete import (
    ALL_FILTERED,
    NO_CATALOG,
    NO_LIBRARY_PATH,
    CompatScores,
    Evidence,
    Method,
    SlotAnswer,
    rank_slot,
)
from recsys.rank.filters import CatalogFacts, ShopFilters
from recsys.rank.policy import ImpossibleSlot, outfit_wanted_slots
from recsys.rank.reasons import PairCounts
from recsys.suggest import Suggestion

# Catalog bottoms 1..6. The library method reaches 1, 2, 3; the compatibility model likes 4, 5 best.
LIBRARY = [
    Suggestion(1, 3.0, (10, 11, 12, 13)),
    Suggestion(2, 2.0, (11,)),
    Suggestion(3, 1.0, (12,)),
]
COMPAT = CompatScores(np.arange(1, 7, dtype=np.int64), np.array([0.1, 0.0, 0.2, 0.9, 0.8, -0.5], np.float32))
FACTS = {
    key: CatalogFacts(key=key, type_name="jeans" if key % 2 else "skirt", price=10.0 * key, brand=f"b{key}")
    for key in range(1, 7)
}
COLOURS = {1: "camel", 2: "navy", 3: "camel", 4: "white", 5: "navy", 6: "red"}
PAIRS = PairCounts([["navy", "camel"]] * 14 + [["navy", "white"]] * 2)


def _vectors(keys: Sequence[int]) -> NDArray[np.float32]:
    """Distinct garments, except 4 and 5, which look alike."""
    rows = np.eye(8, dtype=np.float32)[list(keys)]
    rows[[i for i, key in enumerate(keys) if key == 5]] = np.eye(8, dtype=np.float32)[4]
    return rows


def _rank(method: Method, *, k: int = 3, diversity: float = 0.0, **changes: object) -> SlotAnswer:
    arguments: dict[str, object] = {
        "slot": "bottom",
        "method": method,
        "k": k,
        "library": LIBRARY,
        "compat": COMPAT,
        "blend": BlendWeights(compat=1.0, library=2.0, reached=0.5),
        "facts": FACTS,
        "filters": ShopFilters(),
        "vectors": _vectors,
        "diversity": diversity,
        "evidence": Evidence(pairs=PAIRS, query_values=("navy",), candidate_value=lambda key: COLOURS[key]),
        "pool": 10,
        **changes,
    }
    return rank_slot(**arguments)  # type: ignore[arg-type]


def _keys(answer: SlotAnswer) -> list[int]:
    return [row.catalog_item for row in answer.rows]


def test_each_method_ranks_its_own_candidates() -> None:
    assert _keys(_rank(Method.LIBRARY)) == [1, 2, 3]
    assert _keys(_rank(Method.COMPAT)) == [4, 5, 3]
    # blend: 1 (library 3, reached) leads; 4 and 5 (compat only) beat 2 and 3 on compatibility.
    blended = _rank(Method.BLEND, k=6)
    assert set(_keys(blended)) == {1, 2, 3, 4, 5, 6} and _keys(blended)[0] == 1
    scores = [row.score for row in blended.rows]
    assert scores == sorted(scores, reverse=True)


def test_the_blend_follows_its_fitted_weights() -> None:
    compat_only = _rank(Method.BLEND, blend=BlendWeights(compat=1.0, library=0.0, reached=0.0))
    library_only = _rank(Method.BLEND, blend=BlendWeights(compat=0.0, library=1.0, reached=0.0))
    assert _keys(compat_only) == _keys(_rank(Method.COMPAT))
    assert _keys(library_only) == _keys(_rank(Method.LIBRARY))


def test_filters_and_the_shoppers_own_items_are_applied() -> None:
    cheap = _rank(Method.BLEND, k=6, filters=ShopFilters(price_max=30.0))
    assert set(_keys(cheap)) == {1, 2, 3}
    no_jeans = _rank(Method.BLEND, k=6, filters=ShopFilters.build(exclude_types=["Jeans"]))
    assert set(_keys(no_jeans)) == {2, 4, 6}
    assert 1 not in _keys(_rank(Method.BLEND, k=6, exclude=[1]))


def test_diversity_breaks_up_look_alikes() -> None:
    assert _keys(_rank(Method.COMPAT, k=2)) == [4, 5]
    assert _keys(_rank(Method.COMPAT, k=2, diversity=0.7)) == [4, 3]


def test_reasons_cite_at_most_three_outfits_and_a_colour_pair() -> None:
    first = _rank(Method.LIBRARY).rows[0]
    assert first.reason.outfits == (10, 11, 12)
    assert first.reason.matches == ("navy goes with camel in 14 stylist outfits",)
    # a compat-only pick has no outfit behind it, and navy-white is too rare to cite
    white = next(row for row in _rank(Method.COMPAT).rows if row.catalog_item == 4)
    assert white.reason.outfits == () and white.reason.matches == ()
    assert first.as_json()["outfits"] == [10, 11, 12]


def test_an_empty_answer_says_why() -> None:
    assert _rank(Method.LIBRARY, library=[]).empty_reason == NO_LIBRARY_PATH
    nothing = CompatScores(np.zeros(0, np.int64), np.zeros(0, np.float32))
    assert _rank(Method.COMPAT, compat=nothing).empty_reason == NO_CATALOG.format(slot="bottom")
    sold_out = {key: CatalogFacts(key=key, type_name="jeans", in_stock=False) for key in FACTS}
    assert _rank(Method.BLEND, facts=sold_out).empty_reason == ALL_FILTERED.format(slot="bottom")
    assert _rank(Method.LIBRARY).empty_reason == ""


def test_compat_and_blend_need_compat_scores() -> None:
    with pytest.raises(ValueError, match="needs compatibility scores"):
        _rank(Method.BLEND, compat=None)
    assert _keys(_rank(Method.LIBRARY, compat=None)) == [1, 2, 3]


def test_compat_scores_of_keys_the_build_lacks_are_zero() -> None:
    np.testing.assert_allclose(COMPAT.of([4, 99, 1]), [0.9, 0.0, 0.1], atol=1e-6)
    assert COMPAT.top(2) == [4, 5] and COMPAT.top(2, exclude=[4]) == [5, 3]


@pytest.mark.parametrize(
    ("held", "asked", "wanted"),
    [
        (["top", "bottom"], [], ["shoes", "bag", "outerwear"]),
        (["shoes", "bag"], [], ["top", "bottom"]),
        (["dress", "shoes"], ["bag"], ["bag"]),
    ],
)
def test_a_partial_outfit_is_completed_by_what_goes_with_all_its_pieces(
    held: list[str], asked: list[str], wanted: list[str]
) -> None:
    assert outfit_wanted_slots(held, asked) == wanted


def test_a_slot_the_outfit_holds_or_that_clashes_is_refused_naming_those_that_can() -> None:
    refusal = "bottom and top is not completed by a top; ask for one of: shoes"
    with pytest.raises(ImpossibleSlot, match=refusal):
        outfit_wanted_slots(["top", "bottom"], ["top"])
    with pytest.raises(ImpossibleSlot, match="nothing completes"):
        outfit_wanted_slots(["dress", "top", "bottom", "shoes", "bag"])
