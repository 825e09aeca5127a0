"""Array types shared by the index and the recommenders."""

from __future__ import annotations

import warnings
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


def positions_of(keys: NDArray[np.int64], wanted: NDArray[np.int64]) -> NDArray[np.int64]:
    """Position of each wanted key in `keys` (-1 where absent); `keys` need not be sorted."""
    if not len(keys):
        return np.full(len(wanted), -1, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    at = np.minimum(np.searchsorted(keys[order], wanted), len(keys) - 1)
    return np.where(keys[order][at] == wanted, order[at], -1).astype(np.int64)


def top_columns(
    scores: NDArray[np.floating[Any]], keys: NDArray[np.int64], k: int, *, batch: bool = False
) -> NDArray[np.int64]:
    """Per row, the columns of the k best scores, best first; equal scores: lower key first (`keys`:
    one per column, or one per score).

    The one tie rule of every ranking here and on the live path, so both pick the same items.
    `batch` (an index build ranking many rows at once) narrows with torch's topk when torch is
    there (index workers have it; web processes never import it): numpy's argpartition took a third
    of a 100k build.
    """
    rows, n = scores.shape
    k = min(k, n)
    if k == 0:
        return np.zeros((rows, 0), dtype=np.int64)
    if n > 2 * k:  # narrow to twice k first: equal scores beyond that are not worth a full sort
        columns = (
            narrowed(scores, 2 * k) if batch else np.argpartition(-scores, 2 * k - 1, axis=1)[:, : 2 * k]
        )
    else:
        columns = np.broadcast_to(np.arange(n), (rows, n))
    picked = np.take_along_axis(scores, columns, axis=1)
    # Keys per column, or per entry (a row of candidates gathered from several places).
    tie_keys = keys[columns] if keys.ndim == 1 else np.take_along_axis(keys, columns, axis=1)
    order = np.lexsort((tie_keys, -picked), axis=1)[:, :k]
    return np.take_along_axis(columns, order, axis=1).astype(np.int64)


def narrowed(scores: NDArray[np.floating[Any]], width: int) -> NDArray[np.int64]:
    """The columns of each row's `width` best scores, in no particular order (torch's topk where
    torch is: a build's worker)."""
    try:
        import torch
    except ImportError:  # a web image: numpy's selection
        return np.argpartition(-scores, width - 1, axis=1)[:, :width]
    found = torch.topk(torch.from_numpy(np.ascontiguousarray(scores)), width, dim=1, sorted=False).indices
    columns: NDArray[np.int64] = found.numpy().astype(np.int64)
    return columns


def batch_product(rows: NDArray[np.float32], columns: NDArray[np.float32]) -> NDArray[np.float32]:
    """rows @ columns.T in float32, for an index build: through torch when it is there (index
    workers have it; web processes never import it), which multiplied a 4096 x 34k x 512 block
    five times faster than numpy's BLAS here; the same precision, summed in another order."""
    try:
        import torch
    except ImportError:
        product: NDArray[np.float32] = (
            np.asarray(rows, dtype=np.float32) @ np.asarray(columns, dtype=np.float32).T
        )
        return product
    with warnings.catch_warnings():  # memory-mapped build files are read-only; torch only reads them
        warnings.simplefilter("ignore", UserWarning)
        left = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
        right = torch.from_numpy(np.ascontiguousarray(columns, dtype=np.float32))
    result: NDArray[np.float32] = (left @ right.T).numpy()
    return result


def new_array(path: Path, dtype: type, shape: tuple[int, ...], fill: float) -> np.memmap[Any, Any]:
    """A .npy file of `shape` filled with `fill`, memory-mapped for writing blocks of rows: a build
    writes arrays larger than it could hold."""
    array: np.memmap[Any, Any] = np.lib.format.open_memmap(  # type: ignore[no-untyped-call]
        path, mode="w+", dtype=dtype, shape=shape
    )
    array[:] = fill
    return array
