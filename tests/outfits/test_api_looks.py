from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from outfits.models import GarmentRegion, LookRequest
from tests.factories import flat_lay_photo, garment_photo, huge_png_header

pytestmark = pytest.mark.django_db


_capture: Any = None


@pytest.fixture(autouse=True)
def _run_on_commit(django_capture_on_commit_callbacks: Any) -> None:
    # Uploads are queued on commit; with Celery eager the look is analysed when the callbacks run.
    global _capture
    _capture = django_capture_on_commit_callbacks


def _png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(client: APIClient, data: bytes, content_type: str = "image/jpeg", **fields: object) -> Any:
    photo = SimpleUploadedFile("photo.jpg", data, content_type=content_type)
    with _capture(execute=True):
        return client.post("/api/v1/looks/", {"photo": photo, **fields}, format="multipart")


def test_a_photo_of_a_top_gets_bottoms_shoes_and_bags(storefront: APIClient) -> None:
    response = _upload(storefront, garment_photo("T-shirts", "T-shirt", (200, 30, 40)))
    assert response.status_code == 202, response.content
    assert response["Location"].endswith(f"/api/v1/looks/{response.json()['id']}/")
    # Celery runs eagerly in these tests; the worker test covers the real queue.
    look = storefront.get(response["Location"]).json()
    assert look["status"] == "done", look
    assert look["result"]["garment_slot"] == "top"
    assert 0 < look["result"]["slot_confidence"] <= 1
    # The trained model's reading: a consistent category path and attribute probabilities.
    reading = look["result"]["garment"]
    assert reading["slot"]["value"] == "top" and reading["type"]["value"]
    assert 0 < reading["type"]["confidence"] <= reading["slot"]["confidence"] <= 1
    assert "colour_group" in reading["attributes"]
    analysis = LookRequest.objects.get(pk=look["id"]).analyses.get()
    assert analysis.predicted_category is not None and analysis.predicted_category.level == "type"
    assert analysis.predicted_slot == "top"
    slots = {s["slot"] for s in look["result"]["suggestions"]}
    assert {"bottom", "shoes"} <= slots
    assert all(s["item"]["image_url"] for s in look["result"]["suggestions"])
    # One product shot: one garment found, its box and slot agreeing with the top-level fields.
    assert look["garment_slot"] == "top" and look["result"]["photo_kind"] == "product"
    (garment,) = look["result"]["garments"]
    assert garment["slot"] == "top" and garment["part"] == "product" and len(garment["box"]) == 4
    assert garment["suggestions"] == look["result"]["suggestions"]


def test_a_flat_lay_outfit_lists_every_garment_with_what_completes_the_whole_look(
    storefront: APIClient,
) -> None:
    response = _upload(storefront, flat_lay_photo())
    look = storefront.get(response["Location"]).json()
    assert look["status"] == "done", look
    result = look["result"]
    assert result["photo_kind"] == "flat-lay"
    garments = result["garments"]
    assert len(garments) + len(result["unplaced"]) == 3
    found = {g["slot"] for g in garments}
    assert len(garments) >= 2 and found <= {"top", "bottom", "shoes"}, garments
    boxes = [g["box"] for g in garments]
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)  # left to right, as laid
    for garment in garments:
        # The other garments are the partial outfit: nothing suggested for a slot the photo holds.
        suggested = {s["slot"] for s in garment["suggestions"]}
        assert suggested and not suggested & found, garment
        assert all(s["item"]["title"] is not None for s in garment["suggestions"])
    assert look["garment_slot"] == result["garment_slot"] in found
    analysis = LookRequest.objects.get(pk=look["id"]).analyses.get()
    assert analysis.photo_kind == "flat-lay"
    assert GarmentRegion.objects.filter(analysis=analysis, placed=True).count() == len(garments)


def test_a_photo_with_no_garment_is_answered_with_none_and_why(storefront: APIClient) -> None:
    blank = io.BytesIO()
    Image.new("RGB", (400, 400), (128, 128, 128)).save(blank, format="JPEG")
    for fields in ({}, {"garment_slot": "bottom"}):
        response = _upload(storefront, blank.getvalue(), **fields)
        look = storefront.get(response["Location"]).json()
        assert look["status"] == "done", look
        assert look["result"]["garments"] == [] and look["result"]["suggestions"] == []
        assert "no garment" in look["result"]["reason"]
        assert look["result"]["garment_slot"] is None


def test_the_shopper_can_say_what_the_photo_shows_and_what_they_want(storefront: APIClient) -> None:
    response = _upload(
        storefront,
        garment_photo("Trousers & leggings", "Trousers", (40, 40, 40)),
        garment_slot="bottom",
        wanted_slots=["top"],
        k=2,
    )
    look = storefront.get(response["Location"]).json()
    assert look["result"]["garment_slot"] == "bottom" and look["result"]["slot_given"] is True
    assert {s["slot"] for s in look["result"]["suggestions"]} == {"top"}
    assert len(look["result"]["suggestions"]) <= 2


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        (b"", "image/jpeg", "empty"),
        (b"hello, this is not a photo at all" * 10, "image/jpeg", "not an image"),
        (b"%PDF-1.4\n%%EOF\n" * 10, "image/jpeg", "unsupported image format PDF"),
        (garment_photo()[:1500], "image/jpeg", "truncated"),
        (huge_png_header(), "image/png", "MP"),
        (_png((40_000, 1)), "image/png", "a side over the 10000 px limit"),
        (_png((2_000, 100)), "image/png", "one side over 10 times the other, the limit"),
    ],
    ids=[
        "zero-byte",
        "non-image",
        "pdf",
        "truncated-jpeg",
        "over-large-pixel-count",
        "long-strip",
        "wide-aspect",
    ],
)
def test_bad_photos_are_refused_and_nothing_is_stored(
    storefront: APIClient, data: bytes, content_type: str, message: str
) -> None:
    response = _upload(storefront, data, content_type)
    assert response.status_code == 400, response.content
    assert message in str(response.json()), response.json()
    assert "photo" in response.json()["errors"]
    assert LookRequest.objects.count() == 0


def test_a_missing_photo_or_json_body_is_a_4xx(storefront: APIClient) -> None:
    assert storefront.post("/api/v1/looks/", {}, format="multipart").status_code == 400
    assert storefront.post("/api/v1/looks/", {"photo": "x"}, format="json").status_code == 415
    assert LookRequest.objects.count() == 0


def test_bad_slot_fields_are_refused(storefront: APIClient) -> None:
    response = _upload(storefront, garment_photo(), garment_slot="hat")
    assert response.status_code == 400 and "garment_slot" in response.json()["errors"]
    response = _upload(storefront, garment_photo(), k=0)
    assert response.status_code == 400 and "k" in response.json()["errors"]


def test_uploads_need_a_key(anonymous: APIClient) -> None:
    assert _upload(anonymous, garment_photo()).status_code in (401, 403)
    assert LookRequest.objects.count() == 0


def test_an_unknown_look_is_a_404(storefront: APIClient) -> None:
    assert storefront.get("/api/v1/looks/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_png_and_webp_photos_are_accepted(storefront: APIClient) -> None:
    for fmt, content_type in (("PNG", "image/png"), ("WEBP", "image/webp")):
        response = _upload(storefront, garment_photo(fmt=fmt), content_type)
        assert response.status_code == 202, response.content


def _raw_multipart(client: APIClient, data: bytes, part_headers: str) -> Any:
    """A multipart body written by hand, so the photo part carries exactly `part_headers` (the test
    client always adds a Content-Type to a file part)."""
    boundary = "photo-boundary-7d2f"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="x.jpg"\r\n'
            f"{part_headers}\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    with _capture(execute=False):
        return client.post(
            "/api/v1/looks/", data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )


@pytest.mark.parametrize(("fmt", "suffix"), [("JPEG", ".jpg"), ("PNG", ".png"), ("WEBP", ".webp")])
def test_a_photo_part_without_a_content_type_is_judged_by_its_bytes(
    storefront: APIClient, fmt: str, suffix: str
) -> None:
    # curl -F photo=@x.jpg;type= sends no Content-Type for the part; some clients omit it too.
    response = _raw_multipart(storefront, garment_photo(fmt=fmt), part_headers="")
    assert response.status_code == 202, response.content
    look = LookRequest.objects.get(pk=response.json()["id"])
    assert str(look.image.name).endswith(suffix)  # named for what the bytes are, not the file name x.jpg


def test_a_part_without_a_content_type_that_is_no_photo_is_refused(storefront: APIClient) -> None:
    response = _raw_multipart(storefront, b"name,colour\nshirt,red\n" * 20, part_headers="")
    assert response.status_code == 400, response.content
    assert "not an image" in response.json()["errors"]["photo"][0]
    assert LookRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("declared", "fmt", "suffix"),
    [
        ("text/plain", "JPEG", ".jpg"),
        ("image/jpeg", "PNG", ".png"),
        ("application/octet-stream", "WEBP", ".webp"),
    ],
)
def test_a_declared_type_that_lies_is_judged_by_the_bytes(
    storefront: APIClient, declared: str, fmt: str, suffix: str
) -> None:
    response = _raw_multipart(
        storefront, garment_photo(fmt=fmt), part_headers=f"Content-Type: {declared}\r\n"
    )
    assert response.status_code == 202, response.content
    assert str(LookRequest.objects.get(pk=response.json()["id"]).image.name).endswith(suffix)
