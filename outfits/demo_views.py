"""The minimal demo page of the embedded default: browse the catalog, see what completes a look."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from recsys.rank.complete import Method
from vision.images import ImageRejected

from . import look_photos, looks, selectors, suggestions
from .models import CatalogItem, LibraryOutfit, LookRequest, Slot


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


@require_http_methods(["POST"])
def look_upload(request: HttpRequest) -> HttpResponse:
    photo = request.FILES.get("photo")
    if photo is None:
        return render(request, "outfits/demo_error.html", {"error": "choose a photo first"}, status=400)
    try:
        look = looks.look_create(photo=photo.read())
    except ImageRejected as exc:
        return render(request, "outfits/demo_error.html", {"error": str(exc)}, status=400)
    return redirect("demo-look", pk=look.pk)


def look(request: HttpRequest, pk: str) -> HttpResponse:
    """The shopper's photo with a box on every garment found; choosing one (a link per box) shows
    what completes the look around it. Garments the model could not place are drawn dashed.
    Only the demo's own looks (made by no storefront key or editor): a look belongs to who made it."""
    shopper_look = get_object_or_404(LookRequest.objects.filter(api_key=None, user=None), pk=pk)
    result = shopper_look.result or {}
    garments = [_drawn(g, placed=True) for g in result.get("garments", [])]
    unplaced = [_drawn(g, placed=False) for g in result.get("unplaced", [])]
    wanted = request.GET.get("garment", "")
    chosen = next((g for g in garments if str(g["position"]) == wanted), None) or next(
        (g for g in garments if g["slot"] == result.get("garment_slot")), garments[0] if garments else None
    )
    width, height = _photo_size(shopper_look)
    return render(
        request,
        "outfits/demo_look.html",
        {
            "look": shopper_look,
            "photo_url": look_photos.photo_url(shopper_look),
            "width": width,
            "height": height,
            "garments": garments,
            "unplaced": unplaced,
            "chosen": chosen,
            "groups": _suggestion_groups(chosen["source"]) if chosen else [],
            "empty_slots": chosen["source"].get("empty_slots", {}) if chosen else {},
            "reason": result.get("reason") if not garments else "",
        },
    )


def _drawn(garment: dict[str, Any], *, placed: bool) -> dict[str, Any]:
    """A found garment as the page draws it: its box as x, y, width, height and a label."""
    x0, y0, x1, y1 = garment.get("box") or (0, 0, 0, 0)
    label = garment.get("slot") or garment.get("part") or "?"
    if placed and garment.get("confidence") is not None:
        label = f"{label} {float(garment['confidence']):.0%}"
    return {
        "position": garment.get("position"),
        "slot": garment.get("slot"),
        "x": x0,
        "y": y0,
        "w": x1 - x0,
        "h": y1 - y0,
        "label": label,
        "reason": garment.get("reason", ""),
        "source": garment,
    }


def _photo_size(shopper_look: LookRequest) -> tuple[int, int]:
    try:
        return shopper_look.image.width, shopper_look.image.height
    except (OSError, ValueError):  # the file is gone: draw no boxes rather than fail the page
        return 0, 0
