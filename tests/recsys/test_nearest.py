from __future__ import annotations

import numpy as np
import pytest

from recsys import nearest
from recsys.nearest import ItemSearch


def _clustered(rng: np.random.Generator, n: int, dim: int = 32) -> np.ndarray:
    """Unit vectors around 60 centres, as garments of a catalog bunch into kinds."""
    centres = rng.standard_normal((60, dim))
    rows = centres[rng.integers(0, 60, n)] + 0.5 * rng.standard_normal((n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_exact_search_ranks_by_score_then_lower_key_and_leaves_out_itself() -> None:
    items = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.8]], dtype=np.float32)
    keys = np.array([40, 30, 20, 10])
    search = ItemSearch(items, keys)
    found = search.best(items[:1], 3, skip=np.array([0]))
    assert found.columns.tolist() == [[2, 3, 1]]  # itself (row 0) left out
    np.testing.assert_allclose(found.scores, [[1.0, 0.6, 0.0]], atol=1e-6)
    tie = search.best(np.array([[1.0, 0.0]], np.float32), 2)
    assert tie.columns.tolist() == [[2, 0]]  # equal scores: key 20 before key 40
    assert search.best(items[:1], 10, skip=np.array([0])).columns.shape == (1, 3)


def test_search_through_cells_finds_nearly_all_of_the_exact_best(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    items = _clustered(rng, 6000)
    keys = rng.permutation(6000) + 100
    exact = ItemSearch(items, keys)
    cells = ItemSearch(items, keys, exact_up_to=0, cell_size=64, probe=12)
    assert exact.exact and not cells.exact
    queries = items[:500]
    skip = np.arange(500)
    want = exact.best(queries, 10, skip=skip)
    got = cells.best(queries, 10, skip=skip)

    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want.columns, got.columns, strict=True)])
    assert recall >= 0.95
    assert not (got.columns == skip[:, None]).any()
    # What it finds is scored exactly and ranked as exact search ranks it.
    np.testing.assert_allclose(got.scores, np.einsum("ij,ikj->ik", queries, items[got.columns]), rtol=1e-5)
    assert (np.diff(got.scores, axis=1) <= 1e-6).all()


def test_search_through_cells_pads_when_the_probed_cells_hold_too_few() -> None:
    rng = np.random.default_rng(4)
    items = _clustered(rng, 300)
    cells = ItemSearch(items, np.arange(300), exact_up_to=0, cell_size=10, probe=1)
    found = cells.best(items[:5], 50)
    assert found.columns.shape == (5, 50)
    assert ((found.columns == -1) == (found.scores == 0.0)).all() and (found.columns == -1).any()
    assert nearest.EXACT_UP_TO >= 40_000  # a 100k catalog (34k tops) is still searched exactly
