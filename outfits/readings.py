"""A garment model's reading as rows: one home for turning vision.analyze's results into the
fields of an ImageAnalysis (a photo's main garment) or a GarmentRegion (each garment of a photo of
several)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .categories import CategoryTree
from .models import GarmentRegion, ImageAnalysis, Slot

if TYPE_CHECKING:
    from vision.analyze import GarmentAnalysis
    from vision.garment_heads import GarmentPrediction
    from vision.photo import PhotoReading

ANALYSIS_RESULT_FIELDS = (
    "image_sha256",
    "status",
    "error",
    "box",
    "foreground_coverage",
    "background_rgb",
    "predicted_category",
    "category_confidence",
    "predictions",
    "attributes",
    "quality_score",
    "quality_problems",
    "quality_verdict",
    "quality_method",
    "embedding",
    "dim",
    "description",
    "text_embedding",
)


def reading_values(result: GarmentAnalysis | None, tree: CategoryTree) -> dict[str, Any]:
    """The GarmentReading fields of one analysed garment (all empty when there is no result)."""
    if result is None:
        return {
            "box": None,
            "embedding": None,
            "dim": 0,
            "description": "",
            "text_embedding": None,
            "quality_score": None,
            "quality_problems": [],
            "quality_verdict": "",
            "quality_method": "",
        } | prediction_values(None, tree)
    vector = np.asarray(result.embedding, dtype=np.float32)
    return {
        "box": result.box.as_list(),
        "quality_score": float(result.quality.score),
        "quality_problems": list(result.quality.problems),
        "quality_verdict": result.quality.verdict,
        "quality_method": result.quality.method,
        "embedding": vector.tobytes(),
        "dim": int(vector.shape[0]),
        "description": result.description[:300],
        "text_embedding": (
            None
            if result.text_embedding is None
            else np.asarray(result.text_embedding, dtype=np.float32).tobytes()
        ),
    } | prediction_values(result.prediction, tree, result.zero_shot)


def analysis_save(
    subject: str,
    owner: Any,
    *,
    spec: str,
    sha: str,
    result: GarmentAnalysis | None = None,
    error: str = "",
    tree: CategoryTree | None = None,
    photo_kind: str = "",
) -> ImageAnalysis:
    """Upsert the analysis of `owner`'s photo under `spec` (subject: catalog_item, library_item or
    look): its main garment's reading, or the error that stopped it."""
    values: dict[str, Any] = {
        "image_sha256": sha,
        "status": "failed" if error else "ok",
        "error": error,
        "photo_kind": photo_kind,
        "foreground_coverage": float(result.coverage) if result is not None else None,
        "background_rgb": list(result.background_rgb) if result is not None else None,
    } | reading_values(result, tree or CategoryTree())
    analysis, _ = ImageAnalysis.objects.update_or_create(
        **{subject: owner, "model_spec": spec}, defaults=values
    )
    return analysis


def analyses_save(
    subject: str,
    readings: Sequence[tuple[Any, GarmentAnalysis]],
    *,
    spec: str,
    tree: CategoryTree,
) -> None:
    """analysis_save for a batch of (owner, result), in one transaction of three statements (read
    which exist, update those, insert the rest) instead of a round of them per photo: at ingest,
    per-row upserts cost a sixth of a batch's time. A concurrent writer of the same rows makes
    the insert fail; the batch then upserts row by row. Sends no model signals (the caller says
    what changed)."""
    if not readings:
        return
    now = timezone.now()
    values = {
        owner.pk: {
            "image_sha256": owner.image_sha256,
            "status": "ok",
            "error": "",
            "photo_kind": "",
            "foreground_coverage": float(result.coverage),
            "background_rgb": list(result.background_rgb),
            "updated_at": now,  # bulk_update does not apply auto_now
        }
        | reading_values(result, tree)
        for owner, result in readings
    }
    try:
        with transaction.atomic():
            existing = dict(
                ImageAnalysis.objects.select_for_update()
                .filter(**{f"{subject}__in": list(values), "model_spec": spec})
                .values_list(f"{subject}_id", "pk")
            )
            _update_rows({pk: values[owner] for owner, pk in existing.items()})
            ImageAnalysis.objects.bulk_create(
                [
                    ImageAnalysis(**{f"{subject}_id": owner, "model_spec": spec}, **row)
                    for owner, row in values.items()
                    if owner not in existing
                ]
            )
    except IntegrityError:  # a concurrent writer, or a category removed since `tree` read it
        fresh = CategoryTree()
        for owner, result in readings:
            analysis_save(subject, owner, spec=spec, sha=owner.image_sha256, result=result, tree=fresh)


def _update_rows(rows: dict[int, dict[str, Any]]) -> None:
    """Update analyses by primary key (each {pk: {field: value}}, the same fields in each) with one
    statement sent for every row at once (psycopg pipelines executemany). Django's bulk_update
    writes one CASE per field over every row instead, embeddings and all: re-analysing went from
    0.57x to 0.63x the raw tower's images/s without it (bench/bench_service.py --ingest-only)."""
    if not rows:
        return
    names = list(next(iter(rows.values())))
    fields: list[Any] = [ImageAnalysis._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    statement = f"UPDATE {quote(ImageAnalysis._meta.db_table)} SET {columns} WHERE id = %s"
    params = [
        [_db_value(field, values[name]) for field, name in zip(fields, names, strict=True)] + [pk]
        for pk, values in rows.items()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, params)


def _db_value(field: Any, value: Any) -> Any:
    """A model field's value as the database takes it (a related row as its key)."""
    if field.is_relation:
        return None if value is None else getattr(value, "pk", value)
    return field.get_db_prep_save(value, connection)


def regions_save(
    analysis: ImageAnalysis, reading: PhotoReading, *, tree: CategoryTree
) -> list[GarmentRegion]:
    """Replace the analysis's garment regions with those of `reading`, in its order."""
    analysis.regions.all().delete()
    return GarmentRegion.objects.bulk_create(
        GarmentRegion(
            analysis=analysis,
            position=position,
            part=garment.part,
            mask_share=round(garment.mask_share, 4),
            slot=garment.slot,
            slot_confidence=round(garment.confidence, 4),
            garment_odds=None if garment.garment_odds is None else round(garment.garment_odds, 4),
            placed=garment.placed,
            reason=garment.reason[:200],
            **(reading_values(garment.analysis, tree) | {"box": garment.box.as_list()}),
        )
        for position, garment in enumerate(reading.garments)
    )


def prediction_values(
    prediction: GarmentPrediction | None,
    tree: CategoryTree,
    zero_shot: dict[str, dict[str, float]] | None = None,
) -> dict[str, Any]:
    """The predicted node (a type where the model knows types; a slot from zero-shot prompts)."""
    zero_shot = zero_shot or {}
    if prediction is None:
        return {"predicted_category": None, "category_confidence": None, "predictions": {}, "attributes": {}}
    slot = Slot(prediction.slot)
    if prediction.type:
        node, confidence = tree.leaf(slot, prediction.family, prediction.type), prediction.type_confidence
    else:
        node, confidence = tree.slot_root(slot), prediction.slot_confidence
    described = prediction.as_json()
    attributes = described.pop("attributes") | {
        f"zero_shot:{name}": scores for name, scores in zero_shot.items()
    }
    return {
        "predicted_category": node,
        "category_confidence": round(confidence, 4),
        "predictions": described,
        "attributes": attributes,
    }
