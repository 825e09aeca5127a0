"""The minimal demo page of the embedded default: browse the catalog, see what completes a look."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from recsys.rank.complete import Method

from . import looks, selectors, suggestions
from .api.auth import LookUploadThrottle
from .api.serializers import LookCreateSerializer
from .api.views import look_payload
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


def shop_the_look(request: HttpRequest) -> HttpResponse:
    """The shop-the-look page: a shopper uploads a photo, sees the garments found boxed on it and,
    for the one they choose, what completes the look. The page is drawn by its script
    (outfits/static/outfits/shop-the-look.js) from the look's JSON, polled while the job runs."""
    return render(request, "outfits/shop_the_look.html")


def _demo_looks() -> QuerySet[LookRequest]:
    # Only the demo's own looks (made by no storefront key or editor): a look belongs to who made it.
    return LookRequest.objects.filter(api_key=None, user=None)


class ShopTheLookCreate(APIView):
    """The page's upload: the API's look (POST /api/v1/looks/: 202 and the look's JSON, 400 with the
    photo's fault) for a shopper without a key. The look is the demo's, read back by `ShopTheLookDetail`."""

    permission_classes = [AllowAny]
    throttle_classes = [LookUploadThrottle]
    parser_classes = [parsers.MultiPartParser]

    @extend_schema(exclude=True)  # the demo's, not the API's: the API documents POST /api/v1/looks/
    def post(self, request: Request) -> Response:
        form = LookCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        look = looks.look_create(photo=form.validated_data["photo"].read())
        look.refresh_from_db()  # the embedded default (Celery eager) has already finished it
        return Response(look_payload(request, look), status=status.HTTP_202_ACCEPTED)


class ShopTheLookDetail(APIView):
    """The page's poll: the look's JSON as GET /api/v1/looks/{id}/ answers it, for the demo's looks."""

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request, pk: str) -> Response:
        return Response(look_payload(request, get_object_or_404(_demo_looks(), pk=pk)))
