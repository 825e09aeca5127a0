from __future__ import annotations

import base64
from typing import Any

import pytest
from rest_framework.test import APIClient

from outfits.models import CatalogItem, ImageAnalysis
from tests.factories import garment_photo

pytestmark = pytest.mark.django_db


def _item(external_id: str, **extra: object) -> dict[str, object]:
    item: dict[str, object] = {
        "external_id": external_id,
        "title": "Navy tee",
        "brand": "House",
        "price": "19.90",
        "slot": "top",
        "family": "T-shirts",
        "type": "T-shirt",
        "attributes": {"colour": "navy"},
        "image_base64": base64.b64encode(garment_photo(seed=len(external_id))).decode(),
    }
    item.update(extra)
    return item


def test_bulk_upsert_creates_analyses_and_is_idempotent(
    editor: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    batch = {"items": [_item("API-1"), _item("API-2", price="25.00")]}
    with django_capture_on_commit_callbacks(execute=True):
        first = editor.post("/api/v1/items/bulk/", batch, format="json")
    assert first.status_code == 200, first.content
    assert first.json() == {"created": 2, "updated": 0, "unchanged": 0, "analysis_queued": 1}
    item = CatalogItem.objects.get(external_id="API-1")
    assert item.category.slot == "top" and str(item.price) == "19.90"
    assert ImageAnalysis.objects.filter(catalog_item=item, status="ok").exists()
    again = editor.post("/api/v1/items/bulk/", batch, format="json").json()
    assert again == {"created": 0, "updated": 0, "unchanged": 2, "analysis_queued": 0}
    price_only = {"items": [{k: v for k, v in _item("API-1", price="9.90").items() if k != "image_base64"}]}
    assert editor.post("/api/v1/items/bulk/", price_only, format="json").json()["updated"] == 1


def test_one_bad_photo_refuses_the_whole_batch(editor: APIClient) -> None:
    before = CatalogItem.objects.count()
    bad = _item("API-BAD", image_base64=base64.b64encode(b"not an image").decode())
    response = editor.post("/api/v1/items/bulk/", {"items": [_item("API-OK"), bad]}, format="json")
    assert response.status_code == 400
    assert "items[1] (API-BAD)" in str(response.json())
    assert CatalogItem.objects.count() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slot": "hat"}, "slot"),
        ({"price": "cheap"}, "price"),
        ({"image_base64": "@@@"}, "image_base64"),
        ({"external_id": None}, "external_id"),
    ],
)
def test_wrong_types_and_missing_fields_are_named(
    editor: APIClient, change: dict[str, object], field: str
) -> None:
    item = _item("API-X")
    item.update(change)
    response = editor.post("/api/v1/items/bulk/", {"items": [item]}, format="json")
    assert response.status_code == 400
    assert field in str(response.json()["errors"])


def test_a_new_item_without_a_photo_is_refused(editor: APIClient) -> None:
    item = {k: v for k, v in _item("API-NOPHOTO").items() if k != "image_base64"}
    response = editor.post("/api/v1/items/bulk/", {"items": [item]}, format="json")
    assert response.status_code == 400 and "needs image_base64" in str(response.json())


def test_item_detail_uses_the_shop_id(storefront: APIClient) -> None:
    item = CatalogItem.objects.first()
    assert item is not None
    body = storefront.get(f"/api/v1/items/{item.external_id}/").json()
    assert body["id"] == item.external_id and body["image_url"].startswith("http")
