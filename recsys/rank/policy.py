"""Which slots complete a look, and how far to look beyond the k a caller asks for.

The suggestion policy in one place, free of Django: the API, the demo page and evaluation ask it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from ..slots import check_slot

# What completes a look started by each slot, in the order a storefront shows them.
COMPLEMENTS: Final[dict[str, tuple[str, ...]]] = {
    "top": ("bottom", "shoes", "bag", "outerwear"),
    "bottom": ("top", "shoes", "bag", "outerwear"),
    "dress": ("shoes", "bag", "outerwear"),
    "outerwear": ("top", "bottom", "shoes"),
    "shoes": ("top", "bottom", "bag"),
    "bag": ("top", "bottom", "shoes"),
    "accessory": ("top", "bottom", "shoes"),
}

# Searching more catalog matches than asked leaves room to drop items the shop's filters remove
# (sold out, out of the price range) after ranking.
OVERFETCH: Final = 3
# Candidates kept after the filters for diversity to choose from, per suggestion asked for.
DIVERSITY_POOL: Final = 4
# A stored answer's shop facts are read for its first k * FACTS_FIRST candidates (a sold-out few
# leave enough); only when the filters leave too few are the rest read.
FACTS_FIRST: Final = DIVERSITY_POOL + 1
# Answers are worked out ahead of time for requests of up to this many suggestions per slot
# (recsys.answers); the candidate pool is the same for any k up to it, so a stored answer and a live
# one agree.
STORED_K: Final = 8

# The library method's reach (recsys.suggest): library items matched per garment, catalog items
# matched per library piece, and how sharply a match weight favours close matches.
NEIGHBOURS: Final = 30
PER_PIECE: Final = 10
DEFAULT_SHARPNESS: Final = 3.0


# The library method hands on every catalog item a path reaches (at most NEIGHBOURS x outfits x
# PER_PIECE): its score and the outfits behind it mean the same whether the compatibility model
# also picked the item or not.
EVERY_PATH: Final = 2**31 - 1


def candidate_pool(k: int) -> int:
    """Candidates the compatibility model hands on for a request of k suggestions per slot."""
    return max(k, STORED_K) * DIVERSITY_POOL * OVERFETCH


def match_weight(similarities: NDArray[np.floating[Any]], sharpness: float) -> NDArray[np.float64]:
    """How much a match counts: max(similarity, 0) ** sharpness (see recsys.suggest)."""
    return np.power(np.clip(np.asarray(similarities, dtype=np.float64), 0.0, None), sharpness)


class ImpossibleSlot(ValueError):
    """A slot asked for cannot complete the garment's look (a top for a top, a bottom for a dress)."""


def wanted_slots(garment_slot: str, asked: Sequence[str] = ()) -> list[str]:
    """The slots to suggest for a garment: those asked for, else every slot that completes it.

    Raises ImpossibleSlot, naming the slots that can, when an asked slot cannot complete the look.
    """
    check_slot(garment_slot)
    can = COMPLEMENTS[garment_slot]
    wrong = [slot for slot in asked if slot not in can]
    if wrong:
        raise ImpossibleSlot(
            f"a {garment_slot} is not completed by a {wrong[0]}; ask for one of: {', '.join(can)}"
        )
    return list(asked) or list(can)


def outfit_wanted_slots(garment_slots: Sequence[str], asked: Sequence[str] = ()) -> list[str]:
    """The slots that complete a partial outfit: those that complete every garment it holds and
    that it does not hold yet (a top and jeans are completed by shoes, a bag, outerwear).

    Raises ImpossibleSlot naming the slots that can, when an asked slot cannot, or when nothing can.
    """
    if not garment_slots:
        raise ValueError("a partial outfit needs at least one garment")
    for slot in garment_slots:
        check_slot(slot)
    held = set(garment_slots)
    can = [
        slot
        for slot in COMPLEMENTS[garment_slots[0]]
        if slot not in held and all(slot in COMPLEMENTS[other] for other in held)
    ]
    described = " and ".join(sorted(held))
    if not can:
        raise ImpossibleSlot(f"nothing completes an outfit of {described}: no slot goes with all of them")
    wrong = [slot for slot in asked if slot not in can]
    if wrong:
        raise ImpossibleSlot(
            f"an outfit of {described} is not completed by a {wrong[0]}; ask for one of: {', '.join(can)}"
        )
    return list(asked) or can
