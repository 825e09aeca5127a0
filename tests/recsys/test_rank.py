"""The ranking's parts: blend weights from validation, business filters, MMR, reasons."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.rank.blend import BlendWeights, blend_scores, fit_blend
from recsys.rank.diversity import mmr
from recsys.rank.filters import CatalogFacts, ShopFilters, apply_filters
from recsys.rank.reasons import PairCounts, explain


def _accuracy(scores: list[np.ndarray], questions: list[tuple[list[float], list[float], int]]) -> float:
    return float(np.mean([int(np.argmax(s)) == a for s, (_, _, a) in zip(scores, questions, strict=True)]))


def test_blend_weights_are_fitted_to_what_picks_the_answer() -> None:
    rng = np.random.default_rng(0)
    questions = []
    for _ in range(400):
        answer = int(rng.integers(4))
        compat = rng.normal(size=4)
        compat[answer] += 1.0  # each score knows something about the answer
        library = rng.exponential(size=4) * (rng.random(4) < 0.5)
        library[answer] += 1.0
        questions.append((compat.tolist(), library.tolist(), answer))
    weights = fit_blend(questions)
    assert weights.compat > 0 and weights.library > 0
    blended = _accuracy([blend_scores(weights, c, lib) for c, lib, _ in questions], questions)
    compat_alone = _accuracy([np.array(c) for c, _, _ in questions], questions)
    library_alone = _accuracy([np.array(lib) for _, lib, _ in questions], questions)
    assert blended > max(compat_alone, library_alone) + 0.05
    only_noise = fit_blend([(list(rng.normal(size=4)), [0.0] * 4, int(rng.integers(4))) for _ in range(200)])
    assert abs(only_noise.compat) < 0.3  # no signal, no weight
    assert BlendWeights.from_json(weights.as_json()) == BlendWeights(**weights.as_json())


def test_blend_ignores_a_shift_of_the_library_scale() -> None:
    weights = BlendWeights(compat=1.0, library=2.0, reached=0.5)
    a = blend_scores(weights, [0.1, 0.2, 0.3], [0.0, 5.0, 10.0])
    b = blend_scores(weights, [0.1, 0.2, 0.3], [0.0, 50.0, 100.0])
    assert np.allclose(a, b)
    with pytest.raises(ValueError):
        fit_blend([])


FACTS = {
    1: CatalogFacts(1, "Jeans", price=40.0, gender="women", brand="Acme"),
    2: CatalogFacts(2, "Jeans", in_stock=False, price=30.0, gender="women", brand="Acme"),
    3: CatalogFacts(3, "Skirt", price=90.0, gender="men", brand="Zed"),
    4: CatalogFacts(4, "Skirt", price=None, gender="unisex", brand=""),
}


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        (ShopFilters.build(), [1, 3, 4]),
        (ShopFilters.build(in_stock_only=False), [1, 2, 3, 4]),
        (ShopFilters.build(price_max=50), [1]),
        (ShopFilters.build(price_min=50, price_max=100), [3]),
        (ShopFilters.build(genders=["Women"]), [1, 4]),
        (ShopFilters.build(brands=["acme"]), [1]),
        (ShopFilters.build(exclude_brands=["ZED"]), [1, 4]),
        (ShopFilters.build(exclude_types=["jeans"]), [3, 4]),
    ],
)
def test_filters(filters: ShopFilters, kept: list[int]) -> None:
    assert apply_filters([1, 2, 3, 4, 99], FACTS, filters) == kept


def test_an_upside_down_price_range_is_refused() -> None:
    with pytest.raises(ValueError, match="above price_max"):
        ShopFilters.build(price_min=10, price_max=5)


def test_mmr_breaks_up_near_identical_rows() -> None:
    # six near-identical white trainers score highest; two different shoes a little lower
    white = np.array([1.0, 0.0, 0.0])
    vectors = np.array(
        [white + 0.01 * i for i in range(6)] + [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32
    )
    scores = [1.0, 0.99, 0.98, 0.97, 0.96, 0.95, 0.8, 0.7]
    assert mmr(scores, vectors, 3, diversity=0.0) == [0, 1, 2]
    assert mmr(scores, vectors, 3, diversity=0.5) == [0, 6, 7]
    with pytest.raises(ValueError):
        mmr(scores, vectors, 3, diversity=1.5)


def test_reasons_name_outfits_and_a_well_attested_colour_pair() -> None:
    pairs = PairCounts([["NAVY", "CAMEL", "WHITE"]] * 14 + [["NAVY", "RED"]] * 2)
    reason = explain(
        supporting_outfits=[7, 3, 9, 12], query_values=["NAVY"], candidate_value="CAMEL", pairs=pairs
    )
    assert reason.outfits == (7, 3, 9)
    assert reason.matches == ("navy goes with camel in 14 stylist outfits",)
    rare = explain(supporting_outfits=[], query_values=["NAVY"], candidate_value="RED", pairs=pairs)
    assert rare.matches == ()  # two outfits are an accident, not a rule


def test_a_reason_prefers_a_chosen_pairing_to_a_pair_of_basics() -> None:
    # black is in every outfit: black-with-camel is frequent but says nothing; navy-camel is chosen
    pairs = PairCounts(
        [["BLACK", "NAVY", "CAMEL"]] * 6
        + [["BLACK", "CAMEL"]] * 20
        + [["BLACK", "WHITE"]] * 60
        + [["BLACK", "NAVY"]] * 2
    )
    assert pairs.lift("NAVY", "CAMEL") > pairs.lift("BLACK", "CAMEL")
    reason = explain(
        supporting_outfits=[], query_values=["BLACK", "NAVY"], candidate_value="CAMEL", pairs=pairs
    )
    assert reason.matches == ("navy goes with camel in 6 stylist outfits",)
