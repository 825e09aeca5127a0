"""Whatever photo reaches the API, the answer is a 4xx with a JSON message or a correct result:
never a 500, never a row or file left behind by a refused upload (hypothesis, tests/photo_strategies).

Both photo endpoints: a shopper's look (multipart, storefront key; the look is analysed eagerly, so an
accepted photo must also come out of the worker done) and the catalog's bulk upsert (base64 in
JSON, editor token; the item's analysis runs eagerly too).
"""

from __future__ import annotations

import base64
import itertools
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from outfits.models import CatalogItem, ImageAnalysis, LookRequest
from tests.photo_strategies import PhotoCase, photos

pytestmark = pytest.mark.django_db

# Examples share the test's transaction and fixtures: each counts rows and files before and after.
_EXAMPLES = hypothesis_settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
_ids = itertools.count()


def _media_files() -> set[Path]:
    """Every stored file: catalog photos under MEDIA_ROOT, shoppers' photos in the private storage."""
    roots = (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT)
    return {path for root in roots for path in Path(root).rglob("*") if path.is_file()}


def _assert_refused(response: Any, case: PhotoCase) -> None:
    assert 400 <= response.status_code < 500, (case, response.status_code, response.content[:300])
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"], (case, body)


@_EXAMPLES
@given(case=photos)
def test_a_look_upload_is_refused_with_a_message_or_analysed(
    storefront: APIClient, django_capture_on_commit_callbacks: Any, case: PhotoCase
) -> None:
    looks, files = LookRequest.objects.count(), _media_files()
    photo = SimpleUploadedFile("photo.jpg", case.data, content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        response = storefront.post("/api/v1/looks/", {"photo": photo}, format="multipart")
    event(case.kind)
    event(f"HTTP {response.status_code}")
    if response.status_code != 202:
        _assert_refused(response, case)
        assert "photo" in response.json()["errors"], (case, response.json())
        assert LookRequest.objects.count() == looks and _media_files() == files, case
        return
    look = LookRequest.objects.get(pk=response.json()["id"])
    assert look.status == LookRequest.Status.DONE, (case, look.status, look.error)
    assert _media_files() - files == {Path(look.image.path)}
    if case.upright_size is not None:
        assert str(look.image.name).endswith(case.what.split()[0].lower().replace("jpeg", "jpg"))


@_EXAMPLES
@given(case=photos)
def test_a_catalog_photo_is_refused_with_a_message_or_stored_and_analysed(
    editor: APIClient, django_capture_on_commit_callbacks: Any, case: PhotoCase
) -> None:
    items, files = CatalogItem.objects.count(), _media_files()
    external_id = f"PROP-{next(_ids)}"
    item = {
        "external_id": external_id,
        "slot": "top",
        "family": "T-shirts",
        "type": "T-shirt",
        "image_base64": base64.b64encode(case.data).decode(),
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post("/api/v1/items/bulk/", {"items": [item]}, format="json")
    event(case.kind)
    event(f"HTTP {response.status_code}")
    if response.status_code != 200:
        _assert_refused(response, case)
        assert "image" in str(response.json()["errors"]), (case, response.json())
        assert CatalogItem.objects.count() == items and _media_files() == files, case
        return
    stored = CatalogItem.objects.get(external_id=external_id)
    assert Path(stored.image.path).read_bytes() == case.data
    analysis = ImageAnalysis.objects.get(catalog_item=stored)
    assert analysis.status == "ok", (case, analysis.error)
