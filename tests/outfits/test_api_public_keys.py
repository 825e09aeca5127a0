"""Public (browser) keys and CORS: a storefront's page calls the API with a public key, from its
allowed origins only, read-only (plus look uploads), counted per key and per shopper's address; the
browser's preflight is answered without a key. Secret keys work as before."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from outfits.api.auth import ClientRateThrottle
from outfits.models import ApiKey, CatalogItem

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example"
OTHER = "https://elsewhere.example"
NOW = 1_800_000_000.0 + 7  # inside one window of every rate below


@pytest.fixture
def public_key(db: None) -> str:
    return ApiKey.issue("shop pages", kind=ApiKey.Kind.PUBLIC, origins=[SHOP, "http://localhost:8000"])[1]


@pytest.fixture
def item_url(db: None) -> str:
    item = CatalogItem.objects.order_by("pk").first()
    assert item is not None
    return f"/api/v1/items/{item.external_id}/"


def preflight(origin: str, path: str = "/api/v1/items/x/complete-the-look") -> Any:
    return APIClient().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="x-api-key",
    )


def test_a_preflight_from_an_allowed_origin_is_answered_without_a_key(public_key: str) -> None:
    response = preflight(SHOP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "x-api-key" in response["Access-Control-Allow-Headers"].split(", ")
    assert "GET" in response["Access-Control-Allow-Methods"]
    assert "origin" in response["Vary"].lower()
    assert "Access-Control-Allow-Credentials" not in response


def test_a_preflight_from_another_origin_gets_no_cors_headers(public_key: str) -> None:
    response = preflight(OTHER)
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Headers" not in response


def test_an_origin_of_a_revoked_key_is_no_longer_allowed(public_key: str) -> None:
    assert preflight(SHOP)["Access-Control-Allow-Origin"] == SHOP  # now cached
    ApiKey.objects.get(kind=ApiKey.Kind.PUBLIC).delete()
    assert "Access-Control-Allow-Origin" not in preflight(SHOP)


def test_the_admin_gets_no_cors_headers_even_from_an_allowed_origin(public_key: str) -> None:
    response = preflight(SHOP, path="/admin/")
    assert "Access-Control-Allow-Origin" not in response


def test_a_public_key_reads_from_an_allowed_origin(public_key: str, item_url: str) -> None:
    client = APIClient(HTTP_X_API_KEY=public_key, HTTP_ORIGIN=SHOP)
    response = client.get(item_url)
    assert response.status_code == 200, response.content
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert client.get(f"{item_url}complete-the-look").status_code == 200
    assert client.get(f"{item_url}similar").status_code == 200


def test_a_public_key_from_another_origin_is_a_json_403(public_key: str, item_url: str) -> None:
    response = APIClient(HTTP_X_API_KEY=public_key, HTTP_ORIGIN=OTHER).get(item_url)
    assert response.status_code == 403
    assert OTHER in response.json()["detail"]
    assert "Access-Control-Allow-Origin" not in response


def test_a_public_key_without_an_origin_is_a_json_403(public_key: str, item_url: str) -> None:
    """A server (or curl) holding the key from a shop's page: it must use a secret key."""
    response = APIClient(HTTP_X_API_KEY=public_key).get(item_url)
    assert response.status_code == 403
    assert "secret key" in response.json()["detail"]


def test_a_same_origin_page_sends_no_origin_on_a_get_and_is_let_in(public_key: str, item_url: str) -> None:
    client = APIClient(HTTP_X_API_KEY=public_key, HTTP_SEC_FETCH_SITE="same-origin")
    assert client.get(item_url, SERVER_NAME="localhost", SERVER_PORT="8000").status_code == 200
    assert client.get(item_url, SERVER_NAME="testserver").status_code == 403


def test_a_public_key_cannot_write_nor_list_the_catalog(public_key: str) -> None:
    client = APIClient(HTTP_X_API_KEY=public_key, HTTP_ORIGIN=SHOP)
    response = client.post("/api/v1/items/bulk/", {"items": []}, format="json")
    assert response.status_code == 403
    assert "secret key" in response.json()["detail"]
    assert client.get("/api/v1/items/").status_code == 403
    assert client.get("/api/v1/library/outfits/").status_code == 403


def test_a_public_key_may_upload_a_look(public_key: str) -> None:
    """The shop-the-look page uploads from the browser; an empty form is a 400, not a 403."""
    response = APIClient(HTTP_X_API_KEY=public_key, HTTP_ORIGIN=SHOP).post("/api/v1/looks/", {})
    assert response.status_code == 400, response.content


@pytest.fixture
def rates(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(ClientRateThrottle, "timer", lambda self: NOW)

    def set_rates(**given: str) -> None:
        rates = {s: "1000/min" for s in ("client", "anon", "looks", "shopper", "shopper_looks")}
        monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", rates | given)

    return set_rates


def test_a_public_key_is_throttled_per_address_and_per_key(
    public_key: str, item_url: str, rates: Any
) -> None:
    rates(client="5/min", shopper="3/min")
    client = APIClient(HTTP_X_API_KEY=public_key, HTTP_ORIGIN=SHOP)

    def get(address: str) -> int:
        return int(client.get(item_url, REMOTE_ADDR=address).status_code)

    # One shopper is stopped at their own limit, and their refused calls cost the key nothing.
    assert [get("198.51.100.1") for _ in range(5)] == [200, 200, 200, 429, 429]
    # A second shopper has a limit of their own, but shares the key's: 2 of its 5 are left.
    assert [get("198.51.100.2") for _ in range(3)] == [200, 200, 429]
    assert get("198.51.100.3") == 429


def test_look_uploads_by_a_public_key_are_throttled_per_address(public_key: str, rates: Any) -> None:
    rates(shopper_looks="1/min")
    client = APIClient(HTTP_X_API_KEY=public_key, HTTP_ORIGIN=SHOP)
    assert client.post("/api/v1/looks/", {}, REMOTE_ADDR="198.51.100.1").status_code == 400
    assert client.post("/api/v1/looks/", {}, REMOTE_ADDR="198.51.100.1").status_code == 429
    assert client.post("/api/v1/looks/", {}, REMOTE_ADDR="198.51.100.2").status_code == 400


def test_a_secret_key_works_as_before(storefront: APIClient, item_url: str, rates: Any) -> None:
    rates(client="3/min", shopper="1/min")
    assert ApiKey.objects.get().kind == ApiKey.Kind.SECRET
    # No origin needed, every storefront read, counted per key only (not per address).
    assert storefront.get("/api/v1/items/").status_code == 200
    assert storefront.get(item_url, REMOTE_ADDR="198.51.100.1").status_code == 200
    assert storefront.get(item_url, REMOTE_ADDR="198.51.100.1").status_code == 200
    assert storefront.get(item_url, REMOTE_ADDR="198.51.100.2").status_code == 429
    # Sent from a page anyway, its origin is not allowed by any key: no CORS headers.
    assert "Access-Control-Allow-Origin" not in storefront.get(item_url, HTTP_ORIGIN=OTHER)


def test_create_api_key_issues_a_public_key_with_its_origins() -> None:
    out = StringIO()
    call_command(
        "create_api_key",
        "shop",
        "--public",
        "--origin",
        "HTTPS://Shop.Example:443/",
        "--origin",
        SHOP,
        stdout=out,
    )
    key = ApiKey.find(out.getvalue().strip())
    assert key is not None and key.is_public
    assert key.allowed_origins == [SHOP]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--public"], "at least one allowed origin"),
        (["--public", "--origin", "shop.example/path"], "not an origin"),
        (["--origin", SHOP], "secret key"),
    ],
)
def test_create_api_key_refuses_what_cannot_work(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", "shop", *args, stdout=StringIO())
    assert not ApiKey.objects.exists()


def test_an_editor_issues_a_public_key_in_the_admin(client: Any, editor_user: Any) -> None:
    client.force_login(editor_user)
    form = {"name": "shop pages", "kind": "public", "active": "on"}
    bad = client.post("/admin/outfits/apikey/add/", form | {"allowed_origins": "shop.example/products"})
    assert bad.status_code == 200 and b"not an origin" in bad.content
    assert not ApiKey.objects.exists()
    good = client.post(
        "/admin/outfits/apikey/add/", form | {"allowed_origins": f"{SHOP}/\nhttp://LOCALHOST:8000"}
    )
    assert good.status_code == 302
    key = ApiKey.objects.get()
    assert key.is_public and key.allowed_origins == [SHOP, "http://localhost:8000"]
    assert preflight("http://localhost:8000")["Access-Control-Allow-Origin"] == "http://localhost:8000"
