"""Complete-the-look for a catalog item is served from the answers the build worked out, and says
the same as ranking it live."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from outfits import selectors, shopper_garments, stored_answers, suggestions
from outfits.models import CatalogItem
from recsys.rank.complete import Method
from tests.factories import sell_out

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("answers_not_cached")]


def _ask(client: APIClient, item: CatalogItem, **query: Any) -> dict[str, Any]:
    response = client.get(f"/api/v1/items/{item.external_id}/complete-the-look/", query)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def test_every_catalog_item_gets_the_stored_answer_it_would_get_live(
    storefront: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = selectors.active_index()
    assert index is not None and index.manifest.answers, "the build worked out answers"
    items = list(CatalogItem.objects.select_related("category").order_by("pk"))
    stored = {
        item.pk: _ask(storefront, item)
        for item in items
        if stored_answers.candidates(
            index, shopper_garments.catalog_garments([item], model_spec=index.manifest.model_spec),
            Method(index.manifest.answers_method), 8, ["top", "bottom", "shoes", "bag", "outerwear"], None,
        )
    }  # fmt: skip
    assert len(stored) >= len(items) // 2, "most items are answered from the build"
    monkeypatch.setattr(stored_answers, "candidates", lambda *args, **kwargs: {})
    for item in items:
        if item.pk in stored:
            live = _ask(storefront, item)
            assert _without_scores(stored[item.pk]) == _without_scores(live), item.external_id
            # Float32 products in another order (a batch, not one row): the same to about 6 digits.
            assert [s["score"] for s in stored[item.pk]["suggestions"]] == pytest.approx(
                [s["score"] for s in live["suggestions"]], rel=1e-5, abs=1e-5
            )


def _without_scores(body: dict[str, Any]) -> dict[str, Any]:
    return body | {"suggestions": [{**s, "score": None} for s in body["suggestions"]]}


def test_filters_are_applied_to_the_stored_answer(storefront: APIClient) -> None:
    item = CatalogItem.objects.filter(category__slot="top").order_by("pk").first()
    assert item is not None
    first = _ask(storefront, item, slot="bottom", k=3)["suggestions"][0]["item"]
    sell_out(first["id"])
    again = _ask(storefront, item, slot="bottom", k=3)["suggestions"]
    assert first["id"] not in [s["item"]["id"] for s in again]
    ceiling = f"{float(first['price']) - 0.01:.2f}"
    cheap = _ask(storefront, item, slot="bottom", k=3, price_max=ceiling)
    assert all(float(s["item"]["price"]) <= float(ceiling) for s in cheap["suggestions"])


def test_similar_items_come_from_the_build_and_are_the_exact_nearest(storefront: APIClient) -> None:
    index = selectors.active_index()
    assert index is not None
    for item in CatalogItem.objects.select_related("category").order_by("pk")[:40]:
        _, found = selectors.item_similar(item, k=5)
        vector = selectors.item_embedding(item, index.manifest.model_spec)
        keys, similarities = index.search("catalog", item.slot, vector, 15, exclude={item.pk}, exact=True)
        sellable = set(CatalogItem.objects.filter(in_stock=True).values_list("pk", flat=True))
        exact = [(k, s) for k, s in zip(keys.tolist(), similarities.tolist(), strict=True) if k in sellable][
            :5
        ]
        assert [k for k, _ in found] == [k for k, _ in exact], item.external_id
        assert [s for _, s in found] == pytest.approx([s for _, s in exact], abs=1e-5)


def test_a_stored_answer_reads_the_rest_of_its_facts_before_it_goes_live(
    storefront: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from outfits.compat import build_compat_model
    from recsys.rank.policy import DIVERSITY_POOL, FACTS_FIRST

    k = 1  # the test shop has 10 bottoms: k * FACTS_FIRST first, and enough after them
    index = selectors.active_index()
    assert index is not None
    item = CatalogItem.objects.select_related("category").filter(category__slot="top").order_by("pk")[0]
    model = build_compat_model(index)
    found = stored_answers.candidates(
        index, shopper_garments.catalog_garments([item], model_spec=index.manifest.model_spec),
        Method(index.manifest.answers_method), k, ["bottom"], model.blend if model else None,
    )["bottom"]  # fmt: skip
    first = k * FACTS_FIRST
    assert len(found.keys) >= first + k * DIVERSITY_POOL, "enough stored bottoms for the question"
    # All but one of the candidates whose facts are read first are sold out.
    for key in found.keys[1:first].tolist():
        sell_out(CatalogItem.objects.get(pk=key).external_id)
    ranked_live: list[str] = []
    rank = suggestions._Live.rank

    def spied(live: Any, slots: Any) -> None:
        ranked_live.extend(slots)
        rank(live, slots)

    monkeypatch.setattr(suggestions._Live, "rank", spied)

    stored = _ask(storefront, item, slot="bottom", k=k)

    assert ranked_live == [], "answered from the stored candidates, not ranked live"
    shown = [s["item"]["id"] for s in stored["suggestions"]]
    assert len(shown) == k and all(CatalogItem.objects.get(external_id=i).in_stock for i in shown)
    monkeypatch.setattr(stored_answers, "candidates", lambda *args, **kwargs: {})
    assert _without_scores(_ask(storefront, item, slot="bottom", k=k)) == _without_scores(stored)
