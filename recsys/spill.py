"""Rows kept on disk while a build collects them: a 1M-item catalog's vectors do not fit twice in a
worker beside the build's own arrays, so they stream to a scratch file as they arrive and are read
back memory-mapped, a block at a time."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import NDArray

from .arrays import positions_of


class RowSpill:
    """Keyed float32 rows of one width, appended in blocks to `path` (the keys stay in memory:
    8 bytes an item)."""

    def __init__(self, path: Path, width: int) -> None:
        self.path = path
        self.width = width
        self._keys: list[NDArray[np.int64]] = []
        self._file: BinaryIO | None = None
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, keys: NDArray[np.int64], rows: NDArray[np.float32]) -> None:
        if rows.shape != (len(keys), self.width):
            raise ValueError(f"expected {len(keys)} rows of width {self.width}, got shape {rows.shape}")
        if self._file is None:
            self._file = open(self.path, "wb")  # noqa: SIM115 - kept open while the build collects
        self._file.write(np.ascontiguousarray(rows, dtype=np.float32).tobytes())
        self._keys.append(np.asarray(keys, dtype=np.int64).copy())
        self._count += len(keys)

    def keys(self) -> NDArray[np.int64]:
        return np.concatenate(self._keys) if self._keys else np.zeros(0, dtype=np.int64)

    def rows(self) -> NDArray[np.float32]:
        """Every row in the order appended, memory-mapped (read-only)."""
        if self._file is not None:
            self._file.flush()
        if not self._count:
            return np.zeros((0, self.width), dtype=np.float32)
        return np.memmap(self.path, dtype=np.float32, mode="r", shape=(self._count, self.width))

    def rows_of(
        self, keys: NDArray[np.int64], *, out: NDArray[np.float32] | None = None, block: int = 8192
    ) -> NDArray[np.float32]:
        """The rows of `keys`, in their order, into `out` (a new array by default; a memory-mapped
        file for a big slot); a zero row for a key never appended."""
        rows = positions_of(self.keys(), np.asarray(keys, dtype=np.int64))
        stored = self.rows()
        found = np.zeros((len(keys), self.width), dtype=np.float32) if out is None else out
        found[:] = 0.0
        for start in range(0, len(keys), block):  # a block of random reads at a time
            part = rows[start : start + block]
            hit = part >= 0
            found[start : start + block][hit] = stored[part[hit]]
        return found

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
