"""The demo storefront: a shop's own pages (a list, a product page) with the widget dropped in as any
shop would, one placeholder and one script tag, calling the API from the browser with a public key
held to the page's origin (never a secret key in a page). Same origin as the API: no CORS needed."""

from __future__ import annotations

import threading

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from . import widget
from .models import ApiKey, CatalogItem

KEY_NAME = "demo storefront pages"  # the widget on product pages and shop the look
_key_lock = threading.Lock()
_raw_keys: dict[str, str] = {}  # origin: raw key


def storefront_key(origin: str) -> str:
    """The public key the demo shop's pages carry, for the origin they are served from. Only a key's
    hash is stored, so this process issues one per origin and remembers it; it issues another if that
    one is gone (revoked in the admin, a reset database)."""
    with _key_lock:
        raw = _raw_keys.get(origin)
        if raw is None or ApiKey.find(raw) is None:
            ApiKey.objects.filter(name=KEY_NAME, allowed_origins=[origin]).update(active=False)
            _, raw = ApiKey.issue(KEY_NAME, kind=ApiKey.Kind.PUBLIC, origins=[origin])
            _raw_keys[origin] = raw
        return raw


def page_key(request: HttpRequest) -> str:
    """The public key for the origin this page is served from (the demo's pages call the API from it)."""
    return storefront_key(f"{request.scheme}://{request.get_host()}")


def shop(request: HttpRequest) -> HttpResponse:
    items = CatalogItem.objects.select_related("category").filter(in_stock=True).order_by("id")[:24]
    return render(request, "outfits/demo_shop.html", {"items": items})


def product(request: HttpRequest, external_id: str) -> HttpResponse:
    item = get_object_or_404(CatalogItem.objects.select_related("category"), external_id=external_id)
    context = {
        "item": item,
        "widget_src": widget.widget_url(),
        "widget_key": page_key(request),
    }
    return render(request, "outfits/demo_shop_product.html", context)
