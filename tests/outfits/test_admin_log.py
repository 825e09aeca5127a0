"""Who changed what: every review action in the admin writes Django's admin log (LogEntry), one entry
per object it acted on, by the user who acted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db.models import Model
from django.test import Client

from outfits import services
from outfits.models import (
    CatalogItem,
    CategoryReview,
    ImageAnalysis,
    IndexBuild,
    LibraryItem,
    LibraryOutfit,
    OutfitPhoto,
    QualityVerdict,
)
from tests.outfits.mislabel import mislabel

pytestmark = pytest.mark.django_db


def outfits() -> list[LibraryOutfit]:
    return list(LibraryOutfit.objects.order_by("pk")[:2])


def pending_outfits() -> list[LibraryOutfit]:
    chosen = outfits()
    LibraryOutfit.objects.filter(pk__in=[o.pk for o in chosen]).update(status=LibraryOutfit.Status.PENDING)
    return chosen


def outfit_photos() -> list[OutfitPhoto]:
    """Two analysed outfit photos with a problem each, one per outfit (their image: a piece's photo)."""
    return [
        OutfitPhoto.objects.create(
            image=outfit.items.order_by("pk")[0].image.name,
            image_sha256=f"{i:064x}",
            source="test-photos",
            filename=f"look-{i}.jpg",
            status=OutfitPhoto.Status.DONE,
            outfit=outfit,
            quality_score=0.2,
            quality_problems=["cut off"],
        )
        for i, outfit in enumerate(outfits())
    ]


def open_reviews() -> list[CategoryReview]:
    catalog_item, library_item = mislabel("catalog")[0], mislabel("library")[0]
    services.category_reviews_refresh()
    return [
        CategoryReview.objects.get(catalog_item=catalog_item, status="open"),
        CategoryReview.objects.get(library_item=library_item, status="open"),
    ]


def garments(model: type[CatalogItem] | type[LibraryItem]) -> Callable[[], list[Model]]:
    return lambda: list(model.objects.order_by("pk")[:2])


@pytest.mark.parametrize(
    ("model_url", "action", "objects"),
    [
        ("libraryoutfit", "approve", outfits),
        ("libraryoutfit", "reject", outfits),
        ("qualityqueueoutfit", "approve", pending_outfits),
        ("qualityqueueoutfit", "reject", pending_outfits),
        ("qualityqueueoutfit", "keep_despite_quality", pending_outfits),
        ("categoryreview", "accept", open_reviews),
        ("categoryreview", "dismiss", open_reviews),
        ("outfitphoto", "keep_despite_problems", outfit_photos),
        ("outfitphoto", "reanalyse", outfit_photos),
        ("catalogitem", "reanalyse", garments(CatalogItem)),
        ("libraryitem", "reanalyse", garments(LibraryItem)),
    ],
)
def test_each_review_action_logs_a_change_per_object(
    editor_user: Any, model_url: str, action: str, objects: Callable[[], list[Model]]
) -> None:
    chosen = objects()
    client = Client()
    client.force_login(editor_user)
    response = client.post(
        f"/admin/outfits/{model_url}/", {"action": action, "_selected_action": [o.pk for o in chosen]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    for obj in chosen:
        entry = LogEntry.objects.get(
            object_id=str(obj.pk), content_type__model=obj._meta.model_name, action_flag=CHANGE
        )
        assert entry.user == editor_user and entry.get_change_message()
    if action == "accept":  # the garments recategorised are logged too
        for review in chosen:
            garment = review.garment  # type: ignore[attr-defined]
            assert LogEntry.objects.filter(
                object_id=str(garment.pk), content_type__model=garment._meta.model_name, user=editor_user
            ).exists()


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/admin/outfits/libraryoutfit/", {"action": "rebuild_index"}),
        ("/admin/outfits/indexbuild/", {"action": "rebuild_index"}),
        ("/admin/outfits/indexstatus/rebuild/", {}),
    ],
)
def test_each_rebuild_logs_the_build_it_queued(editor_user: Any, url: str, data: dict[str, Any]) -> None:
    some = LibraryOutfit if "libraryoutfit" in url else IndexBuild
    data = {**data, "_selected_action": list(some.objects.values_list("pk", flat=True)[:1])}
    before = set(IndexBuild.objects.values_list("pk", flat=True))
    client = Client()
    client.force_login(editor_user)
    assert client.post(url, data).status_code == 302
    (queued,) = IndexBuild.objects.exclude(pk__in=before)
    entry = LogEntry.objects.get(content_type__model="indexbuild", object_id=str(queued.pk))
    assert (entry.user, entry.action_flag) == (editor_user, ADDITION)
    assert entry.get_change_message().startswith("Rebuild requested")


def test_a_photos_quality_override_saved_in_its_form_is_logged_and_reaches_the_outfit(
    editor_user: Any,
) -> None:
    photo = outfit_photos()[0]
    outfit = photo.outfit
    assert outfit is not None
    # Pieces all fine: the photo's problems alone reject the outfit.
    ImageAnalysis.objects.filter(library_item__outfits=outfit).update(quality_verdict=QualityVerdict.KEEP)
    spec = ImageAnalysis.objects.filter(library_item__outfits=outfit)[0].model_spec
    services.library_outfits_refresh_quality(outfit_ids=[outfit.pk], model_spec=spec)
    assert LibraryOutfit.objects.get(pk=outfit.pk).quality_verdict == QualityVerdict.REJECT
    client = Client()
    client.force_login(editor_user)
    response = client.post(f"/admin/outfits/outfitphoto/{photo.pk}/change/", {"quality_override": "keep"})
    assert response.status_code == 302, response.content.decode()[:2000]
    photo.refresh_from_db()
    assert photo.quality_override == QualityVerdict.KEEP
    entry = LogEntry.objects.get(content_type__model="outfitphoto", object_id=str(photo.pk))
    assert (entry.user, entry.action_flag) == (editor_user, CHANGE)
    assert "Quality override" in entry.get_change_message()
    assert LibraryOutfit.objects.get(pk=outfit.pk).quality_verdict == QualityVerdict.KEEP
