"""The demo storefront: a shop's own pages (a list, a product page) with the widget dropped in as any
shop would, one placeholder and one script tag, calling the API from the browser with a storefront key.
Same origin as the API, so it needs no CORS."""

from __future__ import annotations

import threading

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from . import widget
from .models import ApiKey, CatalogItem

KEY_NAME = "demo storefront widget"
_key_lock = threading.Lock()
_raw_key: str | None = None


def storefront_key() -> str:
    """The key the demo shop's pages carry. Only a key's hash is stored, so this process issues one
    and remembers it; it issues another if that one is gone (revoked in the admin, a reset database)."""
    global _raw_key
    with _key_lock:
        if _raw_key is None or ApiKey.find(_raw_key) is None:
            ApiKey.objects.filter(name=KEY_NAME).update(active=False)
            _, _raw_key = ApiKey.issue(KEY_NAME)
        return _raw_key


def shop(request: HttpRequest) -> HttpResponse:
    items = CatalogItem.objects.select_related("category").filter(in_stock=True).order_by("id")[:24]
    return render(request, "outfits/demo_shop.html", {"items": items})


def product(request: HttpRequest, external_id: str) -> HttpResponse:
    item = get_object_or_404(CatalogItem.objects.select_related("category"), external_id=external_id)
    context = {"item": item, "widget_src": widget.widget_url(), "widget_key": storefront_key()}
    return render(request, "outfits/demo_shop_product.html", context)
