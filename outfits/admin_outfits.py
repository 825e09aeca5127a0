"""Library outfits shown as outfits in the admin: a grid of outfit cards on the changelist, and an
outfit builder (photos of the pieces, add by search, reorder, remove) on an outfit's page.

Both keep Django's machinery: the grid is the changelist's own results template restyled (filters,
search, pagination and actions work as on any list), the builder is an inline formset (so saving
checks the change permission and writes the admin log like any change)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import ForeignKey, Prefetch, QuerySet
from django.forms import BaseInlineFormSet, Media, ModelChoiceField
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import URLPattern, path
from django.utils.html import format_html

from . import selectors
from .models import ImageAnalysis, LibraryItem, LibraryOutfit, LibraryOutfitItem, QualityVerdict


@dataclass(frozen=True)
class PieceCard:
    """One piece of an outfit card: what an editor needs to judge it at a glance."""

    item_id: int
    external_id: str
    title: str  # the garment in words, else its id
    category: str
    slot: str
    image_url: str
    verdict: str  # "keep", "reject" or "" (not analysed yet); an editor's override wins
    score: float | None
    overridden: bool


@dataclass(frozen=True)
class OutfitCard:
    outfit: LibraryOutfit
    pieces: list[PieceCard]


@dataclass(frozen=True)
class PieceReading:
    score: float | None
    verdict: str  # the filter's: "keep", "reject"; "" when not analysed
    description: str  # the garment in words as the model read it ("navy cotton t-shirt"), or ""


NOT_READ = PieceReading(score=None, verdict="", description="")


def piece_readings(item_ids: list[int]) -> dict[int, PieceReading]:
    """Each library item's quality and description under the newest model (one query)."""
    spec = selectors.newest_model_spec()
    if spec is None or not item_ids:
        return {}
    return {
        item_id: PieceReading(score=score, verdict=verdict, description=description)
        for item_id, score, verdict, description in ImageAnalysis.objects.filter(
            library_item_id__in=item_ids, model_spec=spec, status=ImageAnalysis.Status.OK
        ).values_list("library_item_id", "quality_score", "quality_verdict", "description")
    }


def piece_title(item: LibraryItem, reading: PieceReading) -> str:
    """Library items carry no shop title: the model's words for the garment, else its id."""
    return reading.description.capitalize() if reading.description else item.external_id


def outfit_cards(outfits: list[LibraryOutfit]) -> list[OutfitCard]:
    """Cards for a page of outfits whose memberships (with item and category) are prefetched."""
    memberships = {o.pk: list(o.memberships.all()) for o in outfits}
    readings = piece_readings([m.item_id for ms in memberships.values() for m in ms])
    cards = []
    for outfit in outfits:
        pieces = []
        for membership in memberships[outfit.pk]:
            item = membership.item
            reading = readings.get(item.pk, NOT_READ)
            pieces.append(
                PieceCard(
                    item_id=item.pk,
                    external_id=item.external_id,
                    title=piece_title(item, reading),
                    category=item.category.name,
                    slot=item.category.slot,
                    image_url=item.image.url if item.image else "",
                    verdict=item.quality_override or reading.verdict,
                    score=reading.score,
                    overridden=bool(item.quality_override),
                )
            )
        cards.append(OutfitCard(outfit=outfit, pieces=pieces))
    return cards


class OutfitGridMixin(admin.ModelAdmin):
    """For LibraryOutfitAdmin: the changelist as a grid of outfit cards, many outfits a screen.

    The grid is admin/outfits/libraryoutfit/change_list_results.html; its cards are table rows laid
    out as a CSS grid, so the admin's actions script (which looks for `tr input.action-select`) and
    "select all" still work."""

    list_per_page = 60

    def get_queryset(self, request: HttpRequest) -> QuerySet[LibraryOutfit]:
        pieces = LibraryOutfitItem.objects.select_related("item__category").order_by("position", "pk")
        return super().get_queryset(request).prefetch_related(Prefetch("memberships", queryset=pieces))

    def get_changelist_instance(self, request: HttpRequest) -> ChangeList:
        changelist = super().get_changelist_instance(request)
        # The page's outfits are fetched by now; their cards cost one more query for quality.
        changelist.outfit_cards = outfit_cards(list(changelist.result_list))  # type: ignore[attr-defined]
        return changelist

    def get_urls(self) -> list[URLPattern]:
        preview = self.admin_site.admin_view(self.piece_preview_view)
        search = self.admin_site.admin_view(self.piece_search_view)
        return [
            path("pieces/<int:item_id>/preview/", preview, name="outfits_libraryoutfit_piece_preview"),
            path("pieces/search/", search, name="outfits_libraryoutfit_piece_search"),
            *super().get_urls(),
        ]

    def piece_search_view(self, request: HttpRequest) -> HttpResponseBase:
        """The builder's search for pieces: Django's autocomplete (its checks, LibraryItemAdmin's
        search fields and paging), each result with its photo and slot."""
        return PieceSearchView.as_view(admin_site=self.admin_site)(request)

    def piece_preview_view(self, request: HttpRequest, item_id: int) -> JsonResponse:
        """A library item's photo, slot and quality for the builder's row of a piece just picked
        (the autocomplete answers with ids and names only). Staff with view rights on library items."""
        if not request.user.has_perm("outfits.view_libraryitem"):
            return JsonResponse({"detail": "You may not view library items."}, status=403)
        item = LibraryItem.objects.select_related("category").filter(pk=item_id).first()
        if item is None:
            return JsonResponse({"detail": f"No library item {item_id}."}, status=404)
        reading = piece_readings([item.pk]).get(item.pk, NOT_READ)
        return JsonResponse(
            {
                "id": item.pk,
                "title": piece_title(item, reading),
                "slot": item.category.slot,
                "category": item.category.name,
                "image": item.image.url if item.image else "",
                "verdict": item.quality_override or reading.verdict,
                "score": reading.score,
            }
        )


class PieceSearchView(AutocompleteJsonView):
    """Django's autocomplete answer, plus each library item's photo and slot for the result list."""

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("category")

    def serialize_result(self, obj: Any, to_field_name: str) -> dict[str, Any]:
        return {
            **super().serialize_result(obj, to_field_name),
            "image": obj.image.url if obj.image else "",
            "slot": f"{obj.category.slot} · {obj.category.name}",
        }


class PieceSearchSelect(AutocompleteSelect):
    """Django's autocomplete select asking PieceSearchView. Its class is `piece-search`, not
    `admin-autocomplete`: outfit_builder.js starts its select2 (with thumbnails in the results)
    where Django's autocomplete.js would start a plain one."""

    url_name = "%s:outfits_libraryoutfit_piece_search"

    def build_attrs(self, base_attrs: dict[str, Any], extra_attrs: dict[str, Any] | None = None) -> Any:
        attrs = super().build_attrs(base_attrs, extra_attrs)
        attrs["class"] = " ".join(
            "piece-search" if name == "admin-autocomplete" else name for name in attrs["class"].split()
        )
        return attrs

    @property
    def media(self) -> Any:
        return super().media + Media(js=["outfits/admin/outfit_builder.js"])


class PiecesFormSet(BaseInlineFormSet):
    """The builder's rows with their inputs named for screen readers: a tabular inline puts them
    under column headings, which label nothing (axe: "form elements must have labels")."""

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        membership = form.instance
        piece = f"piece {membership.item.external_id}" if membership.item_id else "this piece"
        for name, label in (("position", f"Position of {piece}"), ("DELETE", f"Delete {piece}")):
            if name in form.fields:
                form.fields[name].widget.attrs["aria-label"] = label


class OutfitBuilderInline(admin.TabularInline):
    """An outfit's pieces in order, with their photos: add one by searching the library (Django's
    autocomplete over LibraryItemAdmin.search_fields, a photo per result: PieceSearchView), move by
    dragging or with ↑/↓ (buttons: keyboard-reachable), remove with the delete box.
    outfit_builder.js keeps `position` in the order shown."""

    model = LibraryOutfitItem
    formset = PiecesFormSet
    extra = 0
    autocomplete_fields = ("item",)
    readonly_fields = ("photo", "slot", "quality")
    fields = ("photo", "item", "slot", "quality", "position")
    ordering = ("position", "pk")
    classes = ("outfit-builder",)
    verbose_name = "piece"
    verbose_name_plural = "pieces (search to add, drag or ↑/↓ to reorder, tick delete to remove)"

    class Media:
        js = ("outfits/admin/outfit_builder.js",)
        css = {"all": ("outfits/admin/outfits.css",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[LibraryOutfitItem]:
        return super().get_queryset(request).select_related("item__category")

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "item":
            kwargs["widget"] = PieceSearchSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="photo")
    def photo(self, obj: LibraryOutfitItem) -> str:
        if not obj.pk or not obj.item.image:
            return "—"
        reading = piece_readings([obj.item_id]).get(obj.item_id, NOT_READ)
        return format_html(
            '<img class="outfit-piece-photo" src="{}" alt="{}" loading="lazy">',
            obj.item.image.url,
            piece_title(obj.item, reading),  # as the preview of a piece just picked is named
        )

    @admin.display(description="slot")
    def slot(self, obj: LibraryOutfitItem) -> str:
        return obj.item.category.slot if obj.pk else "—"

    @admin.display(description="quality")
    def quality(self, obj: LibraryOutfitItem) -> str:
        if not obj.pk:
            return "—"
        reading = piece_readings([obj.item_id]).get(obj.item_id, NOT_READ)
        verdict = obj.item.quality_override or reading.verdict
        shown = QualityVerdict(verdict).label if verdict else "not analysed"
        return f"{shown} {reading.score:.2f}" if reading.score is not None else shown
