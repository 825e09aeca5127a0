"""The garment gate: a logistic regression on embeddings, its threshold, its artefact and the photos
of no garment it draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vision.garment_gate import GateMismatch, drawn_non_garments, fit_gate, load_gate


def _clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=32)
    garments = centre + 0.6 * rng.normal(size=(300, 32))
    others = -centre + 0.6 * rng.normal(size=(200, 32))
    unit = lambda m: (m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    return unit(garments), unit(others)


def test_the_gate_tells_garments_from_other_photos_and_refuses_few_garments() -> None:
    garments, others = _clusters()
    gate, figures = fit_gate(garments, others, spec="model@1+iso1")
    assert figures.garments_refused <= 0.05
    assert figures.non_garments_refused >= 0.95
    assert gate.is_garment(garments[:50]).mean() > 0.9 and gate.is_garment(others[:50]).mean() < 0.1
    assert gate.garment_odds(garments[0]).shape == (1,)


def test_a_saved_gate_loads_for_its_own_spec_only(tmp_path: Path) -> None:
    garments, others = _clusters()
    gate, figures = fit_gate(garments, others, spec="model@1+iso1")
    gate.save(tmp_path, "g1", figures=figures)
    loaded = load_gate(tmp_path, spec="model@1+iso1")
    assert loaded is not None and loaded.threshold == pytest.approx(gate.threshold)
    np.testing.assert_allclose(loaded.garment_odds(others[:5]), gate.garment_odds(others[:5]), rtol=1e-5)
    with pytest.raises(GateMismatch, match="train_gate"):
        load_gate(tmp_path, spec="model@2+iso1")
    assert load_gate(tmp_path / "none", spec="model@1+iso1") is None


def test_too_few_examples_are_refused() -> None:
    garments, others = _clusters()
    with pytest.raises(ValueError, match="at least 10"):
        fit_gate(garments[:5], others, spec="s")


def test_drawn_photos_of_no_garment_vary_and_repeat_with_the_seed() -> None:
    photos = drawn_non_garments(10, seed=3)
    assert len(photos) == 10 and len({p.size for p in photos}) > 5
    again = drawn_non_garments(10, seed=3)
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(photos, again, strict=True))
