"""Looks: a shopper's photo in, every garment found in it, and what completes the look.

The photo is read by vision.photo (a product shot, a flat-lay or collage, or a person wearing the
garments); each garment the model places gets the suggestions for the slots that complete the
whole look, with the other garments found as the partial outfit. Garments the model cannot place
are reported with the reason and never turned into suggestions; a photo with no garment answers
`"garments": []` and says why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction

from recsys.rank.complete import Method
from recsys.rank.policy import COMPLEMENTS, ImpossibleSlot, outfit_wanted_slots
from vision.images import ImageRejected, upright_size

from . import jobs, readings, selectors, shopper_garments, suggestions
from .categories import CategoryTree
from .jobs import TRANSIENT_ERRORS
from .models import GarmentRegion, LookRequest
from .photos import photo_check, photo_open
from .worker_models import garment_gate, pose_reader, quality_filter, vision_embedder

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from recsys.index import IndexSet
    from vision.photo import FoundGarment, PhotoReading

    from .models import ApiKey


class CannotClassify(RuntimeError):
    """The photo's slot is unknown and the model cannot tell it."""


# A look's own verdicts: stored on it as "failed". Anything else hands it back for another attempt.
_LOOK_FAILURES = (ImageRejected, OSError, selectors.NoIndex, CannotClassify, suggestions.MethodUnavailable)


def look_create(
    *,
    photo: bytes,
    garment_slot: str = "",
    wanted_slots: Sequence[str] = (),
    k: int = 8,
    method: str = "",
    api_key: ApiKey | None = None,
    user: User | None = None,
) -> LookRequest:
    """Store a shopper's photo (in the private storage) and queue its analysis (after commit) on the
    gpu queue. The look belongs to `api_key` or `user`, whoever made it (outfits.selectors.looks_for).

    The photo is decoded here first: a corrupt, truncated or oversized upload is refused with
    ImageRejected and nothing is stored. It is stored under the name its bytes call for (a PNG sent
    as photo.jpg is kept as .png).
    """
    from . import tasks

    suffix = photo_check(photo).suffix
    sha = hashlib.sha256(photo).hexdigest()
    with transaction.atomic():
        look = LookRequest(
            image_sha256=sha,
            garment_slot=garment_slot,
            wanted_slots=list(wanted_slots),
            k=k,
            method=method,
            api_key=api_key,
            user=user,
        )
        look.image.save(f"{look.id.hex}{suffix}", ContentFile(photo), save=False)
        look.save()
        transaction.on_commit(lambda: tasks.look_recommend.delay(str(look.id)))
    return look


def look_recommend(*, look_id: str) -> LookRequest | None:
    """Find the garments of a look's photo and store, for each, what completes the look.

    Claims the look (outfits.jobs: PENDING, or RUNNING under a lapsed lease) and renews the claim while
    it works, so a redelivered task never runs it twice at once and a killed worker's look is taken
    over. Returns None when the look is gone, claimed by a live attempt, or taken from this one
    before it finished (it then writes nothing). Expected failures are stored on the look; others
    hand it back for another attempt (outfits.jobs.working_on).
    """
    held = jobs.claim(jobs.LOOK, look_id)
    if held is None:
        return None
    look = LookRequest.objects.get(pk=look_id)
    with jobs.working_on(held, transient=TRANSIENT_ERRORS):
        try:
            return _recommend(look, held)
        except _LOOK_FAILURES as exc:
            jobs.finish(held, LookRequest.Status.FAILED, error=str(exc), result=None)
    look.refresh_from_db()
    return look


def _recommend(look: LookRequest, held: jobs.Claim) -> LookRequest | None:
    from vision.analyze import analysis_spec
    from vision.photo import read_photo

    embedder = vision_embedder()
    spec = analysis_spec(embedder)
    index = selectors.active_index(model_spec=spec)
    if index is None:
        raise selectors.NoIndex(f"no active index built with {spec}: build the index first")
    with look.image.open("rb") as handle:
        photo = handle.read()
    image = photo_open(photo)
    reading = read_photo(
        image,
        embedder,
        poses=pose_reader(),
        gate=garment_gate(spec),
        quality_filter=quality_filter(),
        slot=look.garment_slot,
    ).in_frame(image.size, upright_size(photo))  # boxes on the photo the shopper sent, not its copy
    if any(g.analysis.prediction is None for g in reading.garments) and not look.garment_slot:
        raise CannotClassify(
            "the active image model cannot recognise garments (it is untrained): "
            "send garment_slot, or train it with `manage.py train_vision`"
        )
    with jobs.holding(held) as still_ours:
        if not still_ours:
            return None
        regions = _save_reading(look, reading, spec=spec)
        result = _look_result(look, reading, regions, index)
        jobs.finish(held, LookRequest.Status.DONE, result=result, error="")
    look.refresh_from_db()
    return look


def _main_garment(reading: PhotoReading) -> FoundGarment | None:
    """The garment the photo is mostly of: the largest placed one."""
    placed = reading.placed
    return max(placed, key=lambda g: g.box.width * g.box.height) if placed else None


def _main_position(reading: PhotoReading) -> int | None:
    main = _main_garment(reading)
    return next((i for i, garment in enumerate(reading.garments) if garment is main), None)


def _save_reading(look: LookRequest, reading: PhotoReading, *, spec: str) -> list[GarmentRegion]:
    """The look's analysis (its main garment's reading) and one region row per garment found."""
    tree = CategoryTree()
    main = _main_garment(reading)
    analysis = readings.analysis_save(
        "look",
        look,
        spec=spec,
        sha=look.image_sha256,
        result=main.analysis if main is not None else None,
        error="" if main is not None else reading.reason,
        tree=tree,
        photo_kind=reading.kind.value,
    )
    if main is not None:  # the main garment's box in the photo, not in its own crop
        analysis.box = main.box.as_list()
        analysis.save(update_fields=["box"])
    readings.regions_save(analysis, reading, tree=tree)
    return list(analysis.regions.select_related("predicted_category__parent"))


def _look_result(
    look: LookRequest, reading: PhotoReading, regions: list[GarmentRegion], index: IndexSet
) -> dict[str, Any]:
    """The stored result: every garment placed with its suggestions, the others with their reason,
    and the main garment's answer at the top level (what a single-garment client reads)."""
    placed = [region for region in regions if region.placed]
    method = Method(look.method) if look.method else None
    answers: dict[tuple[tuple[int, ...], tuple[str, ...]], dict[str, Any]] = {}
    garments = []
    for region in placed:
        others = [o for o in placed if o is not region]
        pieces, wanted, ignored = _completing(region, others, look.wanted_slots)
        key = (tuple(sorted(p.position for p in pieces)), tuple(wanted))
        if key not in answers:
            answer = suggestions.suggest(
                index,
                [shopper_garments.photo_garment(p, slot=p.slot) for p in pieces],
                suggestions.SuggestQuery(k=look.k, wanted_slots=wanted, method=method),
            )
            answers[key] = answer.as_json()
        garments.append(_garment_json(region) | answers[key] | {"ignored_slots": ignored})
    main = _main_position(reading)
    head = next((g for g in garments if g["position"] == main), None)
    return {
        "photo_kind": reading.kind.value,
        "garment_slot": head["slot"] if head else None,
        "slot_given": bool(look.garment_slot),
        "slot_confidence": head["confidence"] if head else None,
        "garment": head["garment"] if head else None,
        "method": head["method"] if head else None,
        "model_spec": index.manifest.model_spec,
        "build_id": index.manifest.build_id,
        "suggestions": head["suggestions"] if head else [],
        "empty_slots": head["empty_slots"] if head else {},
        "ignored_slots": head["ignored_slots"] if head else [],
        "reason": (head["reason"] if head else reading.reason) or None,
        "garments": garments,
        "unplaced": [
            _garment_json(region) | {"reason": region.reason} for region in regions if not region.placed
        ],
    }


def _completing(
    region: GarmentRegion, others: list[GarmentRegion], asked: Sequence[str]
) -> tuple[list[GarmentRegion], list[str], list[str]]:
    """The garments to complete and the slots that do: the whole look's missing slots, with the
    other garments found as the partial outfit. When the photo already holds every slot that could
    complete the look, the garment alone is completed (alternatives for the rest of the look).
    Asked slots that cannot complete it are left out and named."""
    pieces = [region, *others]
    try:
        can = outfit_wanted_slots([p.slot for p in pieces])
    except ImpossibleSlot:
        pieces, can = [region], list(COMPLEMENTS[region.slot])
    wanted = [slot for slot in asked if slot in can] or can
    return pieces, wanted, [slot for slot in asked if slot not in can]


def _garment_json(region: GarmentRegion) -> dict[str, Any]:
    prediction = region.predictions or {}
    return {
        "position": region.position,
        "part": region.part,
        "box": region.box,
        "slot": region.slot or None,
        "confidence": region.slot_confidence,
        "garment_odds": region.garment_odds,
        "garment": (
            {key: prediction[key] for key in ("slot", "family", "type") if key in prediction}
            | {"attributes": region.attributes}
            if prediction
            else None
        ),
        "quality": {"score": region.quality_score, "problems": region.quality_problems},
    }
