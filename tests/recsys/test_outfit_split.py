"""The item-disjoint outfit split: no garment in two parts, reproducible, shares respected."""

from __future__ import annotations

import numpy as np
import pytest

from recsys.compat.split import TEST, TRAIN, VALIDATION, SplitError, split_outfits


def capsule_library(capsules: int = 20, outfits_per: int = 8, seed: int = 0) -> dict[str, list[str]]:
    """Capsule collections (outfits mixing one capsule's garments) plus a few basics worn across
    capsules: the shape of a real stylist library."""
    rng = np.random.default_rng(seed)
    library: dict[str, list[str]] = {}
    for capsule in range(capsules):
        garments = [f"c{capsule}-g{g}" for g in range(10)]
        for n in range(outfits_per):
            items = list(rng.choice(garments, 4, replace=False))
            if rng.random() < 0.2:
                items.append(f"basic-{int(rng.integers(3))}")
            library[f"o{capsule}-{n}"] = items
    return library


def test_no_garment_sits_in_two_parts() -> None:
    library = capsule_library()
    split = split_outfits(library, shares={VALIDATION: 0.15, TEST: 0.15}, seed=3)
    parts = [split.items(part) for part in (TRAIN, VALIDATION, TEST)]
    assert all(parts)
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
    for part, kept in split.outfits.items():
        for outfit, items in kept.items():
            assert split.outfit_part[outfit] == part
            assert set(items) <= set(library[outfit]) and len(items) >= 2


def test_whole_capsules_are_held_out_so_little_is_lost() -> None:
    split = split_outfits(capsule_library(), shares={TEST: 0.2}, seed=0)
    held_out = len(split.outfits[TEST]) / 160
    assert 0.1 <= held_out <= 0.2
    assert split.kept_share > 0.9  # only the basics that cross capsules are cut


def test_same_seed_same_split_and_another_seed_another() -> None:
    library = capsule_library()
    first = split_outfits(library, shares={TEST: 0.2}, seed=1)
    assert split_outfits(library, shares={TEST: 0.2}, seed=1).outfit_part == first.outfit_part
    assert split_outfits(library, shares={TEST: 0.2}, seed=2).outfit_part != first.outfit_part


@pytest.mark.parametrize("shares", [{}, {TEST: 0.0}, {TEST: 0.6, VALIDATION: 0.5}, {TRAIN: 0.5}])
def test_rejects_impossible_shares(shares: dict[str, float]) -> None:
    with pytest.raises(SplitError):
        split_outfits(capsule_library(), shares=shares)


def test_one_tangled_outfit_cannot_be_held_out() -> None:
    with pytest.raises(SplitError, match="no outfit could be held out"):
        split_outfits({"only": ["a", "b", "c"]}, shares={TEST: 0.2})


def test_a_tangled_library_is_split_with_finer_communities() -> None:
    # 60 outfits of 4 among 8 basics: at Louvain's default resolution every community is too big to
    # hold out, so the split asks for finer ones rather than giving up.
    rng = np.random.default_rng(0)
    tangled = {f"o{i}": [f"basic{j}" for j in rng.choice(8, 4, replace=False)] for i in range(60)}
    split = split_outfits(tangled, shares={VALIDATION: 0.15}, seed=0)
    assert split.outfits[VALIDATION] and split.outfits[TRAIN]
    assert not split.items(VALIDATION) & split.items(TRAIN)
