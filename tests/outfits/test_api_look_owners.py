"""A look belongs to the key (or editor) that made it, and its photo is private."""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from outfits.models import ApiKey, LookRequest
from tests.factories import garment_photo

pytestmark = pytest.mark.django_db


def _upload(client: APIClient, data: bytes | None = None, name: str = "photo.jpg") -> dict[str, Any]:
    # Not analysed: the upload's on-commit task never runs inside the test's transaction.
    photo = SimpleUploadedFile(name, data or garment_photo(), content_type="image/jpeg")
    response = client.post("/api/v1/looks/", {"photo": photo}, format="multipart")
    assert response.status_code == 202, response.content
    body: dict[str, Any] = response.json()
    return body


def _key_client() -> APIClient:
    _, raw = ApiKey.issue("another storefront")
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def test_another_key_gets_a_404_for_a_look_it_did_not_make(storefront: APIClient, editor: APIClient) -> None:
    look = _upload(storefront)
    other = _key_client()
    url = f"/api/v1/looks/{look['id']}/"
    assert storefront.get(url).status_code == 200
    assert editor.get(url).status_code == 200  # editors read every look
    response = other.get(url)
    assert response.status_code == 404, response.content  # not 403: its existence is not told
    unknown = other.get("/api/v1/looks/00000000-0000-0000-0000-000000000000/")
    assert response.json()["detail"] == unknown.json()["detail"]
    # Nor can it complete an outfit with another key's look.
    answer = other.post("/api/v1/complete-the-look", {"looks": [look["id"]]}, format="json")
    assert answer.status_code == 400 and "no look" in str(answer.json()), answer.content


def test_an_editors_look_is_the_editors_and_no_storefronts(storefront: APIClient, editor: APIClient) -> None:
    look = _upload(editor)
    row = LookRequest.objects.get(pk=look["id"])
    assert row.user is not None and row.user.username == "editor" and row.api_key is None
    assert storefront.get(f"/api/v1/looks/{look['id']}/").status_code == 404


def test_a_look_photo_is_not_under_media_and_its_signed_link_serves_it_privately(
    storefront: APIClient,
) -> None:
    # A PNG sent as "photo.jpg": the photo is typed by what it is, not by its name.
    look = _upload(storefront, garment_photo(fmt="PNG"), name="photo.jpg")
    row = LookRequest.objects.get(pk=look["id"])
    name = str(row.image.name)
    assert not (Path(settings.MEDIA_ROOT) / name).exists()
    assert (Path(settings.PRIVATE_MEDIA_ROOT) / name).is_file()
    anonymous = APIClient()
    assert anonymous.get(f"/media/{name}").status_code == 404
    assert "/media/" not in look["image_url"]
    response = anonymous.get(_path(look["image_url"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert response.getvalue() == row.image.open("rb").read()


def test_a_look_photo_without_a_valid_link_needs_its_owner(storefront: APIClient, editor: APIClient) -> None:
    look = _upload(storefront)
    path = f"/api/v1/looks/{look['id']}/photo"
    assert APIClient().get(path).status_code == 401
    assert storefront.get(path).status_code == 200
    assert editor.get(path).status_code == 200
    assert _key_client().get(path).status_code == 404
    # A link signed for one look opens no other.
    second = _upload(storefront)
    signature = urlsplit(look["image_url"]).query
    assert APIClient().get(f"/api/v1/looks/{second['id']}/photo?{signature}").status_code == 403
    assert APIClient().get(f"{path}?sig=forged:signature").status_code == 403


def test_a_look_photo_link_expires(storefront: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    look = _upload(storefront)
    later = time.time() + settings.CTL_LOOK_PHOTO_URL_SECONDS + 5
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = APIClient().get(_path(look["image_url"]))
    assert response.status_code == 403 and "expired" in response.json()["detail"]


def test_photos_stored_before_are_moved_out_of_media_and_still_served(storefront: APIClient) -> None:
    """Looks made before photos were private keep their photos: the migration moves them."""
    name = "looks/2020/01/old-look.jpg"
    storages["default"].save(name, ContentFile(garment_photo()))
    look = LookRequest.objects.create(image=name, image_sha256="0" * 64, api_key=ApiKey.objects.get())
    migration = importlib.import_module("outfits.migrations.0009_looks_private_photos_and_owner")
    for _ in range(2):  # moving again changes nothing
        migration.photos_to_private(apps, None)
        assert not storages["default"].exists(name) and storages["private"].exists(name)
    response = storefront.get(f"/api/v1/looks/{look.pk}/photo")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    with Image.open(storages["private"].open(name)) as image:
        assert image.format == "JPEG"
