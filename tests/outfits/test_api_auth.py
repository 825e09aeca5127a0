from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rest_framework.test import APIClient

from outfits.models import ApiKey, CatalogItem

pytestmark = pytest.mark.django_db


def test_reads_need_an_api_key(anonymous: APIClient) -> None:
    response = anonymous.get("/api/v1/items/")
    assert response.status_code in (401, 403)
    assert "API key" in response.json()["detail"] or "credentials" in response.json()["detail"]


def test_an_unknown_or_revoked_key_is_refused(anonymous: APIClient) -> None:
    anonymous.credentials(HTTP_X_API_KEY="ctl_nope_nope")
    assert anonymous.get("/api/v1/items/").status_code == 401
    key, raw = ApiKey.issue("old shop")
    key.active = False
    key.save()
    anonymous.credentials(HTTP_X_API_KEY=raw)
    assert anonymous.get("/api/v1/items/").status_code == 401


def test_a_storefront_key_reads_but_cannot_write(storefront: APIClient) -> None:
    assert storefront.get("/api/v1/items/").status_code == 200
    response = storefront.post("/api/v1/items/bulk/", {"items": []}, format="json")
    assert response.status_code in (401, 403)


def test_items_are_paginated_and_filter_by_slot(storefront: APIClient) -> None:
    body = storefront.get("/api/v1/items/", {"slot": "shoes"}).json()
    assert body["count"] == CatalogItem.objects.filter(category__slot="shoes").count()
    assert {row["slot"] for row in body["results"]} == {"shoes"}
    assert storefront.get("/api/v1/items/", {"slot": "hats"}).status_code == 400


def test_storefronts_see_only_approved_library_outfits(storefront: APIClient, editor: APIClient) -> None:
    from outfits.models import LibraryOutfit

    rejected = LibraryOutfit.objects.first()
    assert rejected is not None
    rejected.status = LibraryOutfit.Status.REJECTED
    rejected.save()
    ids = {
        row["id"] for row in storefront.get("/api/v1/library/outfits/", {"page_size": 1000}).json()["results"]
    }
    assert rejected.pk not in ids
    assert storefront.get(f"/api/v1/library/outfits/{rejected.pk}/").status_code == 404
    assert editor.get(f"/api/v1/library/outfits/{rejected.pk}/").status_code == 200


def test_a_storefront_is_throttled(storefront: APIClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from outfits.api.auth import ClientRateThrottle

    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "2/min", "looks": "2/min"})
    codes = [storefront.get("/api/v1/items/").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_the_schema_and_docs_are_public(anonymous: APIClient) -> None:
    schema = anonymous.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"complete-the-look" in schema.content
    assert anonymous.get("/api/v1/docs/").status_code == 200


def test_the_schema_is_valid_and_documents_the_api_key(tmp_path: Path) -> None:
    from django.core.management import call_command

    target = tmp_path / "schema.yml"
    # --fail-on-warn: an endpoint or auth scheme the generator cannot describe fails here.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert schema["components"]["securitySchemes"]["storefrontApiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Api-Key",
        "description": "A secret key from the shop's servers, or a public key from its pages' origins.",
    }
    assert "image_url" in schema["components"]["schemas"]["CatalogItem"]["properties"]
