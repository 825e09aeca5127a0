"""Array types shared by the index and the recommenders."""

from __future__ import annotations

from collections.abc import Collection
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
