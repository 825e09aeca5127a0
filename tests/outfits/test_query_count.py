"""A request costs a constant number of queries, whatever k is: no query per suggestion."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from outfits.models import CatalogItem
from tests.factories import sell_out

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("answers_not_cached")]


def _cost(client: APIClient, url: str, k: int) -> tuple[int, int]:
    """(queries, suggestions) of one request."""
    queries, shown, _ = _costs(client, url, k)
    return queries, shown


def _costs(client: APIClient, url: str, k: int) -> tuple[int, int, list[str]]:
    """(queries, suggestions, the statements) of one request."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"k": k})
    assert response.status_code == 200, response.content
    body = response.json()
    statements = [query["sql"][:120] for query in captured.captured_queries]
    return len(statements), len(body.get("suggestions", body.get("similar", []))), statements


def test_complete_the_look_costs_the_same_queries_for_any_k(storefront: APIClient, settings: Any) -> None:
    item = CatalogItem.objects.filter(category__slot="top").order_by("pk").first()
    assert item is not None
    url = f"/api/v1/items/{item.external_id}/complete-the-look/"
    _cost(storefront, url, 1)  # the process loads the index and the compatibility model once
    # As served: the active build and its fresh items are asked about once a while, not per request
    # (asked just now, by the request above).
    settings.CTL_ACTIVE_BUILD_TTL = 60
    few, shown_few, _ = _costs(storefront, url, 1)
    many, shown_many, statements = _costs(storefront, url, 8)
    assert shown_many > shown_few
    # The key, the item, then one statement for the candidates' facts and what the rows show: the
    # item's analysis is not read (the build answered) and the library's outfit references are
    # read once per catalog version.
    assert many == few <= 3, statements


def test_similar_costs_the_same_queries_for_any_k(storefront: APIClient) -> None:
    item = CatalogItem.objects.filter(category__slot="top").order_by("pk").first()
    assert item is not None
    url = f"/api/v1/items/{item.external_id}/similar/"
    _cost(storefront, url, 1)
    few, _ = _cost(storefront, url, 1)
    many, shown = _cost(storefront, url, 8)
    assert shown > 1
    assert many == few <= 8, (few, many)


def test_an_answer_already_sent_is_sent_again_from_the_cache_until_the_catalog_changes(
    storefront: APIClient, settings: Any
) -> None:
    settings.CTL_ANSWER_CACHE_SECONDS = 600
    item = CatalogItem.objects.filter(category__slot="top").order_by("pk").first()
    assert item is not None
    url = f"/api/v1/items/{item.external_id}/complete-the-look/"
    made, _ = _cost(storefront, url, 8)
    first = storefront.get(url, {"k": 8}).json()
    again, _ = _cost(storefront, url, 8)
    assert again < made and again <= 2, (made, again)  # the key's lookup (and its last use)
    assert storefront.get(url, {"k": 8}).json() == first
    shown = first["suggestions"][0]["item"]["id"]
    sell_out(shown)
    after = storefront.get(url, {"k": 8}).json()
    assert shown not in [s["item"]["id"] for s in after["suggestions"]]
