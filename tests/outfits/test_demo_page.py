from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from outfits.models import CatalogItem, LookRequest
from tests.factories import garment_photo

pytestmark = pytest.mark.django_db


def test_home_lists_the_catalog_with_photos() -> None:
    page = Client().get("/").content.decode()
    assert page.count('class="card"') == min(CatalogItem.objects.count(), 60)
    assert "/media/garments/" in page


def test_item_page_shows_what_completes_the_look() -> None:
    top = CatalogItem.objects.filter(category__slot="top").first()
    assert top is not None
    page = Client().get(f"/demo/items/{top.external_id}/").content.decode()
    assert "Complete the look" in page and 'class="card suggestion"' in page
    assert '<option value="library" selected>' in page  # the ranking method, switchable


def test_item_page_says_when_a_method_cannot_run() -> None:
    top = CatalogItem.objects.filter(category__slot="top").first()
    assert top is not None
    page = Client().get(f"/demo/items/{top.external_id}/", {"method": "compat"}).content.decode()
    assert "needs a compatibility model" in page and "train_compat" in page


def test_shop_the_look_answers_the_apis_look_and_bad_files_get_a_message(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = Client()
    assert 'id="look-form"' in client.get("/shop-the-look/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(
            "/shop-the-look/looks/", {"photo": SimpleUploadedFile("a.jpg", garment_photo(), "image/jpeg")}
        )
    assert sent.status_code == 202, sent.content
    look = client.get(f"/shop-the-look/looks/{sent.json()['id']}/").json()
    assert look["status"] == "done" and look["result"]["garments"][0]["suggestions"], look
    # The shopper's photo is shown from its signed link, never from /media/.
    assert "/photo?sig=" in look["image_url"] and "/media/" not in look["image_url"]
    photo = client.get(look["image_url"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    bad = client.post("/shop-the-look/looks/", {"photo": SimpleUploadedFile("a.jpg", b"nope", "image/jpeg")})
    assert bad.status_code == 400 and "not an image" in bad.json()["errors"]["photo"][0]
    assert LookRequest.objects.count() == 1


def test_shop_the_look_reads_only_the_demos_own_looks(storefront: Any) -> None:
    """A storefront's look is its own: the keyless demo page cannot read it by id."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    made = storefront.post(
        "/api/v1/looks/", {"photo": SimpleUploadedFile("a.jpg", garment_photo(), "image/jpeg")}
    )
    assert made.status_code == 202
    assert Client().get(f"/shop-the-look/looks/{made.json()['id']}/").status_code == 404


def test_health_reports_the_active_build() -> None:
    assert Client().get("/healthz").json()["active_build"]
