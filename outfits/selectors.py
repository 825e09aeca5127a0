"""Reads: suggestions, similar items, the active index. No writes here."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.db.models import F, Q, QuerySet

from recsys.answers import SIMILAR_DEPTH
from recsys.index import IndexCache, IndexSet
from recsys.index_manifest import MANIFEST_FILE
from recsys.library_graph import LibraryPiece
from recsys.rank.policy import OVERFETCH, STORED_K

from . import build_storage
from .models import (
    CatalogItem,
    ImageAnalysis,
    IndexBuild,
    LibraryOutfit,
    LibraryOutfitItem,
    LookRequest,
    QualityVerdict,
    embedding_vector,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .models import ApiKey

_indexes = IndexCache()


class NoIndex(RuntimeError):
    """No active index (or none for this model): suggestions need a build first."""


class NotAnalysed(RuntimeError):
    """The item's photo has not been analysed under the active index's model yet."""


def active_build() -> IndexBuild | None:
    return IndexBuild.objects.filter(active=True).first()


_active: tuple[float, tuple[str, str] | None] = (-1e9, None)  # (asked at, (build id, model spec))


def active_index(*, model_spec: str | None = None) -> IndexSet | None:
    """The active build's indexes, loaded once per process and reloaded when another build is active
    (asked of the database at most every CTL_ACTIVE_BUILD_TTL seconds)."""
    global _active
    asked_at, active = _active
    if time.monotonic() - asked_at >= settings.CTL_ACTIVE_BUILD_TTL:
        active = IndexBuild.objects.filter(active=True).values_list("build_id", "model_spec").first()
        _active = (time.monotonic(), active)
    if active is None or (model_spec is not None and active[1] != model_spec):
        return None
    build_id, spec = active
    build_dir = Path(settings.INDEX_DIR) / build_id
    if not (build_dir / MANIFEST_FILE).is_file():
        # Built on another host: pull it from the build storage while the build this process has
        # (if any) goes on serving; a half-copied build is never read.
        build_storage.pull_in_background(build_id, Path(settings.INDEX_DIR))
        loaded = _indexes.current()
        return (
            loaded
            if loaded is not None and (model_spec is None or loaded.manifest.model_spec == model_spec)
            else None
        )
    return _indexes.get(build_dir, expect_model_spec=spec)


def catalog_items() -> QuerySet[CatalogItem]:
    """Catalog items with the category path every view shows (type, family, slot) in one query."""
    return CatalogItem.objects.select_related("category__parent__parent")


def looks_for(*, api_key: ApiKey | None, user: User | None) -> QuerySet[LookRequest]:
    """The looks a caller may read: an editor (staff) every look, a storefront key the looks made
    with it, anyone else none. A look outside them is not found (a 404, never a 403 that would say
    it exists)."""
    if user is not None and user.is_active and user.is_staff:
        return LookRequest.objects.all()
    if api_key is not None:
        return LookRequest.objects.filter(api_key=api_key)
    return LookRequest.objects.none()


def catalog_analysis_states(item_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """How the analysis of each catalog item's current photo went, by item pk: {"status": pending |
    analysed | failed, "error": why it failed, else ""}. The newest analysis of the item's current
    photo (same sha256) decides, under whichever model made it; none yet (queued, or a changed photo
    whose analysis is still of the old bytes) is pending. One query for all the items."""
    states = {pk: {"status": "pending", "error": ""} for pk in item_ids}
    rows = (
        ImageAnalysis.objects.filter(
            catalog_item__in=list(item_ids), image_sha256=F("catalog_item__image_sha256")
        )
        .order_by("updated_at")  # oldest first: the newest analysis has the last word
        .values_list("catalog_item_id", "status", "error")
    )
    for pk, status, error in rows:
        ok = status == ImageAnalysis.Status.OK
        states[pk] = {"status": "analysed" if ok else "failed", "error": "" if ok else error}
    return states


def newest_model_spec() -> str | None:
    return (
        ImageAnalysis.objects.filter(status="ok")
        .exclude(look__isnull=False)
        .order_by("-updated_at")
        .values_list("model_spec", flat=True)
        .first()
    )


def approved_library_pieces() -> list[tuple[int, int, str]]:
    """(outfit, library item, slot) of every approved outfit whose photo is good enough: the library
    an index build snapshots (recsys.library_graph)."""
    return list(_approved_pieces().values_list("outfit_id", "item_id", "item__category__slot"))


def _approved_pieces() -> QuerySet[LibraryOutfitItem]:
    # A rejected photo never feeds suggestions (an editor may override the verdict).
    return LibraryOutfitItem.objects.filter(
        ~Q(outfit__quality_verdict=QualityVerdict.REJECT), outfit__status=LibraryOutfit.Status.APPROVED
    )


def library_pieces_for(library_items: Sequence[int]) -> Mapping[int, list[LibraryPiece]]:
    """For each library item, every piece of the approved, good-enough outfits that contain it."""
    # Two flat queries beat one nested one here: the first narrows to a few outfits by index.
    outfit_ids = set(
        _approved_pieces().filter(item_id__in=list(library_items)).values_list("outfit_id", flat=True)
    )
    by_outfit: dict[int, list[LibraryPiece]] = {}
    for outfit_id, item_id, slot in LibraryOutfitItem.objects.filter(outfit_id__in=outfit_ids).values_list(
        "outfit_id", "item_id", "item__category__slot"
    ):
        by_outfit.setdefault(outfit_id, []).append(
            LibraryPiece(library_item=item_id, outfit=outfit_id, slot=slot)
        )
    wanted = set(library_items)
    pieces: dict[int, list[LibraryPiece]] = {}
    for outfit_pieces in by_outfit.values():
        for piece in outfit_pieces:
            if piece.library_item in wanted:
                pieces.setdefault(piece.library_item, []).extend(outfit_pieces)
    return pieces


def item_embedding(item: CatalogItem, model_spec: str) -> np.ndarray:
    blob = (
        ImageAnalysis.objects.filter(catalog_item=item, model_spec=model_spec, status="ok")
        .values_list("embedding", flat=True)
        .first()
    )
    if blob is None:
        raise NotAnalysed(f"item {item.external_id} has not been analysed with {model_spec} yet")
    return embedding_vector(blob)


def require_index() -> IndexSet:
    """The active build's indexes; NoIndex (a 503) when there is none."""
    index = active_index()
    if index is None:
        raise NoIndex("no index has been built yet")
    return index


def item_similar(
    item: CatalogItem, *, k: int, index: IndexSet | None = None
) -> tuple[IndexSet, list[tuple[int, float]]]:
    """Catalog items of the same slot that look most like this one, sellable ones only: from the
    build's stored list (exact) when it holds enough sellable ones, else by an exact search; items
    analysed since the build (fresh) are searched beside it. `index`: the build to answer from
    (default: the active one)."""
    from . import fresh_items

    index = index or require_index()
    fresh = fresh_items.current(index)
    changed = fresh is not None and item.pk in fresh
    row = None if changed or k > STORED_K else index.row_of("catalog", item.slot, item.pk)
    stored = None if row is None else index.answers.similar(item.slot, row)
    if stored is not None:
        positions, similarities = stored
        keys = index.keys("catalog", item.slot)[positions]
        vector = index.vector("catalog", item.slot, item.pk)
    else:
        raw = item_embedding(item, index.manifest.model_spec)
        keys, similarities = index.search(
            "catalog", item.slot, raw, k * OVERFETCH, exclude={item.pk}, exact=True
        )
        vector = index.center("catalog", raw)
    if fresh is not None and vector is not None:  # the fresh items' own vectors, not the build's
        kept = ~np.isin(keys, fresh.keys)
        more, closeness = fresh.similar(item.slot, vector, k * OVERFETCH, exclude=item.pk)
        keys, similarities = (
            np.concatenate([keys[kept], more]),
            np.concatenate([similarities[kept], closeness]),
        )
        order = np.lexsort((keys, -similarities))
        keys, similarities = keys[order], similarities[order]
    found = _sellable(list(zip(keys.tolist(), similarities.tolist(), strict=True)))
    if stored is not None and len(found) < k and len(stored[0]) >= SIMILAR_DEPTH:
        # Too many of the stored ones sold out: search again, exactly, past them.
        raw = item_embedding(item, index.manifest.model_spec)
        keys, similarities = index.search(
            "catalog", item.slot, raw, k * OVERFETCH * 4, exclude={item.pk}, exact=True
        )
        found = _sellable(list(zip(keys.tolist(), similarities.tolist(), strict=True)))
    return index, found[:k]


def _sellable(found: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """The in-stock ones, in order."""
    sellable = set(
        CatalogItem.objects.filter(pk__in=[key for key, _ in found], in_stock=True).values_list(
            "pk", flat=True
        )
    )
    return [(key, similarity) for key, similarity in found if key in sellable]


# --- Text search -----------------------------------------------------------------------------


class SearchUnavailable(RuntimeError):
    """No worker could embed the search text in time (or text search is not possible)."""


def text_query_vector(query: str, *, model_spec: str) -> np.ndarray:
    """The search text's vector under `model_spec`: from the cache, else from a gpu worker (the web
    process has no torch). Raises SearchUnavailable when no worker answers in time or the worker's
    model is not the one the index was built with."""
    import hashlib

    from celery.exceptions import TimeoutError as CeleryTimeout
    from django.core.cache import cache

    from . import services, tasks

    key = "text-vector:" + hashlib.sha256(f"{model_spec}\n{query}".encode()).hexdigest()
    cached = cache.get(key)
    if cached is None:
        if not settings.CELERY_TASK_ALWAYS_EAGER and not settings.CELERY_RESULT_BACKEND:
            raise SearchUnavailable("text search needs a Celery result backend (CELERY_RESULT_BACKEND)")
        try:
            answer = tasks.text_embed.delay(query).get(timeout=settings.CTL_SEARCH_TIMEOUT)
        except CeleryTimeout as exc:
            raise SearchUnavailable("no worker embedded the search text in time; try again") from exc
        except services.CannotSearch as exc:
            raise SearchUnavailable(str(exc)) from exc
        if answer["model_spec"] != model_spec:
            raise SearchUnavailable(
                f"the workers' model ({answer['model_spec']}) is not the index's ({model_spec}): "
                "analyse the garments again and rebuild the index"
            )
        cached = answer["vector"]
        cache.set(key, cached, timeout=24 * 3600)
    return np.asarray(cached, dtype=np.float32)


def catalog_search(
    query: str, *, slots: Sequence[str], k: int
) -> tuple[IndexSet, list[tuple[int, str, float]]]:
    """Sellable catalog items that best match a text, best first: (key, slot, similarity).

    The text vector lives in the aligned image space; it is compared with each slot's catalog index
    as a direction (the catalog's photo-style mean is a constant offset for every item of a query).
    """
    index = require_index()
    vector = text_query_vector(query, model_spec=index.manifest.model_spec)
    found: list[tuple[int, str, float]] = []
    for slot in slots or index.slots("catalog"):
        keys, similarities = index.search("catalog", slot, vector, k * OVERFETCH, centred=True)
        found.extend((int(key), slot, float(sim)) for key, sim in zip(keys, similarities, strict=True))
    sellable = set(
        CatalogItem.objects.filter(pk__in=[key for key, _, _ in found], in_stock=True).values_list(
            "pk", flat=True
        )
    )
    found = sorted((row for row in found if row[0] in sellable), key=lambda row: (-row[2], row[0]))
    return index, found[:k]
