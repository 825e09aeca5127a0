from __future__ import annotations

import html
import re
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


def test_upload_shows_the_look_and_bad_files_get_a_message(django_capture_on_commit_callbacks: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(
            "/demo/looks/", {"photo": SimpleUploadedFile("a.jpg", garment_photo(), "image/jpeg")}
        )
    assert ok.status_code == 302
    page = client.get(ok["Location"]).content.decode()
    assert "suggestion" in page
    # The shopper's photo is shown from its signed link, never from /media/.
    (photo_url,) = set(re.findall(r'(?:href|src)="([^"]*/photo\?sig=[^"]+)"', page))
    photo = client.get(html.unescape(photo_url))
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert f"/media/{LookRequest.objects.get().image.name}" not in page
    bad = client.post("/demo/looks/", {"photo": SimpleUploadedFile("a.jpg", b"nope", "image/jpeg")})
    assert bad.status_code == 400 and "not an image" in bad.content.decode()
    assert LookRequest.objects.count() == 1


def test_health_reports_the_active_build() -> None:
    assert Client().get("/healthz").json()["active_build"]
