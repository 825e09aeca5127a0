"""The curated library from outfit photos: an editor's photo in, a pending library outfit out.

A photo (uploaded in the admin or imported with `manage.py import_outfit_photos`) is stored and
queued; a worker finds its garments (vision.photo), grades the photo as an outfit of the library
(vision.outfit_quality) and makes a pending library outfit whose pieces are the garments placed,
each stored as a library item with its own crop and analysis. The outfit waits in the admin's
quality queue with the photo's score and problems; only approved outfits of good quality feed
suggestions (after the next index build).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction

from vision.images import ImageRejected, upright_size

from . import jobs, readings, services
from .categories import CategoryTree
from .models import LibraryItem, LibraryOutfit, LibraryOutfitItem, OutfitPhoto, Slot
from .photos import photo_check, photo_open
from .worker_models import garment_gate, pose_reader, quality_filter, vision_embedder

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from PIL import Image

    from vision.photo import FoundGarment


@dataclass(frozen=True)
class PhotoAdded:
    photo: OutfitPhoto
    created: bool  # False: the same photo was already in this source


def outfit_photo_add(
    *, photo: bytes, filename: str, source: str, uploaded_by: User | None = None, enqueue: bool = True
) -> PhotoAdded:
    """Store an outfit photo and (after commit, unless `enqueue` is False) queue its analysis on the
    gpu queue. The photo is decoded first: a corrupt or oversized one raises ImageRejected and nothing
    is stored. The same bytes in the same source are stored once."""
    from . import tasks

    suffix = photo_check(photo).suffix
    sha = hashlib.sha256(photo).hexdigest()
    existing = OutfitPhoto.objects.filter(source=source, image_sha256=sha).first()
    if existing is not None:
        return PhotoAdded(existing, created=False)
    with transaction.atomic():
        row = OutfitPhoto(
            image_sha256=sha, source=source, filename=Path(filename).name[:255], uploaded_by=uploaded_by
        )
        row.image.save(f"{sha[:20]}{suffix}", ContentFile(photo), save=False)
        row.save()
        if enqueue:
            transaction.on_commit(lambda: tasks.outfit_photo_analyze.delay(row.pk))
    return PhotoAdded(row, created=True)


def outfit_photo_analyze(*, photo_pk: int) -> OutfitPhoto | None:
    """Read an outfit photo into a pending library outfit (see the module docstring). Claims the row
    like a look (outfits.jobs); a photo analysed again replaces its outfit's pieces. Returns None when
    the row is gone, claimed by a live attempt, or taken from this one before it finished (it then
    writes nothing)."""
    held = jobs.claim(jobs.OUTFIT_PHOTO, photo_pk)
    if held is None:
        return None
    row = OutfitPhoto.objects.get(pk=photo_pk)
    with jobs.working_on(held, transient=jobs.TRANSIENT_ERRORS):
        _analyze(row, held)
    row.refresh_from_db()
    return row


def _analyze(row: OutfitPhoto, held: jobs.Claim) -> None:
    from vision.analyze import analysis_spec
    from vision.outfit_quality import assess_outfit_photo
    from vision.photo import read_photo

    try:
        with row.image.open("rb") as handle:
            photo = handle.read()
        image = photo_open(photo)
    except (ImageRejected, OSError) as exc:
        _finish(held, error=str(exc))
        return
    embedder = vision_embedder()
    spec = analysis_spec(embedder)
    reading = read_photo(
        image, embedder, poses=pose_reader(), gate=garment_gate(spec), quality_filter=quality_filter()
    ).in_frame(image.size, upright_size(photo))  # boxes on the photo as stored, not its reduced copy
    found: dict[str, Any] = {
        "photo_kind": reading.kind.value,
        "garments": [
            {
                "position": position,
                "part": garment.part,
                "box": garment.box.as_list(),
                "slot": garment.slot or None,
                "confidence": round(garment.confidence, 4),
                "placed": garment.placed,
                "reason": garment.reason,
            }
            for position, garment in enumerate(reading.garments)
        ],
    }
    if not reading.placed:
        _finish(held, error=reading.reason, **found)
        return
    quality = assess_outfit_photo(image, reading)
    with jobs.holding(held) as still_ours:
        if not still_ours:
            return
        outfit, _ = LibraryOutfit.objects.get_or_create(
            source=row.source, external_id=f"photo-{row.image_sha256[:16]}"
        )
        _replace_pieces(outfit, reading.placed, spec=spec)
        _finish(
            held,
            outfit=outfit,
            quality_score=quality.score,
            quality_problems=list(quality.problems),
            **found,
        )
        services.library_outfits_refresh_quality(outfit_ids=[outfit.pk], model_spec=spec)


def _finish(held: jobs.Claim, *, error: str = "", **fields: Any) -> None:
    status = OutfitPhoto.Status.FAILED if error else OutfitPhoto.Status.DONE
    jobs.finish(held, status, error=error, **fields)


def _replace_pieces(outfit: LibraryOutfit, garments: tuple[FoundGarment, ...], *, spec: str) -> None:
    """The outfit's pieces become the garments found: one library item per garment, its crop as the
    photo and the model's reading of that crop as its analysis."""
    tree = CategoryTree()
    old = list(outfit.items.values_list("pk", flat=True))
    LibraryOutfitItem.objects.filter(outfit=outfit).delete()
    LibraryItem.objects.filter(pk__in=old, memberships__isnull=True).delete()
    for position, garment in enumerate(garments):
        assert garment.crop is not None and garment.analysis.prediction is not None
        data = _jpeg(garment.crop)
        sha = hashlib.sha256(data).hexdigest()
        prediction = garment.analysis.prediction
        category = (
            tree.leaf(Slot(garment.slot), prediction.family, prediction.type)
            if prediction.type and prediction.slot == garment.slot
            else tree.slot_root(Slot(garment.slot))
        )
        item = LibraryItem(
            external_id=f"{outfit.source}:{outfit.external_id}:{position}"[:120],
            source=outfit.source,
            image_sha256=sha,
            category=category,
            attributes={},
        )
        item.image.save(f"{sha[:20]}.jpg", ContentFile(data), save=False)
        item.save()
        LibraryOutfitItem.objects.create(outfit=outfit, item=item, position=position)
        readings.analysis_save("library_item", item, spec=spec, sha=sha, result=garment.analysis, tree=tree)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()
