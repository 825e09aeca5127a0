"""The busiest answers are rendered by hand (outfits.api.serializers): they must say exactly what
the declared fields, which document the schema, would say."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory
from rest_framework import serializers

from outfits import suggestions
from outfits.api import serializers as s
from outfits.api.views import answer_data
from outfits.models import CatalogItem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("answers_not_cached")]


class _DeclaredItem(s.CatalogItemSerializer):
    def to_representation(self, instance: Any) -> Any:
        return serializers.ModelSerializer.to_representation(self, instance)


class _DeclaredAnswer(s.CompleteTheLookSerializer):
    def to_representation(self, instance: Any) -> Any:
        return serializers.Serializer.to_representation(self, instance)


def test_a_catalog_item_renders_as_its_declared_fields() -> None:
    context = {"request": RequestFactory().get("/", HTTP_HOST="testserver")}
    items = list(CatalogItem.objects.select_related("category__parent__parent").order_by("pk")[:30])
    items[0].price, items[1].image = None, ""  # no price, no photo
    for item in items:
        by_hand = s.CatalogItemSerializer(item, context=context).data
        assert by_hand == _DeclaredItem(item, context=context).data
    assert (
        s.CatalogItemSerializer(items[2], context=context).data["image_url"].startswith("http://testserver/")
    )


def test_a_complete_the_look_answer_renders_as_its_declared_fields() -> None:
    context = {"request": RequestFactory().get("/", HTTP_HOST="testserver")}
    item = CatalogItem.objects.select_related("category__parent__parent").filter(category__slot="top").first()
    assert item is not None
    answer = suggestions.suggest_for([item], slots=[], query=suggestions.SuggestQuery(k=4))
    data = {"item": item, **answer_data(answer)}
    by_hand = s.CompleteTheLookSerializer(data, context=context).data
    assert len(by_hand["suggestions"]) >= 4
    assert by_hand == _DeclaredAnswer(data, context=context).data
    # Each suggested item as the schema's SuggestedItem, read from its model.
    for row in by_hand["suggestions"]:
        model = CatalogItem.objects.select_related("category").get(external_id=row["item"]["id"])
        assert row["item"] == s.SuggestedItemSerializer(model, context=context).data
