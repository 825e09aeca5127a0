"""garments_analyze: what every analysis stores, and photos analysed once per model."""

from __future__ import annotations

import pytest

import vision.analyze
from outfits import services
from outfits.models import CatalogItem, ImageAnalysis, LibraryItem

pytestmark = pytest.mark.django_db


def test_every_analysis_stores_the_models_reading() -> None:
    analysis = ImageAnalysis.objects.filter(library_item__isnull=False, status="ok").select_related(
        "predicted_category", "library_item__category"
    )[0]
    assert analysis.predicted_category is not None and analysis.predicted_category.level == "type"
    assert set(analysis.predictions) >= {"slot", "family", "type", "slot_scores", "type_scores"}
    assert analysis.predictions["slot"]["value"] == analysis.predicted_slot
    assert analysis.category_confidence is not None
    assert 0 < analysis.category_confidence <= analysis.predictions["slot"]["confidence"] <= 1
    assert "colour_group" in analysis.attributes
    # Labels no data set carries, scored zero-shot from text prompts.
    assert set(analysis.attributes["zero_shot:pattern"]) <= {
        "plain solid colour", "striped", "checked", "floral", "animal print", "graphic print"
    }  # fmt: skip


def test_a_photo_already_analysed_for_another_row_is_copied_not_recomputed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    piece = LibraryItem.objects.select_related("category").order_by("pk")[0]
    twin = CatalogItem.objects.create(
        external_id="twin-of-" + piece.external_id,
        source="test",
        image=piece.image.name,
        image_sha256=piece.image_sha256,
        category=piece.category,
    )

    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model ran on a photo it had already seen")

    monkeypatch.setattr(vision.analyze, "analyze_garments", no_model)
    outcome = services.garments_analyze(kind="catalog", ids=[twin.pk])
    assert outcome.analysed == 1 and outcome.failed == 0
    original = ImageAnalysis.objects.get(library_item=piece, model_spec=outcome.model_spec)
    copy = ImageAnalysis.objects.get(catalog_item=twin, model_spec=outcome.model_spec)
    assert copy.embedding is not None and original.embedding is not None
    assert bytes(copy.embedding) == bytes(original.embedding)
    assert copy.predicted_category_id == original.predicted_category_id
