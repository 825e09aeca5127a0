"""The editors' admin: curate the library, look after the catalog, rebuild the index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin, messages
from django.db.models import Field, QuerySet, URLField
from django.http import HttpRequest
from django.utils.html import format_html_join

from . import look_photos, services
from .admin_base import index_rebuild, thumbnail, thumbnail_at
from .admin_outfits import OutfitBuilderInline, OutfitGridMixin
from .forms import ApiKeyForm, GarmentPhotoForm
from .models import (
    ApiKey,
    CatalogItem,
    Category,
    GarmentRegion,
    ImageAnalysis,
    IndexBuild,
    LibraryItem,
    LibraryOutfit,
    LookRequest,
)

if TYPE_CHECKING:
    from .admin_base import AuthenticatedHttpRequest


class SlotFilter(admin.SimpleListFilter):
    title = "slot"
    parameter_name = "slot"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from .models import Slot

        return list(Slot.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(category__slot=self.value()) if self.value() else queryset


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("path", "level", "slot")
    list_filter = ("level", "slot")
    search_fields = ("name",)


class GarmentAdmin(admin.ModelAdmin):
    kind = ""
    form = GarmentPhotoForm
    # A shop link typed without a scheme is https (Django 6's default; 5.2 warns of http's).
    formfield_overrides: ClassVar[dict[type[Field[Any, Any]], dict[str, Any]]] = {
        URLField: {"assume_scheme": "https"}
    }
    list_filter: ClassVar[tuple[type[admin.SimpleListFilter] | str, ...]] = (SlotFilter, "source")
    search_fields: ClassVar[tuple[str, ...]] = ("external_id",)
    readonly_fields = ("preview", "image_sha256", "created_at", "updated_at")
    list_select_related = ("category",)
    actions = ("reanalyse",)

    @admin.display(description="photo")
    def thumb(self, obj: Any) -> str:
        return thumbnail(obj.image, alt=obj.external_id)

    @admin.display(description="photo")
    def preview(self, obj: Any) -> str:
        return thumbnail(obj.image, 280, alt=obj.external_id)

    @admin.display(description="slot", ordering="category__slot")
    def slot(self, obj: Any) -> str:
        return str(obj.category.slot)

    @admin.action(description="Re-analyse photos (queued)", permissions=["change"])
    def reanalyse(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        garments = list(queryset)
        ids = [garment.pk for garment in garments]
        tasks = services.garments_enqueue_analysis(kind=self.kind, ids=ids, force=True)  # type: ignore[arg-type]
        for garment in garments:
            self.log_change(request, garment, "Analysis queued again")
        self.message_user(request, f"Queued {len(ids)} photos in {tasks} analysis tasks.", messages.SUCCESS)


@admin.register(CatalogItem)
class CatalogItemAdmin(GarmentAdmin):
    kind = "catalog"
    list_display = ("thumb", "external_id", "title", "slot", "brand", "price", "in_stock")
    list_filter = (SlotFilter, "in_stock", "source")
    search_fields = ("external_id", "title", "brand")


@admin.register(LibraryItem)
class LibraryItemAdmin(GarmentAdmin):
    kind = "library"
    list_display = ("thumb", "external_id", "slot", "source")
    # Also the outfit builder's search for pieces (its autocomplete): by id, category or slot.
    search_fields = ("external_id", "category__name", "=category__slot")


@admin.register(LibraryOutfit)
class LibraryOutfitAdmin(OutfitGridMixin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "pieces",
        "status",
        "quality_score",
        "quality_verdict",
        "problems",
        "reviewed_by",
    )
    list_filter = ("status", "quality_verdict", "source", "items__category__slot")
    search_fields = ("external_id",)
    inlines = (OutfitBuilderInline,)
    readonly_fields = ("quality_score", "reviewed_by", "reviewed_at", "created_at")
    actions = ("approve", "reject", "rebuild_index")

    def get_queryset(self, request: HttpRequest) -> QuerySet[LibraryOutfit]:
        return super().get_queryset(request).select_related("photo").prefetch_related("items").distinct()

    @admin.display(description="photo's problems")
    def problems(self, obj: LibraryOutfit) -> str:
        photo = getattr(obj, "photo", None)  # only outfits made from an outfit photo have one
        if photo is None:
            return "—"
        kept = " (kept by an editor)" if photo.quality_override == "keep" else ""
        return "; ".join(photo.quality_problems) + kept if photo.quality_problems else "none"

    @admin.display(description="pieces")
    def pieces(self, obj: LibraryOutfit) -> str:
        return format_html_join(
            "",
            '<img src="{}" alt="{}" style="height:56px;margin-right:2px;background:#f2f2f2" loading="lazy">',
            ((item.image.url, item.external_id) for item in obj.items.all()),
        )

    def _review(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit], status: str
    ) -> None:
        outfits = list(queryset)
        changed = services.library_outfits_review(
            outfit_ids=[outfit.pk for outfit in outfits], status=status, reviewer=request.user
        )
        for outfit in outfits:
            self.log_change(request, outfit, f"{status.capitalize()} in the outfit list")
        self.message_user(request, f"{changed} outfits marked {status}.", messages.SUCCESS)

    @admin.action(description="Approve selected outfits", permissions=["change"])
    def approve(self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit]) -> None:
        self._review(request, queryset, LibraryOutfit.Status.APPROVED)

    @admin.action(description="Reject selected outfits", permissions=["change"])
    def reject(self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit]) -> None:
        self._review(request, queryset, LibraryOutfit.Status.REJECTED)

    @admin.action(description="Rebuild the index (queued)", permissions=["change"])
    def rebuild_index(self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit]) -> None:
        index_rebuild(self, request, "from the outfit list")


class GarmentRegionInline(admin.TabularInline):
    """The garments found in a photo of several, in reading order: where, what, and why not placed."""

    model = GarmentRegion
    extra = 0
    can_delete = False
    fields = ("position", "part", "box", "slot", "slot_confidence", "garment_odds", "placed", "reason")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ImageAnalysis)
class ImageAnalysisAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "subject",
        "model_spec",
        "status",
        "quality_score",
        "predicted_category",
        "updated_at",
    )
    list_filter = ("status", "model_spec", "photo_kind")
    readonly_fields = [
        f.name for f in ImageAnalysis._meta.fields if f.name not in ("embedding", "text_embedding")
    ]
    exclude = ("embedding", "text_embedding")
    inlines = (GarmentRegionInline,)

    @admin.display(description="subject")
    def subject(self, obj: ImageAnalysis) -> str:
        return str(obj.catalog_item or obj.library_item or obj.look)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(IndexBuild)
class IndexBuildAdmin(admin.ModelAdmin):
    list_display = ("build_id", "status", "active", "model_spec", "item_counts", "seconds", "finished_at")
    list_filter = ("status", "active")
    readonly_fields = [f.name for f in IndexBuild._meta.fields]
    actions = ("rebuild_index",)

    @admin.display(description="items")
    def item_counts(self, obj: IndexBuild) -> str:
        return ", ".join(f"{name} {n}" for name, n in sorted(obj.counts.items())) or "—"

    @admin.action(description="Rebuild the index (queued)", permissions=["rebuild"])
    def rebuild_index(self, request: AuthenticatedHttpRequest, queryset: QuerySet[IndexBuild]) -> None:
        index_rebuild(self, request, "from the index builds list")

    def has_rebuild_permission(self, request: HttpRequest) -> bool:
        # The model's add right, which has_add_permission cannot say: that one hides the add form
        # (builds are made by the rebuild, not typed in), and an action needing it was never offered.
        return request.user.has_perm("outfits.add_indexbuild")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(LookRequest)
class LookRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "photo", "status", "garment_slot", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in LookRequest._meta.fields]

    @admin.display(description="photo")
    def photo(self, obj: LookRequest) -> str:
        url = look_photos.photo_url(obj)
        return thumbnail_at(url, alt=f"photo of look request {obj.pk}") if url else "—"


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Secret keys for shops' servers; public keys for their pages, each with its allowed origins."""

    form = ApiKeyForm
    list_display = ("name", "kind", "prefix", "origins", "active", "created_at", "last_used_at")
    list_filter = ("kind", "active")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    fields = ("name", "kind", "allowed_origins", "active", "prefix", "key_hash", "created_at", "last_used_at")

    @admin.display(description="allowed origins")
    def origins(self, obj: ApiKey) -> str:
        return ", ".join(obj.allowed_origins or []) or "—"

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        # A key's kind is fixed once issued: a secret key turned public would already be in servers'
        # configurations, and a public one turned secret is already in pages. Issue a new key instead.
        return (*self.readonly_fields, "kind") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued, raw = ApiKey.issue(obj.name, kind=obj.kind, origins=obj.allowed_origins)
        obj.pk, obj.prefix, obj.key_hash = issued.pk, issued.prefix, issued.key_hash
        # Shown once: only the hash is stored.
        self.message_user(
            request,
            f"{obj.get_kind_display()} API key for {obj.name}: {raw} — copy it now, it is not shown again.",
            messages.WARNING,
        )


# The editors' workbench registers its own admins: the quality queue and index status, the mislabel
# queue, outfit photos.
from . import admin_photos, admin_queues, admin_reviews  # noqa: E402, F401
