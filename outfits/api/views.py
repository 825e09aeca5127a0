"""API views: validate input, call one service or selector, serialise the result."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, parsers, status
from rest_framework.exceptions import NotAuthenticated, NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from recsys.rank.complete import Method
from recsys.rank.filters import ShopFilters
from recsys.rank.policy import ImpossibleSlot

from .. import answer_cache, look_photos, looks, selectors, services, suggestions
from ..models import ApiKey, CatalogItem, LibraryOutfit, LookRequest, Slot
from ..suggestions import SuggestQuery
from . import serializers as s
from .auth import LookUploadThrottle, StorefrontOrEditor, is_editor, is_storefront
from .schema import error_responses

MAX_ITEM_ID = CatalogItem._meta.get_field("external_id").max_length or 120
# What ItemIdInPath accepts: 1 to 120 characters, no slash (the URL's) and no control character.
ITEM_ID = OpenApiParameter(
    "external_id",
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_ITEM_ID,
        "pattern": r"^[^/\u0000-\u001f\u007f]+$",
    },
    OpenApiParameter.PATH,
    description="The shop's own item id.",
)


def suggest_query(data: Mapping[str, Any], *, k: int) -> SuggestQuery:
    """The ranking options of a validated SuggestOptionsSerializer."""

    def listed(name: str) -> list[str]:
        return [value for value in str(data.get(name) or "").split(",") if value.strip()]

    def price(name: str) -> float | None:
        return float(data[name]) if data.get(name) is not None else None

    return SuggestQuery(
        k=k,
        method=Method(data["method"]) if data.get("method") else None,
        diversity=data["diversity"],
        filters=ShopFilters.build(
            in_stock_only=data["in_stock_only"],
            price_min=price("price_min"),
            price_max=price("price_max"),
            genders=listed("gender"),
            brands=listed("brand"),
            exclude_brands=listed("exclude_brand"),
        ),
        exclude_own_type=data["exclude_own_type"],
    )


class ItemIdInPath:
    """Views with a shop item id in their path: an id is at most 120 characters and holds no control
    character (a NUL byte reached PostgreSQL as an error, a 500): anything else is a 400."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        external_id = str(kwargs.get("external_id", ""))
        if len(external_id) > MAX_ITEM_ID or any(ord(c) < 32 or ord(c) == 127 for c in external_id):
            raise ValidationError(
                {
                    "external_id": [
                        f"an item id is 1 to {MAX_ITEM_ID} characters, none of them control characters"
                    ]
                }
            )


# Suggesting needs an analysed garment and, for compat or blend, a compatibility model (409), and an
# active index (503).
SUGGESTION_ERRORS = error_responses(
    409,
    503,
    e409="A garment is not analysed yet, or the method needs a compatibility model (run train_compat).",
)


# Names the index build that made an answer (its body's `build_id`), cached answers too: a client or
# a drill tells which build answered without reading the body (bench/drill_rebuild.py).
BUILD_HEADER = "X-Index-Build"


def answered(body: Mapping[str, Any]) -> Response:
    """An answer made from one index build, its build named in the BUILD_HEADER."""
    return Response(body, headers={BUILD_HEADER: str(body["build_id"])})


def answer_data(answer: suggestions.Answer) -> dict[str, Any]:
    plain = answer.as_json()
    plain["suggestions"] = suggestions.suggestion_rows(plain["suggestions"], answer.shown)
    return plain


class CatalogItemList(generics.ListAPIView):
    """Catalog items, filterable by `slot` and `in_stock`."""

    serializer_class = s.CatalogItemSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("slot", str, enum=Slot.values),
            OpenApiParameter("in_stock", bool),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[CatalogItem]:
        queryset = selectors.catalog_items().order_by("id")
        slot = self.request.query_params.get("slot")
        if slot:
            if slot not in Slot.values:
                raise ValidationError(
                    {"slot": [f"unknown slot {slot!r}; use one of {', '.join(Slot.values)}"]}
                )
            queryset = queryset.filter(category__slot=slot)
        in_stock = self.request.query_params.get("in_stock")
        if in_stock is not None:
            if in_stock.lower() not in ("true", "false", "1", "0"):
                raise ValidationError({"in_stock": ["use true or false"]})
            queryset = queryset.filter(in_stock=in_stock.lower() in ("true", "1"))
        return queryset


class CatalogItemDetail(ItemIdInPath, generics.RetrieveAPIView):
    """A catalog item, with how its photo's analysis went (pending, analysed or failed)."""

    public_key_allowed = True  # a widget or the shop-the-look page calls it from a browser

    serializer_class = s.CatalogItemDetailSerializer
    lookup_field = "external_id"
    queryset = selectors.catalog_items()

    @extend_schema(parameters=[ITEM_ID])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        context = {
            **self.get_serializer_context(),
            "analysis": selectors.catalog_analysis_states([item.pk])[item.pk],
        }
        return Response(self.get_serializer(item, context=context).data)


def _messages(problems: Any) -> list[str]:
    """A serializer's errors of one field as plain sentences (a dict field's are per key)."""
    if isinstance(problems, dict):
        return [f"{key}: {message}" for key, value in problems.items() for message in _messages(value)]
    if isinstance(problems, list):
        return [message for value in problems for message in _messages(value)]
    return [str(problems)]


def _sent_id(raw: Any) -> str | None:
    external_id = raw.get("external_id") if isinstance(raw, dict) else None
    return external_id if isinstance(external_id, str) else None


class CatalogBulkUpsert(APIView):
    """Create or update up to 500 catalog items in one request (editors only). Each item stands on its
    own: a rejected one (a bad field, an unreadable photo header, a new item missing what it needs) is
    reported with its reason and stores nothing; the others are stored. Existing items are merged:
    only the fields sent change (CatalogItemUpsertSerializer). New and changed photos are queued for
    analysis (gpu queue) and the answer does not wait for it: each item's `analysis`, and the item's
    own page, say pending, analysed or failed. A 400 only when no item was accepted."""

    write_permission = "outfits.change_catalogitem"
    body_limit_setting = "CTL_MAX_BULK_BYTES"  # 500 photos in base64 (outfits.api.body_limit)

    @extend_schema(
        request=s.CatalogBulkUpsertSerializer,
        responses={
            200: s.CatalogBulkResultSerializer,
            400: OpenApiResponse(
                s.CatalogBulkRejectedSerializer,
                description="Every item was rejected (each one's reason), or the batch itself is "
                "malformed (then `detail` and `errors` only).",
            ),
        },
    )
    def post(self, request: Request) -> Response:
        payload = s.CatalogBulkUpsertSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        sent = payload.validated_data["items"]
        checked = [s.CatalogItemUpsertSerializer(data=raw) for raw in sent]
        valid = [c.validated_data for c in checked if c.is_valid()]
        stored = iter(services.catalog_items_upsert(items=valid))
        outcomes = [
            next(stored)
            if c.is_valid()
            else services.ItemUpserted(
                _sent_id(raw), "rejected", {name: _messages(problems) for name, problems in c.errors.items()}
            )
            for c, raw in zip(checked, sent, strict=True)
        ]
        states = selectors.catalog_analysis_states([o.item_id for o in outcomes if o.item_id is not None])
        counts = Counter(o.status for o in outcomes)
        result: dict[str, Any] = {
            "created": counts["created"],
            "updated": counts["updated"],
            "unchanged": counts["unchanged"],
            "rejected": counts["rejected"],
            "analysis_queued": sum(o.analysis_queued for o in outcomes),
            "items": [
                {
                    "external_id": o.external_id,
                    "status": o.status,
                    "reason": o.reason,
                    "errors": o.errors,
                    "analysis_queued": o.analysis_queued,
                    "analysis": None if o.item_id is None else states[o.item_id],
                }
                for o in outcomes
            ],
        }
        if counts["rejected"] < len(outcomes):
            return Response(s.CatalogBulkResultSerializer(result).data)
        reasons = [f"items[{n}] ({o.external_id}): {o.reason}" for n, o in enumerate(outcomes)]
        more = f"; and {len(reasons) - 3} more" if len(reasons) > 3 else ""
        result |= {
            "detail": "no item was stored: " + "; ".join(reasons[:3]) + more,
            "errors": {str(n): o.errors for n, o in enumerate(outcomes)},
        }
        return Response(s.CatalogBulkRejectedSerializer(result).data, status=status.HTTP_400_BAD_REQUEST)


class CompleteTheLook(ItemIdInPath, APIView):
    """The pieces that complete a look around one catalog item, each with its reason: the library
    outfits behind it and the attribute matches the library attests."""

    public_key_allowed = True  # a widget or the shop-the-look page calls it from a browser

    @extend_schema(
        parameters=[ITEM_ID, s.CompleteTheLookQuerySerializer],
        responses={200: s.CompleteTheLookSerializer, **SUGGESTION_ERRORS},
    )
    def get(self, request: Request, external_id: str) -> Response:
        query = s.CompleteTheLookQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        # One read of the active build for the cache key and the answer: a build swapped in between
        # two reads would file one build's answer under the other's key.
        index = selectors.require_index()
        cache_key = answer_cache.key(request, index.manifest.build_id)
        cached = answer_cache.get(cache_key)
        if cached is not None:
            return answered(cached)
        item = get_object_or_404(selectors.catalog_items(), external_id=external_id)
        slot = query.validated_data.get("slot")
        try:
            answer = suggestions.suggest_for(
                [item],
                slots=[slot] if slot else [],
                query=suggest_query(query.validated_data, k=query.validated_data["k"]),
                index=index,
            )
        except ImpossibleSlot as exc:
            raise ValidationError({"slot": [str(exc)]}) from exc
        data = {"item": item, **answer_data(answer)}
        body = s.CompleteTheLookSerializer(data, context={"request": request}).data
        answer_cache.put(cache_key, body)
        return answered(body)


class OutfitComplete(APIView):
    """The pieces that complete a partial outfit: several catalog items and garments of finished
    looks (uploaded photos). Slots the outfit already holds, or that do not go with all its pieces,
    are not suggested; asking for one is a 400 that names the slots that can."""

    public_key_allowed = True  # a widget or the shop-the-look page calls it from a browser

    # A read, though a POST (the outfit travels in the body): storefront keys may ask.
    permission_classes = [StorefrontOrEditor]

    @extend_schema(
        request=s.OutfitCompleteRequestSerializer,
        responses={200: s.OutfitCompleteSerializer, **SUGGESTION_ERRORS},
    )
    def post(self, request: Request) -> Response:
        form = s.OutfitCompleteRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        wanted_items = form.validated_data["items"]
        found = selectors.catalog_items().in_bulk(wanted_items, field_name="external_id")
        unknown = [external_id for external_id in wanted_items if external_id not in found]
        if unknown:
            raise ValidationError({"items": [f"no catalog item {', '.join(unknown[:5])}"]})
        wanted_looks = form.validated_data["looks"]
        looks = _readable_looks(request).in_bulk(wanted_looks)
        missing = [str(pk) for pk in wanted_looks if pk not in looks]
        if missing:
            raise ValidationError({"looks": [f"no look {', '.join(missing[:5])}"]})
        try:
            answer = suggestions.suggest_for(
                [found[external_id] for external_id in wanted_items],
                [looks[pk] for pk in wanted_looks],
                slots=form.validated_data["slots"],
                query=suggest_query(form.validated_data, k=form.validated_data["k"]),
            )
        except ImpossibleSlot as exc:
            raise ValidationError({"slots": [str(exc)]}) from exc
        data = {
            "items": [found[external_id] for external_id in wanted_items],
            "looks": wanted_looks,
            **answer_data(answer),
        }
        return answered(s.OutfitCompleteSerializer(data, context={"request": request}).data)


class SimilarItems(ItemIdInPath, APIView):
    """Catalog items of the same slot that look most like this one (sellable ones only)."""

    public_key_allowed = True  # a widget or the shop-the-look page calls it from a browser

    @extend_schema(
        parameters=[ITEM_ID, s.SimilarQuerySerializer],
        responses={200: s.SimilarSerializer, **error_responses(409, 503)},
    )
    def get(self, request: Request, external_id: str) -> Response:
        query = s.SimilarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        index = selectors.require_index()  # one read for the key and the answer (CompleteTheLook)
        cache_key = answer_cache.key(request, index.manifest.build_id)
        cached = answer_cache.get(cache_key)
        if cached is not None:
            return answered(cached)
        item = get_object_or_404(selectors.catalog_items(), external_id=external_id)
        index, neighbours = selectors.item_similar(item, k=query.validated_data["k"], index=index)
        items = selectors.catalog_items().in_bulk([key for key, _ in neighbours])
        data = {
            "item": item,
            "model_spec": index.manifest.model_spec,
            "build_id": index.manifest.build_id,
            "similar": [{"similarity": sim, "item": items[key]} for key, sim in neighbours if key in items],
        }
        body = s.SimilarSerializer(data, context={"request": request}).data
        answer_cache.put(cache_key, body)
        return answered(body)


class CatalogSearch(APIView):
    """Catalog items that match a text ("red floral midi dress"), through the aligned image and text
    towers of the trained model. Sellable items only; same keys and limits as other storefront reads."""

    public_key_allowed = True  # a widget or the shop-the-look page calls it from a browser

    @extend_schema(
        parameters=[s.SearchQuerySerializer],
        responses={
            200: s.SearchSerializer,
            **error_responses(503, e503="No active index, or no worker embedded the text in time."),
        },
    )
    def get(self, request: Request) -> Response:
        query = s.SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        slot = query.validated_data.get("slot")
        text = query.validated_data["q"]
        index, hits = selectors.catalog_search(
            text, slots=[slot] if slot else [], k=query.validated_data["k"]
        )
        items = selectors.catalog_items().in_bulk([key for key, _, _ in hits])
        data = {
            "query": text,
            "model_spec": index.manifest.model_spec,
            "build_id": index.manifest.build_id,
            "results": [
                {"slot": slot_, "similarity": sim, "item": items[key]}
                for key, slot_, sim in hits
                if key in items
            ],
        }
        return answered(s.SearchSerializer(data, context={"request": request}).data)


def look_payload(request: Request, look: LookRequest) -> dict[str, Any]:
    """A look with its stored result, each suggestion's catalog item attached (the look's own and
    every found garment's)."""

    def attached(plain: list[dict[str, Any]]) -> Any:
        rows = suggestions.suggestion_rows(plain)
        return s.SuggestionSerializer(rows, many=True, context={"request": request}).data

    result = None
    if look.result:
        result = dict(look.result) | {"suggestions": attached(look.result.get("suggestions", []))}
        result["garments"] = [
            dict(garment) | {"suggestions": attached(garment.get("suggestions", []))}
            for garment in look.result.get("garments", [])
        ]
    return s.LookSerializer(look, context={"request": request, "result_payload": result}).data


class LookCreate(APIView):
    """Upload a photo of a garment; a GPU worker finds what completes the look. Poll the returned URL."""

    public_key_allowed = True  # a widget or the shop-the-look page calls it from a browser

    permission_classes = [StorefrontOrEditor]
    throttle_classes = [LookUploadThrottle]
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]

    # A photo travels only in a multipart body (a urlencoded form cannot hold a file).
    @extend_schema(request={"multipart/form-data": s.LookCreateSerializer}, responses={202: s.LookSerializer})
    def post(self, request: Request) -> Response:
        form = s.LookCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        photo = form.validated_data["photo"]
        api_key, user = _caller(request)
        look = looks.look_create(
            photo=photo.read(),
            garment_slot=form.validated_data["garment_slot"],
            wanted_slots=form.validated_data["wanted_slots"],
            k=form.validated_data["k"],
            method=form.validated_data["method"],
            api_key=api_key,
            user=user,
        )
        look.refresh_from_db()  # an eager (embedded) setup has already finished it
        url = reverse("api:look-detail", kwargs={"pk": look.pk}, request=request)
        return Response(
            look_payload(request, look), status=status.HTTP_202_ACCEPTED, headers={"Location": url}
        )


def _caller(request: Request) -> tuple[ApiKey | None, User | None]:
    """Who asks: a storefront's key, or a signed-in user (who reads every look if an editor)."""
    return (
        request.auth if isinstance(request.auth, ApiKey) else None,
        request.user if isinstance(request.user, User) else None,
    )


def _readable_looks(request: Request) -> QuerySet[LookRequest]:
    api_key, user = _caller(request)
    return selectors.looks_for(api_key=api_key, user=user)


class LookDetail(APIView):
    """A look, for the key or editor that made it (and any editor); another key's look is a 404."""

    public_key_allowed = True  # a widget or the shop-the-look page calls it from a browser

    permission_classes = [StorefrontOrEditor]

    @extend_schema(responses=s.LookSerializer)
    def get(self, request: Request, pk: str) -> Response:
        look = get_object_or_404(_readable_looks(request), pk=pk)
        return Response(look_payload(request, look))


class LookPhoto(APIView):
    """A look's photo (private: never under /media/). For whoever may read the look, by key or token;
    or for anyone holding the signed, expiring link of the look's `image_url` (a browser's `<img>`
    cannot send a key)."""

    public_key_allowed = True  # a widget or the shop-the-look page calls it from a browser

    permission_classes = [AllowAny]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The photo is a file whatever Accept says (an <img> asks for image/*); errors stay JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        parameters=[OpenApiParameter(look_photos.SIGNATURE_PARAM, str, description="From image_url.")],
        responses={
            (200, "image/*"): OpenApiTypes.BINARY,
            **error_responses(
                401,
                403,
                e401="No signed link, and no API key or editor's token.",
                e403="The signed link is not valid, or has expired: read the look again for a fresh one.",
            ),
        },
    )
    def get(self, request: Request, pk: str) -> FileResponse:
        signature = request.query_params.get(look_photos.SIGNATURE_PARAM)
        if signature is not None:
            try:
                look_photos.check_signature(str(pk), signature)
            except look_photos.BadSignature as exc:
                raise PermissionDenied(str(exc)) from exc
            looks = LookRequest.objects.all()
        elif is_storefront(request) or is_editor(request):
            looks = _readable_looks(request)
        else:
            raise NotAuthenticated(
                "send an API key (X-Api-Key) or an editor's token, or use the look's signed image_url"
            )
        look = get_object_or_404(looks.exclude(image=""), pk=pk)
        try:
            return look_photos.photo_response(look)
        except FileNotFoundError as exc:
            raise NotFound("the look's photo is gone") from exc


class LibraryOutfitList(generics.ListAPIView):
    """The curated library. Storefronts see approved outfits; editors may filter by `status`."""

    serializer_class = s.LibraryOutfitSerializer

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=LibraryOutfit.Status.values)])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[LibraryOutfit]:
        queryset = LibraryOutfit.objects.prefetch_related("items__category").order_by("id")
        from .auth import is_editor

        wanted = self.request.query_params.get("status")
        if wanted and wanted not in LibraryOutfit.Status.values:
            raise ValidationError({"status": [f"use one of {', '.join(LibraryOutfit.Status.values)}"]})
        if not is_editor(self.request):
            return queryset.filter(status=LibraryOutfit.Status.APPROVED)
        return queryset.filter(status=wanted) if wanted else queryset


class LibraryOutfitDetail(generics.RetrieveAPIView):
    serializer_class = s.LibraryOutfitSerializer

    def get_queryset(self) -> QuerySet[LibraryOutfit]:
        from .auth import is_editor

        queryset = LibraryOutfit.objects.prefetch_related("items__category")
        return queryset if is_editor(self.request) else queryset.filter(status=LibraryOutfit.Status.APPROVED)
