"""The approved library outfits of one index build: which pieces each outfit holds.

The build takes a snapshot of the library (approved outfits whose photo the quality filter kept, or
an editor kept) and stores it beside the indexes, so every answer of a build — worked out ahead of
time or live — reads the same library. A review changes the library from the next build on.

    <build_id>/library_outfits.npy   int64 rows (outfit key, library item key, slot number in SLOTS)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from .arrays import positions_of
from .slots import SLOTS, check_slot

OUTFITS_FILE: Final = "library_outfits.npy"


@dataclass(frozen=True)
class LibraryPiece:
    library_item: int
    outfit: int
    slot: str


class LibraryGraph:
    """Outfits and their pieces, as rows (outfit, item, slot), with the lookups answers need."""

    def __init__(self, rows: NDArray[np.int64]) -> None:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        if len(rows) and (rows[:, 2].min() < 0 or rows[:, 2].max() >= len(SLOTS)):
            raise ValueError("library outfit rows name a slot number outside SLOTS")
        self.rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
        self.rows.flags.writeable = False
        # Column of each outfit in the outfit x catalog matrices: outfit keys, sorted.
        self.outfits = np.unique(self.rows[:, 0])
        self._outfit_column = np.searchsorted(self.outfits, self.rows[:, 0])
        self._pieces_of_item: dict[int, list[LibraryPiece]] | None = None

    @classmethod
    def from_pieces(cls, pieces: Iterable[tuple[int, int, str]]) -> LibraryGraph:
        """From (outfit key, library item key, slot) triples."""
        rows = [(outfit, item, SLOTS.index(check_slot(slot))) for outfit, item, slot in pieces]
        return cls(np.asarray(rows, dtype=np.int64).reshape(-1, 3))

    def save(self, folder: Path) -> None:
        np.save(folder / OUTFITS_FILE, self.rows)

    @classmethod
    def load(cls, folder: Path) -> LibraryGraph:
        path = folder / OUTFITS_FILE
        return cls(np.load(path) if path.is_file() else np.zeros((0, 3), dtype=np.int64))

    def __len__(self) -> int:
        """Number of outfits."""
        return len(self.outfits)

    def pieces_for(self, library_items: Sequence[int]) -> Mapping[int, list[LibraryPiece]]:
        """For each library item, every piece of every outfit that holds it (recsys.suggest's
        `outfits_for`)."""
        if self._pieces_of_item is None:
            by_outfit: dict[int, list[LibraryPiece]] = {}
            for outfit, item, slot in self.rows.tolist():
                by_outfit.setdefault(outfit, []).append(LibraryPiece(item, outfit, SLOTS[slot]))
            pieces: dict[int, list[LibraryPiece]] = {}
            for outfit_pieces in by_outfit.values():
                for piece in outfit_pieces:
                    pieces.setdefault(piece.library_item, []).extend(outfit_pieces)
            self._pieces_of_item = pieces
        return {item: self._pieces_of_item[item] for item in library_items if item in self._pieces_of_item}

    def item_outfits(self, item_keys: NDArray[np.int64]) -> sparse.csr_matrix:
        """(items x outfits) 1 where the outfit holds the item, for items in the given order."""
        position = positions_of(item_keys, self.rows[:, 1])
        held = position >= 0
        return sparse.csr_matrix(
            (np.ones(int(held.sum())), (position[held], self._outfit_column[held])),
            shape=(len(item_keys), len(self.outfits)),
        )

    def outfit_pieces(self, slot: str, piece_keys: NDArray[np.int64]) -> sparse.csr_matrix:
        """(outfits x pieces) 1 where the outfit holds the piece of `slot`, pieces in the given order."""
        of_slot = self.rows[:, 2] == SLOTS.index(check_slot(slot))
        position = positions_of(piece_keys, self.rows[of_slot, 1])
        held = position >= 0
        return sparse.csr_matrix(
            (np.ones(int(held.sum())), (self._outfit_column[of_slot][held], position[held])),
            shape=(len(self.outfits), len(piece_keys)),
        )
