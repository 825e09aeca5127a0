from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict
from django.test import Client
from django.utils.datastructures import MultiValueDict
from PIL import Image

from outfits.models import CatalogItem, IndexBuild, LibraryOutfit
from tests.factories import garment_photo

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(editor_user: Any) -> Client:
    client = Client()
    client.force_login(editor_user)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/outfits/catalogitem/",
        "/admin/outfits/catalogitem/?slot=shoes",
        "/admin/outfits/libraryoutfit/?status__exact=approved",
        "/admin/outfits/libraryitem/",
        "/admin/outfits/indexbuild/",
        "/admin/outfits/imageanalysis/",
        "/admin/outfits/lookrequest/",
    ],
)
def test_editor_pages_render(admin_client_: Client, url: str) -> None:
    response = admin_client_.get(url)
    assert response.status_code == 200


def test_outfit_page_shows_its_pieces_inline_with_photos(admin_client_: Client) -> None:
    outfit = LibraryOutfit.objects.first()
    assert outfit is not None
    page = admin_client_.get(f"/admin/outfits/libraryoutfit/{outfit.pk}/change/").content.decode()
    assert page.count("<img") >= outfit.items.count()


def test_catalog_list_shows_thumbnails(admin_client_: Client) -> None:
    page = admin_client_.get("/admin/outfits/catalogitem/").content.decode()
    assert "/media/garments/" in page


def test_approve_and_reject_actions(admin_client_: Client) -> None:
    ids = list(LibraryOutfit.objects.values_list("pk", flat=True)[:3])
    admin_client_.post("/admin/outfits/libraryoutfit/", {"action": "reject", "_selected_action": ids})
    assert set(LibraryOutfit.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"rejected"}
    assert LibraryOutfit.objects.get(pk=ids[0]).reviewed_by is not None
    admin_client_.post("/admin/outfits/libraryoutfit/", {"action": "approve", "_selected_action": ids})
    assert set(LibraryOutfit.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"approved"}


def test_rebuild_index_action_builds_and_activates(
    admin_client_: Client, django_capture_on_commit_callbacks: Any
) -> None:
    before = IndexBuild.objects.get(active=True)
    ids = list(LibraryOutfit.objects.values_list("pk", flat=True)[:1])
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(
            "/admin/outfits/libraryoutfit/", {"action": "rebuild_index", "_selected_action": ids}
        )
    after = IndexBuild.objects.get(active=True)
    assert after.pk != before.pk and after.status == "ready"


def test_reanalyse_action_queues_analysis(
    admin_client_: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from outfits.models import CatalogItem

    item = CatalogItem.objects.first()
    assert item is not None
    stamp = item.analyses.get().updated_at
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(
            "/admin/outfits/catalogitem/", {"action": "reanalyse", "_selected_action": [item.pk]}
        )
    assert item.analyses.get().updated_at > stamp


def test_storefront_users_cannot_open_the_admin() -> None:
    assert Client().get("/admin/outfits/catalogitem/").status_code == 302


def test_a_photo_uploaded_on_an_item_page_gets_the_api_photo_check(rf: Any, editor_user: Any) -> None:
    item = CatalogItem.objects.order_by("pk")[0]
    request = rf.get("/")
    request.user = editor_user
    form_class = admin.site._registry[CatalogItem].get_form(request, item)
    data = model_to_dict(item)
    strip = io.BytesIO()
    Image.new("RGB", (40_000, 1), (200, 30, 30)).save(strip, format="PNG")
    refused = form_class(
        data=data,
        files=MultiValueDict({"image": [SimpleUploadedFile("strip.png", strip.getvalue())]}),
        instance=item,
    )
    assert not refused.is_valid()
    assert refused.errors["image"] == ["image is 40000x1: a side over the 10000 px limit"]
    photo = SimpleUploadedFile("tee.jpg", garment_photo())
    accepted = form_class(data=data, files=MultiValueDict({"image": [photo]}), instance=item)
    assert accepted.is_valid(), accepted.errors
