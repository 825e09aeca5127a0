from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from recsys.index import IndexSet
from recsys.library_graph import LibraryPiece
from recsys.rank.policy import match_weight
from recsys.suggest import Suggestion, complete_the_look, similar_items
from tests.recsys.worlds import axis, build

# Two styles with their own directions per slot: A = axes 0 (top), 1 (bottom), 4 (shoes);
# B = axes 2, 3, 5. Axes 6-9 make near-copies differ a little.
A_TOP, A_BOTTOM, A_SHOES = axis((0, 1.0)), axis((1, 1.0)), axis((4, 1.0))
B_TOP, B_BOTTOM, B_SHOES = axis((2, 1.0)), axis((3, 1.0)), axis((5, 1.0))

# Library outfits: outfit id -> {library item key: (slot, embedding)}.
OUTFITS = {
    101: {1: ("top", A_TOP), 2: ("bottom", A_BOTTOM), 3: ("shoes", A_SHOES)},
    102: {
        4: ("top", axis((0, 1.0), (6, 0.3))),
        5: ("bottom", axis((1, 1.0), (7, 0.4))),
        6: ("shoes", A_SHOES),
    },
    201: {7: ("top", B_TOP), 8: ("bottom", B_BOTTOM), 9: ("shoes", B_SHOES)},
    202: {
        10: ("top", axis((2, 1.0), (6, 0.3))),
        11: ("bottom", axis((3, 1.0), (7, 0.3))),
        12: ("shoes", B_SHOES),
    },
}
CATALOG = {
    1001: ("top", A_TOP),
    1002: ("top", B_TOP),
    1003: ("shoes", A_SHOES),
    2001: ("bottom", A_BOTTOM),  # the A bottom
    2002: ("bottom", B_BOTTOM),  # the B bottom
    2003: ("bottom", axis((1, 1.0), (8, 0.7))),  # A-ish, less close
}


def _world(tmp_path: Path, *, library: bool = True, skip_in_index: Sequence[int] = ()) -> IndexSet:
    items = [("catalog", slot, key, vector) for key, (slot, vector) in CATALOG.items()]
    if library:
        items += [
            ("library", slot, key, vector)
            for pieces in OUTFITS.values()
            for key, (slot, vector) in pieces.items()
            if key not in skip_in_index
        ]
    return build(tmp_path, items)


class Library:
    """The database side: approved outfits by library item, and a record of how it was asked."""

    def __init__(self, outfits: Mapping[int, Mapping[int, tuple[str, object]]] = OUTFITS) -> None:
        self.outfits = outfits
        self.calls: list[list[int]] = []

    def outfits_for(self, library_items: Sequence[int]) -> dict[int, list[LibraryPiece]]:
        self.calls.append(list(library_items))
        found: dict[int, list[LibraryPiece]] = {}
        for item in library_items:
            for outfit, pieces in self.outfits.items():
                if item in pieces:
                    found.setdefault(item, []).extend(
                        LibraryPiece(library_item=key, outfit=outfit, slot=slot)
                        for key, (slot, _) in pieces.items()
                    )
        return found


def _bottoms_for(
    index: IndexSet, library: Library, *queries: int, k: int = 3, **options: object
) -> list[Suggestion]:
    return complete_the_look(
        index,
        queries=[(CATALOG[key][1], CATALOG[key][0]) for key in queries],
        wanted_slot="bottom",
        outfits_for=library.outfits_for,
        k=k,
        **options,  # type: ignore[arg-type]
    )


def test_a_style_a_top_gets_the_style_a_bottom_from_style_a_outfits(tmp_path: Path) -> None:
    index, library = _world(tmp_path), Library()

    found = _bottoms_for(index, library, 1001)

    assert [s.catalog_item for s in found][:2] == [2001, 2003]
    assert found[0].outfits == (101, 102)  # 101's bottom is the exact A bottom, so it supports most
    assert 2002 not in [s.catalog_item for s in found]
    assert all(s.score > 0 for s in found)
    assert len(library.calls) == 1 and {1, 4} <= set(library.calls[0])  # one database round trip


def test_a_style_b_top_gets_the_style_b_bottom(tmp_path: Path) -> None:
    found = _bottoms_for(_world(tmp_path), Library(), 1002)

    assert found[0].catalog_item == 2002 and set(found[0].outfits) == {201, 202}


def test_a_held_out_outfit_is_not_used(tmp_path: Path) -> None:
    index = _world(tmp_path)

    found = _bottoms_for(index, Library(), 1001, exclude_outfits={101})

    assert found[0].catalog_item == 2001 and found[0].outfits == (102,)
    assert _bottoms_for(index, Library(), 1001, exclude_outfits={101, 102}) == []


def test_excluded_catalog_items_are_not_suggested(tmp_path: Path) -> None:
    found = _bottoms_for(_world(tmp_path), Library(), 1001, exclude_catalog=[2001])

    assert found[0].catalog_item == 2003 and 2001 not in [s.catalog_item for s in found]


def test_pieces_missing_from_the_index_are_skipped(tmp_path: Path) -> None:
    # Outfit 102's bottom was approved after the build; a piece with no index entry at all, too.
    index = _world(tmp_path, skip_in_index=[5])
    outfits = {**OUTFITS, 103: {1: ("top", A_TOP), 999: ("bottom", A_BOTTOM)}}

    found = _bottoms_for(index, Library(outfits), 1001)

    assert found[0].catalog_item == 2001 and found[0].outfits == (101,)


def test_an_empty_library_or_no_outfits_gives_nothing(tmp_path: Path) -> None:
    assert _bottoms_for(_world(tmp_path, library=False), Library(), 1001) == []
    assert _bottoms_for(_world(tmp_path / "other"), Library({}), 1001) == []


def test_several_garments_add_up(tmp_path: Path) -> None:
    index = _world(tmp_path)

    top_only = _bottoms_for(index, Library(), 1001)
    top_and_shoes = _bottoms_for(index, Library(), 1001, 1003)

    assert top_and_shoes[0].catalog_item == 2001
    assert top_and_shoes[0].score > top_only[0].score


def test_a_piece_reached_twice_in_one_outfit_counts_its_best_path(tmp_path: Path) -> None:
    # Outfit 101 layers two tops: the query reaches its bottom through both, which must count once.
    layered = {101: {**OUTFITS[101], 4: ("top", OUTFITS[102][4][1])}}
    index = _world(tmp_path)

    found = _bottoms_for(index, Library(layered), 1001, sharpness=2.0)

    query = index.center("catalog", CATALOG[1001][1])
    via = [index.vector("library", "top", key) for key in (1, 4)]
    piece = index.vector("library", "bottom", 2)
    answer = index.vector("catalog", "bottom", 2001)
    assert all(v is not None for v in [*via, piece, answer])
    best_top = max(float(match_weight(np.array(query @ v), 2.0)) for v in via)  # type: ignore[operator]
    expected = best_top * float(match_weight(np.array(piece @ answer), 2.0))  # type: ignore[operator]
    assert found[0].catalog_item == 2001
    assert found[0].score == pytest.approx(expected, rel=1e-4)
    assert found[0].outfits == (101,)


def test_equal_scores_are_ordered_by_key(tmp_path: Path) -> None:
    items = [("catalog", slot, key, vector) for key, (slot, vector) in CATALOG.items()]
    items += [("catalog", "bottom", 2999, A_BOTTOM), ("catalog", "bottom", 2000, A_BOTTOM)]  # twins of 2001
    items += [("library", slot, key, vector) for key, (slot, vector) in OUTFITS[101].items()]
    index = build(tmp_path, items)

    found = _bottoms_for(index, Library({101: OUTFITS[101]}), 1001)

    assert [s.catalog_item for s in found] == [2000, 2001, 2999]
    assert found[0].score == pytest.approx(found[2].score)


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    index = _world(tmp_path)
    with pytest.raises(ValueError, match="k must be"):
        _bottoms_for(index, Library(), 1001, k=0)
    with pytest.raises(ValueError, match="unknown slot 'hat'"):
        complete_the_look(
            index, queries=[(A_TOP, "top")], wanted_slot="hat", outfits_for=Library().outfits_for, k=3
        )


def test_similar_items_stay_in_the_slot_and_leave_out_the_garment(tmp_path: Path) -> None:
    index = _world(tmp_path)

    found = similar_items(index, embedding=CATALOG[2001][1], slot="bottom", k=2, exclude=[2001])

    assert [n.key for n in found] == [2003, 2002]
