"""Complete the look: the one selector that turns a shopper's garments into suggestion rows.

Every way of asking goes through `suggest`: one catalog item, a partial outfit of items and photos
(the API), an uploaded photo (the look task) and the demo page. recsys.rank decides what to show;
this module only loads what it needs, in a fixed number of queries whatever k is:

- the shopper's garments (outfits.shopper_garments): their image embeddings (the library method)
  and their inputs to the compatibility model, whose vectors of the catalog are stored with the
  index build; none of it when the build answered for a catalog item;
- the shop facts of the candidates (stock, price, gender, brand, type) for the filters;
- the predicted colours behind a reason ("navy goes with camel in 14 stylist outfits"), counted over
  the approved library once per build and process.

`suggestion_rows` attaches catalog items and outfit references to stored or fresh rows; the API's
serializers and the demo's templates render those same rows.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Final

import numpy as np
from django.db.models import Q

from recsys.answers import ANSWER_DEPTH
from recsys.compat.artefact import CompatModel
from recsys.fresh import FreshItems, outfit_weights_of
from recsys.index import IndexSet
from recsys.rank.complete import (
    CompatScores,
    Evidence,
    Method,
    Ranking,
    SlotAnswer,
    finish_slot,
    rank_candidates,
)
from recsys.rank.filters import ShopFilters
from recsys.rank.policy import EVERY_PATH, FACTS_FIRST, candidate_pool, outfit_wanted_slots, wanted_slots
from recsys.rank.reasons import MAX_OUTFITS, PairCounts
from recsys.slots import CATALOG
from recsys.suggest import Suggestion
from recsys.suggest import complete_the_look as library_ranking

from . import fresh_items, selectors, shown_items, stored_answers
from .compat import build_compat_model, garment_inputs, likeliest
from .models import (
    CatalogItem,
    ImageAnalysis,
    LibraryOutfit,
    LibraryOutfitItem,
    LookRequest,
    QualityVerdict,
)
from .shopper_garments import REASON_ATTRIBUTE, ShopperGarment, catalog_garments, look_garment
from .shown_items import ShownItem

DEFAULT_DIVERSITY: Final = 0.3


class MethodUnavailable(RuntimeError):
    """The method asked for needs a compatibility model the active index build does not hold."""


@dataclass(frozen=True)
class SuggestQuery:
    k: int = 8
    wanted_slots: Sequence[str] = ()
    method: Method | None = None  # None: the blend when the build has a compatibility model
    diversity: float = DEFAULT_DIVERSITY
    filters: ShopFilters = field(default_factory=ShopFilters)
    exclude_own_type: bool = True


@dataclass(frozen=True)
class Answer:
    method: Method
    model_spec: str
    build_id: str
    slots: tuple[SlotAnswer, ...]
    # What the rows show of the candidates, read with their facts (suggestion_rows reads the rest).
    shown: Mapping[int, ShownItem] = field(default_factory=dict, compare=False, repr=False)

    @property
    def empty_slots(self) -> dict[str, str]:
        return {answer.slot: answer.empty_reason for answer in self.slots if not answer.rows}

    @property
    def reason(self) -> str | None:
        """Why nothing at all is suggested (None when something is)."""
        if any(answer.rows for answer in self.slots):
            return None
        reasons = list(dict.fromkeys(answer.empty_reason for answer in self.slots))
        return "; ".join(reasons) if reasons else "no slot to suggest"

    def as_json(self) -> dict[str, Any]:
        """Plain rows, as a look stores them (suggestion_rows attaches the items to read them)."""
        return {
            "method": self.method.value,
            "model_spec": self.model_spec,
            "build_id": self.build_id,
            "suggestions": [row.as_json() for answer in self.slots for row in answer.rows],
            "empty_slots": self.empty_slots,
            "reason": self.reason,
        }


def suggest_for(
    items: Sequence[CatalogItem],
    looks: Sequence[LookRequest] = (),
    *,
    slots: Sequence[str],
    query: SuggestQuery,
    index: IndexSet | None = None,
) -> Answer:
    """Suggestions around catalog items and finished looks (a partial outfit, or one garment), for
    the asked slots or every slot that completes them, from `index` (default: the active build).
    NoIndex, NotAnalysed, ImpossibleSlot and MethodUnavailable say what is missing."""
    index = index or selectors.require_index()
    spec = index.manifest.model_spec
    garments = catalog_garments(items, model_spec=spec, index=index) + [
        look_garment(look, model_spec=spec) for look in looks
    ]
    held = [g.slot for g in garments]
    wanted = wanted_slots(held[0], slots) if len(held) == 1 else outfit_wanted_slots(held, slots)
    return suggest(index, garments, replace(query, wanted_slots=wanted))


# --- Suggest -----------------------------------------------------------------------------------


def suggest(index: IndexSet, garments: Sequence[ShopperGarment], query: SuggestQuery) -> Answer:
    """Suggestions for each wanted slot around the shopper's garments (at least one): from the
    answers the build worked out ahead of time where it can (one catalog item, the default method,
    k up to STORED_K), else ranked live."""
    if not garments:
        raise ValueError("suggestions need at least one garment")
    model = build_compat_model(index)
    method = query.method or (Method.BLEND if model is not None else Method.LIBRARY)
    if method is not Method.LIBRARY and model is None:
        raise MethodUnavailable(
            f"method {method} needs a compatibility model in the active index build: run "
            "`manage.py train_compat`, which rebuilds the index (or use method=library)"
        )
    own_items = [g.catalog_item for g in garments if g.catalog_item is not None]
    filters = query.filters
    if query.exclude_own_type:
        own_types = {g.type_name.strip().lower() for g in garments if g.type_name}
        filters = replace(filters, exclude_types=filters.exclude_types | own_types)
    fresh = fresh_items.current(index)
    live = _Live(index, model, method, garments, candidate_pool(query.k), own_items, fresh)
    stored = stored_answers.candidates(
        index,
        garments,
        method,
        query.k,
        query.wanted_slots,
        model.blend if model is not None else None,
        fresh=fresh,
        pair_weight=model.scorer.pair_weight if model is not None else None,
    )
    live.rank([slot for slot in query.wanted_slots if slot not in stored])
    # The shop facts of the first ANSWER_DEPTH candidates of each slot, stored or live, in one query:
    # a ranking goes deeper only when the filters leave too few of them (one more query).
    rankings = {slot: live.ranking(slot) for slot in query.wanted_slots if slot not in stored}
    first = query.k * FACTS_FIRST
    facts, shown = shown_items.catalog_rows(
        {key for found in stored.values() for key in found.keys[:first].tolist()}
        | {key for ranking in rankings.values() for key in ranking.keys[:ANSWER_DEPTH]}
    )

    def read_facts(keys: set[int]) -> None:
        more_facts, more_shown = shown_items.catalog_rows(keys - facts.keys())
        facts.update(more_facts)
        shown.update(more_shown)

    pairs = _library_pairs(index)
    answers = []
    for slot in query.wanted_slots:
        options: dict[str, Any] = {
            "slot": slot,
            "k": query.k,
            "facts": facts,
            "filters": filters,
            "vectors": partial(_diversity_vectors, index, fresh, slot),
            "diversity": query.diversity,
            "evidence": Evidence(
                pairs=pairs,
                query_values=tuple(g.colour for g in garments if g.colour),
                candidate_value=partial(index.label, slot),  # the build's predicted colour
            ),
        }
        answer = None
        if slot in stored:
            found = stored[slot]
            keys, relevance = found.keys.tolist(), found.relevance.tolist()
            if len(keys) > first:  # the first candidates' facts are read: enough, unless many fail
                answer = finish_slot(
                    ranked=keys[:first],
                    relevance=relevance[:first],
                    support=found.support,
                    complete=False,
                    **options,
                )
                if answer is None:  # the rest's facts, one more query
                    read_facts(set(keys[first:]))
            if answer is None:
                answer = finish_slot(
                    ranked=keys,
                    relevance=relevance,
                    support=found.support,
                    complete=found.complete,
                    **options,
                )
            if answer is None:  # the filters left too few of the stored candidates: rank live
                live.rank([slot])
                rankings[slot] = live.ranking(slot)
        if answer is None:
            ranking = rankings[slot]
            if not ranking.keys:
                answer = SlotAnswer(slot, (), ranking.empty_reason)
            else:
                finish = partial(
                    finish_slot, ranked=ranking.keys, relevance=ranking.relevance, support=ranking.support
                )
                answer = finish(complete=len(ranking.keys) <= ANSWER_DEPTH, **options)
                if answer is None:  # deeper: the facts of every candidate
                    read_facts(set(ranking.keys))
                    answer = finish(complete=True, **options)
        assert answer is not None
        answers.append(answer)
    return Answer(method, index.manifest.model_spec, index.manifest.build_id, tuple(answers), shown)


class _Live:
    """The live ranking's inputs per slot, computed for the slots that need them."""

    def __init__(
        self,
        index: IndexSet,
        model: CompatModel | None,
        method: Method,
        garments: Sequence[ShopperGarment],
        pool: int,
        own_items: list[int],
        fresh: FreshItems | None,
    ) -> None:
        self.index, self.model, self.method, self.garments = index, model, method, garments
        self.pool, self.own_items, self.fresh = pool, own_items, fresh
        self.library: dict[str, list[Suggestion]] = {}
        self.compat: dict[str, CompatScores] = {}

    def rank(self, slots: Sequence[str]) -> None:
        if not slots:
            return
        if self.method is not Method.COMPAT:
            found = _library_candidates(self.index, self.garments, slots, self.own_items)
            if self.fresh is not None:
                self._merge_fresh_library(found)
            self.library.update(found)
        if self.model is not None and self.method is not Method.LIBRARY:
            self.compat.update(_compat_scores(self.index, self.model, self.garments, slots, self.fresh))

    def _merge_fresh_library(self, found: dict[str, list[Suggestion]]) -> None:
        """Items analysed since the build join the library ranking (a changed one replaces its entry)."""
        assert self.fresh is not None
        weights = outfit_weights_of(
            self.index.paths, [(self.index.center(CATALOG, g.embedding), g.slot) for g in self.garments]
        )
        for slot, ranking in found.items():
            added = self.fresh.slot(slot)
            if added is None:
                continue
            scores = added.library_scores(weights)
            kept = [s for s in ranking if s.catalog_item not in self.fresh]
            reached = np.flatnonzero(scores > 0)
            reached = reached[~np.isin(added.keys[reached], self.own_items)]
            outfits = added.supports(weights, self.index.graph.outfits, reached, MAX_OUTFITS)
            for column, support in zip(reached.tolist(), outfits, strict=True):
                kept.append(Suggestion(int(added.keys[column]), float(scores[column]), support))
            found[slot] = kept

    def ranking(self, slot: str) -> Ranking:
        """The slot's candidates by relevance (rank_candidates), before the shop's filters."""
        return rank_candidates(
            slot=slot,
            method=self.method,
            library=self.library.get(slot, ()),
            compat=self.compat.get(slot),
            blend=self.model.blend if self.model is not None else None,
            exclude=self.own_items,
            pool=self.pool,
        )


def _library_candidates(
    index: IndexSet, garments: Sequence[ShopperGarment], slots: Sequence[str], own_items: list[int]
) -> dict[str, list[Suggestion]]:
    """The library method's ranking per slot: every catalog item a path reaches, with the outfits
    behind each."""
    return {
        slot: library_ranking(
            index,
            queries=[(g.embedding, g.slot) for g in garments],
            wanted_slot=slot,
            # The library as the build saw it: a stored answer and a live one read the same outfits.
            outfits_for=index.graph.pieces_for,
            k=EVERY_PATH,
            exclude_catalog=own_items,
        )
        for slot in slots
    }


def _compat_scores(
    index: IndexSet,
    model: CompatModel,
    garments: Sequence[ShopperGarment],
    slots: Sequence[str],
    fresh: FreshItems | None = None,
) -> dict[str, CompatScores]:
    """The compatibility score of every catalog item of each slot against the shopper's garments:
    one product with the build's vectors per slot, and one with the items analysed since (`fresh`,
    which replace the build's entries of the same items)."""
    rows = [g.compat_row for g in garments]
    embedded = model.embed(
        garment_inputs(rows, image_dim=model.scorer.image_width, text_dim=model.text_width)
    )
    for row, garment in enumerate(garments):  # a catalog item's own vector, as the build stored it
        stored = (
            None
            if garment.catalog_item is None or (fresh is not None and garment.catalog_item in fresh)
            else index.compat_vector(garment.slot, garment.catalog_item)
        )
        if stored is not None:
            embedded[row] = stored
    scores = {}
    for slot in slots:
        vectors = index.compat_vectors(slot)
        if vectors is None:  # the catalog has nothing of this slot
            scores[slot] = CompatScores(np.zeros(0, np.int64), np.zeros(0, np.float32))
            continue
        query = model.scorer.outfit_query(embedded, [g.slot for g in garments], slot)
        keys, found = index.keys(CATALOG, slot), np.asarray(vectors @ query)
        added = fresh.slot(slot) if fresh is not None else None
        if fresh is not None and added is not None and added.compat is not None:
            kept = ~np.isin(keys, fresh.keys)
            keys = np.concatenate([keys[kept], added.keys])
            found = np.concatenate([found[kept], added.compat @ query])
        scores[slot] = CompatScores(keys, found.astype(np.float32))
    return scores


def _diversity_vectors(
    index: IndexSet, fresh: FreshItems | None, slot: str, keys: Sequence[int]
) -> np.ndarray:
    """What diversity compares: the compatibility model's vectors (the learned embedding) when the
    build holds them, else the centred image embeddings; an item analysed since, its own."""
    stored = index.compat_vectors(slot)
    if stored is None:
        stored = index.vectors(CATALOG, slot)
    width = stored.shape[1] if stored is not None else 1
    found = np.zeros((len(keys), width), dtype=np.float32)
    rows = index.rows_of(CATALOG, slot, np.asarray(keys, dtype=np.int64))
    held = rows >= 0
    if stored is not None and held.any():
        found[held] = stored[rows[held]]
    for at, key in enumerate(keys):  # an item analysed since the build: its own vector
        vector = fresh.vector(slot, key) if fresh is not None and key in fresh else None
        if vector is not None and len(vector) == width:
            found[at] = vector
    return found


_pairs_lock = threading.Lock()
_pairs: dict[str, PairCounts] = {}


def _library_pairs(index: IndexSet) -> PairCounts:
    """Colour pairs of the approved library, counted once per build and process."""
    build_id = index.manifest.build_id
    with _pairs_lock:
        if build_id not in _pairs:
            _pairs.clear()
            _pairs[build_id] = _count_library_pairs(index.manifest.model_spec)
        return _pairs[build_id]


def _count_library_pairs(model_spec: str) -> PairCounts:
    colour_of = {
        key: likeliest(scores)
        for key, scores in ImageAnalysis.objects.filter(
            library_item__isnull=False, model_spec=model_spec, status="ok"
        ).values_list("library_item_id", f"attributes__{REASON_ATTRIBUTE}")
    }
    outfits: dict[int, list[str]] = {}
    for outfit_id, item_id in LibraryOutfitItem.objects.filter(
        ~Q(outfit__quality_verdict=QualityVerdict.REJECT), outfit__status=LibraryOutfit.Status.APPROVED
    ).values_list("outfit_id", "item_id"):
        outfits.setdefault(outfit_id, []).append(colour_of.get(item_id, ""))
    return PairCounts(outfits.values())


# --- Rows to render ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestionRow:
    """A suggestion as the API and the demo show it."""

    slot: str
    score: float
    item: ShownItem
    outfits: list[Mapping[str, Any]]  # id, external_id, source of each supporting library outfit
    matches: list[str]


def suggestion_rows(
    plain: Sequence[Mapping[str, Any]], shown: Mapping[int, ShownItem] | None = None
) -> list[SuggestionRow]:
    """Attach catalog items and outfit references to plain rows (Answer.as_json()["suggestions"]),
    keeping their order; a row whose item was deleted since is left out. `shown`: the items the
    answer read already (Answer.shown); the others take one query."""
    items = dict(shown or {})
    missing = {row["catalog_item"] for row in plain} - items.keys()
    if missing:
        items.update(shown_items.catalog_rows(missing)[1])
    outfits = shown_items.outfit_refs({outfit for row in plain for outfit in row.get("outfits", ())})
    return [
        SuggestionRow(
            slot=row["slot"],
            score=row["score"],
            item=items[row["catalog_item"]],
            outfits=[outfits[o] for o in row.get("outfits", ()) if o in outfits],
            matches=list(row.get("matches", ())),
        )
        for row in plain
        if row["catalog_item"] in items
    ]
