"""The minimal demo page of the embedded default: browse the catalog, see what completes a look."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render

from recsys.rank.complete import Method

from . import demo_storefront, selectors, suggestions
from .models import CatalogItem, LibraryOutfit, Slot


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus the two facts an operator checks first: the database answers, an index is active."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    build = selectors.active_build()
    return JsonResponse({"ok": True, "active_build": build.build_id if build else None})


def home(request: HttpRequest) -> HttpResponse:
    slot = request.GET.get("slot", "")
    items = CatalogItem.objects.select_related("category").filter(in_stock=True).order_by("id")
    if slot in Slot.values:
        items = items.filter(category__slot=slot)
    context = {
        "items": items[:60],
        "slots": Slot.choices,
        "slot": slot,
        "build": selectors.active_build(),
        "counts": {
            "catalog": CatalogItem.objects.count(),
            "outfits": LibraryOutfit.objects.filter(status=LibraryOutfit.Status.APPROVED).count(),
        },
    }
    return render(request, "outfits/demo_home.html", context)


def _suggestion_groups(plain: dict[str, object]) -> list[tuple[str, list[suggestions.SuggestionRow]]]:
    groups: dict[str, list[suggestions.SuggestionRow]] = {}
    for row in suggestions.suggestion_rows(plain.get("suggestions", [])):  # type: ignore[arg-type]
        groups.setdefault(row.slot, []).append(row)
    return list(groups.items())


def item(request: HttpRequest, external_id: str) -> HttpResponse:
    garment = get_object_or_404(
        CatalogItem.objects.select_related("category__parent"), external_id=external_id
    )
    asked = request.GET.get("method", "")
    context: dict[str, object] = {
        "item": garment,
        "groups": [],
        "error": "",
        "empty_slots": {},
        "method": asked,
        "methods": [m.value for m in Method],
    }
    try:
        answer = suggestions.suggest_for(
            [garment],
            slots=[],
            query=suggestions.SuggestQuery(k=6, method=Method(asked) if asked in set(Method) else None),
        )
        plain = answer.as_json()
        context.update(
            groups=_suggestion_groups(plain),
            empty_slots=plain["empty_slots"],
            method=answer.method.value,
        )
    except (selectors.NoIndex, selectors.NotAnalysed, suggestions.MethodUnavailable) as exc:
        context["error"] = str(exc)
    return render(request, "outfits/demo_item.html", context)


def shop_the_look(request: HttpRequest) -> HttpResponse:
    """The shop-the-look page: a shopper uploads a photo, sees the garments found boxed on it and,
    for the one they choose, what completes the look. The page is drawn by its script
    (outfits/static/outfits/shop-the-look.js) from the look's JSON, polled while the job runs. The
    script calls the API (POST /api/v1/looks/, GET /api/v1/looks/{id}/) as a shop's page would, with
    the demo storefront's public key for this page's origin: the look is that key's."""
    return render(request, "outfits/shop_the_look.html", {"api_key": demo_storefront.page_key(request)})
