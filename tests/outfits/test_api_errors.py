"""Every API error is JSON with a `detail`, also where no view matches; bad ids are a 400, not a 500."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

ITEM_PATHS = ("items/{}/", "items/{}/complete-the-look/", "items/{}/similar/")


@pytest.mark.parametrize("path", ITEM_PATHS)
@pytest.mark.parametrize("bad_id", ["%00", "a%00b", "tab%09id", "x" * 121])
def test_an_item_id_with_a_control_character_or_too_long_is_a_400(
    storefront: APIClient, path: str, bad_id: str
) -> None:
    response = storefront.get("/api/v1/" + path.format(bad_id))
    assert response.status_code == 400, response.content
    assert "external_id" in response.json()["errors"]


@pytest.mark.parametrize("path", ITEM_PATHS)
def test_an_unknown_item_is_a_json_404(storefront: APIClient, path: str) -> None:
    response = storefront.get("/api/v1/" + path.format("no-such-item"))
    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.parametrize("path", ["/api/v1/looks/xyz/", "/api/v1/no-such-endpoint/", "/api/v2/"])
def test_a_path_no_view_matches_is_a_json_404_under_the_api(storefront: APIClient, path: str) -> None:
    response = storefront.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert path in response.json()["detail"]


def test_a_path_no_view_matches_elsewhere_is_the_usual_page(anonymous: APIClient) -> None:
    response = anonymous.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("page_size", ["junk", "0", "-3", "2.5", ""])
def test_a_page_size_that_is_not_a_whole_number_from_1_is_a_400(
    storefront: APIClient, page_size: str
) -> None:
    response = storefront.get("/api/v1/items/", {"page_size": page_size})
    assert response.status_code == 400, response.content
    assert "page_size" in response.json()["errors"]


def test_a_page_size_is_capped_at_the_most_a_page_sends(storefront: APIClient) -> None:
    assert len(storefront.get("/api/v1/items/", {"page_size": 2}).json()["results"]) == 2
    assert storefront.get("/api/v1/items/", {"page_size": 100000}).status_code == 200


def test_a_form_body_over_the_upload_limit_is_a_json_413(storefront: APIClient, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = storefront.post("/api/v1/complete-the-look/", {"items": "x" * 2000, "slots": "bottom"})
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "1000 bytes" in response.json()["detail"]
