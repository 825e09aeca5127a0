from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from recsys.slot_classifier import SlotClassifier, fit_slot_classifier


def _clusters(
    rng: np.random.Generator, sizes: dict[str, int], dim: int = 32
) -> tuple[NDArray[np.float32], list[str]]:
    centres = {slot: rng.normal(size=dim) for slot in sizes}
    rows, labels = [], []
    for slot, n in sizes.items():
        points = centres[slot] + 0.6 * rng.normal(size=(n, dim))
        rows.append(points / np.linalg.norm(points, axis=1, keepdims=True))
        labels += [slot] * n
    return np.concatenate(rows).astype(np.float32), labels


def test_recognises_held_out_garments_of_each_slot() -> None:
    rng = np.random.default_rng(0)
    x, y = _clusters(rng, {"top": 60, "bottom": 60, "shoes": 60})
    order = rng.permutation(len(y))
    train, test = order[:120], order[120:]
    classifier = fit_slot_classifier(x[train], [y[i] for i in train])
    accuracy = np.mean([classifier.predict(x[i]).slot == y[i] for i in test])
    assert accuracy > 0.9
    assert 0.0 < classifier.predict(x[test[0]]).confidence <= 1.0


def test_a_rare_slot_is_not_swamped_by_a_common_one() -> None:
    rng = np.random.default_rng(1)
    x, y = _clusters(rng, {"top": 400, "bag": 8})
    bags = [i for i, slot in enumerate(y) if slot == "bag"]
    classifier = fit_slot_classifier(x, y)
    assert all(classifier.predict(x[i]).slot == "bag" for i in bags)


def test_fitting_is_deterministic_and_survives_a_save(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    x, y = _clusters(rng, {"top": 20, "dress": 20})
    first, second = fit_slot_classifier(x, y), fit_slot_classifier(x, y)
    np.testing.assert_array_equal(first.weights, second.weights)
    first.save(tmp_path)
    loaded = SlotClassifier.load(tmp_path)
    assert loaded.slots == ("dress", "top")
    assert loaded.predict(x[0]) == first.predict(x[0])
    assert not list(tmp_path.glob("*.part"))


def test_rejects_unknown_slots_and_mismatched_labels() -> None:
    x = np.eye(3, dtype=np.float32)
    with pytest.raises(ValueError, match="unknown slot"):
        fit_slot_classifier(x, ["top", "hat", "top"])
    with pytest.raises(ValueError, match="one slot label per embedding"):
        fit_slot_classifier(x, ["top"])


def test_training_sample_reads_both_populations_back_from_a_build(tmp_path: Path) -> None:
    from recsys import slot_classifier
    from tests.recsys.worlds import build, random_units

    rng = np.random.default_rng(3)
    items = [("catalog", "top", 100 + i, v) for i, v in enumerate(random_units(rng, 6))]
    items += [("library", "top", 100 + i, v) for i, v in enumerate(random_units(rng, 4))]
    items += [("library", "bag", 200 + i, v) for i, v in enumerate(random_units(rng, 3))]
    index = build(tmp_path, items)
    vectors, slots = slot_classifier.slot_training_sample(index)
    assert sorted(slots) == ["bag"] * 3 + ["top"] * 10
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_training_sample_is_capped_per_slot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recsys import slot_classifier
    from tests.recsys.worlds import build, random_units

    monkeypatch.setattr(slot_classifier, "MAX_PER_SLOT", 5)
    rng = np.random.default_rng(4)
    items = [("catalog", "shoes", i, v) for i, v in enumerate(random_units(rng, 12))]
    _, slots = slot_classifier.slot_training_sample(build(tmp_path, items))
    assert slots == ["shoes"] * 5
