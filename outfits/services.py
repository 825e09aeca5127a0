"""Writes: every change to the shop's rows goes through one of these services.

Heavy models are imported lazily inside the services that need them, so the web process (which only
validates uploads and reads indexes) never imports torch.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from vision.images import ImageRejected, open_garment_image

from . import selectors
from .models import (
    CatalogItem,
    Category,
    ImageAnalysis,
    IndexBuild,
    LibraryItem,
    LibraryOutfit,
    LookRequest,
    Slot,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from vision.embed import GarmentEmbedder

    from .models import ApiKey

log = logging.getLogger(__name__)

GarmentKind = Literal["catalog", "library"]
_MODELS: dict[str, type[CatalogItem] | type[LibraryItem]] = {"catalog": CatalogItem, "library": LibraryItem}
# A worker that died mid-job leaves its row RUNNING; after this long a redelivered task may take it over.
STALE_AFTER = timedelta(minutes=15)


def vision_embedder() -> GarmentEmbedder:
    """The process's one image-text model (loaded on first use, then cached by vision.registry)."""
    from vision.embed import get_embedder

    return get_embedder(
        models_dir=settings.MODELS_DIR,
        model_name=settings.CTL_VISION_MODEL,
        weights=settings.CTL_VISION_WEIGHTS,
    )


def _claim(job: QuerySet[Any], pending: str, running: str) -> bool:
    """Take a job row that is PENDING, or RUNNING but stale (its worker died). One conditional UPDATE,
    so two deliveries of the same task never both run it."""
    now = timezone.now()
    stale = Q(status=running, started_at__lt=now - STALE_AFTER)
    return bool(job.filter(Q(status=pending) | stale).update(status=running, started_at=now))


# --- Garment analysis ------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalyzeOutcome:
    model_spec: str
    analysed: int
    skipped: int
    failed: int


def garments_analyze(*, kind: GarmentKind, ids: Sequence[int], force: bool = False) -> AnalyzeOutcome:
    """Analyse the photos of catalog or library items: garment box, quality, embedding.

    Upserts one ImageAnalysis per (item, model spec). Idempotent: an item already analysed under this
    spec with the same photo is skipped unless `force`. Unreadable photos get a FAILED analysis that
    says why. Library outfits containing the items get their quality score refreshed. Ids of rows that
    no longer exist are ignored. Enqueues nothing.
    """
    from vision.analyze import analysis_spec, analyze_garments

    model = _MODELS[kind]
    embedder = vision_embedder()
    spec = analysis_spec(embedder)
    subject = f"{kind}_item"
    items = list(model.objects.filter(pk__in=list(ids)).select_related("category"))
    done = dict(
        ImageAnalysis.objects.filter(
            **{f"{subject}__in": items, "model_spec": spec, "status": "ok"}
        ).values_list(f"{subject}_id", "image_sha256")
    )
    todo = [item for item in items if force or done.get(item.pk) != item.image_sha256]
    images, ready, failed = [], [], 0
    for item in todo:
        try:
            with item.image.open("rb") as handle:
                images.append(open_garment_image(handle.read(), max_pixels=settings.CTL_MAX_IMAGE_PIXELS))
            ready.append(item)
        except (ImageRejected, OSError) as exc:
            failed += 1
            _analysis_save(subject, item, spec=spec, sha=item.image_sha256, error=str(exc))
    results = analyze_garments(images, embedder, batch_size=settings.CTL_ANALYZE_BATCH) if images else []
    index = selectors.active_index(model_spec=spec)
    for item, result in zip(ready, results, strict=True):
        _analysis_save(subject, item, spec=spec, sha=item.image_sha256, result=result, index=index)
    if kind == "library" and todo:
        outfit_ids = (
            LibraryOutfit.objects.filter(items__in=[item.pk for item in todo])
            .values_list("pk", flat=True)
            .distinct()
        )
        library_outfits_refresh_quality(outfit_ids=list(outfit_ids), model_spec=spec)
    return AnalyzeOutcome(model_spec=spec, analysed=len(ready), skipped=len(items) - len(todo), failed=failed)


def _analysis_save(
    subject: str,
    owner: Any,
    *,
    spec: str,
    sha: str,
    result: Any = None,
    error: str = "",
    index: Any = None,
) -> ImageAnalysis:
    values: dict[str, Any] = {"image_sha256": sha, "status": "failed" if error else "ok", "error": error}
    if result is not None:
        vector = np.asarray(result.embedding, dtype=np.float32)
        values |= {
            "box": result.box.as_list(),
            "foreground_coverage": float(result.coverage),
            "background_rgb": list(result.background_rgb),
            "quality_score": float(result.quality.score),
            "quality_problems": list(result.quality.problems),
            "embedding": vector.tobytes(),
            "dim": int(vector.shape[0]),
        }
        if index is not None:
            guess = selectors.slot_guess(index, vector)
            if guess is not None:
                values["predicted_category"] = Category.objects.filter(parent=None, name=guess[0]).first()
                values["category_confidence"] = guess[1]
    else:
        values |= {"embedding": None, "dim": 0, "quality_score": None, "quality_problems": []}
    analysis, _ = ImageAnalysis.objects.update_or_create(
        **{subject: owner, "model_spec": spec}, defaults=values
    )
    return analysis


def library_outfits_refresh_quality(*, outfit_ids: Sequence[int], model_spec: str) -> None:
    """An outfit's quality is its weakest photo's: one poor photo spoils the whole look."""
    scores = (
        LibraryOutfit.objects.filter(pk__in=list(outfit_ids))
        .annotate(
            weakest=Min(
                "items__analyses__quality_score",
                filter=Q(items__analyses__model_spec=model_spec, items__analyses__status="ok"),
            )
        )
        .values_list("pk", "weakest")
    )
    for pk, weakest in scores:
        LibraryOutfit.objects.filter(pk=pk).update(quality_score=weakest)


def garments_enqueue_analysis(*, kind: GarmentKind, ids: Sequence[int], force: bool = False) -> int:
    """Queue analysis in batches once the current transaction commits. Returns the number of tasks."""
    from . import tasks

    batch = settings.CTL_ANALYZE_BATCH
    chunks = [list(ids[start : start + batch]) for start in range(0, len(ids), batch)]
    for chunk in chunks:
        transaction.on_commit(partial(tasks.garment_analyze.delay, kind, chunk, force))
    return len(chunks)


# --- Library review --------------------------------------------------------------------------


def library_outfits_review(*, outfit_ids: Sequence[int], status: str, reviewer: User | None) -> int:
    """Approve or reject library outfits. Returns how many changed. Enqueues nothing: the index holds
    items, not outfits, so a review takes effect on the next request."""
    if status not in LibraryOutfit.Status.values:
        raise ValueError(f"unknown status {status!r}")
    return (
        LibraryOutfit.objects.filter(pk__in=list(outfit_ids))
        .exclude(status=status)
        .update(status=status, reviewed_by=reviewer, reviewed_at=timezone.now())
    )


# --- Index builds ----------------------------------------------------------------------------


def index_build_request(*, requested_by: User | None = None, enqueue: bool = True) -> IndexBuild:
    """Create a pending build and, unless the caller runs it itself, queue it (after commit) on the
    index queue."""
    from . import tasks

    build = IndexBuild.objects.create(
        build_id=timezone.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8],
        requested_by=requested_by,
    )
    if enqueue:
        transaction.on_commit(lambda: tasks.index_build.delay(build.pk))
    return build


def index_build_run(*, build_pk: int) -> IndexBuild | None:
    """Build one Annoy index per (population, slot) from the newest model's analyses and make it active.

    Idempotent: only a PENDING (or stale BUILDING) build is claimed; a second delivery does nothing.
    Files are written beside the old build and swapped in by flipping `active` in one transaction,
    so readers switch builds between two requests. Old build folders are pruned.
    """
    from recsys.index import IndexBuilder, IndexSet, remove_builds
    from recsys.slot_classifier import fit_slot_classifier, slot_training_sample

    if not _claim(
        IndexBuild.objects.filter(pk=build_pk), IndexBuild.Status.PENDING, IndexBuild.Status.BUILDING
    ):
        return None
    build = IndexBuild.objects.get(pk=build_pk)
    started = time.perf_counter()
    try:
        spec = selectors.newest_model_spec()
        if spec is None:
            raise RuntimeError("no analysed garments yet: analyse the catalog and library first")
        builder: IndexBuilder | None = None
        for population, subject in (("catalog", "catalog_item"), ("library", "library_item")):
            rows = (
                ImageAnalysis.objects.filter(**{f"{subject}__isnull": False}, model_spec=spec, status="ok")
                .values_list(f"{subject}_id", f"{subject}__category__slot", "embedding")
                .iterator(chunk_size=2000)
            )
            for key, slot, blob in rows:
                vector = np.frombuffer(bytes(blob), dtype=np.float32)
                if builder is None:
                    builder = IndexBuilder(model_spec=spec, dim=int(vector.shape[0]))
                builder.add(population, slot, key, vector)
        if builder is None:
            raise RuntimeError(f"no successful analyses under {spec}")
        settings.INDEX_DIR.mkdir(parents=True, exist_ok=True)
        manifest = builder.write(
            Path(settings.INDEX_DIR), build_id=build.build_id, n_trees=settings.CTL_INDEX_TREES
        )
        # The slot probe ships inside the build it was fitted on, before the build becomes active.
        build_dir = Path(settings.INDEX_DIR) / build.build_id
        centred, slots = slot_training_sample(IndexSet.load(build_dir, expect_model_spec=spec))
        fit_slot_classifier(centred, slots).save(build_dir)
    except (OperationalError, InterfaceError):
        # Transient: hand the build back so the task's retry can claim it again.
        IndexBuild.objects.filter(pk=build_pk).update(status=IndexBuild.Status.PENDING)
        raise
    except Exception as exc:
        log.exception("index build %s failed", build.build_id)
        IndexBuild.objects.filter(pk=build_pk).update(
            status=IndexBuild.Status.FAILED, error=str(exc), finished_at=timezone.now()
        )
        return IndexBuild.objects.get(pk=build_pk)
    with transaction.atomic():
        IndexBuild.objects.filter(active=True).update(active=False)
        IndexBuild.objects.filter(pk=build_pk).update(
            status=IndexBuild.Status.READY,
            active=True,
            model_spec=spec,
            counts=manifest.counts,
            seconds=time.perf_counter() - started,
            finished_at=timezone.now(),
        )
    keep = list(
        IndexBuild.objects.filter(status=IndexBuild.Status.READY)
        .order_by("-finished_at")
        .values_list("build_id", flat=True)[: settings.CTL_INDEX_KEEP_BUILDS]
    )
    keep += list(
        IndexBuild.objects.filter(status__in=["pending", "building"]).values_list("build_id", flat=True)
    )
    remove_builds(Path(settings.INDEX_DIR), keep=keep)
    return IndexBuild.objects.get(pk=build_pk)


# --- Looks from uploaded photos --------------------------------------------------------------


def look_create(
    *,
    photo: bytes,
    filename: str,
    garment_slot: str = "",
    wanted_slots: Sequence[str] = (),
    k: int = 8,
    api_key: ApiKey | None = None,
) -> LookRequest:
    """Store a shopper's photo and queue its analysis (after commit) on the gpu queue.

    The photo is fully decoded here first: a corrupt, truncated or oversized upload is refused with
    ImageRejected and nothing is stored.
    """
    from . import tasks

    open_garment_image(photo, max_pixels=settings.CTL_MAX_IMAGE_PIXELS).close()
    sha = hashlib.sha256(photo).hexdigest()
    suffix = (
        Path(filename).suffix.lower()
        if Path(filename).suffix.lower() in {".jpg", ".jpeg", ".png", ".webp"}
        else ".jpg"
    )
    with transaction.atomic():
        look = LookRequest(
            image_sha256=sha, garment_slot=garment_slot, wanted_slots=list(wanted_slots), k=k, api_key=api_key
        )
        look.image.save(f"{look.id.hex}{suffix}", ContentFile(photo), save=False)
        look.save()
        transaction.on_commit(lambda: tasks.look_recommend.delay(str(look.id)))
    return look


def look_recommend(*, look_id: str) -> LookRequest | None:
    """Analyse a look's photo and store suggestions for each wanted slot.

    Claims the look (PENDING, or RUNNING but stale) so a redelivered task never runs it twice at once.
    Returns None when the look is gone or already claimed. Failures are stored on the look.
    """
    from vision.analyze import analysis_spec, analyze_garments

    if not _claim(
        LookRequest.objects.filter(pk=look_id), LookRequest.Status.PENDING, LookRequest.Status.RUNNING
    ):
        return None
    look = LookRequest.objects.get(pk=look_id)
    try:
        embedder = vision_embedder()
        spec = analysis_spec(embedder)
        index = selectors.active_index(model_spec=spec)
        if index is None:
            raise selectors.NoIndex(f"no active index built with {spec}: build the index first")
        with look.image.open("rb") as handle:
            image = open_garment_image(handle.read(), max_pixels=settings.CTL_MAX_IMAGE_PIXELS)
        result = analyze_garments([image], embedder)[0]
        _analysis_save("look", look, spec=spec, sha=look.image_sha256, result=result, index=index)
        vector = np.asarray(result.embedding, dtype=np.float32)
        slot, confidence = look.garment_slot, 1.0
        if not slot:
            guess = selectors.slot_guess(index, vector)
            if guess is None:
                raise selectors.NoIndex("the index holds no garments to recognise the photo by")
            slot, confidence = guess
        wanted = list(look.wanted_slots) or list(selectors.COMPLEMENTS[Slot(slot)])
        groups = selectors.complete_the_look(index, queries=[(vector, slot)], wanted_slots=wanted, k=look.k)
        look.result = {
            "garment_slot": slot,
            "slot_given": bool(look.garment_slot),
            "slot_confidence": round(float(confidence), 4),
            "model_spec": spec,
            "build_id": index.manifest.build_id,
            "suggestions": [s.as_json() for s in groups],
        }
        look.status = LookRequest.Status.DONE
        look.error = ""
    except (ImageRejected, OSError, selectors.NoIndex) as exc:
        look.status = LookRequest.Status.FAILED
        look.error = str(exc)
    look.finished_at = timezone.now()
    look.save(update_fields=["result", "status", "error", "finished_at"])
    return look


# --- Catalog writes from the API -------------------------------------------------------------


@dataclass(frozen=True)
class UpsertOutcome:
    created: int
    updated: int
    unchanged: int
    analysis_queued: int


class ItemRejected(ValueError):
    """One item of a batch is invalid; the whole batch is refused, nothing stored."""

    def __init__(self, position: int, external_id: str, reason: str) -> None:
        super().__init__(f"items[{position}] ({external_id}): {reason}")
        self.position = position


@transaction.atomic
def catalog_items_upsert(*, items: Sequence[dict[str, Any]], source: str = "api") -> UpsertOutcome:
    """Create or update catalog items by external id, all or nothing.

    A new item needs a photo; a photo is decoded before anything is written, so one bad photo refuses
    the batch and stores nothing. Items whose photo is new or changed are queued for analysis after
    commit. Sending the same batch twice changes nothing the second time.
    """
    from .categories import CategoryTree

    tree = CategoryTree()
    existing = {
        i.external_id: i
        for i in CatalogItem.objects.filter(external_id__in=[d["external_id"] for d in items])
    }
    photos: dict[int, tuple[str, bytes]] = {}
    for position, data in enumerate(items):
        photo = data.get("image_base64")
        if photo is None:
            if data["external_id"] not in existing:
                raise ItemRejected(position, data["external_id"], "a new item needs image_base64")
            continue
        try:
            open_garment_image(photo, max_pixels=settings.CTL_MAX_IMAGE_PIXELS).close()
        except ImageRejected as exc:
            raise ItemRejected(position, data["external_id"], f"image: {exc}") from exc
        photos[position] = (hashlib.sha256(photo).hexdigest(), photo)
    if len({d["external_id"] for d in items}) != len(items):
        raise ItemRejected(0, "", "the same external_id appears twice in one batch")
    created = updated = unchanged = 0
    changed: list[int] = []
    for position, data in enumerate(items):
        category = tree.leaf(Slot(data["slot"]), data["family"], data["type"])
        fields = {
            key: data[key] for key in ("title", "brand", "price", "gender", "in_stock", "link", "attributes")
        } | {"category": category, "source": source}
        item = existing.get(data["external_id"])
        sha, photo = photos.get(position, (None, None))
        if (
            item is not None
            and (sha is None or sha == item.image_sha256)
            and all(getattr(item, key) == value for key, value in fields.items())
        ):
            unchanged += 1
            continue
        if item is None:
            item = CatalogItem(external_id=data["external_id"])
            created += 1
        else:
            updated += 1
        for key, value in fields.items():
            setattr(item, key, value)
        if sha is not None and photo is not None and sha != item.image_sha256:
            item.image_sha256 = sha
            item.image.save(f"{sha[:2]}/{sha}.jpg", ContentFile(photo), save=False)
            item.save()
            changed.append(item.pk)
        else:
            item.save()
    queued = garments_enqueue_analysis(kind="catalog", ids=changed) if changed else 0
    return UpsertOutcome(created=created, updated=updated, unchanged=unchanged, analysis_queued=queued)
