from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from outfits.models import ApiKey, CatalogItem, LookRequest
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


def _photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("a.jpg", garment_photo(), "image/jpeg")


def _page_key(page: str) -> str:
    found = re.search(r'data-key="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_shop_the_look_uploads_to_the_api_with_a_public_key_for_its_origin(
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The page has no endpoints of its own: its script calls the API's looks with the key it carries."""
    page = Client().get("/shop-the-look/").content.decode()
    assert 'id="look-form"' in page and 'action="/api/v1/looks/"' in page
    assert 'data-poll="/api/v1/looks/' in page
    assert "csrfmiddlewaretoken" not in page  # the key authenticates the upload, not a session
    key = ApiKey.find(_page_key(page))
    assert key is not None and key.is_public and key.allowed_origins == ["http://testserver"]
    # As the browser sends it: Origin on the POST; the same-origin GET says so with Sec-Fetch-Site.
    shopper = Client(HTTP_X_API_KEY=_page_key(page), HTTP_ORIGIN="http://testserver")
    with django_capture_on_commit_callbacks(execute=True):
        sent = shopper.post("/api/v1/looks/", {"photo": _photo()})
    assert sent.status_code == 202, sent.content
    poll = Client(HTTP_X_API_KEY=_page_key(page), HTTP_SEC_FETCH_SITE="same-origin")
    look = poll.get(f"/api/v1/looks/{sent.json()['id']}/").json()
    assert look["status"] == "done" and look["result"]["garments"][0]["suggestions"], look
    # The shopper's photo is shown from its signed link, never from /media/.
    assert "/photo?sig=" in look["image_url"] and "/media/" not in look["image_url"]
    photo = Client().get(look["image_url"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    bad = shopper.post("/api/v1/looks/", {"photo": SimpleUploadedFile("a.jpg", b"nope", "image/jpeg")})
    assert bad.status_code == 400 and "not an image" in bad.json()["errors"]["photo"][0]
    assert LookRequest.objects.get().api_key == key
    assert Client().post("/shop-the-look/looks/").status_code == 404  # the page's own endpoints are gone


def test_shop_the_look_reads_only_the_pages_own_looks(storefront: Any) -> None:
    """A storefront's look is its own: the page's key cannot read it by id, nor from another origin."""
    made = storefront.post("/api/v1/looks/", {"photo": _photo()})
    assert made.status_code == 202
    key = _page_key(Client().get("/shop-the-look/").content.decode())
    page = Client(HTTP_X_API_KEY=key, HTTP_SEC_FETCH_SITE="same-origin")
    assert page.get(f"/api/v1/looks/{made.json()['id']}/").status_code == 404
    elsewhere = Client(HTTP_X_API_KEY=key, HTTP_ORIGIN="https://elsewhere.example")
    refused = elsewhere.post("/api/v1/looks/", {"photo": _photo()})
    assert refused.status_code == 403


def test_health_reports_the_active_build() -> None:
    assert Client().get("/healthz").json()["active_build"]
