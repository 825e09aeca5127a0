"""The widget's script as the service serves it: each release under its content hash, cached for a
year; a stable loader name cached for minutes; the demo shop's product page carrying both the
hashed script and a working storefront key."""

from __future__ import annotations

import gzip
import hashlib
import re

import pytest
from django.test import Client

from outfits import widget
from outfits.models import ApiKey, CatalogItem


def test_hashed_script_is_cached_for_a_year_under_its_content_hash(client: Client) -> None:
    body = widget.SOURCE.read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:8]
    assert widget.widget_url() == f"/widget/ctl-widget.{digest}.js"
    response = client.get(widget.widget_url())
    assert response.status_code == 200
    assert response.content == body
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"


def test_another_release_name_is_not_served_as_this_one(client: Client) -> None:
    response = client.get("/widget/ctl-widget.00000000.js")
    assert response.status_code == 404
    assert "immutable" not in response.get("Cache-Control", "")


def test_stable_loader_is_cached_for_five_minutes_and_revalidates(client: Client) -> None:
    response = client.get("/widget/ctl-widget.js")
    assert response.status_code == 200
    assert response.content == widget.SOURCE.read_bytes()
    assert response["Cache-Control"] == "public, max-age=300"
    again = client.get("/widget/ctl-widget.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_script_is_gzipped_for_browsers_within_its_size_budget(client: Client) -> None:
    for url in (widget.widget_url(), "/widget/ctl-widget.js"):
        response = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert response["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response["Vary"]
        assert gzip.decompress(response.content) == widget.SOURCE.read_bytes()
        # The budget: 12 KB on the wire (minified + gzip; this is gzip alone, unminified).
        assert len(response.content) <= 12 * 1024
    # The loader's ETag, weakened by gzip, still revalidates to a 304.
    etag = response["ETag"]
    assert etag.startswith("W/")
    again = client.get("/widget/ctl-widget.js", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304


@pytest.mark.django_db
def test_demo_shop_product_page_carries_the_hashed_script_and_a_live_key(client: Client) -> None:
    item = CatalogItem.objects.order_by("id").first()  # the session's shop
    assert item is not None
    page = client.get(f"/demo/shop/{item.external_id}/").content.decode()
    assert f'data-item="{item.external_id}"' in page
    found = re.search(r'<script src="([^"]+)" data-key="([^"]+)" async>', page)
    assert found is not None, page
    assert found.group(1) == widget.widget_url()
    key = ApiKey.find(found.group(2))
    assert key is not None and (key.kind, key.allowed_origins) == (ApiKey.Kind.PUBLIC, ["http://testserver"])
    # A revoked key is replaced on the next page, not served dead.
    ApiKey.objects.update(active=False)
    again = re.search(r'data-key="([^"]+)"', client.get(f"/demo/shop/{item.external_id}/").content.decode())
    assert again is not None and ApiKey.find(again.group(1)) is not None
    assert item.external_id in client.get("/demo/shop/").content.decode()
