"""A catalog item upserted after the build is in answers at once, beside the build, without a rebuild."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from rest_framework.test import APIClient

from outfits import fresh_items, selectors
from outfits.models import CatalogItem, IndexBuild

pytestmark = pytest.mark.django_db


def _twin(editor: APIClient, original: CatalogItem, external_id: str, capture: Any) -> CatalogItem:
    """A new catalog item with the same photo as `original`, upserted through the API."""
    category = original.category
    item = {
        "external_id": external_id,
        "title": f"{original.title} (new season)",
        "brand": original.brand,
        "price": str(original.price or "10.00"),
        "slot": category.slot,
        "family": category.parent.name if category.parent else "",
        "type": category.name,
        "attributes": {},
        "image_base64": base64.b64encode(original.image.read()).decode(),
    }
    with capture(execute=True):
        response = editor.post("/api/v1/items/bulk/", {"items": [item]}, format="json")
    assert response.status_code == 200, response.content
    return CatalogItem.objects.get(external_id=external_id)


def test_an_item_upserted_after_the_build_is_suggested_and_answered_at_once(
    editor: APIClient, storefront: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    top = CatalogItem.objects.filter(category__slot="top").order_by("pk").first()
    assert top is not None
    url = f"/api/v1/items/{top.external_id}/complete-the-look/"
    query: dict[str, str | int] = {"slot": "bottom", "k": 8, "diversity": 0}
    before = storefront.get(url, query).json()["suggestions"]
    best = CatalogItem.objects.get(external_id=before[0]["item"]["id"])
    builds = IndexBuild.objects.count()

    twin = _twin(editor, best, "NEW-SEASON-1", django_capture_on_commit_callbacks)

    index = selectors.active_index()
    assert index is not None and IndexBuild.objects.count() == builds, "no rebuild"
    fresh = fresh_items.current(index)
    assert fresh is not None and twin.pk in fresh
    after = storefront.get(url, query).json()["suggestions"]
    shown = {s["item"]["id"]: s for s in after}
    assert twin.external_id in shown, "the new item is suggested beside its twin"
    assert shown[twin.external_id]["score"] == pytest.approx(shown[best.external_id]["score"], rel=1e-4)
    assert shown[twin.external_id]["outfits"] == shown[best.external_id]["outfits"]
    own = storefront.get(f"/api/v1/items/{twin.external_id}/complete-the-look/", {"k": 3})
    assert own.status_code == 200 and own.json()["suggestions"], own.content
    similar = storefront.get(f"/api/v1/items/{best.external_id}/similar/", {"k": 3}).json()["similar"]
    assert similar[0]["item"]["id"] == twin.external_id and similar[0]["similarity"] == pytest.approx(
        1.0, abs=1e-4
    )


def test_past_the_threshold_a_build_is_queued_to_fold_fresh_items_in(
    editor: APIClient, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CTL_FRESH_REBUILD_AT = 1
    original = CatalogItem.objects.filter(category__slot="bottom").order_by("pk").first()
    assert original is not None
    _twin(editor, original, "NEW-SEASON-2", django_capture_on_commit_callbacks)
    assert IndexBuild.objects.filter(status=IndexBuild.Status.READY, active=True).count() == 1
    # The queued build ran on commit (tasks run inline here) and is now the active one.
    assert IndexBuild.objects.filter(active=True).get().started_at is not None
    index = selectors.active_index()
    assert index is not None
    assert (
        index.row_of("catalog", "bottom", CatalogItem.objects.get(external_id="NEW-SEASON-2").pk) is not None
    )
