"""The two populations of garments and the slots a look is made of.

These strings name index files on disk and arrive from the outfits app's `Slot` choices, so they are
checked here once rather than trusted.
"""

from __future__ import annotations

CATALOG = "catalog"
LIBRARY = "library"
POPULATIONS = (CATALOG, LIBRARY)

# Same values as outfits.models.Slot; recsys cannot import Django to read them from there.
SLOTS = ("top", "bottom", "dress", "outerwear", "shoes", "bag", "accessory")


def check_population(population: str) -> str:
    if population not in POPULATIONS:
        raise ValueError(f"unknown population {population!r}; use one of {', '.join(POPULATIONS)}")
    return population


def check_slot(slot: str) -> str:
    if slot not in SLOTS:
        raise ValueError(f"unknown slot {slot!r}; use one of {', '.join(SLOTS)}")
    return slot
