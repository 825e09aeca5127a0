"""GET /api/v1/search: text → catalog items through the trained model's aligned towers."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from outfits.models import CatalogItem
from tests.factories import sell_out

pytestmark = pytest.mark.django_db

Query = dict[str, str | int]


def test_search_finds_sellable_items_of_the_asked_slot(storefront: APIClient) -> None:
    response = storefront.get("/api/v1/search/", _q({"q": "blue jeans", "slot": "bottom", "k": 5}))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["query"] == "blue jeans" and body["model_spec"].startswith("ctl-garment-effnetlite0-minilm@")
    assert 0 < len(body["results"]) <= 5
    assert {hit["slot"] for hit in body["results"]} == {"bottom"}
    similarities = [hit["similarity"] for hit in body["results"]]
    assert similarities == sorted(similarities, reverse=True)
    assert all(hit["item"]["in_stock"] for hit in body["results"])


def test_search_never_offers_sold_out_items(storefront: APIClient) -> None:
    first = storefront.get("/api/v1/search/", _q({"q": "a shirt", "k": 3})).json()["results"][0]
    sell_out(first["item"]["id"])
    again = storefront.get("/api/v1/search/", _q({"q": "a shirt", "k": 3})).json()["results"]
    assert first["item"]["id"] not in {hit["item"]["id"] for hit in again}


def test_search_matches_a_title_to_its_own_garment(storefront: APIClient) -> None:
    """Held-in sanity check: an item's exact title ranks that item among the first few of its slot."""
    item = CatalogItem.objects.select_related("category").exclude(title="").order_by("pk").first()
    assert item is not None
    hits = storefront.get("/api/v1/search/", _q({"q": item.title, "slot": item.slot, "k": 10})).json()[
        "results"
    ]
    assert hits and all(hit["slot"] == item.slot for hit in hits)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "dress", "slot": "hat"}, "slot"),
        ({"q": "dress", "k": 0}, "k"),
    ],
)
def test_bad_search_input_is_a_400_naming_the_field(storefront: APIClient, query: Query, field: str) -> None:
    response = storefront.get("/api/v1/search/", _q(query))
    assert response.status_code == 400 and field in response.json()["errors"]


def test_search_needs_a_key(anonymous: APIClient) -> None:
    assert anonymous.get("/api/v1/search/", _q({"q": "dress"})).status_code in (401, 403)


def _q(query: Query) -> dict[str, str]:
    return {key: str(value) for key, value in query.items()}
