"""Writes: every change to the shop's rows goes through one of these services.

Heavy models are imported lazily inside the services that need them, so the web process (which only
validates uploads and reads indexes) never imports torch.
"""

from __future__ import annotations

import copy
import logging
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import FileField
from django.utils import timezone

from recsys.answers import Blending
from recsys.library_graph import LibraryGraph
from recsys.rank.blend import BlendWeights
from vision.images import ImageRejected

from . import answer_cache, build_storage, jobs, readings, selectors
from .categories import CategoryTree, recent_tree
from .compat import likeliest
from .models import (
    CatalogItem,
    Category,
    CategoryReview,
    ImageAnalysis,
    IndexBuild,
    LibraryItem,
    LibraryOutfit,
    LibraryOutfitItem,
    OutfitPhoto,
    QualityVerdict,
    Slot,
    embedding_vector,
)
from .photo_uploads import PhotoUpload, photo_store
from .photos import photo_open
from .shopper_garments import REASON_ATTRIBUTE
from .worker_models import quality_filter, vision_embedder

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from recsys.index import IndexBuilder
    from vision.artefact import GarmentArtefact


log = logging.getLogger(__name__)

GarmentKind = Literal["catalog", "library"]
# Items handed to the index builder (and to the compatibility model) at a time: a 1M-item build
# streams through blocks of this size instead of holding every row.
_INDEX_BLOCK = 8192
_MODELS: dict[str, type[CatalogItem] | type[LibraryItem]] = {"catalog": CatalogItem, "library": LibraryItem}


def text_vector(*, text: str) -> tuple[str, list[float]]:
    """A search text in the image embedding space of the current model: (analysis spec, unit vector).

    Refuses (CannotSearch) when the model's image and text towers are not aligned (the untrained
    base model): its text vectors would rank garments at random.
    """
    from vision.analyze import analysis_spec

    embedder = vision_embedder()
    if not embedder.aligned:
        raise CannotSearch(
            "the active image model has no trained text alignment: train it with `manage.py train_vision`"
        )
    return analysis_spec(embedder), [float(x) for x in embedder.embed_texts([text])[0]]


class CannotSearch(RuntimeError):
    """Text search is not possible with the current model or setup."""


# --- Garment analysis ------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalyzeOutcome:
    model_spec: str
    analysed: int
    skipped: int
    failed: int


def garments_analyze(*, kind: GarmentKind, ids: Sequence[int], force: bool = False) -> AnalyzeOutcome:
    """Analyse the photos of catalog or library items: garment box, quality, embedding, and the
    model's predicted category (slot → family → type) and attributes.

    Upserts one ImageAnalysis per (item, model spec). Idempotent: an item already analysed under this
    spec with the same photo is skipped unless `force`; a photo already analysed under this spec for
    another row (same bytes) is copied, not recomputed. Unreadable photos get a FAILED analysis that
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
    # The same photo analysed for another row under this spec (a data set imported both as library
    # and as catalog): copy that analysis rather than run the model on the same bytes twice.
    copied = _analyses_copy(subject, [] if force else todo, spec=spec)
    images, ready, failed = [], [], 0
    for item in todo:
        if item.pk in copied:
            continue
        try:
            with item.image.open("rb") as handle:
                images.append(photo_open(handle.read()))
            ready.append(item)
        except (ImageRejected, OSError) as exc:
            failed += 1
            readings.analysis_save(subject, item, spec=spec, sha=item.image_sha256, error=str(exc))
    results = (
        analyze_garments(
            images,
            embedder,
            batch_size=settings.CTL_ANALYZE_BATCH,
            zero_shot=settings.CTL_ZERO_SHOT_LABELS,
            quality_filter=quality_filter(),
            quality_threshold=settings.CTL_QUALITY_THRESHOLD,
            titles=[getattr(item, "title", "") or None for item in ready],
        )
        if images
        else []
    )
    readings.analyses_save(subject, list(zip(ready, results, strict=True)), spec=spec, tree=recent_tree())
    if kind == "catalog" and ready:  # bulk writes send no signals: new photos change answers
        answer_cache.catalog_changed()
    if kind == "library" and todo:
        outfit_ids = (
            LibraryOutfit.objects.filter(items__in=[item.pk for item in todo])
            .values_list("pk", flat=True)
            .distinct()
        )
        library_outfits_refresh_quality(outfit_ids=list(outfit_ids), model_spec=spec)
    return AnalyzeOutcome(
        model_spec=spec, analysed=len(ready) + len(copied), skipped=len(items) - len(todo), failed=failed
    )


def _analyses_copy(subject: str, items: Sequence[Any], *, spec: str) -> set[int]:
    """Give each item the existing successful analysis of an identical photo under `spec`, if any.
    Returns the pks of the items served this way."""
    by_sha: dict[str, ImageAnalysis] = {}
    for analysis in ImageAnalysis.objects.filter(
        model_spec=spec, status="ok", image_sha256__in={item.image_sha256 for item in items}
    ).exclude(look__isnull=False):
        by_sha.setdefault(analysis.image_sha256, analysis)
    served: set[int] = set()
    for item in items:
        source = by_sha.get(item.image_sha256)
        if source is None or getattr(source, f"{subject}_id") == item.pk:
            continue
        values = {name: getattr(source, name) for name in readings.ANALYSIS_RESULT_FIELDS}
        ImageAnalysis.objects.update_or_create(**{subject: item, "model_spec": spec}, defaults=values)
        served.add(item.pk)
    return served


def library_outfits_refresh_quality(*, outfit_ids: Sequence[int], model_spec: str) -> None:
    """An outfit's quality is its weakest photo's, and it is rejected when any piece's photo is
    (the filter's verdict, or an editor's override of it): one poor photo spoils the whole look.
    An outfit read from an outfit photo counts that photo too."""
    pieces: dict[int, list[tuple[float | None, str]]] = {}
    memberships = LibraryOutfitItem.objects.filter(outfit_id__in=list(outfit_ids)).values_list(
        "outfit_id", "item_id", "item__quality_override"
    )
    analyses = {
        item_id: (score, verdict)
        for item_id, score, verdict in ImageAnalysis.objects.filter(
            library_item__outfits__in=list(outfit_ids), model_spec=model_spec, status="ok"
        ).values_list("library_item_id", "quality_score", "quality_verdict")
    }
    for outfit_id, item_id, override in memberships:
        score, verdict = analyses.get(item_id, (None, ""))
        pieces.setdefault(outfit_id, []).append((score, override or verdict))
    # An outfit made from one photo is also as good as that photo is as an outfit (its problems:
    # cut off, cluttered, not a full outfit), unless an editor kept it anyway.
    photos = {
        outfit_id: (score, override or (QualityVerdict.REJECT if problems else QualityVerdict.KEEP))
        for outfit_id, score, problems, override in OutfitPhoto.objects.filter(
            outfit_id__in=list(outfit_ids)
        ).values_list("outfit_id", "quality_score", "quality_problems", "quality_override")
    }
    for outfit_id in outfit_ids:
        found = pieces.get(outfit_id, []) + ([photos[outfit_id]] if outfit_id in photos else [])
        scores = [score for score, _ in found if score is not None]
        verdicts = {verdict for _, verdict in found}
        verdict = (
            QualityVerdict.REJECT
            if QualityVerdict.REJECT in verdicts
            else (QualityVerdict.KEEP if verdicts == {QualityVerdict.KEEP} else "")
        )
        LibraryOutfit.objects.filter(pk=outfit_id).update(
            quality_score=min(scores) if scores else None, quality_verdict=verdict
        )


def library_items_override_quality(*, item_ids: Sequence[int], verdict: str, model_spec: str | None) -> int:
    """An editor's word on library photos' quality ("keep", "reject", or "" to let the filter decide).
    Refreshes the outfits holding them. Returns how many items changed."""
    if verdict not in {"", *QualityVerdict.values}:
        raise ValueError(f"unknown quality verdict {verdict!r}")
    changed = (
        LibraryItem.objects.filter(pk__in=list(item_ids))
        .exclude(quality_override=verdict)
        .update(quality_override=verdict)
    )
    spec = model_spec or selectors.newest_model_spec()
    if spec is not None:
        outfit_ids = (
            LibraryOutfit.objects.filter(items__in=list(item_ids)).values_list("pk", flat=True).distinct()
        )
        library_outfits_refresh_quality(outfit_ids=list(outfit_ids), model_spec=spec)
    if changed:
        library_changed()
    return changed


@transaction.atomic
def library_outfits_override_quality(*, outfit_ids: Sequence[int], verdict: str) -> int:
    """An editor's word on whole outfits' quality: every piece's photo and the outfit photo they were
    read from get `verdict` ("keep": fit after all, "" to let the filter decide again), and the
    outfits' verdicts are worked out again. Returns how many outfits' verdicts changed; a change
    queues an index build (library_changed)."""
    if verdict not in {"", *QualityVerdict.values}:
        raise ValueError(f"unknown quality verdict {verdict!r}")
    ids = list(outfit_ids)
    before = dict(LibraryOutfit.objects.filter(pk__in=ids).values_list("pk", "quality_verdict"))
    item_ids = list(
        LibraryOutfitItem.objects.filter(outfit_id__in=ids).values_list("item_id", flat=True).distinct()
    )
    LibraryItem.objects.filter(pk__in=item_ids).update(quality_override=verdict)
    OutfitPhoto.objects.filter(outfit_id__in=ids).update(quality_override=verdict)
    return _outfits_quality_again(before)


@transaction.atomic
def outfit_photos_override_quality(*, photo_ids: Sequence[int], verdict: str) -> int:
    """An editor's word on outfit photos' quality as outfits ("keep": fit despite its problems, ""
    to let the filter decide again). The outfits read from them get their verdicts worked out again;
    a changed verdict queues an index build (library_changed). Idempotent. Returns how many photos
    changed."""
    if verdict not in {"", *QualityVerdict.values}:
        raise ValueError(f"unknown quality verdict {verdict!r}")
    photos = OutfitPhoto.objects.filter(pk__in=list(photo_ids))
    outfit_ids = [pk for pk in photos.values_list("outfit_id", flat=True) if pk is not None]
    before = dict(LibraryOutfit.objects.filter(pk__in=outfit_ids).values_list("pk", "quality_verdict"))
    changed = photos.exclude(quality_override=verdict).update(quality_override=verdict)
    _outfits_quality_again(before)
    return changed


def _outfits_quality_again(before: dict[int, str]) -> int:
    """Work out the verdicts of outfits (pk: verdict before an override) under the newest model;
    queue an index build if any changed. Returns how many changed."""
    ids = list(before)
    spec = selectors.newest_model_spec()
    if spec is not None:
        library_outfits_refresh_quality(outfit_ids=ids, model_spec=spec)
    after = dict(LibraryOutfit.objects.filter(pk__in=ids).values_list("pk", "quality_verdict"))
    changed = sum(before[pk] != after.get(pk) for pk in before)
    if changed:
        library_changed()
    return changed


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
    """Approve or reject library outfits. Returns how many changed; a change queues a new index
    build, whose answers read the reviewed library (library_changed)."""
    if status not in LibraryOutfit.Status.values:
        raise ValueError(f"unknown status {status!r}")
    changed = (
        LibraryOutfit.objects.filter(pk__in=list(outfit_ids))
        .exclude(status=status)
        .update(status=status, reviewed_by=reviewer, reviewed_at=timezone.now())
    )
    if changed:
        library_changed(requested_by=reviewer)
    return changed


def library_changed(*, requested_by: User | None = None) -> IndexBuild | None:
    """An editor changed which outfits feed suggestions: queue a build, unless one is already
    waiting (it will read the library as it is when it starts). Answers are worked out per build,
    so the change shows once that build is active."""
    if IndexBuild.objects.filter(status=IndexBuild.Status.PENDING).exists():
        return None
    return index_build_request(requested_by=requested_by)


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

    Idempotent: only a PENDING build, or one whose worker died (outfits.jobs: its lease lapsed), is
    claimed; a second delivery does nothing, and an attempt taken over activates nothing.
    Files are written beside the old build and swapped in by flipping `active` in one transaction,
    so readers switch builds between two requests. Old build folders are pruned.
    """
    held = jobs.claim(jobs.INDEX_BUILD, build_pk)
    if held is None:
        return None
    with jobs.working_on(held, transient=jobs.TRANSIENT_ERRORS):
        return _index_build(held)


def _index_build(held: jobs.Claim) -> IndexBuild:
    from recsys.index import IndexBuilder, remove_builds

    build_pk = held.pk
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
                .values_list(
                    f"{subject}_id",
                    f"{subject}__category__slot",
                    "embedding",
                    f"attributes__{REASON_ATTRIBUTE}",
                )
                .iterator(chunk_size=2000)
            )
            pending: dict[str, tuple[list[int], list[np.ndarray]]] = {}
            colours: dict[int, str] = {}
            for key, slot, blob, colour in rows:
                vector = embedding_vector(blob)
                if builder is None:
                    builder = IndexBuilder(model_spec=spec, dim=int(vector.shape[0]))
                keys, vectors = pending.setdefault(slot, ([], []))
                keys.append(key)
                vectors.append(vector)
                if population == "catalog":
                    colours[key] = likeliest(colour)
                if len(keys) == _INDEX_BLOCK:  # the builder streams blocks to disk
                    builder.add_many(population, slot, keys, np.stack(vectors))
                    pending[slot] = ([], [])
                if len(colours) == _INDEX_BLOCK:  # the colour a reason names, read with each answer
                    builder.add_labels(colours)
                    colours = {}
            for slot, (keys, vectors) in pending.items():
                if builder is not None and keys:
                    builder.add_many(population, slot, keys, np.stack(vectors))
            if builder is not None and colours:
                builder.add_labels(colours)
        if builder is None:
            raise RuntimeError(f"no successful analyses under {spec}")
        _index_add_compat(builder, spec)
        builder.set_library(LibraryGraph.from_pieces(selectors.approved_library_pieces()))
        settings.INDEX_DIR.mkdir(parents=True, exist_ok=True)

        def progress(done: int, total: int) -> None:
            IndexBuild.objects.filter(pk=build_pk).update(progress=done / total if total else 1.0)

        manifest = builder.write(
            Path(settings.INDEX_DIR),
            build_id=build.build_id,
            n_trees=settings.CTL_INDEX_TREES,
            progress=progress,
        )
        # Every web host pulls it from there once it is active: publish before activating.
        build_storage.publish(Path(settings.INDEX_DIR) / build.build_id)
    except jobs.TRANSIENT_ERRORS:
        raise  # jobs.working_on hands the build back for the task's retry
    except Exception as exc:
        log.exception("index build %s failed", build.build_id)
        jobs.finish(held, IndexBuild.Status.FAILED, error=str(exc))
        return IndexBuild.objects.get(pk=build_pk)
    with jobs.holding(held) as still_ours:
        if not still_ours:  # taken over after this attempt lost its lease: the other one activates
            return IndexBuild.objects.get(pk=build_pk)
        IndexBuild.objects.filter(active=True).update(active=False)
        jobs.finish(
            held,
            IndexBuild.Status.READY,
            active=True,
            model_spec=spec,
            counts=manifest.counts,
            seconds=time.perf_counter() - started,
            error="",
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
    build_storage.remove_published(keep=keep)
    return IndexBuild.objects.get(pk=build_pk)


def _index_add_compat(builder: IndexBuilder, spec: str) -> None:
    """Store the active compatibility model's vectors of the catalog with the build, so serving
    scores a slot with one product. A build without a usable model serves the library method."""
    from vision.artefact import ArtefactError

    from .compat import catalog_compat_vectors, compat_model

    try:
        model = compat_model(spec)
    except ArtefactError as exc:  # CompatMismatch is one
        log.warning("index build without the compatibility model: %s", exc)
        return
    if model is None:
        return
    blending = Blending(model.scorer.pair_weight, model.blend or BlendWeights())
    for keys, vectors in catalog_compat_vectors(model, model_spec=spec, block=_INDEX_BLOCK):
        builder.add_compat(model.artefact.artefact_id, keys, vectors, blending)


# --- Catalog writes from the API -------------------------------------------------------------


ItemStatus = Literal["created", "updated", "unchanged", "rejected"]

# A new item's fields that have no empty value: without them it cannot be shown or analysed.
_NEW_ITEM_NEEDS: Final = ("slot", "family", "type", "image_base64")
# The shop facts an upsert may send, and their value when a new item leaves them out or an explicit
# null clears them (text fields are never null in the database: null clears them to "").
_SHOP_FIELDS: Final[dict[str, Any]] = {
    "title": "",
    "brand": "",
    "price": None,
    "gender": "",
    "link": "",
    "attributes": {},
}


@dataclass(frozen=True)
class ItemUpserted:
    """What became of one item of a bulk upsert."""

    external_id: str | None
    status: ItemStatus
    errors: dict[str, list[str]] = field(default_factory=dict)
    analysis_queued: bool = False
    item_id: int | None = None

    @property
    def reason(self) -> str:
        return "; ".join(f"{name}: {' '.join(problems)}" for name, problems in self.errors.items())


def catalog_items_upsert(*, items: Sequence[dict[str, Any]], source: str = "api") -> list[ItemUpserted]:
    """Create or update catalog items by external id, each on its own; one outcome per item, in order.

    Merge semantics: an existing item changes only in the fields present in its dict (validated by
    CatalogItemUpsertSerializer); an explicit None clears a field (text to "", price to null,
    attributes to {}); `slot`, `family` and `type` come together. A new item needs `slot`, `family`,
    `type` and `image_base64` (a checked PhotoUpload), else it is rejected naming what is missing; an
    external id sent twice in one batch is rejected both times. A rejected item stores nothing (not its
    photo); the others are stored. Photos are stored by content (the same bytes once); a new or changed
    photo is queued for analysis (garment_analyze, gpu queue) once the transaction commits: the photo
    is decoded there, not here. Sending the same batch twice changes nothing the second time.
    """
    sent = Counter(data["external_id"] for data in items)
    existing = CatalogItem.objects.in_bulk(list(sent), field_name="external_id")
    image_field = CatalogItem._meta.get_field("image")
    assert isinstance(image_field, FileField)
    written: list[str] = []  # photos this call stored, removed again if the transaction fails
    upsert = partial(
        _catalog_item_upsert, tree=CategoryTree(), source=source, files=image_field, written=written
    )
    try:
        with transaction.atomic():
            outcomes = [
                ItemUpserted(
                    data["external_id"],
                    "rejected",
                    {"external_id": [f"sent {sent[data['external_id']]} times in one batch; send it once"]},
                )
                if sent[data["external_id"]] > 1
                else upsert(data, existing.get(data["external_id"]))
                for data in items
            ]
            queued = [outcome.item_id for outcome in outcomes if outcome.analysis_queued]
            garments_enqueue_analysis(kind="catalog", ids=[pk for pk in queued if pk is not None])
    except BaseException:
        # Nothing was stored: neither are the photos this call wrote (another writer of the same
        # bytes in this instant would lose its file; the worker then reports that photo as failed).
        for name in written:
            image_field.storage.delete(name)
        raise
    return outcomes


def _catalog_item_upsert(
    data: dict[str, Any],
    item: CatalogItem | None,
    *,
    tree: CategoryTree,
    source: str,
    files: FileField,
    written: list[str],
) -> ItemUpserted:
    external_id = data["external_id"]
    created = item is None
    if item is None:
        missing = [name for name in _NEW_ITEM_NEEDS if name not in data]
        if missing:
            return ItemUpserted(
                external_id, "rejected", {name: ["required for a new item"] for name in missing}
            )
        item = CatalogItem(external_id=external_id, source=source, **copy.deepcopy(_SHOP_FIELDS))
    wanted: dict[str, Any] = {
        name: copy.copy(_SHOP_FIELDS[name]) if data[name] is None else data[name]
        for name in _SHOP_FIELDS
        if name in data
    }
    if "in_stock" in data:
        wanted["in_stock"] = data["in_stock"]
    if "slot" in data:
        wanted["category_id"] = tree.leaf(Slot(data["slot"]), data["family"], data["type"]).pk
    photo: PhotoUpload | None = data.get("image_base64")
    new_photo = photo is not None and photo.sha256 != item.image_sha256
    changed = [name for name, value in wanted.items() if created or getattr(item, name) != value]
    if not (created or changed or new_photo):
        return ItemUpserted(external_id, "unchanged", item_id=item.pk)
    for name in changed:
        setattr(item, name, wanted[name])
    stored, wrote = "", False
    if photo is not None and new_photo:
        stored, wrote = photo_store(files.storage, str(files.upload_to), photo)
        if wrote:
            written.append(stored)
        item.image.name, item.image_sha256 = stored, photo.sha256
        changed += ["image", "image_sha256"]
    if not created:
        item.save(update_fields=[*changed, "updated_at"])
        return ItemUpserted(external_id, "updated", analysis_queued=new_photo, item_id=item.pk)
    try:
        with transaction.atomic():  # a savepoint: a conflict loses this item, not the batch
            item.save()
    except IntegrityError:
        if wrote:
            files.storage.delete(stored)
            written.remove(stored)
        return ItemUpserted(
            external_id, "rejected", {"external_id": ["created by another request meanwhile; send it again"]}
        )
    return ItemUpserted(external_id, "created", analysis_queued=True, item_id=item.pk)


# --- Category audit --------------------------------------------------------------------------


class AuditUnavailable(RuntimeError):
    """No trained garment model, or no garment analysed by a model that names types."""


@dataclass(frozen=True)
class ReviewRefresh:
    model_spec: str
    audited: int  # garments whose current photo the model has classified
    flagged: int  # of those, the ones whose stated category it disagrees with
    created: int
    updated: int  # open reviews still flagged: confidence refreshed
    removed: int  # open reviews whose disagreement is gone
    closed: int  # flagged again but dismissed or accepted earlier: left as they are
    weighed: bool  # whether the model's validation confusion weighed the confidences


@dataclass(frozen=True)
class ReviewDecision:
    reviews: tuple[int, ...]  # the reviews this call changed
    skipped: int  # asked for but not changed (already decided, or the garment was recategorised since)
    slots_changed: int = 0  # accepted corrections that move a garment to another slot


def _audit_model() -> tuple[GarmentArtefact, str]:
    """The active trained model (its manifest holds the validation confusion) and the newest spec
    that classified garments into types."""
    from vision.artefact import ArtefactError, active_artefact

    try:
        artefact = active_artefact(settings.MODELS_DIR, settings.CTL_VISION_ARTEFACT)
    except ArtefactError as exc:
        raise AuditUnavailable(str(exc)) from exc
    if artefact is None:
        raise AuditUnavailable("no trained garment model: train one with `manage.py train_vision`")
    spec = (
        ImageAnalysis.objects.filter(
            status="ok", look__isnull=True, predicted_category__level=Category.Level.TYPE
        )
        .order_by("-updated_at")
        .values_list("model_spec", flat=True)
        .first()
    )
    if spec is None:
        raise AuditUnavailable(
            "no garment has been classified by the trained model yet: run `manage.py analyze_garments`"
        )
    return artefact, spec


def _type_path(category: Category) -> tuple[str, str, str] | None:
    family = category.parent
    root = family.parent if family is not None else None
    if category.level != Category.Level.TYPE or family is None or root is None:
        return None
    return (root.name, family.name, category.name)


@transaction.atomic
def category_reviews_refresh(*, kind: GarmentKind | None = None) -> ReviewRefresh:
    """Rank the garments whose stated category the model disagrees with (vision.audit) and bring the
    review queue up to date: a new disagreement opens a review, an open one gets its confidence
    refreshed, a dismissed or accepted one is left as it is (so a dismissal sticks), and an open
    review whose disagreement is gone (recategorised, re-analysed) is deleted.

    Reads the analyses of the newest spec that classified garments into types, skipping analyses of
    an older photo. The validation confusion of the active model weighs the ranking when that model
    made the spec. Idempotent; enqueues nothing. Raises AuditUnavailable without a trained model or
    typed analyses. `kind` None audits catalog and library.
    """
    from vision.audit import AuditInput, rank_disagreements

    artefact, spec = _audit_model()
    # The spec names the weights' digest (vision.registry.ModelSpec): the confusion matrix is only
    # the active model's to give when the active model made these analyses.
    made_by_active = f"@{artefact.sha256()[:12]}" in spec
    confusion = artefact.manifest.get("validation_confusion") if made_by_active else None
    tree = CategoryTree()
    audited = flagged = created = updated = removed = closed = 0
    for population in [kind] if kind else list(_MODELS):
        subject = f"{population}_item"
        analyses = (
            ImageAnalysis.objects.filter(**{f"{subject}__isnull": False}, model_spec=spec, status="ok")
            .exclude(predictions={})
            .select_related(f"{subject}__category__parent__parent")
            .defer("embedding")
        )
        items: dict[str, Any] = {}
        inputs = []
        for analysis in analyses:
            item = getattr(analysis, subject)
            stated = _type_path(item.category)
            if stated is None or analysis.image_sha256 != item.image_sha256:
                continue
            items[item.external_id] = item
            inputs.append(AuditInput(key=item.external_id, stated=stated, prediction=analysis.predictions))
        ranked = rank_disagreements(inputs, confusion)
        audited, flagged = audited + len(inputs), flagged + len(ranked)
        existing = {
            (getattr(r, f"{subject}_id"), r.stated_id, r.suggested_id): r
            for r in CategoryReview.objects.select_for_update().filter(**{f"{subject}__isnull": False})
        }
        now = timezone.now()
        current, new, refreshed = set(), [], []
        for found in ranked:
            item = items[found.key]
            suggested = tree.leaf(Slot(found.suggested[0]), found.suggested[1], found.suggested[2])
            key = (item.pk, item.category_id, suggested.pk)
            current.add(key)
            review = existing.get(key)
            if review is None:
                new.append(
                    CategoryReview(
                        **{subject: item},
                        model_spec=spec,
                        stated_id=item.category_id,
                        suggested=suggested,
                        confidence=found.confidence,
                    )
                )
            elif review.status == CategoryReview.Status.OPEN:
                review.confidence, review.model_spec, review.updated_at = found.confidence, spec, now
                refreshed.append(review)
            else:
                closed += 1
        # A concurrent refresh may have opened the same review: the unique constraint keeps one.
        created += len(CategoryReview.objects.bulk_create(new, ignore_conflicts=True))
        updated += CategoryReview.objects.bulk_update(refreshed, ["confidence", "model_spec", "updated_at"])
        gone = [
            r.pk
            for key, r in existing.items()
            if r.status == CategoryReview.Status.OPEN and key not in current
        ]
        removed += CategoryReview.objects.filter(pk__in=gone).delete()[0]
    return ReviewRefresh(
        model_spec=spec,
        audited=audited,
        flagged=flagged,
        created=created,
        updated=updated,
        removed=removed,
        closed=closed,
        weighed=confusion is not None,
    )


@transaction.atomic
def category_review_accept(*, review_ids: Sequence[int], reviewer: User | None) -> ReviewDecision:
    """Accept suggested categories: each garment moves to its review's suggested category (only that
    column is written, so nothing else of a catalog item changes) and the review is marked accepted
    by `reviewer`. Other open reviews of the same garment are deleted: their stated category is gone.

    A review already accepted, or whose garment was recategorised since the audit, is skipped.
    Enqueues nothing: a garment that changed slot reaches the index on its next build.
    """
    reviews = (
        CategoryReview.objects.select_for_update(of=("self",))
        .filter(pk__in=list(review_ids))
        .exclude(status=CategoryReview.Status.ACCEPTED)
        .select_related("catalog_item", "library_item", "stated", "suggested")
        .order_by("pk")
    )
    now = timezone.now()
    done: list[int] = []
    slots_changed = 0
    for review in reviews:
        garment = review.garment
        if garment.category_id != review.stated_id:
            continue
        garment.category = review.suggested
        garment.save(update_fields=["category", "updated_at"])
        review.status, review.reviewed_by, review.reviewed_at = CategoryReview.Status.ACCEPTED, reviewer, now
        review.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
        subject = "catalog_item" if review.catalog_item_id else "library_item"
        CategoryReview.objects.filter(**{subject: garment}, status=CategoryReview.Status.OPEN).delete()
        slots_changed += review.stated.slot != review.suggested.slot
        done.append(review.pk)
    return ReviewDecision(
        reviews=tuple(done), skipped=len(set(review_ids)) - len(done), slots_changed=slots_changed
    )


@transaction.atomic
def category_review_dismiss(*, review_ids: Sequence[int], reviewer: User | None) -> ReviewDecision:
    """Dismiss open reviews (the stated category stands). A dismissed review stays dismissed when the
    audit runs again. Accepted reviews are left alone. Enqueues nothing."""
    ids = list(
        CategoryReview.objects.select_for_update()
        .filter(pk__in=list(review_ids), status=CategoryReview.Status.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    CategoryReview.objects.filter(pk__in=ids).update(
        status=CategoryReview.Status.DISMISSED, reviewed_by=reviewer, reviewed_at=now, updated_at=now
    )
    return ReviewDecision(reviews=tuple(ids), skipped=len(set(review_ids)) - len(ids))
