"""Every API error is JSON with a `detail`, also where no view matches; bad ids are a 400, not a 500;
a dependency down is a 503 that says when to retry (PostgreSQL), or no error at all (Redis)."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from rest_framework.test import APIClient

from outfits import dependencies
from outfits.api.auth import ClientRateThrottle
from outfits.models import CatalogItem

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


# --- A dependency down ---------------------------------------------------------------------------


def _closed_port() -> int:
    """A port nothing listens on: a server there is down (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dead_cache() -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture
def redis_down(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache (Redis) refuses connections, as while it restarts: a real client to a dead port.
    The process's note that the cache failed is forgotten after the test."""
    monkeypatch.setattr(dependencies, "_resting_until", -1e9)
    settings.CACHES = _dead_cache()


def _while_postgres_is_down(client: APIClient, path: str) -> Any:
    """Ask in a thread of its own, whose new connection goes to a port nothing listens on (this
    thread's connection holds the test's transaction): PostgreSQL refuses, as while it restarts."""
    database = connections.settings[DEFAULT_DB_ALIAS]
    answer: list[Any] = []
    client.raise_request_exception = False  # an error no view handled goes to handler500, as served

    def ask() -> None:
        try:
            answer.append(client.get(path))
        finally:
            connections.close_all()

    port = database["PORT"]
    database["PORT"] = _closed_port()
    try:
        thread = threading.Thread(target=ask)
        thread.start()
        thread.join(timeout=30)
    finally:
        database["PORT"] = port
    return answer[0]


@pytest.mark.parametrize("path", ["items/{}/complete-the-look/", "items/{}/similar/", "items/{}/"])
def test_a_request_while_postgresql_is_down_is_a_json_503_with_retry_after(
    storefront: APIClient, path: str
) -> None:
    item = CatalogItem.objects.order_by("pk").first()
    assert item is not None
    response = _while_postgres_is_down(storefront, "/api/v1/" + path.format(item.external_id))
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert "database" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0


def test_the_health_check_while_postgresql_is_down_is_a_json_503(anonymous: APIClient) -> None:
    response = _while_postgres_is_down(anonymous, "/healthz")
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0


@pytest.mark.parametrize("path", ["items/{}/complete-the-look/", "items/{}/similar/"])
def test_answers_go_on_while_the_cache_is_down(storefront: APIClient, redis_down: None, path: str) -> None:
    item = CatalogItem.objects.order_by("pk").first()
    assert item is not None
    for _ in range(2):  # nothing is cached: each is worked out afresh
        response = storefront.get("/api/v1/" + path.format(item.external_id))
        assert response.status_code == 200, response.content
        assert response.json()["build_id"]


def test_the_throttle_lets_requests_through_while_the_cache_is_down(
    storefront: APIClient, redis_down: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fails open: a cache outage must not become an outage of every storefront (outfits.dependencies).
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "1/min", "looks": "1/min"})
    statuses = {storefront.get("/api/v1/items/").status_code for _ in range(3)}
    assert statuses == {200}


def test_a_catalog_write_while_the_cache_is_down_is_kept(editor: APIClient, redis_down: None) -> None:
    item = CatalogItem.objects.order_by("pk").first()
    assert item is not None
    item.title = "renamed while Redis restarts"
    item.save()  # bumps the answers' catalog version: skipped, not an error
    item.refresh_from_db()
    assert item.title == "renamed while Redis restarts"


def test_after_a_cache_failure_a_process_leaves_the_cache_alone_a_while(
    storefront: APIClient, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hung Redis costs one timeout per process now and then, not one per cache call: after a
    failure the process does not ask the cache for CACHE_REST_SECONDS (here, the whole test)."""
    monkeypatch.setattr(dependencies, "_resting_until", -1e9)
    monkeypatch.setattr(dependencies, "CACHE_REST_SECONDS", 3600.0)
    working = settings.CACHES
    settings.CACHES = _dead_cache()
    assert storefront.get("/api/v1/items/").status_code == 200  # the throttle found Redis down
    settings.CACHES = working  # Redis is back, but this process is not asking it yet:
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "1/min", "looks": "1/min"})
    assert [storefront.get("/api/v1/items/").status_code for _ in range(3)] == [200, 200, 200]
