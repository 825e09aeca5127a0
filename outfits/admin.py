"""The editors' admin: curate the library, look after the catalog, rebuild the index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from . import services
from .models import (
    ApiKey,
    CatalogItem,
    Category,
    ImageAnalysis,
    IndexBuild,
    LibraryItem,
    LibraryOutfit,
    LibraryOutfitItem,
    LookRequest,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    class AuthenticatedHttpRequest(HttpRequest):
        """What admin actions get: the admin site lets in logged-in staff only (django-stubs' pattern)."""

        user: User


def thumbnail(image: Any, size: int = 72) -> str:
    if not image:
        return "—"
    return format_html(
        '<img src="{}" style="height:{}px;background:#f2f2f2" loading="lazy">', image.url, size
    )


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
    list_filter: ClassVar[tuple[type[admin.SimpleListFilter] | str, ...]] = (SlotFilter, "source")
    search_fields: ClassVar[tuple[str, ...]] = ("external_id",)
    readonly_fields = ("preview", "image_sha256", "created_at", "updated_at")
    list_select_related = ("category",)
    actions = ("reanalyse",)

    @admin.display(description="photo")
    def thumb(self, obj: Any) -> str:
        return thumbnail(obj.image)

    @admin.display(description="photo")
    def preview(self, obj: Any) -> str:
        return thumbnail(obj.image, 280)

    @admin.display(description="slot", ordering="category__slot")
    def slot(self, obj: Any) -> str:
        return str(obj.category.slot)

    @admin.action(description="Re-analyse photos (queued)")
    def reanalyse(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        tasks = services.garments_enqueue_analysis(kind=self.kind, ids=ids, force=True)  # type: ignore[arg-type]
        self.message_user(request, f"Queued {len(ids)} photos in {tasks} analysis tasks.", messages.SUCCESS)


@admin.register(CatalogItem)
class CatalogItemAdmin(GarmentAdmin):
    kind = "catalog"
    list_display = ("thumb", "external_id", "title", "slot", "brand", "price", "in_stock")
    list_filter = (SlotFilter, "in_stock", "source")
    search_fields = ("external_id", "title", "brand")


class OutfitMembershipInline(admin.TabularInline):
    model = LibraryOutfitItem
    extra = 0
    autocomplete_fields = ("item",)
    readonly_fields = ("photo",)
    fields = ("photo", "item", "position")

    @admin.display(description="photo")
    def photo(self, obj: LibraryOutfitItem) -> str:
        return thumbnail(obj.item.image) if obj.pk else "—"


@admin.register(LibraryItem)
class LibraryItemAdmin(GarmentAdmin):
    kind = "library"
    list_display = ("thumb", "external_id", "slot", "source")


@admin.register(LibraryOutfit)
class LibraryOutfitAdmin(admin.ModelAdmin):
    list_display = ("__str__", "pieces", "status", "quality_score", "reviewed_by", "reviewed_at")
    list_filter = ("status", "source", "items__category__slot")
    search_fields = ("external_id",)
    inlines = (OutfitMembershipInline,)
    readonly_fields = ("quality_score", "reviewed_by", "reviewed_at", "created_at")
    actions = ("approve", "reject", "rebuild_index")

    def get_queryset(self, request: HttpRequest) -> QuerySet[LibraryOutfit]:
        return super().get_queryset(request).prefetch_related("items").distinct()

    @admin.display(description="pieces")
    def pieces(self, obj: LibraryOutfit) -> str:
        return format_html_join(
            "",
            '<img src="{}" style="height:56px;margin-right:2px;background:#f2f2f2" loading="lazy">',
            ((item.image.url,) for item in obj.items.all()),
        )

    def _review(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit], status: str
    ) -> None:
        changed = services.library_outfits_review(
            outfit_ids=list(queryset.values_list("pk", flat=True)), status=status, reviewer=request.user
        )
        self.message_user(request, f"{changed} outfits marked {status}.", messages.SUCCESS)

    @admin.action(description="Approve selected outfits")
    def approve(self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit]) -> None:
        self._review(request, queryset, LibraryOutfit.Status.APPROVED)

    @admin.action(description="Reject selected outfits")
    def reject(self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit]) -> None:
        self._review(request, queryset, LibraryOutfit.Status.REJECTED)

    @admin.action(description="Rebuild the index (queued)")
    def rebuild_index(self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit]) -> None:
        build = services.index_build_request(requested_by=request.user)
        self.message_user(request, f"Index build {build.build_id} queued.", messages.SUCCESS)


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
    list_filter = ("status", "model_spec")
    readonly_fields = [f.name for f in ImageAnalysis._meta.fields if f.name != "embedding"]
    exclude = ("embedding",)

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

    @admin.action(description="Rebuild the index (queued)")
    def rebuild_index(self, request: AuthenticatedHttpRequest, queryset: QuerySet[IndexBuild]) -> None:
        build = services.index_build_request(requested_by=request.user)
        self.message_user(request, f"Index build {build.build_id} queued.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(LookRequest)
class LookRequestAdmin(admin.ModelAdmin):
    list_display = ("id", "photo", "status", "garment_slot", "created_at", "finished_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in LookRequest._meta.fields]

    @admin.display(description="photo")
    def photo(self, obj: LookRequest) -> str:
        return thumbnail(obj.image)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "active", "created_at", "last_used_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
    fields = ("name", "active", "prefix", "key_hash", "created_at", "last_used_at")

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued, raw = ApiKey.issue(obj.name)
        obj.pk, obj.prefix, obj.key_hash = issued.pk, issued.prefix, issued.key_hash
        # Shown once: only the hash is stored.
        self.message_user(
            request, f"API key for {obj.name}: {raw} — copy it now, it is not shown again.", messages.WARNING
        )
