"""A request body over its limit is a JSON 413 naming the limit, answered before the body is read."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import Client
from django.test.client import encode_multipart

from outfits.api.errors import exception_handler


class Unreadable:
    """A WSGI input that fails the test if anything reads it."""

    def read(self, *args: Any) -> bytes:
        raise AssertionError("the body was read")

    readline = read


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.CTL_MAX_UPLOAD_BYTES = 1000
    settings.CTL_MAX_BULK_BYTES = 5000
    return settings


def test_a_json_body_over_the_limit_is_a_json_413(limits: Any) -> None:
    body = b'{"items": ["' + b"x" * 2000 + b'"]}'
    response = Client().post("/api/v1/complete-the-look", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": f"the request body is {len(body)} bytes; the limit is 1000 bytes",
        "limit_bytes": 1000,
    }


def test_a_photo_upload_over_the_limit_is_a_json_413(limits: Any) -> None:
    body = encode_multipart("BoUnDaRy", {"photo": ("look.jpg", b"\xff\xd8" + b"\0" * 3000)})
    response = Client().generic(
        "POST", "/api/v1/looks/", body, content_type="multipart/form-data; boundary=BoUnDaRy"
    )
    assert response.status_code == 413
    assert response.json()["limit_bytes"] == 1000


def test_a_huge_declared_body_is_refused_without_reading_it(limits: Any) -> None:
    # 10 GB announced, none of it sent: an answer at all shows nothing waited for it.
    wsgi: dict[str, Any] = {"CONTENT_LENGTH": str(10**10), "wsgi.input": Unreadable()}
    response = Client().generic(
        "POST", "/api/v1/looks/", b"", content_type="multipart/form-data; boundary=BoUnDaRy", **wsgi
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "the request body is 10000000000 bytes; the limit is 1000 bytes"


def test_the_bulk_upsert_has_its_own_larger_limit(limits: Any) -> None:
    client = Client()
    within = b'{"items": ["' + b"x" * 3000 + b'"]}'
    # Past the body limit, on to authentication (no credentials here: 401).
    assert client.post("/api/v1/items/bulk/", within, content_type="application/json").status_code == 401
    over = b'{"items": ["' + b"x" * 6000 + b'"]}'
    response = client.post("/api/v1/items/bulk/", over, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["limit_bytes"] == 5000


def test_pages_outside_the_api_keep_djangos_own_handling(limits: Any) -> None:
    response = Client().post("/admin/login/", b"x" * 2000, content_type="application/octet-stream")
    assert response.status_code == 200  # the login form again, as before


def test_form_fields_over_djangos_limit_are_a_json_413(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = exception_handler(RequestDataTooBig("too big"), {})
    assert response is not None and response.status_code == 413
    assert b'"limit_bytes": 1000' in response.content
