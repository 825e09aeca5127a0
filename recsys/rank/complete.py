"""One slot's suggestions from the two methods: candidates, one relevance, filters, diversity, reasons.

The caller (outfits.suggestions) gathers what needs the database or the index: the library method's
ranked candidates with their supporting outfits (recsys.suggest.complete_the_look), the
compatibility score of every catalog item of the slot (one product with the build's vectors), the
shop facts of the candidates, and the vectors diversity compares. This module only decides:

1. candidates: the library method's, the compatibility model's best, or (blend) both;
2. relevance: the library score, the compatibility score, or their blend (recsys.rank.blend) with
   the weights fitted on validation outfits. A candidate the library method did not return scores
   0 there, as a candidate no library path reaches does;
3. the shop's filters (recsys.rank.filters), then maximal marginal relevance (recsys.rank.diversity);
4. a reason for each pick (recsys.rank.reasons), and a reason for an empty answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from ..arrays import top_columns
from ..suggest import Suggestion
from .blend import BlendWeights, blend_scores
from .diversity import mmr
from .filters import CatalogFacts, ShopFilters, apply_filters
from .policy import DIVERSITY_POOL
from .reasons import PairCounts, Reason, explain


class Method(StrEnum):
    LIBRARY = "library"
    COMPAT = "compat"
    BLEND = "blend"


# Why a slot has no suggestion, in words a storefront can show an editor.
NO_LIBRARY_PATH: Final = "no approved library outfit reaches this garment"
NO_CATALOG: Final = "the catalog has no {slot} to suggest"
ALL_FILTERED: Final = "no {slot} passes the filters (in stock, price, gender, brand, own type)"


@dataclass(frozen=True)
class Ranked:
    """One suggestion: a catalog item for a slot, its relevance and why."""

    slot: str
    catalog_item: int
    score: float
    reason: Reason

    def as_json(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "catalog_item": self.catalog_item,
            "score": round(self.score, 6),
            "outfits": list(self.reason.outfits),
            "matches": list(self.reason.matches),
        }


@dataclass(frozen=True)
class SlotAnswer:
    slot: str
    rows: tuple[Ranked, ...]
    empty_reason: str = ""  # set when rows is empty


@dataclass(frozen=True)
class CompatScores:
    """The compatibility score of every catalog item of the slot (keys and scores, same order)."""

    keys: NDArray[np.int64]
    scores: NDArray[np.float32]

    def top(self, n: int, exclude: Sequence[int] = ()) -> list[int]:
        """Keys of the n best-scoring items (ties: lower key first), `exclude` left out."""
        kept = ~np.isin(self.keys, np.asarray(list(exclude), dtype=np.int64))
        keys, scores = self.keys[kept], self.scores[kept]
        return [int(key) for key in keys[top_columns(scores[np.newaxis, :], keys, n)[0]]]

    def of(self, keys: Sequence[int]) -> NDArray[np.float64]:
        """Scores of given keys (0 for a key the build does not hold)."""
        order = np.argsort(self.keys, kind="stable")
        sorted_keys = self.keys[order]
        wanted = np.asarray(list(keys), dtype=np.int64)
        at = np.minimum(np.searchsorted(sorted_keys, wanted), max(len(sorted_keys) - 1, 0))
        found = (sorted_keys[at] == wanted) if len(sorted_keys) else np.zeros(len(wanted), dtype=bool)
        scores = np.zeros(len(wanted), dtype=np.float64)
        scores[found] = self.scores[order][at[found]]
        return scores


@dataclass(frozen=True)
class Evidence:
    """What reasons are made of: the library's attribute pair counts and each garment's value."""

    pairs: PairCounts | None
    query_values: tuple[str, ...]
    candidate_value: Callable[[int], str]


# Supporting library outfits of picked candidates, strongest first.
Support = Callable[[Sequence[int]], Mapping[int, Sequence[int]]]


@dataclass(frozen=True)
class Ranking:
    """One slot's candidates by relevance, best first, before the shop's filters; `empty_reason`
    says why there is none."""

    keys: list[int]
    relevance: list[float]
    support: Support
    empty_reason: str = ""


def rank_candidates(
    *,
    slot: str,
    method: Method,
    library: Sequence[Suggestion],
    compat: CompatScores | None,
    blend: BlendWeights | None,
    exclude: Sequence[int] = (),
    pool: int,
) -> Ranking:
    """The live ranking of one slot. `library` is the library method's ranking (every catalog item a
    path reaches), `compat` the compatibility scores (None: no model, compat and blend cannot run),
    `exclude` the shopper's own items."""
    if method is not Method.LIBRARY and compat is None:
        raise ValueError(f"method {method} needs compatibility scores")
    excluded = set(exclude)
    by_library = {s.catalog_item: s for s in library if s.catalog_item not in excluded}
    keys = list(by_library)
    if method is not Method.LIBRARY:
        assert compat is not None
        compat_keys = compat.top(pool, exclude=list(excluded))
        keys = compat_keys if method is Method.COMPAT else list(dict.fromkeys(keys + compat_keys))

    def support(picked: Sequence[int]) -> Mapping[int, Sequence[int]]:
        return {key: by_library[key].outfits if key in by_library else () for key in picked}

    if not keys:
        reason = NO_LIBRARY_PATH if method is Method.LIBRARY else NO_CATALOG.format(slot=slot)
        return Ranking([], [], support, reason)
    library_scores = np.array([by_library[key].score if key in by_library else 0.0 for key in keys])
    if method is Method.LIBRARY:
        relevance = library_scores
    else:
        assert compat is not None
        compat_scores = compat.of(keys)
        relevance = (
            compat_scores
            if method is Method.COMPAT
            else blend_scores(blend or BlendWeights(), compat_scores, library_scores)
        )
    order = np.lexsort((np.asarray(keys), -relevance))
    return Ranking([keys[i] for i in order], [float(relevance[i]) for i in order], support)


def rank_slot(
    *,
    slot: str,
    method: Method,
    k: int,
    library: Sequence[Suggestion],
    compat: CompatScores | None,
    blend: BlendWeights | None,
    facts: Mapping[int, CatalogFacts],
    filters: ShopFilters,
    vectors: Callable[[Sequence[int]], NDArray[np.float32]],
    diversity: float,
    evidence: Evidence,
    exclude: Sequence[int] = (),
    pool: int,
) -> SlotAnswer:
    """Up to k suggestions of `slot`, best first: rank_candidates, then finish_slot (`facts` of
    every candidate; `vectors` gives the embeddings diversity compares)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    ranking = rank_candidates(
        slot=slot, method=method, library=library, compat=compat, blend=blend, exclude=exclude, pool=pool
    )
    if not ranking.keys:
        return SlotAnswer(slot, (), ranking.empty_reason)
    answer = finish_slot(
        slot=slot,
        k=k,
        ranked=ranking.keys,
        relevance=ranking.relevance,
        support=ranking.support,
        facts=facts,
        filters=filters,
        vectors=vectors,
        diversity=diversity,
        evidence=evidence,
    )
    assert answer is not None  # a complete list always answers
    return answer


def finish_slot(
    *,
    slot: str,
    k: int,
    ranked: Sequence[int],
    relevance: Sequence[float],
    support: Support,
    facts: Mapping[int, CatalogFacts],
    filters: ShopFilters,
    vectors: Callable[[Sequence[int]], NDArray[np.float32]],
    diversity: float,
    evidence: Evidence,
    complete: bool = True,
) -> SlotAnswer | None:
    """The shop's filters, diversity and reasons over candidates already ranked by relevance (the
    live ranking, or an answer stored by the build). A stored list is not `complete` (it holds the
    first ANSWER_DEPTH only): when the filters leave fewer than diversity chooses from, None says so,
    and the caller ranks live."""
    score_of = dict(zip(ranked, relevance, strict=True))
    kept = apply_filters(ranked, facts, filters)
    wanted = max(k * DIVERSITY_POOL, k)
    if not complete and len(kept) < wanted:
        return None
    kept = kept[:wanted]
    if not kept:
        return SlotAnswer(slot, (), ALL_FILTERED.format(slot=slot))
    picks = [
        kept[position]
        for position in mmr([score_of[key] for key in kept], vectors(kept), k, diversity=diversity)
    ]
    outfits = support(picks)
    rows = []
    for key in picks:
        reason = explain(
            supporting_outfits=tuple(outfits.get(key, ())),
            query_values=evidence.query_values,
            candidate_value=evidence.candidate_value(key),
            pairs=evidence.pairs,
        )
        rows.append(Ranked(slot=slot, catalog_item=key, score=score_of[key], reason=reason))
    return SlotAnswer(slot, tuple(rows))
