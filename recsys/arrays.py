"""Array types shared by the index and the recommenders."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

# An embedding as the caller has it: float32 from the vision model, float64 from arithmetic on it.
Embedding: TypeAlias = NDArray[np.floating[Any]]
KeyArray: TypeAlias = NDArray[np.integer[Any]]


def key_array(keys: Collection[int] | KeyArray) -> NDArray[np.int64]:
    """Database keys as an int64 array; convert once when the same keys are excluded from many searches."""
    if isinstance(keys, np.ndarray):
        return keys.astype(np.int64, copy=False).reshape(-1)
    return np.fromiter(keys, dtype=np.int64, count=len(keys))


def top_columns(scores: NDArray[np.floating[Any]], keys: NDArray[np.int64], k: int) -> NDArray[np.int64]:
    """Per row, the columns of the k best scores, best first; equal scores: lower key first.

    The one tie rule of every ranking here and on the live path, so both pick the same items.
    """
    rows, n = scores.shape
    k = min(k, n)
    if k == 0:
        return np.zeros((rows, 0), dtype=np.int64)
    if n > 2 * k:  # narrow to twice k first: equal scores beyond that are not worth a full sort
        columns = np.argpartition(-scores, 2 * k - 1, axis=1)[:, : 2 * k]
    else:
        columns = np.broadcast_to(np.arange(n), (rows, n))
    picked = np.take_along_axis(scores, columns, axis=1)
    order = np.lexsort((keys[columns], -picked), axis=1)[:, :k]
    return np.take_along_axis(columns, order, axis=1).astype(np.int64)


def new_array(path: Path, dtype: type, shape: tuple[int, ...], fill: float) -> np.memmap[Any, Any]:
    """A .npy file of `shape` filled with `fill`, memory-mapped for writing blocks of rows: a build
    writes arrays larger than it could hold."""
    array: np.memmap[Any, Any] = np.lib.format.open_memmap(  # type: ignore[no-untyped-call]
        path, mode="w+", dtype=dtype, shape=shape
    )
    array[:] = fill
    return array
