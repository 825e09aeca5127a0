"""Catalog items analysed since the active build (recsys.fresh), as every web process sees them.

A build snapshots the catalog when it starts (IndexBuild.started_at). Items whose analysis was saved
after that — new items of a bulk upsert, new photos — are found with one indexed query per request
and loaded again only when that answer changes. Past CTL_FRESH_REBUILD_AT of them, a build is queued
to fold them in (`fold_in_if_due`, after each analysis batch).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Max, QuerySet

from recsys.compat.artefact import CompatModel
from recsys.fresh import FreshItems
from recsys.index import IndexSet

from .compat import build_compat_model, compat_garments
from .models import ImageAnalysis, IndexBuild, embedding_vector

_lock = threading.Lock()
# (build id, count, newest change) -> the loaded buffer of this process.
_loaded: dict[tuple[str, int, datetime | None], FreshItems | None] = {}
_snapshots: dict[str, datetime | None] = {}


def _since(build_id: str, model_spec: str) -> QuerySet[ImageAnalysis] | None:
    if build_id not in _snapshots:
        _snapshots[build_id] = (
            IndexBuild.objects.filter(build_id=build_id).values_list("started_at", flat=True).first()
        )
    return _analysed_since(_snapshots[build_id], model_spec)


def _analysed_since(started: datetime | None, model_spec: str) -> QuerySet[ImageAnalysis] | None:
    if started is None:
        return None
    return ImageAnalysis.objects.filter(
        catalog_item__isnull=False, model_spec=model_spec, status="ok", updated_at__gte=started
    )


def count_since(build: IndexBuild) -> int:
    """How many catalog items were analysed since `build` started: they are served from the fresh
    buffer until a build folds them in (the admin's index status shows it)."""
    rows = _analysed_since(build.started_at, build.model_spec)
    return 0 if rows is None else rows.count()


def current(index: IndexSet) -> FreshItems | None:
    """The catalog items analysed since `index` was built, ready to merge into answers (None: none),
    with the vectors of the compatibility model the build holds: every caller reads the same ones."""
    build_id, spec = index.manifest.build_id, index.manifest.model_spec
    version = _recent_version(build_id)
    if version is None:  # ask the database (a queryset costs half a millisecond to build: not always)
        rows = _since(build_id, spec)
        if rows is None:
            return None
        version = _ask_version(build_id, rows)
    if not version[1]:
        return None
    with _lock:
        if version not in _loaded:
            rows = _since(build_id, spec)
            _loaded.clear()  # one build and one version at a time
            _loaded[version] = None if rows is None else _load(index, build_compat_model(index), rows)
        return _loaded[version]


_asked: tuple[float, tuple[str, int, datetime | None]] | None = None


def _recent_version(build_id: str) -> tuple[str, int, datetime | None] | None:
    """(build, how many fresh items, the newest change) as asked of the database in the last
    CTL_ACTIVE_BUILD_TTL seconds by this process, as the active build is (a fresh item shows that
    much later; a sold-out or deleted one still drops out at once: the filters read the database);
    None when it must be asked again."""
    asked = _asked
    if (
        asked is not None
        and asked[1][0] == build_id
        and time.monotonic() - asked[0] < settings.CTL_ACTIVE_BUILD_TTL
    ):
        return asked[1]
    return None


def _ask_version(build_id: str, rows: QuerySet[ImageAnalysis]) -> tuple[str, int, datetime | None]:
    global _asked
    seen = rows.aggregate(n=Count("id"), last=Max("updated_at"))
    version = (build_id, int(seen["n"]), seen["last"])
    _asked = (time.monotonic(), version)
    return version


def _load(index: IndexSet, model: CompatModel | None, rows: QuerySet[ImageAnalysis]) -> FreshItems | None:
    found = list(
        rows.order_by("catalog_item_id").values_list(
            "catalog_item_id", "catalog_item__category__slot", "embedding"
        )
    )
    if not found:
        return None
    keys = np.asarray([key for key, _, _ in found], dtype=np.int64)
    embeddings = np.stack([embedding_vector(blob or b"") for _, _, blob in found])
    compat = None
    if model is not None:
        garments = compat_garments(
            "catalog",
            model_spec=index.manifest.model_spec,
            keys=keys.tolist(),
            widths=(model.scorer.image_width, model.text_width),
        )
        compat_of = dict(zip(garments.keys.tolist(), model.embed(garments.inputs), strict=True))
        compat = np.stack(
            [compat_of.get(key, np.zeros(model.scorer.dim, np.float32)) for key in keys.tolist()]
        )
    return FreshItems(index, keys, [slot for _, slot, _ in found], embeddings, compat)


def fold_in_if_due(**_: Any) -> IndexBuild | None:
    """Queue a build when the catalog items analysed since the active one pass CTL_FRESH_REBUILD_AT
    (and none is waiting already)."""
    from . import services

    active = IndexBuild.objects.filter(active=True).values_list("build_id", "model_spec").first()
    if active is None:
        return None
    rows = _since(*active)
    if rows is None or rows.count() < settings.CTL_FRESH_REBUILD_AT:
        return None
    if IndexBuild.objects.filter(status__in=[IndexBuild.Status.PENDING]).exists():
        return None
    return services.index_build_request()
