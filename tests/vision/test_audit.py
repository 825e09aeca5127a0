"""The mislabel audit's ranking (vision.audit): pure Python, no model."""

from __future__ import annotations

from typing import Any

import pytest

from vision.audit import FLOOR, AuditInput, TypePath, rank_disagreements

SHIRT: TypePath = ("top", "Shirts", "Shirt")
TEE: TypePath = ("top", "T-shirts", "T-shirt")
JEANS: TypePath = ("bottom", "Trousers", "Jeans")
SNEAKERS: TypePath = ("shoes", "Sneakers", "Sneakers")


def prediction(
    suggested: TypePath, type_scores: dict[TypePath, float], **slot_scores: float
) -> dict[str, Any]:
    """What GarmentPrediction.as_json() stores (attributes aside)."""
    slots = {"top": 0.0, "bottom": 0.0, "shoes": 0.0} | slot_scores
    return {
        "slot": {"value": suggested[0], "confidence": slots.get(suggested[0], 0.0)},
        "family": {"value": suggested[1], "confidence": 0.5},
        "type": {"value": suggested[2], "confidence": type_scores.get(suggested, 0.5)},
        "slot_scores": slots,
        "type_scores": {"/".join(path): p for path, p in type_scores.items()},
    }


def test_agreeing_and_unclassified_garments_are_not_flagged() -> None:
    garments = [
        AuditInput("agrees", SHIRT, prediction(SHIRT, {SHIRT: 0.9, TEE: 0.1}, top=1.0)),
        AuditInput("untrained", SHIRT, {}),
        AuditInput("slot only", SHIRT, {"slot": {"value": "bottom", "confidence": 0.9}}),
    ]
    assert rank_disagreements(garments, None) == []


def test_the_stated_label_the_model_finds_least_likely_comes_first() -> None:
    garments = [
        # A near tie between two tops: hardly suspicious.
        AuditInput("a-close-call", SHIRT, prediction(TEE, {TEE: 0.5, SHIRT: 0.45}, top=0.99)),
        # A "top" the model is sure is a pair of jeans: the stated type is not even listed.
        AuditInput("b-jeans-called-shirt", SHIRT, prediction(JEANS, {JEANS: 0.97, TEE: 0.01}, bottom=0.98)),
        AuditInput("c-middling", SHIRT, prediction(TEE, {TEE: 0.8, SHIRT: 0.15}, top=0.99)),
    ]
    ranked = rank_disagreements(garments, None)
    assert [d.key for d in ranked] == ["b-jeans-called-shirt", "c-middling", "a-close-call"]
    top = ranked[0]
    assert (top.stated, top.suggested) == (SHIRT, JEANS)
    # Unlisted stated type: at most the smallest listed score (0.01), capped by its slot's (0.0).
    assert top.stated_probability == FLOOR
    assert ranked[-1].confidence == pytest.approx(0.5 / 0.95)
    assert all(0 < d.confidence < 1 for d in ranked)


def test_a_mix_up_common_on_validation_is_less_suspicious() -> None:
    same = prediction(TEE, {TEE: 0.7, SHIRT: 0.2}, top=0.99)
    garments = [AuditInput("shirt", SHIRT, same), AuditInput("sneakers", SNEAKERS, same)]
    plain = {d.key: d.confidence for d in rank_disagreements(garments, None)}
    # On validation, half the garments predicted T-shirt were shirts; none were sneakers.
    confusion = {
        "type": {"top/Shirts/Shirt|top/T-shirts/T-shirt": 10, "top/T-shirts/T-shirt|top/T-shirts/T-shirt": 10}
    }
    ranked = rank_disagreements(garments, confusion)
    weighed = {d.key: d.confidence for d in ranked}
    assert ranked[0].key == "sneakers"
    assert ranked[1].confusion == pytest.approx(10 / (20 + 1))
    assert weighed["shirt"] == pytest.approx(plain["shirt"] * (1 - 10 / 21))
    assert weighed["sneakers"] == plain["sneakers"]  # a mix-up never seen weighs nothing


def test_confidence_is_monotone_in_the_model_scores() -> None:
    def confidence(p_suggested: float, p_stated: float) -> float:
        garment = AuditInput("g", SHIRT, prediction(TEE, {TEE: p_suggested, SHIRT: p_stated}, top=1.0))
        return rank_disagreements([garment], None)[0].confidence

    assert confidence(0.6, 0.2) < confidence(0.7, 0.2) < confidence(0.7, 0.1)


def test_a_matrix_without_types_weighs_nothing_and_ties_go_by_key() -> None:
    same = prediction(TEE, {TEE: 0.7, SHIRT: 0.2}, top=0.99)
    garments = [AuditInput(key, SHIRT, same) for key in ("b", "c", "a")]
    ranked = rank_disagreements(garments, {"slot": {"top|top": 3}})
    assert [d.key for d in ranked] == ["a", "b", "c"]
    assert {d.confusion for d in ranked} == {0.0}
