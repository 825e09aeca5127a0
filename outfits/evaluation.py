"""Offline evaluation of suggestions against FORMATS.md evaluation files (reads only).

Every method answers the same two questions, so fitb, compat and retrieval treat them alike:
how well each candidate completes some garments (`scores`), and how well a whole outfit holds
together (`outfit`). Methods: library (paths through the curated library), compat (the
compatibility model), blend (the two, with the weights fitted on validation) and cosine (the naive
baseline: mean image similarity).

Held-out protocol: a question is built from one library outfit, and the same data set is usually
imported as the library too. Library outfits that contain the answer together with any question
item are therefore ignored for that question; otherwise the method would look the answer up.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from recsys.evaluate import RetrievalReport, fitb_accuracy, roc_auc, summarize_retrieval
from recsys.index import IndexSet
from recsys.library_graph import LibraryPiece
from recsys.suggest import complete_the_look as recsys_complete_the_look

from . import selectors
from .categories import UnmappedCategory, slot_for_category_name
from .models import ImageAnalysis, LibraryOutfitItem, embedding_vector

METHODS = ("library", "compat", "blend", "cosine")


class EvaluationError(ValueError):
    """The file cannot be evaluated as it stands (bad JSON, unknown ids, no index, no model)."""


@dataclass(frozen=True)
class _Garment:
    pk: int
    external_id: str
    slot: str
    embedding: np.ndarray


def load_entries(path: Path, required: Sequence[str]) -> list[dict[str, Any]]:
    try:
        entries = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from exc
    if not isinstance(entries, list) or not entries:
        raise EvaluationError(f"{path} must hold a non-empty JSON list")
    for position, entry in enumerate(entries):
        missing = [name for name in required if not isinstance(entry, dict) or name not in entry]
        if missing:
            raise EvaluationError(f"entry {position} of {path.name} lacks {', '.join(missing)}")
    return entries


class _Scorer(Protocol):
    def scores(
        self, queries: Sequence[_Garment], candidates: Sequence[_Garment], slot: str
    ) -> list[float]: ...

    def outfits(self, outfits: Sequence[Sequence[_Garment]]) -> list[float]:
        """How well each whole outfit holds together (comparable within the one call)."""
        ...


class _Library:
    """The library method. Outfit lookups are memoised: the library does not change meanwhile."""

    def __init__(self, index: IndexSet) -> None:
        self.index = index
        self._pieces: dict[int, list[LibraryPiece]] = {}
        self.outfits_of: dict[str, set[int]] = defaultdict(set)
        for external_id, outfit in LibraryOutfitItem.objects.values_list("item__external_id", "outfit_id"):
            self.outfits_of[external_id].add(outfit)

    def pieces_for(self, keys: Sequence[int]) -> Mapping[int, list[LibraryPiece]]:
        missing = [key for key in keys if key not in self._pieces]
        if missing:
            found = selectors.library_pieces_for(missing)
            for key in missing:
                self._pieces[key] = list(found.get(key, []))
        return {key: self._pieces[key] for key in keys if self._pieces[key]}

    def source_outfits(self, question: Iterable[str], answers: Iterable[str]) -> set[int]:
        """Library outfits holding an answer together with a question item: the question's origin."""
        asked = set().union(*(self.outfits_of.get(i, set()) for i in question))
        return {o for a in answers for o in self.outfits_of.get(a, set()) if o in asked}

    def ranked(
        self, queries: Sequence[_Garment], slot: str, k: int, held_out: Sequence[str]
    ) -> dict[int, float]:
        """Complete-the-look scores of the catalog garments of `slot` (the top k), by key."""
        found = recsys_complete_the_look(
            self.index,
            queries=[(q.embedding, q.slot) for q in queries],
            wanted_slot=slot,
            outfits_for=self.pieces_for,
            k=k,
            exclude_catalog={q.pk for q in queries},
            exclude_outfits=self.source_outfits([q.external_id for q in queries], held_out),
        )
        return {s.catalog_item: s.score for s in found}

    def scores(self, queries: Sequence[_Garment], candidates: Sequence[_Garment], slot: str) -> list[float]:
        """A candidate the library does not reach scores 0."""
        ranked = self.ranked(
            queries, slot, max(self.index.count("catalog", slot), 1), [c.external_id for c in candidates]
        )
        return [ranked.get(c.pk, 0.0) for c in candidates]

    def outfits(self, outfits: Sequence[Sequence[_Garment]]) -> list[float]:
        """Per outfit, the mean over its garments of each one's score given the rest."""
        found = []
        for garments in outfits:
            total = 0.0
            for position, garment in enumerate(garments):
                rest = [g for i, g in enumerate(garments) if i != position]
                total += self.scores(rest, [garment], garment.slot)[0]
            found.append(total / len(garments))
        return found


class _Compat:
    """The active compatibility model over catalog garments: each embedded once, by key."""

    def __init__(self, model_spec: str, keys: Iterable[int]) -> None:
        from recsys.compat.artefact import CompatMismatch
        from recsys.compat.features import input_matrix

        from .compat import compat_garments, compat_model

        try:
            model = compat_model(model_spec)
        except CompatMismatch as exc:
            raise EvaluationError(str(exc)) from exc
        if model is None:
            raise EvaluationError("no compatibility model is trained: run `manage.py train_compat` first")
        self.model = model
        garments = compat_garments("catalog", model_spec=model_spec, keys=sorted(set(keys)))
        if not len(garments.keys):
            raise EvaluationError("none of the file's garments is analysed: run analyze_garments first")
        vectors = model.scorer.embed(input_matrix(garments.inputs, model.vocabulary))
        self.vectors = {int(k): vectors[row] for row, k in enumerate(garments.keys.tolist())}
        self.slots = {int(k): garments.slots[row] for row, k in enumerate(garments.keys.tolist())}

    def scores(self, queries: Sequence[_Garment], candidates: Sequence[_Garment], slot: str) -> list[float]:
        """Each candidate's mean compatibility with the query garments (the rest of its outfit)."""
        pieces = np.stack([self.vectors[q.pk] for q in queries])
        slots = [self.slots[q.pk] for q in queries]
        return [
            float(
                self.model.scorer.outfit_scores(pieces, slots, self.vectors[c.pk][None], self.slots[c.pk])[0]
            )
            for c in candidates
        ]

    def outfits(self, outfits: Sequence[Sequence[_Garment]]) -> list[float]:
        return [
            self.model.scorer.outfit_score(
                np.stack([self.vectors[g.pk] for g in garments]), [self.slots[g.pk] for g in garments]
            )
            for garments in outfits
        ]


class _Blend:
    """Compat and library scores of the same candidates, blended with the model's fitted weights."""

    def __init__(self, compat: _Compat, library: _Library) -> None:
        weights = compat.model.blend
        if weights is None:
            raise EvaluationError(
                "the compatibility model has no blend weights (it was trained before any index was "
                "built): run build_index, then train_compat again"
            )
        self.weights, self.compat, self.library = weights, compat, library

    def scores(self, queries: Sequence[_Garment], candidates: Sequence[_Garment], slot: str) -> list[float]:
        from recsys.rank.blend import blend_scores

        return blend_scores(
            self.weights,
            self.compat.scores(queries, candidates, slot),
            self.library.scores(queries, candidates, slot),
        ).tolist()

    def outfits(self, outfits: Sequence[Sequence[_Garment]]) -> list[float]:
        """Both outfit scores, blended over the whole set (the library score is scaled to its
        largest in the set, as it is to a question's largest in fill-in-the-blank)."""
        from recsys.rank.blend import blend_scores

        return blend_scores(
            self.weights, self.compat.outfits(outfits), self.library.outfits(outfits)
        ).tolist()


class _Cosine:
    """The naive baseline: a candidate scores its mean image similarity to the query garments."""

    def scores(self, queries: Sequence[_Garment], candidates: Sequence[_Garment], slot: str) -> list[float]:
        pieces = np.stack([q.embedding for q in queries])
        return [float(np.mean(pieces @ c.embedding)) for c in candidates]

    def outfits(self, outfits: Sequence[Sequence[_Garment]]) -> list[float]:
        """Per outfit, the mean image similarity over its pairs of garments."""
        found = []
        for garments in outfits:
            vectors = np.stack([g.embedding for g in garments])
            similarity = vectors @ vectors.T
            n = len(garments)
            found.append(float((similarity.sum() - np.trace(similarity)) / (n * (n - 1))))
        return found


def _scorer(method: str, index: IndexSet, garments: Iterable[_Garment]) -> _Scorer:
    if method not in METHODS:
        raise EvaluationError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if method == "cosine":
        return _Cosine()
    if method == "library":
        return _Library(index)
    compat = _Compat(index.manifest.model_spec, (g.pk for g in garments))
    return compat if method == "compat" else _Blend(compat, _Library(index))


def _catalog(index: IndexSet, external_ids: set[str] | None = None) -> dict[str, _Garment]:
    """Analysed catalog garments under the index's model: those named, or all of them."""
    spec = index.manifest.model_spec
    rows = ImageAnalysis.objects.filter(model_spec=spec, status="ok", catalog_item__isnull=False)
    if external_ids is not None:
        rows = rows.filter(catalog_item__external_id__in=external_ids)
    values = rows.values_list(
        "catalog_item__external_id", "catalog_item_id", "catalog_item__category__slot", "embedding"
    )
    # An "ok" analysis always stores its embedding (readings.analysis_save): the column is never NULL here.
    return {
        ext: _Garment(pk, ext, slot, embedding_vector(cast("bytes | memoryview", blob)))
        for ext, pk, slot, blob in values
    }


def _require_index() -> IndexSet:
    index = selectors.active_index()
    if index is None:
        raise EvaluationError("no active index: import, analyse and build_index first")
    return index


def _slot(name: str) -> str:
    try:
        return slot_for_category_name(name).value
    except UnmappedCategory as exc:
        raise EvaluationError(str(exc)) from exc


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    n: int
    skipped: int
    model_spec: str
    build_id: str

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__}


def _evaluation(index: IndexSet, metrics: dict[str, float], n: int, skipped: int) -> Evaluation:
    if not n:
        raise EvaluationError("no entry could be evaluated: import and analyse the items the file names")
    return Evaluation(
        metrics=metrics,
        n=n,
        skipped=skipped,
        model_spec=index.manifest.model_spec,
        build_id=index.manifest.build_id,
    )


def evaluate_retrieval(
    path: Path, *, depth: int = 100, limit: int | None = None, method: str = "library"
) -> Evaluation:
    """Recall@10/50 and MRR of complete-the-look over a retrieval file.

    Each ranking is cut at `depth`; a relevant item below it counts as not found (MRR is MRR@depth).
    Entries whose items are not imported and analysed are counted as skipped, not as misses. The
    library method ranks what its paths reach; the others score every analysed catalog garment of
    the target slot.
    """
    entries = load_entries(path, ("query_items", "target_category", "relevant"))[:limit]
    index = _require_index()
    catalog = _catalog(index)
    scorer = _scorer(method, index, catalog.values())
    pool: dict[str, list[_Garment]] = defaultdict(list)
    for garment in catalog.values():
        pool[garment.slot].append(garment)
    results: list[tuple[list[int], set[int]]] = []
    skipped = 0
    for entry in entries:
        queries = [catalog[i] for i in entry["query_items"] if i in catalog]
        relevant = {catalog[i].pk for i in entry["relevant"] if i in catalog}
        if not queries or not relevant:
            skipped += 1
            continue
        slot = _slot(entry["target_category"])
        if isinstance(scorer, _Library):
            found = scorer.ranked(queries, slot, depth, entry["relevant"])
            ranked = list(found)  # best first
        else:
            asked = {q.pk for q in queries}
            candidates = [g for g in pool[slot] if g.pk not in asked]
            scores = np.array(scorer.scores(queries, candidates, slot)) if candidates else np.zeros(0)
            ranked = [candidates[i].pk for i in np.argsort(-scores, kind="stable")[:depth]]
        results.append((ranked, relevant))
    report: RetrievalReport = summarize_retrieval(results)
    return _evaluation(
        index,
        {"recall@10": report.recall_at_10, "recall@50": report.recall_at_50, "mrr": report.mrr},
        report.n,
        skipped,
    )


def evaluate_fitb(path: Path, *, limit: int | None = None, method: str = "library") -> Evaluation:
    """Fill-in-the-blank accuracy: the candidate with the highest score wins; ties count as a
    random pick (recsys.evaluate)."""
    entries = load_entries(path, ("question", "blank_category", "candidates", "answer"))[:limit]
    index = _require_index()
    catalog = _catalog(index, {i for e in entries for i in [*e["question"], *e["candidates"]]})
    scorer = _scorer(method, index, catalog.values())
    questions: list[tuple[list[float], int]] = []
    skipped = 0
    for entry in entries:
        queries = [catalog[i] for i in entry["question"] if i in catalog]
        if not queries or any(c not in catalog for c in entry["candidates"]):
            skipped += 1
            continue
        candidates = [catalog[c] for c in entry["candidates"]]
        scores = scorer.scores(queries, candidates, _slot(entry["blank_category"]))
        questions.append((scores, int(entry["answer"])))
    return _evaluation(
        index, {"accuracy": fitb_accuracy(questions)} if questions else {}, len(questions), skipped
    )


def evaluate_compat(path: Path, *, limit: int | None = None, method: str = "compat") -> Evaluation:
    """Outfit compatibility ROC AUC over a compat file (real outfits against random ones).

    compat: the mean compatibility over an outfit's pairs; library: the mean over its garments of
    each one's complete-the-look score given the rest (its own outfit held out of the library, as
    in fitb); blend: the two outfit scores blended over the whole file; cosine: the mean image
    similarity over its pairs.
    """
    entries = load_entries(path, ("items", "label"))[:limit]
    index = _require_index()
    catalog = _catalog(index, {i for e in entries for i in e["items"]})
    scorer = _scorer(method, index, catalog.values())
    outfits: list[list[_Garment]] = []
    labels: list[int] = []
    skipped = 0
    for entry in entries:
        garments = [catalog[i] for i in entry["items"] if i in catalog]
        if len(garments) < 2 or len(garments) < len(entry["items"]):
            skipped += 1
            continue
        outfits.append(garments)
        labels.append(1 if int(entry["label"]) else 0)
    scores = scorer.outfits(outfits)
    if outfits and len(set(labels)) < 2:
        raise EvaluationError("compat needs real and random outfits among the analysed entries")
    return _evaluation(index, {"auc": roc_auc(scores, labels)} if outfits else {}, len(outfits), skipped)
