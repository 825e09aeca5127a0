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


def test_a_batch_updates_the_analysed_and_inserts_the_new_in_one_go() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from outfits import answer_cache

    analysed = list(CatalogItem.objects.order_by("pk")[:3])
    newcomer = CatalogItem.objects.create(
        external_id="newcomer", source="test", image=analysed[0].image.name,
        image_sha256="f" * 64, category=analysed[0].category,
    )  # fmt: skip
    before = dict(
        ImageAnalysis.objects.filter(catalog_item__in=analysed).values_list("catalog_item_id", "updated_at")
    )
    version = answer_cache.cache.get(answer_cache.VERSION_KEY, 0)
    with CaptureQueriesContext(connection) as queries:
        outcome = services.garments_analyze(
            kind="catalog", ids=[i.pk for i in [*analysed, newcomer]], force=True
        )
    assert outcome.analysed == 4 and outcome.failed == 0
    rows = {
        a.catalog_item_id: a for a in ImageAnalysis.objects.filter(catalog_item__in=[*analysed, newcomer])
    }
    assert len(rows) == 4 and all(a.status == "ok" and a.embedding for a in rows.values())
    assert rows[newcomer.pk].image_sha256 == "f" * 64
    # Re-analysed rows count as changed since any build (fresh items), as a save would mark them.
    assert all(rows[pk].updated_at > at for pk, at in before.items())
    assert answer_cache.cache.get(answer_cache.VERSION_KEY, 0) != version  # cached answers are stale
    # Django logs an executemany as "3 times: UPDATE ...".
    writes = [q["sql"].split(" times: ")[-1] for q in queries.captured_queries]
    writes = [sql for sql in writes if sql.startswith(("UPDATE", "INSERT"))]
    assert len(writes) == 2, writes  # one UPDATE sent for the three, one INSERT for the newcomer
    assert any(q["sql"].startswith("3 times: UPDATE") for q in queries.captured_queries)
