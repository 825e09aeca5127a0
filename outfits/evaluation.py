"""Offline evaluation of suggestions against FORMATS.md evaluation files (reads only).

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
from typing import Any, cast

import numpy as np

from recsys.evaluate import RetrievalReport, fitb_accuracy, roc_auc, summarize_retrieval
from recsys.index import IndexSet
from recsys.suggest import LibraryPiece
from recsys.suggest import complete_the_look as recsys_complete_the_look

from . import selectors
from .categories import UnmappedCategory, slot_for_category_name
from .models import ImageAnalysis, LibraryOutfitItem

METHODS = ("library", "compat", "blend", "cosine")


class EvaluationError(ValueError):
    """The file cannot be evaluated as it stands (bad JSON, unknown ids, no index)."""


@dataclass(frozen=True)
class _Garment:
    pk: int
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


class _Library:
    """Memoised outfit lookups: the library does not change during an evaluation."""

    def __init__(self) -> None:
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


def _catalog(index: IndexSet, external_ids: set[str]) -> dict[str, _Garment]:
    spec = index.manifest.model_spec
    rows = ImageAnalysis.objects.filter(
        catalog_item__external_id__in=external_ids, model_spec=spec, status="ok"
    ).values_list("catalog_item__external_id", "catalog_item_id", "catalog_item__category__slot", "embedding")
    # An "ok" analysis always stores its embedding (services._analysis_save): the column is never NULL here.
    return {
        ext: _Garment(pk, slot, np.frombuffer(bytes(cast("bytes | memoryview", blob)), dtype=np.float32))
        for ext, pk, slot, blob in rows
    }


def _require_index() -> IndexSet:
    index = selectors.active_index()
    if index is None:
        raise EvaluationError("no active index: import, analyse and build_index first")
    return index


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
        vectors = model.scorer.embed(input_matrix(garments.inputs, model.vocabulary))
        self.vectors = {int(k): vectors[row] for row, k in enumerate(garments.keys.tolist())}
        self.slots = {int(k): garments.slots[row] for row, k in enumerate(garments.keys.tolist())}

    def scores(self, queries: Sequence[_Garment], candidates: Sequence[_Garment]) -> list[float]:
        """Each candidate's mean compatibility with the query garments (the rest of its outfit)."""
        pieces = np.stack([self.vectors[q.pk] for q in queries])
        slots = [self.slots[q.pk] for q in queries]
        return [
            float(self.model.scorer.outfit_scores(pieces, slots, self.vectors[c.pk][None], self.slots[c.pk])[0])
            for c in candidates
        ]

    def outfit(self, garments: Sequence[_Garment]) -> float:
        return self.model.scorer.outfit_score(
            np.stack([self.vectors[g.pk] for g in garments]), [self.slots[g.pk] for g in garments]
        )


class _Cosine:
    """The naive baseline: a candidate scores its mean image similarity to the query garments."""

    def scores(self, queries: Sequence[_Garment], candidates: Sequence[_Garment]) -> list[float]:
        pieces = np.stack([q.embedding for q in queries])
        return [float(np.mean(pieces @ c.embedding)) for c in candidates]

    def outfit(self, garments: Sequence[_Garment]) -> float:
        vectors = np.stack([g.embedding for g in garments])
        similarity = vectors @ vectors.T
        n = len(garments)
        return float((similarity.sum() - np.trace(similarity)) / (n * (n - 1)))


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise EvaluationError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if method == "blend":
        raise EvaluationError("the blend is not built yet; use --method library or --method compat")


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


def evaluate_retrieval(
    path: Path, *, depth: int = 100, limit: int | None = None, method: str = "library"
) -> Evaluation:
    """Recall@10/50 and MRR of complete-the-look over a retrieval file.

    Each ranking is cut at `depth`; a relevant item below it counts as not found (MRR is MRR@depth).
    Entries whose items are not imported and analysed are counted as skipped, not as misses. The
    compat method ranks every analysed catalog garment of the target slot.
    """
    _check_method(method)
    entries = load_entries(path, ("query_items", "target_category", "relevant"))[:limit]
    index = _require_index()
    catalog = _catalog(index, {i for e in entries for i in [*e["query_items"], *e["relevant"]]})
    if method in ("compat", "cosine"):
        return _ranked_retrieval(index, entries, catalog, depth, method)
    library = _Library()
    results: list[tuple[list[int], set[int]]] = []
    skipped = 0
    for entry in entries:
        queries = [catalog[i] for i in entry["query_items"] if i in catalog]
        relevant = {catalog[i].pk for i in entry["relevant"] if i in catalog}
        if not queries or not relevant:
            skipped += 1
            continue
        ranked = recsys_complete_the_look(
            index,
            queries=[(q.embedding, q.slot) for q in queries],
            wanted_slot=_slot(entry["target_category"]),
            outfits_for=library.pieces_for,
            k=depth,
            exclude_catalog={q.pk for q in queries},
            exclude_outfits=library.source_outfits(entry["query_items"], entry["relevant"]),
        )
        results.append(([s.catalog_item for s in ranked], relevant))
    if not results:
        raise EvaluationError("no entry could be evaluated: import and analyse the items the file names")
    report: RetrievalReport = summarize_retrieval(results)
    return Evaluation(
        metrics={"recall@10": report.recall_at_10, "recall@50": report.recall_at_50, "mrr": report.mrr},
        n=report.n,
        skipped=skipped,
        model_spec=index.manifest.model_spec,
        build_id=index.manifest.build_id,
    )


def evaluate_fitb(path: Path, *, limit: int | None = None, method: str = "library") -> Evaluation:
    """Fill-in-the-blank accuracy: the candidate with the highest score wins.

    library: the complete-the-look score (a candidate the library does not reach scores 0); compat:
    the candidate's mean compatibility with the question's garments. Ties count as a random pick
    (recsys.evaluate).
    """
    _check_method(method)
    entries = load_entries(path, ("question", "blank_category", "candidates", "answer"))[:limit]
    index = _require_index()
    catalog = _catalog(index, {i for e in entries for i in [*e["question"], *e["candidates"]]})
    compat = _scorer(method, index, catalog)
    library = _Library()
    questions: list[tuple[list[float], int]] = []
    skipped = 0
    for entry in entries:
        queries = [catalog[i] for i in entry["question"] if i in catalog]
        if not queries or any(c not in catalog for c in entry["candidates"]):
            skipped += 1
            continue
        if compat is not None:
            scored = compat.scores(queries, [catalog[c] for c in entry["candidates"]])
            questions.append((scored, int(entry["answer"])))
            continue
        slot = _slot(entry["blank_category"])
        answer_id = entry["candidates"][entry["answer"]]
        ranked = recsys_complete_the_look(
            index,
            queries=[(q.embedding, q.slot) for q in queries],
            wanted_slot=slot,
            outfits_for=library.pieces_for,
            k=max(index.count("catalog", slot), 1),
            exclude_catalog={q.pk for q in queries},
            exclude_outfits=library.source_outfits(entry["question"], [answer_id]),
        )
        scores = {s.catalog_item: s.score for s in ranked}
        questions.append(
            ([scores.get(catalog[c].pk, 0.0) for c in entry["candidates"]], int(entry["answer"]))
        )
    if not questions:
        raise EvaluationError("no question could be evaluated: import and analyse the items the file names")
    return Evaluation(
        metrics={"accuracy": fitb_accuracy(questions)},
        n=len(questions),
        skipped=skipped,
        model_spec=index.manifest.model_spec,
        build_id=index.manifest.build_id,
    )


def _scorer(method: str, index: IndexSet, catalog: Mapping[str, _Garment]) -> _Compat | _Cosine | None:
    """The per-candidate scorer of a method that scores candidates directly (None: the library)."""
    if method == "compat":
        return _Compat(index.manifest.model_spec, (g.pk for g in catalog.values()))
    return _Cosine() if method == "cosine" else None


def _ranked_retrieval(
    index: IndexSet, entries: list[dict[str, Any]], catalog: dict[str, _Garment], depth: int, method: str
) -> Evaluation:
    """Retrieval by a direct scorer: every analysed catalog garment of the slot, ranked."""
    spec = index.manifest.model_spec
    pool_rows = ImageAnalysis.objects.filter(model_spec=spec, status="ok", catalog_item__isnull=False)
    pool: dict[str, list[_Garment]] = defaultdict(list)
    everything: dict[str, _Garment] = {}
    for pk, slot, blob in pool_rows.values_list("catalog_item_id", "catalog_item__category__slot", "embedding"):
        garment = _Garment(pk, slot, np.frombuffer(bytes(blob), dtype=np.float32))
        pool[slot].append(garment)
        everything[str(pk)] = garment
    compat = _scorer(method, index, everything)
    assert compat is not None
    results: list[tuple[list[int], set[int]]] = []
    skipped = 0
    for entry in entries:
        queries = [catalog[i] for i in entry["query_items"] if i in catalog]
        relevant = {catalog[i].pk for i in entry["relevant"] if i in catalog}
        if not queries or not relevant:
            skipped += 1
            continue
        asked = {q.pk for q in queries}
        candidates = [g for g in pool[_slot(entry["target_category"])] if g.pk not in asked]
        scores = np.array(compat.scores(queries, candidates)) if candidates else np.zeros(0)
        ranked = [candidates[i].pk for i in np.argsort(-scores, kind="stable")[:depth]]
        results.append((ranked, relevant))
    if not results:
        raise EvaluationError("no entry could be evaluated: import and analyse the items the file names")
    report: RetrievalReport = summarize_retrieval(results)
    return Evaluation(
        metrics={"recall@10": report.recall_at_10, "recall@50": report.recall_at_50, "mrr": report.mrr},
        n=report.n,
        skipped=skipped,
        model_spec=spec,
        build_id=index.manifest.build_id,
    )


def evaluate_compat(path: Path, *, limit: int | None = None, method: str = "compat") -> Evaluation:
    """Outfit compatibility ROC AUC over a compat file (real outfits against random ones).

    compat: the mean compatibility over an outfit's pairs. library: the mean over the outfit's
    garments of each one's complete-the-look score given the rest (0 where the library does not
    reach it), with the outfit itself held out of the library as in fitb.
    """
    _check_method(method)
    entries = load_entries(path, ("items", "label"))[:limit]
    index = _require_index()
    catalog = _catalog(index, {i for e in entries for i in e["items"]})
    compat = _scorer(method, index, catalog)
    library = _Library() if compat is None else None
    scores: list[float] = []
    labels: list[int] = []
    skipped = 0
    for entry in entries:
        garments = [catalog[i] for i in entry["items"] if i in catalog]
        if len(garments) < 2 or len(garments) < len(entry["items"]):
            skipped += 1
            continue
        if compat is not None:
            scores.append(compat.outfit(garments))
        else:
            assert library is not None
            scores.append(_library_outfit_score(index, library, entry["items"], garments))
        labels.append(1 if int(entry["label"]) else 0)
    if len(set(labels)) < 2:
        raise EvaluationError("compat needs real and random outfits among the analysed entries")
    return Evaluation(
        metrics={"auc": roc_auc(scores, labels)},
        n=len(scores),
        skipped=skipped,
        model_spec=index.manifest.model_spec,
        build_id=index.manifest.build_id,
    )


def _library_outfit_score(
    index: IndexSet, library: _Library, external_ids: Sequence[str], garments: Sequence[_Garment]
) -> float:
    total = 0.0
    for position, garment in enumerate(garments):
        rest = [g for i, g in enumerate(garments) if i != position]
        ranked = recsys_complete_the_look(
            index,
            queries=[(g.embedding, g.slot) for g in rest],
            wanted_slot=garment.slot,
            outfits_for=library.pieces_for,
            k=max(index.count("catalog", garment.slot), 1),
            exclude_catalog={g.pk for g in rest},
            exclude_outfits=library.source_outfits(
                [e for i, e in enumerate(external_ids) if i != position], [external_ids[position]]
            ),
        )
        total += next((s.score for s in ranked if s.catalog_item == garment.pk), 0.0)
    return total / len(garments)
