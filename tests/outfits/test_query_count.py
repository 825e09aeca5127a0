"""A request costs a constant number of queries, whatever k is: no query per suggestion."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from outfits.models import CatalogItem

pytestmark = pytest.mark.django_db


def _cost(client: APIClient, url: str, k: int) -> tuple[int, int]:
    """(queries, suggestions) of one request."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"k": k})
    assert response.status_code == 200, response.content
    body = response.json()
    return len(captured.captured_queries), len(body.get("suggestions", body.get("similar", [])))


def test_complete_the_look_costs_the_same_queries_for_any_k(storefront: APIClient) -> None:
    item = CatalogItem.objects.filter(category__slot="top").order_by("pk").first()
    assert item is not None
    url = f"/api/v1/items/{item.external_id}/complete-the-look/"
    _cost(storefront, url, 1)  # the process loads the index and the compatibility model once
    few, shown_few = _cost(storefront, url, 1)
    many, shown_many = _cost(storefront, url, 8)
    assert shown_many > shown_few
    assert many == few <= 12, (few, many)


def test_similar_costs_the_same_queries_for_any_k(storefront: APIClient) -> None:
    item = CatalogItem.objects.filter(category__slot="top").order_by("pk").first()
    assert item is not None
    url = f"/api/v1/items/{item.external_id}/similar/"
    _cost(storefront, url, 1)
    few, _ = _cost(storefront, url, 1)
    many, shown = _cost(storefront, url, 8)
    assert shown > 1
    assert many == few <= 8, (few, many)
