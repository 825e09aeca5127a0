"""Deterministic disagreements for the mislabel audit's tests: the session shop's garments agree or
disagree with the tiny model as it happens, so a test moves a garment to a category the model did
not predict (another slot's type) and audits that."""

from __future__ import annotations

from typing import Any

from outfits.models import Category, ImageAnalysis


def mislabel(kind: str = "catalog", *, nth: int = 0) -> tuple[Any, Category, Category]:
    """Move the `nth` classified garment of `kind` to a type of a slot the model did not predict.
    Returns the garment, the category it had, and the model's predicted type node."""
    subject = f"{kind}_item"
    analysis = (
        ImageAnalysis.objects.filter(
            **{f"{subject}__isnull": False}, status="ok", predicted_category__level=Category.Level.TYPE
        )
        .select_related(subject, "predicted_category")
        .order_by(f"{subject}__external_id")[nth]
    )
    item: Any = getattr(analysis, subject)
    predicted = analysis.predicted_category
    assert predicted is not None
    wrong = (
        Category.objects.filter(level=Category.Level.TYPE).exclude(slot=predicted.slot).order_by("pk").first()
    )
    assert wrong is not None, "the shop has types of one slot only"
    before = item.category
    item.category = wrong
    item.save(update_fields=["category"])
    return item, before, predicted
