from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from outfits.models import CatalogItem, ImageAnalysis
from tests.factories import garment_photo, huge_png_header

pytestmark = pytest.mark.django_db

BULK = "/api/v1/items/bulk/"


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


def _photo(seed: int) -> str:
    return base64.b64encode(garment_photo(seed=seed)).decode()


def _stored_photos() -> set[Path]:
    return set((Path(settings.MEDIA_ROOT) / "garments").rglob("*.*"))


def test_bulk_upsert_creates_analyses_and_is_idempotent(
    editor: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    batch = {"items": [_item("API-1"), _item("API-2", price="25.00")]}
    with django_capture_on_commit_callbacks(execute=True):
        first = editor.post(BULK, batch, format="json")
    assert first.status_code == 200, first.content
    body = first.json()
    assert {key: body[key] for key in ("created", "updated", "unchanged", "rejected", "analysis_queued")} == {
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "analysis_queued": 2,
    }
    assert [(row["external_id"], row["status"], row["analysis_queued"]) for row in body["items"]] == [
        ("API-1", "created", True),
        ("API-2", "created", True),
    ]
    item = CatalogItem.objects.get(external_id="API-1")
    assert item.category.slot == "top" and str(item.price) == "19.90"
    assert ImageAnalysis.objects.filter(catalog_item=item, status="ok").exists()
    again = editor.post(BULK, batch, format="json").json()
    assert [row["status"] for row in again["items"]] == ["unchanged", "unchanged"]
    assert again["analysis_queued"] == 0
    assert [row["analysis"]["status"] for row in again["items"]] == ["analysed", "analysed"]
    price_only = {"items": [{"external_id": "API-1", "price": "9.90"}]}
    assert editor.post(BULK, price_only, format="json").json()["updated"] == 1


@pytest.mark.parametrize(
    "category",
    [{}, {"slot": "top", "family": "T-shirts", "type": "T-shirt"}],
    ids=["title only", "title and category"],
)
def test_an_update_changes_only_the_fields_sent(editor: APIClient, category: dict[str, str]) -> None:
    full = _item(
        "API-MERGE",
        link="https://shop.example/tee",
        in_stock=False,
        gender="women",
        attributes={"fit": "slim"},
    )
    assert editor.post(BULK, {"items": [full]}, format="json").status_code == 200
    update = {"external_id": "API-MERGE", "title": "Navy tee II", **category}
    renamed = editor.post(BULK, {"items": [update]}, format="json")
    assert renamed.status_code == 200, renamed.content
    item = CatalogItem.objects.get(external_id="API-MERGE")
    assert item.title == "Navy tee II"
    assert (item.brand, str(item.price), item.link, item.in_stock, item.gender, item.attributes) == (
        "House",
        "19.90",
        "https://shop.example/tee",
        False,
        "women",
        {"fit": "slim"},
    )
    assert (item.category.slot, item.category.name) == ("top", "T-shirt")
    assert renamed.json()["items"][0]["status"] == "updated"


def test_an_explicit_null_clears_a_field_and_leaves_the_others(editor: APIClient) -> None:
    editor.post(BULK, {"items": [_item("API-NULL", link="https://shop.example/x")]}, format="json")
    cleared = {"external_id": "API-NULL", "price": None, "brand": None, "attributes": None}
    assert editor.post(BULK, {"items": [cleared]}, format="json").status_code == 200
    item = CatalogItem.objects.get(external_id="API-NULL")
    assert (item.price, item.brand, item.attributes) == (None, "", {})
    assert (item.title, item.link) == ("Navy tee", "https://shop.example/x")


def test_a_category_is_sent_whole(editor: APIClient) -> None:
    editor.post(BULK, {"items": [_item("API-CAT")]}, format="json")
    response = editor.post(BULK, {"items": [{"external_id": "API-CAT", "slot": "bottom"}]}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]["0"]) == {"family", "type"}
    assert CatalogItem.objects.get(external_id="API-CAT").category.slot == "top"


def test_one_bad_photo_is_rejected_alone_and_stores_nothing_of_it(editor: APIClient) -> None:
    photos = _stored_photos()
    bad = _item("API-BAD", image_base64=base64.b64encode(b"not an image").decode())
    bomb = _item("API-BOMB", image_base64=base64.b64encode(huge_png_header()).decode())
    response = editor.post(
        BULK, {"items": [_item("API-OK", image_base64=_photo(901)), bad, bomb]}, format="json"
    )
    assert response.status_code == 200, response.content
    rows = response.json()["items"]
    assert [row["status"] for row in rows] == ["created", "rejected", "rejected"]
    assert "not an image" in rows[1]["reason"] and "image_base64" in rows[1]["errors"]
    assert "limit" in rows[2]["reason"]
    assert rows[1]["analysis"] is None and not rows[1]["analysis_queued"]
    assert set(
        CatalogItem.objects.filter(external_id__startswith="API-").values_list("external_id", flat=True)
    ) == {"API-OK"}
    ok = CatalogItem.objects.get(external_id="API-OK")
    assert _stored_photos() - photos == {Path(ok.image.path)}, "only the accepted item's photo is stored"


def test_a_new_item_missing_what_it_needs_is_rejected_naming_it(editor: APIClient) -> None:
    lacking = {
        k: v for k, v in _item("API-LACKING").items() if k not in ("slot", "family", "type", "image_base64")
    }
    response = editor.post(BULK, {"items": [_item("API-FINE"), lacking]}, format="json")
    assert response.status_code == 200, response.content
    rejected = response.json()["items"][1]
    assert rejected["status"] == "rejected"
    assert set(rejected["errors"]) == {"slot", "family", "type", "image_base64"}
    assert "image_base64: required for a new item" in rejected["reason"]
    assert CatalogItem.objects.filter(external_id="API-FINE").exists()
    assert not CatalogItem.objects.filter(external_id="API-LACKING").exists()


def test_an_id_sent_twice_is_rejected_both_times_and_the_rest_stored(editor: APIClient) -> None:
    batch = [_item("API-TWICE"), _item("API-ONCE"), _item("API-TWICE", title="other")]
    rows = editor.post(BULK, {"items": batch}, format="json").json()["items"]
    assert [row["status"] for row in rows] == ["rejected", "created", "rejected"]
    assert "sent 2 times" in rows[0]["reason"]
    assert not CatalogItem.objects.filter(external_id="API-TWICE").exists()


def test_a_truncated_photo_is_decoded_by_the_worker_and_its_failure_shown(
    editor: APIClient, django_capture_on_commit_callbacks: Any
) -> None:
    whole = garment_photo(seed=902)
    truncated = whole[: len(whole) // 2]  # the header is intact: only the full decode can tell
    item = _item("API-TRUNC", image_base64=base64.b64encode(truncated).decode())
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = editor.post(BULK, {"items": [item]}, format="json")
    assert response.status_code == 200, response.content
    row = response.json()["items"][0]
    assert (row["status"], row["analysis_queued"], row["analysis"]) == (
        "created",
        True,
        {"status": "pending", "error": ""},
    )
    assert len(queued) == 1, "analysis is queued once the transaction commits"
    stored = CatalogItem.objects.get(external_id="API-TRUNC")
    assert not ImageAnalysis.objects.filter(catalog_item=stored).exists()
    queued[0]()  # the worker's turn
    detail = editor.get("/api/v1/items/API-TRUNC/").json()
    assert detail["analysis"]["status"] == "failed"
    assert "truncated or corrupt" in detail["analysis"]["error"]


def test_every_item_rejected_is_a_400_naming_the_field(editor: APIClient) -> None:
    response = editor.post(BULK, {"items": [_item("API-P", price="cheap")]}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "items[0] (API-P): price:" in body["detail"]
    assert "price" in body["errors"]["0"] and body["items"][0]["status"] == "rejected"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slot": "hat"}, "slot"),
        ({"price": "cheap"}, "price"),
        ({"image_base64": "@@@"}, "image_base64"),
        ({"external_id": None}, "external_id"),
        ({"in_stock": None}, "in_stock"),
    ],
)
def test_wrong_types_and_missing_fields_are_named(
    editor: APIClient, change: dict[str, object], field: str
) -> None:
    item = _item("API-X")
    item.update(change)
    response = editor.post(BULK, {"items": [item]}, format="json")
    assert response.status_code == 400
    assert field in str(response.json()["errors"])


def test_a_malformed_batch_is_a_400(editor: APIClient) -> None:
    assert editor.post(BULK, {"items": []}, format="json").status_code == 400
    too_many = {"items": [{"external_id": f"N{n}"} for n in range(501)]}
    response = editor.post(BULK, too_many, format="json")
    assert response.status_code == 400 and "items" in response.json()["errors"]


def test_a_new_item_without_a_photo_is_refused(editor: APIClient) -> None:
    item = {k: v for k, v in _item("API-NOPHOTO").items() if k != "image_base64"}
    response = editor.post(BULK, {"items": [item]}, format="json")
    assert response.status_code == 400 and "image_base64: required for a new item" in str(response.json())


def test_item_detail_uses_the_shop_id(storefront: APIClient) -> None:
    item = CatalogItem.objects.first()
    assert item is not None
    body = storefront.get(f"/api/v1/items/{item.external_id}/").json()
    assert body["id"] == item.external_id and body["image_url"].startswith("http")
    assert body["analysis"] == {"status": "analysed", "error": ""}


def test_a_batch_that_fails_midway_leaves_no_photo_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    from outfits import services
    from outfits.photo_uploads import photo_upload_check

    photos = _stored_photos()

    def broker_down(**_: object) -> int:
        raise ConnectionError("the broker is gone")

    monkeypatch.setattr(services, "garments_enqueue_analysis", broker_down)
    item = {
        "external_id": "API-MIDWAY",
        "slot": "top",
        "family": "T-shirts",
        "type": "T-shirt",
        "image_base64": photo_upload_check(garment_photo(seed=903)),
    }
    with pytest.raises(ConnectionError):
        services.catalog_items_upsert(items=[item])
    assert not CatalogItem.objects.filter(external_id="API-MIDWAY").exists()
    assert _stored_photos() == photos
