"""Evaluation questions built from held-out outfits, in the formats of FORMATS.md.

The same protocol as the shipped `mango-old/eval` files: a fill-in-the-blank question hides one top
or bottom of an outfit among three negatives of the same product type; a compatibility negative
replaces every garment by a random one of the same product type; a retrieval query is an outfit
without its tops (or bottoms), the hidden ones relevant. Negatives come from the held-out part only,
so every garment a question names is one the model never trained on.

One addition: fill-in-the-blank with negatives matched on popularity (how many held-out outfits
wear the garment). A stylist's answer is often a popular basic; with random negatives a method can
win by ranking basics first, with matched ones it cannot.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

BLANK_CATEGORIES: Final = ("Tops", "Bottoms")
CANDIDATES: Final = 4


@dataclass(frozen=True)
class Garment:
    id: str
    category: str  # des_product_category
    family: str
    type: str


def popularity(outfits: Mapping[str, Sequence[str]]) -> Counter[str]:
    return Counter(item for items in outfits.values() for item in set(items))


def _negatives(
    answer: Garment,
    taken: set[str],
    by_level: Mapping[str, Mapping[str, list[str]]],
    rng: np.random.Generator,
    count: int,
    popular: Mapping[str, int] | None,
    at_least: int | None = None,
) -> tuple[list[str], str] | None:
    """`count` garments like `answer` (same type, else family, else category) not in `taken`;
    with `at_least`, as many as the category has when it has fewer (a small library).

    With `popular`, the ones whose popularity is closest to the answer's (log scale, random ties).
    """
    for level in ("type", "family", "category"):
        pool = [g for g in by_level[level].get(getattr(answer, level), []) if g not in taken]
        if len(pool) < count:
            if level != "category" or at_least is None or len(pool) < at_least:
                continue
            count = len(pool)
        if popular is None:
            return [pool[i] for i in rng.choice(len(pool), count, replace=False)], level
        target = math.log1p(popular.get(answer.id, 0))
        jitter = rng.random(len(pool))
        distance = np.array([abs(math.log1p(popular.get(g, 0)) - target) for g in pool])
        return [pool[i] for i in np.lexsort((jitter, distance))[:count]], level
    return None


def _by_level(garments: Mapping[str, Garment], items: set[str]) -> dict[str, dict[str, list[str]]]:
    levels: dict[str, dict[str, list[str]]] = {"type": {}, "family": {}, "category": {}}
    for item in sorted(items):
        garment = garments[item]
        for level, groups in levels.items():
            groups.setdefault(getattr(garment, level), []).append(item)
    return levels


def fitb_questions(
    outfits: Mapping[str, Sequence[str]],
    garments: Mapping[str, Garment],
    *,
    seed: int,
    prefix: str,
    match_popularity: bool = False,
    blank_categories: Sequence[str] = BLANK_CATEGORIES,
    min_candidates: int = CANDIDATES,
) -> list[dict[str, Any]]:
    """One question per outfit that has a garment of a blank category and at least one other.

    Questions have CANDIDATES candidates; `min_candidates` (2 or more) lets a small library ask
    questions with fewer where its category has too few garments (validation while training)."""
    if not 2 <= min_candidates <= CANDIDATES:
        raise ValueError(f"min_candidates must be between 2 and {CANDIDATES}, got {min_candidates}")
    rng = np.random.default_rng(seed)
    by_level = _by_level(garments, {i for items in outfits.values() for i in items})
    popular = popularity(outfits) if match_popularity else None
    questions: list[dict[str, Any]] = []
    for outfit in sorted(outfits):
        items = sorted(set(outfits[outfit]))
        blanks = [i for i in items if garments[i].category in blank_categories]
        if not blanks or len(items) < 2:
            continue
        answer = garments[blanks[int(rng.integers(len(blanks)))]]
        found = _negatives(answer, set(items), by_level, rng, CANDIDATES - 1, popular, min_candidates - 1)
        if found is None:
            continue
        candidates = [answer.id, *found[0]]
        order = rng.permutation(len(candidates))
        questions.append(
            {
                "id": f"{prefix}-fitb-{outfit}",
                "outfit_id": outfit,
                "question": [i for i in items if i != answer.id],
                "blank_category": answer.category,
                "candidates": [candidates[i] for i in order],
                "answer": int(np.flatnonzero(order == 0)[0]),
            }
        )
    return questions


def compat_entries(
    outfits: Mapping[str, Sequence[str]], garments: Mapping[str, Garment], *, seed: int, prefix: str
) -> list[dict[str, Any]]:
    """Each outfit (label 1) and a negative made of random garments of the same types (label 0)."""
    rng = np.random.default_rng(seed)
    by_level = _by_level(garments, {i for items in outfits.values() for i in items})
    entries: list[dict[str, Any]] = []
    for outfit in sorted(outfits):
        items = sorted(set(outfits[outfit]))
        if len(items) < 2:
            continue
        negative: list[str] = []
        for item in items:
            found = _negatives(garments[item], set(items) | set(negative), by_level, rng, 1, None)
            if found is None:
                break
            negative.append(found[0][0])
        entries.append({"id": f"{prefix}-compat-{outfit}", "items": items, "label": 1})
        if len(negative) == len(items):
            entries.append({"id": f"{prefix}-compat-{outfit}-neg", "items": negative, "label": 0})
    return entries


def retrieval_entries(
    outfits: Mapping[str, Sequence[str]],
    garments: Mapping[str, Garment],
    *,
    prefix: str,
    target_categories: Sequence[str] = BLANK_CATEGORIES,
) -> list[dict[str, Any]]:
    """Per outfit and target category it wears: the rest of the outfit as the query, its garments of
    that category relevant. Identical queries for one category are merged (relevant: the union)."""
    merged: dict[tuple[tuple[str, ...], str], dict[str, Any]] = {}
    for outfit in sorted(outfits):
        items = sorted(set(outfits[outfit]))
        for category in target_categories:
            relevant = [i for i in items if garments[i].category == category]
            query = tuple(i for i in items if garments[i].category != category)
            if not relevant or not query:
                continue
            entry = merged.setdefault(
                (query, category),
                {
                    "id": f"{prefix}-retrieval-{outfit}-{category.lower()}",
                    "query_items": list(query),
                    "target_category": category,
                    "relevant": [],
                },
            )
            entry["relevant"] = sorted({*entry["relevant"], *relevant})
    return list(merged.values())
