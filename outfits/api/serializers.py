"""Shapes of the API's input and output. Validation only: no logic, no writes."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from recsys.rank.complete import Method
from recsys.rank.policy import ImpossibleSlot, wanted_slots
from vision.images import ImageRejected

from .. import look_photos
from ..models import CatalogItem, LibraryItem, LibraryOutfit, LookRequest, Slot
from ..photo_uploads import PhotoUpload, photo_upload_check
from ..suggestions import DEFAULT_DIVERSITY
from .errors import ErrorSerializer

# Pieces of a partial outfit one request may name (items and looks together).
MAX_OUTFIT_PIECES = 10


# Fields that hand-written representations (below) format as the declared ones do.
_PRICE = serializers.DecimalField(max_digits=12, decimal_places=2)
_TIME = serializers.DateTimeField()


def _photo_url(image: Any, request: Any) -> str | None:
    if not image:
        return None
    return request.build_absolute_uri(image.url) if request is not None else str(image.url)


@extend_schema_field({"type": "string", "format": "uri", "nullable": True})
class PhotoUrlField(serializers.Field):
    """The absolute URL of a model's `image`, or null when it has none."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(source="image", read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str | None:
        return _photo_url(value, self.context.get("request"))


class CatalogItemSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="external_id", read_only=True)
    slot = serializers.CharField(source="category.slot", read_only=True)
    category = serializers.CharField(source="category.path", read_only=True)
    image_url = PhotoUrlField()

    def to_representation(self, item: CatalogItem) -> dict[str, Any]:
        """The declared fields, written out by hand: a ModelSerializer builds its fields from the
        model each time it is used, a millisecond of every complete-the-look answer (the fields
        still document the schema; a test holds the two to the same output)."""
        category = item.category
        return {
            "id": item.external_id,
            "title": item.title,
            "brand": item.brand,
            "price": None if item.price is None else _PRICE.to_representation(item.price),
            "gender": item.gender,
            "in_stock": item.in_stock,
            "link": item.link,
            "slot": category.slot,
            "category": category.path,
            "attributes": item.attributes,
            "image_url": _photo_url(item.image, self.context.get("request")),
            "updated_at": _TIME.to_representation(item.updated_at),
        }

    class Meta:
        model = CatalogItem
        fields: tuple[str, ...] = (
            "id",
            "title",
            "brand",
            "price",
            "gender",
            "in_stock",
            "link",
            "slot",
            "category",
            "attributes",
            "image_url",
            "updated_at",
        )


class SuggestedItemSerializer(serializers.ModelSerializer):
    """A catalog item as a suggestion shows it: what a storefront row needs, no more (k=8 over every
    slot stays well under 20 KB). The whole item is at /items/{id}/."""

    id = serializers.CharField(source="external_id", read_only=True)
    slot = serializers.CharField(source="category.slot", read_only=True)
    type = serializers.CharField(source="category.name", read_only=True)
    image_url = PhotoUrlField()

    class Meta:
        model = CatalogItem
        fields = ("id", "title", "brand", "price", "in_stock", "link", "slot", "type", "image_url")


@extend_schema_field({"type": "string", "format": "byte"})
class Base64PhotoField(serializers.Field):
    """A photo as base64 text, into a PhotoUpload checked by size and header only (the worker decodes
    it). Not a CharField: its surrogate check walks every character in Python, 0.1 s for a 1.5 MB
    photo, most of a 500-photo request; the base64 alphabet already rules out what it looks for."""

    def to_internal_value(self, data: Any) -> PhotoUpload:
        if not isinstance(data, str):
            raise serializers.ValidationError("image_base64 is a base64 string")
        # Refuse an oversized photo before decoding it: 4 base64 characters carry 3 bytes.
        if len(data) > (settings.CTL_MAX_UPLOAD_BYTES + 2) // 3 * 4:
            raise serializers.ValidationError(
                f"image: the file is over {settings.CTL_MAX_UPLOAD_BYTES} bytes"
            )
        try:
            photo = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise serializers.ValidationError("image_base64 is not valid base64") from exc
        try:
            return photo_upload_check(photo)
        except ImageRejected as exc:
            raise serializers.ValidationError(f"image: {exc}") from exc

    def to_representation(self, value: Any) -> Any:
        raise NotImplementedError("write-only: a stored photo is shown as image_url")


_CLEARS = 'Absent: kept as it is (a new item: empty). null or "": cleared.'


class CatalogItemUpsertSerializer(serializers.Serializer):
    """One item of a bulk upsert, with merge semantics: an existing item (same `external_id`) changes
    only in the fields sent; a field left out keeps its value, and an explicit null clears a field
    that can be empty (text becomes "", price null, attributes {}). A new item needs `slot`, `family`,
    `type` and `image_base64`; its other fields default to empty (`in_stock` to true). The photo is
    base64 in JSON so a whole batch is one request; the request checks its size and header only, and
    the analysis worker decodes it (the item's `analysis` says how that went)."""

    external_id = serializers.CharField(max_length=120)
    title = serializers.CharField(
        max_length=300, required=False, allow_blank=True, allow_null=True, help_text=_CLEARS
    )
    brand = serializers.CharField(
        max_length=120, required=False, allow_blank=True, allow_null=True, help_text=_CLEARS
    )
    price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text="Absent: kept. null: no price.",
    )
    gender = serializers.CharField(
        max_length=20, required=False, allow_blank=True, allow_null=True, help_text=_CLEARS
    )
    in_stock = serializers.BooleanField(required=False, help_text="Absent: kept (a new item: true).")
    link = serializers.URLField(
        max_length=500, required=False, allow_blank=True, allow_null=True, help_text=_CLEARS
    )
    slot = serializers.ChoiceField(
        choices=Slot.choices,
        required=False,
        help_text="With family and type: the item's category. Absent: kept.",
    )
    family = serializers.CharField(max_length=120, required=False)
    type = serializers.CharField(max_length=120, required=False)
    attributes = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        allow_null=True,
        help_text="Sent: replaces the item's attributes as a whole. Absent: kept. null: cleared.",
    )
    image_base64 = Base64PhotoField(
        required=False,
        write_only=True,
        help_text="A JPEG, PNG or WEBP photo, base64. Absent: the stored photo is kept. A new or changed "
        "photo is queued for analysis.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        category = [name for name in ("slot", "family", "type") if name in attrs]
        if category and len(category) < 3:
            missing = [name for name in ("slot", "family", "type") if name not in attrs]
            raise serializers.ValidationError(
                {
                    name: ["slot, family and type are sent together (a category is the whole path)"]
                    for name in missing
                }
            )
        return attrs


class _BulkItemsField(serializers.ListField):
    """The batch: each item is validated on its own (one bad item is rejected, the others stored)."""


_BulkItems = extend_schema_field(CatalogItemUpsertSerializer(many=True))(_BulkItemsField)


class CatalogBulkUpsertSerializer(serializers.Serializer):
    items = _BulkItems(min_length=1, max_length=500, help_text="1 to 500 items.")


class CatalogAnalysisSerializer(serializers.Serializer):
    """How the analysis of an item's current photo went: pending (queued, or waiting for a worker),
    analysed (in answers), failed (`error` says why: the photo could not be read)."""

    status = serializers.ChoiceField(choices=["pending", "analysed", "failed"])
    error = serializers.CharField(allow_blank=True)


class CatalogBulkItemResultSerializer(serializers.Serializer):
    external_id = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(choices=["created", "updated", "unchanged", "rejected"])
    reason = serializers.CharField(
        allow_blank=True, help_text="Why a rejected item was rejected; else empty."
    )
    # A field named `errors` is taken out of the class by DRF's metaclass: no clash with Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="A rejected item's problems by field; else empty.",
    )
    analysis_queued = serializers.BooleanField(
        help_text="Its photo is new or changed and queued for analysis."
    )
    analysis = CatalogAnalysisSerializer(allow_null=True, help_text="null for a rejected item.")


class CatalogBulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    analysis_queued = serializers.IntegerField(help_text="Items whose photo is queued for analysis.")
    items = CatalogBulkItemResultSerializer(many=True, help_text="One per item sent, in the same order.")


class CatalogBulkRejectedSerializer(ErrorSerializer):
    """The bulk upsert's 400: the error body; when the batch was read but every item was rejected,
    also each item's outcome (a malformed batch has `detail` and `errors` only)."""

    created = serializers.IntegerField(required=False)
    updated = serializers.IntegerField(required=False)
    unchanged = serializers.IntegerField(required=False)
    rejected = serializers.IntegerField(required=False)
    analysis_queued = serializers.IntegerField(required=False)
    items = CatalogBulkItemResultSerializer(many=True, required=False, help_text="One per item sent.")

    class Meta:
        ref_name = "CatalogBulkRejected"


class CatalogItemDetailSerializer(CatalogItemSerializer):
    """A catalog item with how its photo's analysis went."""

    analysis = CatalogAnalysisSerializer(read_only=True)

    def to_representation(self, item: CatalogItem) -> dict[str, Any]:
        return super().to_representation(item) | {"analysis": self.context["analysis"]}

    class Meta(CatalogItemSerializer.Meta):
        fields = (*CatalogItemSerializer.Meta.fields, "analysis")


class SuggestOptionsSerializer(serializers.Serializer):
    """How to rank and which catalog items a shop allows; the same for every complete-the-look call."""

    method = serializers.ChoiceField(
        choices=[m.value for m in Method],
        required=False,
        help_text="compat, library or blend (the default: blend when the index holds a compatibility "
        "model, else library). The answer says which ran.",
    )
    diversity = serializers.FloatField(
        min_value=0.0,
        max_value=1.0,
        default=DEFAULT_DIVERSITY,
        help_text="0 keeps the ranking; towards 1 each row holds more different looks (MMR).",
    )
    in_stock_only = serializers.BooleanField(default=True)
    price_min = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    price_max = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    gender = serializers.CharField(
        max_length=200, required=False, help_text="Comma-separated; unisex and unknown always pass."
    )
    brand = serializers.CharField(max_length=500, required=False, help_text="Only these (comma-separated).")
    exclude_brand = serializers.CharField(max_length=500, required=False, help_text="Never these.")
    exclude_own_type = serializers.BooleanField(
        default=True, help_text="Leave out items of the same type as the shopper's garments."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        low, high = attrs.get("price_min"), attrs.get("price_max")
        if low is not None and high is not None and low > high:
            raise serializers.ValidationError({"price_min": [f"price_min {low} is above price_max {high}"]})
        return attrs


class CompleteTheLookQuerySerializer(SuggestOptionsSerializer):
    slot = serializers.ChoiceField(
        choices=Slot.choices, required=False, help_text="Slot to fill; all complements if omitted."
    )
    k = serializers.IntegerField(min_value=1, max_value=settings.CTL_MAX_K, default=8)


class OutfitCompleteRequestSerializer(SuggestOptionsSerializer):
    """A partial outfit: catalog items and garments of finished looks (uploaded photos)."""

    items = serializers.ListField(
        child=serializers.CharField(max_length=120),
        required=False,
        default=list,
        max_length=MAX_OUTFIT_PIECES,
    )
    looks = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=MAX_OUTFIT_PIECES
    )
    slots = serializers.ListField(
        child=serializers.ChoiceField(choices=Slot.choices),
        required=False,
        default=list,
        max_length=len(Slot.values),
        help_text="Slots to fill; every slot that completes the outfit if omitted.",
    )
    k = serializers.IntegerField(min_value=1, max_value=settings.CTL_MAX_K, default=8)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        pieces = len(attrs.get("items", [])) + len(attrs.get("looks", []))
        if pieces == 0:
            raise serializers.ValidationError({"items": ["give at least one item id or look id"]})
        if pieces > MAX_OUTFIT_PIECES:
            raise serializers.ValidationError(
                {"items": [f"an outfit has at most {MAX_OUTFIT_PIECES} pieces"]}
            )
        for name in ("items", "looks"):
            if len(set(attrs.get(name, []))) != len(attrs.get(name, [])):
                raise serializers.ValidationError({name: ["the same id is given twice"]})
        return attrs


class SimilarQuerySerializer(serializers.Serializer):
    k = serializers.IntegerField(min_value=1, max_value=settings.CTL_MAX_K, default=8)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=200, trim_whitespace=True, help_text='What the shopper typed: "red floral midi dress".'
    )
    slot = serializers.ChoiceField(
        choices=Slot.choices, required=False, help_text="Only this slot (every slot when absent)."
    )
    k = serializers.IntegerField(min_value=1, max_value=settings.CTL_MAX_K, default=8)


class SearchHitSerializer(serializers.Serializer):
    slot = serializers.CharField()
    similarity = serializers.FloatField()
    item = CatalogItemSerializer()


class SearchSerializer(serializers.Serializer):
    query = serializers.CharField()
    model_spec = serializers.CharField()
    build_id = serializers.CharField()
    results = SearchHitSerializer(many=True)


class OutfitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    # A declared field (SerializerMetaclass pops it from the class), not the stubs' Field.source.
    source = serializers.CharField()  # type: ignore[assignment]


class SuggestionSerializer(serializers.Serializer):
    slot = serializers.CharField()
    score = serializers.FloatField(help_text="Relevance within this answer; not comparable across answers.")
    item = SuggestedItemSerializer()
    outfits = OutfitRefSerializer(
        many=True, help_text="Up to 3 library outfits that support this suggestion, strongest first."
    )
    matches = serializers.ListField(
        child=serializers.CharField(),
        help_text='Attribute matches the library attests: "navy goes with camel in 14 stylist outfits".',
    )

    def to_representation(self, row: Any) -> dict[str, Any]:
        """The declared fields, written out by hand: an answer renders some 30 of these on the API's
        busiest path, and DRF's field-by-field machinery took half of its time."""
        item = row.item  # outfits.shown_items.ShownItem
        request = self.context.get("request")
        image_url = item.image_url
        if image_url is not None and request is not None:
            image_url = request.build_absolute_uri(image_url)
        return {
            "slot": row.slot,
            "score": float(row.score),
            "item": {
                "id": item.external_id,
                "title": item.title,
                "brand": item.brand,
                "price": None if item.price is None else _PRICE.to_representation(item.price),
                "in_stock": item.in_stock,
                "link": item.link,
                "slot": item.slot,
                "type": item.type_name,
                "image_url": image_url,
            },
            "outfits": [
                {"id": ref["id"], "external_id": ref["external_id"], "source": ref["source"]}
                for ref in row.outfits
            ],
            "matches": [str(match) for match in row.matches],
        }


class SuggestAnswerSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=[m.value for m in Method], help_text="The method that ranked.")
    model_spec = serializers.CharField()
    build_id = serializers.CharField()
    suggestions = SuggestionSerializer(many=True)
    empty_slots = serializers.DictField(
        child=serializers.CharField(), help_text="Why a wanted slot has no suggestion."
    )
    reason = serializers.CharField(allow_null=True, help_text="Why nothing is suggested (null otherwise).")


class CompleteTheLookSerializer(SuggestAnswerSerializer):
    item = CatalogItemSerializer()

    def to_representation(self, answer: Any) -> dict[str, Any]:
        """The declared fields by hand, as SuggestionSerializer does (DRF copies every declared
        field of both serializers per answer); a test holds the two to the same output."""
        context = self.context
        return {
            "method": answer["method"],
            "model_spec": answer["model_spec"],
            "build_id": answer["build_id"],
            "suggestions": [
                SuggestionSerializer(context=context).to_representation(row) for row in answer["suggestions"]
            ],
            "empty_slots": {slot: str(why) for slot, why in answer["empty_slots"].items()},
            "reason": None if answer["reason"] is None else str(answer["reason"]),
            "item": CatalogItemSerializer(context=context).to_representation(answer["item"]),
        }


class OutfitCompleteSerializer(SuggestAnswerSerializer):
    items = CatalogItemSerializer(many=True)
    looks = serializers.ListField(child=serializers.UUIDField())


class SimilarItemSerializer(serializers.Serializer):
    similarity = serializers.FloatField()
    item = CatalogItemSerializer()


class SimilarSerializer(serializers.Serializer):
    item = CatalogItemSerializer()
    model_spec = serializers.CharField()
    build_id = serializers.CharField()
    similar = SimilarItemSerializer(many=True)


class LookCreateSerializer(serializers.Serializer):
    photo = serializers.FileField(
        help_text=(
            "JPEG, PNG or WEBP photo: one garment, a flat-lay or collage, or a person wearing the look. "
            "Its format is read from its bytes; the part's Content-Type may be missing or generic."
        )
    )
    garment_slot = serializers.ChoiceField(
        choices=Slot.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="What the photo shows, if the shopper said; recognised from the photo otherwise.",
    )
    wanted_slots = serializers.ListField(
        child=serializers.ChoiceField(choices=Slot.choices),
        required=False,
        default=list,
        max_length=len(Slot.values),
    )
    k = serializers.IntegerField(min_value=1, max_value=settings.CTL_MAX_K, default=8)
    method = serializers.ChoiceField(
        choices=[m.value for m in Method],
        required=False,
        allow_blank=True,
        default="",
        help_text="compat, library or blend (default: blend when the index holds a compatibility model).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # With the shopper's word for the garment, a slot that cannot complete it is refused now;
        # otherwise the slot is known after classification and such a slot is left out then.
        if attrs.get("garment_slot"):
            try:
                wanted_slots(attrs["garment_slot"], attrs.get("wanted_slots", []))
            except ImpossibleSlot as exc:
                raise serializers.ValidationError({"wanted_slots": [str(exc)]}) from exc
        return attrs

    def validate_photo(self, photo: Any) -> Any:
        if photo.size == 0:
            raise serializers.ValidationError("the file is empty")
        if photo.size > settings.CTL_MAX_UPLOAD_BYTES:
            raise serializers.ValidationError(f"the file is over {settings.CTL_MAX_UPLOAD_BYTES} bytes")
        # No check of the part's declared Content-Type: clients omit it (curl `;type=`) or send a
        # generic or wrong one. The service identifies the format from the bytes (look_create).
        return photo


class LookSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField(
        help_text="The shopper's photo: a signed link that works without credentials for "
        "CTL_LOOK_PHOTO_URL_SECONDS (an hour); read the look again for a fresh one."
    )
    garment_slot = serializers.SerializerMethodField(
        help_text="The slot of the garment the photo is mostly of: the shopper's word, else the model's."
    )
    result = serializers.SerializerMethodField()

    class Meta:
        model = LookRequest
        fields = (
            "id",
            "status",
            "error",
            "garment_slot",
            "wanted_slots",
            "k",
            "method",
            "image_url",
            "result",
            "created_at",
            "finished_at",
        )

    def get_garment_slot(self, look: LookRequest) -> str | None:
        # The result's main garment once the photo is read, so the two never disagree.
        if look.result is not None:
            return look.result.get("garment_slot") or None
        return look.garment_slot or None

    def get_result(self, look: LookRequest) -> dict[str, Any] | None:
        return self.context.get("result_payload")

    def get_image_url(self, look: LookRequest) -> str | None:
        url = look_photos.photo_url(look)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if url and request is not None else url


class LibraryItemSerializer(serializers.ModelSerializer):
    slot = serializers.CharField(source="category.slot", read_only=True)
    category = serializers.CharField(source="category.path", read_only=True)
    image_url = PhotoUrlField()

    class Meta:
        model = LibraryItem
        fields = ("id", "external_id", "slot", "category", "attributes", "image_url")


class LibraryOutfitSerializer(serializers.ModelSerializer):
    items = LibraryItemSerializer(many=True, read_only=True)

    class Meta:
        model = LibraryOutfit
        fields = (
            "id",
            "external_id",
            "source",
            "status",
            "quality_score",
            "quality_verdict",
            "items",
            "created_at",
        )
