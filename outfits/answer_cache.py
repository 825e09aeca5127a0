"""Answers already sent, kept in the shared cache until something they were made from changes.

A storefront asks the same questions again and again (every visit to a product page). An answer
depends on the active build (its id is in the key), the request (path and query) and the catalog's
rows (stock, price, titles, photos) and the library outfits it cites. Every write to those bumps one
version number, which is in the key too: the next request misses and is answered afresh. Writes go
through model saves and deletes (signals below); code that changes such rows with a queryset
`update()` must call `catalog_changed()` itself.

The cache is a help, never a need: while Redis is down (outfits.dependencies) every answer is
worked out afresh and nothing is stored. A version bump Redis missed is lost with it; a Redis that
restarts empty has lost the answers too, and one that kept them serves them at most
CTL_ANSWER_CACHE_SECONDS.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from rest_framework.request import Request

from .dependencies import CACHE_DOWN, cache_down, cache_resting
from .models import CatalogItem, Category, ImageAnalysis, LibraryOutfit

VERSION_KEY: Final = "answers:catalog-version"


def catalog_changed(**_: Any) -> None:
    """Make every cached answer stale (a catalog, category or library outfit row changed)."""
    if cache_resting():  # lost, as any bump while the cache is down (see above)
        return
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:  # first change since the cache started
            cache.add(VERSION_KEY, 1, timeout=None)
    except CACHE_DOWN as exc:  # the write itself is done: it must not fail for want of a cache
        cache_down("bumping the catalog version", exc)


def _analysis_changed(instance: ImageAnalysis, **_: Any) -> None:
    if instance.catalog_item_id is not None:  # a new photo of a catalog item
        catalog_changed()


# The version while the cache cannot be asked: answers have no key then (key() is None).
UNKNOWN_VERSION: Final = -1


def version() -> int:
    """The catalog version: bumped by every write to what answers are made from (UNKNOWN_VERSION
    while the cache is down)."""
    if cache_resting():
        return UNKNOWN_VERSION
    try:
        return int(cache.get(VERSION_KEY, 0))
    except CACHE_DOWN as exc:
        cache_down("reading the catalog version", exc)
        return UNKNOWN_VERSION


def key(request: Request, build_id: str) -> str | None:
    """The cache key of this request's answer under the active build and catalog version (None
    while the cache cannot be asked)."""
    current = version()
    if current == UNKNOWN_VERSION:
        return None
    asked = f"{request.get_host()}\n{request.path}\n{sorted(request.query_params.lists())}"
    return f"answers:{build_id}:{current}:{hashlib.sha256(asked.encode()).hexdigest()}"


def get(cache_key: str | None) -> Any:
    """The answer stored under the key, None when there is none (or no cache to ask)."""
    if cache_key is None or settings.CTL_ANSWER_CACHE_SECONDS <= 0:
        return None
    try:
        return cache.get(cache_key)
    except CACHE_DOWN as exc:
        cache_down("reading an answer", exc)
        return None


def put(cache_key: str | None, data: Any) -> None:
    if cache_key is None or settings.CTL_ANSWER_CACHE_SECONDS <= 0:
        return
    try:
        cache.set(cache_key, data, timeout=settings.CTL_ANSWER_CACHE_SECONDS)
    except CACHE_DOWN as exc:
        cache_down("storing an answer", exc)


for model in (CatalogItem, Category, LibraryOutfit):
    post_save.connect(catalog_changed, sender=model, dispatch_uid=f"answers-{model.__name__}-save")
    post_delete.connect(catalog_changed, sender=model, dispatch_uid=f"answers-{model.__name__}-delete")
post_save.connect(_analysis_changed, sender=ImageAnalysis, dispatch_uid="answers-analysis-save")
post_delete.connect(_analysis_changed, sender=ImageAnalysis, dispatch_uid="answers-analysis-delete")
