"""Small hand-made embeddings for recsys tests: directions we can reason about, not a model's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from recsys.index import IndexBuilder, IndexSet

DIM = 16
MODEL_SPEC = "test-model@v1"

Item = tuple[str, str, int, NDArray[np.float32]]  # population, slot, database key, raw embedding


def unit(vector: NDArray[np.float64] | list[float]) -> NDArray[np.float32]:
    array = np.asarray(vector, dtype=np.float64)
    return (array / np.linalg.norm(array)).astype(np.float32)


def axis(*weights: tuple[int, float]) -> NDArray[np.float32]:
    """Unit vector along a mix of axes: axis((0, 1.0), (3, 0.2))."""
    vector = np.zeros(DIM)
    for dimension, weight in weights:
        vector[dimension] = weight
    return unit(vector)


def random_units(rng: np.random.Generator, n: int, dim: int = DIM) -> NDArray[np.float32]:
    rows = rng.standard_normal((n, dim))
    units: NDArray[np.float32] = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return units


def build(
    directory: Path,
    items: list[Item],
    *,
    build_id: str = "b1",
    centre_min_items: int = 1,
    n_trees: int = 10,
) -> IndexSet:
    builder = IndexBuilder(MODEL_SPEC, DIM, centre_min_items=centre_min_items)
    for population, slot, key, embedding in items:
        builder.add(population, slot, key, embedding)
    builder.write(directory, build_id=build_id, n_trees=n_trees)
    return IndexSet.load(directory / build_id, expect_model_spec=MODEL_SPEC)
