"""Split a library of outfits into parts that share no garment: training never sees a held-out item.

A random split by outfit cannot be item-disjoint on a real library. Stylists reuse their basics: in
mango-old one item sits in 637 outfits and 41% of all outfit slots are items worn in more than 30
outfits, so holding out a random 15% of outfits and every outfit that touches their items leaves
about 50 training outfits of 3,719.

Outfits and garments form a bipartite graph whose communities are real (a capsule collection, a
look built around one jacket). Louvain community detection (networkx) finds them; whole communities
go to one part, so only the edges between communities are cut. Each outfit keeps the garments of its
own part (a subset of a stylist's outfit is still an outfit that goes together) and is dropped when
fewer than `min_items` remain. On mango-old that keeps about three quarters of all outfit slots.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Generic, TypeVar, cast

import numpy as np

TRAIN: Final = "train"
VALIDATION: Final = "validation"
TEST: Final = "test"
# Finest Louvain resolution a split tries before it gives up on holding a part out.
MAX_RESOLUTION: Final = 32.0

OutfitId = TypeVar("OutfitId", bound=Hashable)
ItemId = TypeVar("ItemId", bound=Hashable)


@dataclass(frozen=True)
class OutfitSplit(Generic[OutfitId, ItemId]):
    """Which part each outfit and garment belongs to, and the outfits each part keeps."""

    outfit_part: Mapping[OutfitId, str]
    item_part: Mapping[ItemId, str]
    # Per part: outfit -> its garments of that part (at least min_items of them).
    outfits: Mapping[str, Mapping[OutfitId, tuple[ItemId, ...]]]
    dropped: Mapping[str, int] = field(default_factory=dict)  # outfits left with too few garments
    kept_share: float = 1.0  # share of all outfit slots that survive the split

    def items(self, part: str) -> set[ItemId]:
        return {item for items in self.outfits.get(part, {}).values() for item in items}

    def summary(self) -> dict[str, object]:
        return {
            "outfits": {part: len(kept) for part, kept in self.outfits.items()},
            "items": {part: len(self.items(part)) for part in self.outfits},
            "dropped_outfits": dict(self.dropped),
            "kept_slot_share": round(self.kept_share, 4),
        }


class SplitError(ValueError):
    """The library is too small or too tangled to hold out the parts asked for."""


def split_outfits(
    outfits: Mapping[OutfitId, Sequence[ItemId]],
    *,
    shares: Mapping[str, float],
    seed: int = 0,
    min_items: int = 2,
    resolution: float = 1.0,
) -> OutfitSplit[OutfitId, ItemId]:
    """Split `outfits` into TRAIN and the held-out parts of `shares` ({"validation": 0.15}), by
    share of outfits, with no garment in two parts.

    Deterministic for a given seed and library (the graph is built in sorted order). A community
    larger than what a held-out part still needs goes to training, so held-out parts come out at or a
    little under their share. A tangled library (a few basics in every outfit) can have only
    communities too large to hold out: the split then asks for finer ones (a higher Louvain
    resolution, up to MAX_RESOLUTION), and raises SplitError when a held-out part is still empty.
    """
    if not shares or any(not 0 < share < 1 for share in shares.values()) or sum(shares.values()) >= 1:
        raise SplitError(f"held-out shares must be in (0, 1) and sum below 1, got {dict(shares)}")
    if TRAIN in shares:
        raise SplitError(f"{TRAIN!r} is what is left over; name only the held-out parts")
    if min_items < 1:
        raise SplitError(f"min_items must be at least 1, got {min_items}")
    while True:
        split = _split_at(outfits, shares=shares, seed=seed, min_items=min_items, resolution=resolution)
        empty = [part for part in shares if not split.outfits[part]]
        if not empty:
            return split
        if resolution * 2 > MAX_RESOLUTION:
            raise SplitError(
                f"no outfit could be held out for {empty[0]!r}: the library has {len(outfits)} outfits; "
                "add outfits or lower min_items"
            )
        resolution *= 2


def _split_at(
    outfits: Mapping[OutfitId, Sequence[ItemId]],
    *,
    shares: Mapping[str, float],
    seed: int,
    min_items: int,
    resolution: float,
) -> OutfitSplit[OutfitId, ItemId]:
    import networkx as nx  # training-side dependency only (requirements/ml.txt)

    graph = nx.Graph()
    outfit_nodes = sorted(outfits, key=repr)
    for outfit in outfit_nodes:
        for item in sorted(set(outfits[outfit]), key=repr):
            graph.add_edge(("outfit", outfit), ("item", item))
    communities = nx.community.louvain_communities(graph, seed=seed, resolution=resolution)
    # Louvain returns sets; sort each community's key so the shuffle below is reproducible.
    communities = sorted(communities, key=lambda c: min(repr(node) for node in c))
    order = np.random.default_rng(seed).permutation(len(communities))

    total = len(outfit_nodes)
    wanted = {part: share * total for part, share in shares.items()}
    filled: Counter[str] = Counter()
    node_part: dict[tuple[str, Hashable], str] = {}
    for position in order.tolist():
        community = communities[position]
        size = sum(1 for kind, _ in community if kind == "outfit")
        # The held-out part that still needs the most, if this community fits in what it needs.
        part = max(wanted, key=lambda p: (wanted[p] - filled[p], p))
        if size > wanted[part] - filled[part]:
            part = TRAIN
        filled[part] += size
        for node in community:
            node_part[node] = part

    outfit_part = {outfit: node_part[("outfit", outfit)] for outfit in outfit_nodes}
    item_part: dict[ItemId, str] = {
        cast("ItemId", item): part for (kind, item), part in node_part.items() if kind == "item"
    }
    kept: dict[str, dict[OutfitId, tuple[ItemId, ...]]] = {part: {} for part in (TRAIN, *shares)}
    dropped: Counter[str] = Counter()
    slots = kept_slots = 0
    for outfit in outfit_nodes:
        part = outfit_part[outfit]
        garments = sorted(set(outfits[outfit]), key=repr)
        own = tuple(item for item in garments if item_part[item] == part)
        slots += len(garments)
        if len(own) >= min_items:
            kept[part][outfit] = own
            kept_slots += len(own)
        else:
            dropped[part] += 1
    return OutfitSplit(
        outfit_part=outfit_part,
        item_part=item_part,
        outfits=kept,
        dropped=dict(dropped),
        kept_share=kept_slots / slots if slots else 0.0,
    )
