"""The editors' admin: curate the library, look after the catalog, rebuild the index."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Field, QuerySet, URLField, Value, When
from django.db.models.expressions import OrderBy
from django.http import Http404, HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme

from vision.images import ImageRejected

from . import look_photos, outfit_photos, selectors, services
from .admin_outfits import OutfitBuilderInline, OutfitGridMixin
from .forms import ApiKeyForm, GarmentPhotoForm, OutfitPhotoUploadForm
from .models import (
    ApiKey,
    CatalogItem,
    Category,
    CategoryReview,
    GarmentRegion,
    ImageAnalysis,
    IndexBuild,
    LibraryItem,
    LibraryOutfit,
    LookRequest,
    OutfitPhoto,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    class AuthenticatedHttpRequest(HttpRequest):
        """What admin actions get: the admin site lets in logged-in staff only (django-stubs' pattern)."""

        user: User


def thumbnail(image: Any, size: int = 72) -> str:
    return thumbnail_at(image.url, size) if image else "—"


def thumbnail_at(url: str, size: int = 72) -> str:
    return format_html('<img src="{}" style="height:{}px;background:#f2f2f2" loading="lazy">', url, size)


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
        return thumbnail(obj.image)

    @admin.display(description="photo")
    def preview(self, obj: Any) -> str:
        return thumbnail(obj.image, 280)

    @admin.display(description="slot", ordering="category__slot")
    def slot(self, obj: Any) -> str:
        return str(obj.category.slot)

    @admin.action(description="Re-analyse photos (queued)", permissions=["change"])
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

    @admin.action(description="Approve selected outfits", permissions=["change"])
    def approve(self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit]) -> None:
        self._review(request, queryset, LibraryOutfit.Status.APPROVED)

    @admin.action(description="Reject selected outfits", permissions=["change"])
    def reject(self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit]) -> None:
        self._review(request, queryset, LibraryOutfit.Status.REJECTED)

    @admin.action(description="Rebuild the index (queued)", permissions=["change"])
    def rebuild_index(self, request: AuthenticatedHttpRequest, queryset: QuerySet[LibraryOutfit]) -> None:
        build = services.index_build_request(requested_by=request.user)
        self.message_user(request, f"Index build {build.build_id} queued.", messages.SUCCESS)


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

    @admin.action(description="Rebuild the index (queued)", permissions=["add"])
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
        url = look_photos.photo_url(obj)
        return thumbnail_at(url) if url else "—"


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


class GarmentKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("catalog", "Catalog items"), ("library", "Library items")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("catalog", "library"):
            return queryset.filter(**{f"{self.value()}_item__isnull": False})
        return queryset


@admin.register(CategoryReview)
class CategoryReviewAdmin(admin.ModelAdmin):
    """The mislabel audit's queue (`manage.py audit_categories` fills it): open reviews first, the
    likeliest mislabels first. An editor accepts the suggested category or dismisses it, per row in
    one click or in bulk; every decision is written to the admin log. Rows are the model's: read-only.
    """

    list_display = (
        "thumb",
        "external_id",
        "kind",
        "correction",
        "confidence_",
        "status",
        "reviewed_by",
        "decide",
    )
    list_display_links = ("external_id",)
    list_filter = ("status", GarmentKindFilter)
    search_fields = ("catalog_item__external_id", "library_item__external_id")
    list_select_related = (
        "catalog_item",
        "library_item",
        "stated__parent__parent",
        "suggested__parent__parent",
        "reviewed_by",
    )
    readonly_fields = (
        "preview",
        "garment_link",
        "stated",
        "suggested",
        "confidence",
        "model_spec",
        "status",
        "reviewed_by",
        "reviewed_at",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    actions = ("accept", "dismiss")

    def get_ordering(self, request: HttpRequest) -> tuple[str | OrderBy, ...]:
        # Open reviews first: an expression, which `ordering` (checked for model fields) cannot hold.
        open_first = Case(When(status=CategoryReview.Status.OPEN, then=Value(0)), default=Value(1))
        return (open_first.asc(), "-confidence", "pk")

    def get_list_display(self, request: HttpRequest) -> tuple[Any, ...]:
        shown = tuple(super().get_list_display(request))
        return shown if self.has_change_permission(request) else tuple(f for f in shown if f != "decide")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="photo")
    def thumb(self, obj: CategoryReview) -> str:
        return thumbnail(obj.garment.image)

    @admin.display(description="photo")
    def preview(self, obj: CategoryReview) -> str:
        return thumbnail(obj.garment.image, 280)

    @admin.display(description="external id")
    def external_id(self, obj: CategoryReview) -> str:
        return obj.garment.external_id

    @admin.display(description="kind")
    def kind(self, obj: CategoryReview) -> str:
        return "catalog" if obj.catalog_item_id else "library"

    @admin.display(description="garment")
    def garment_link(self, obj: CategoryReview) -> str:
        garment = obj.garment
        url = reverse(f"admin:outfits_{garment._meta.model_name}_change", args=[garment.pk])
        return format_html('<a href="{}">{}</a>', url, garment)

    @admin.display(description="stated → suggested")
    def correction(self, obj: CategoryReview) -> str:
        return format_html("{} → <strong>{}</strong>", obj.stated.path, obj.suggested.path)

    @admin.display(description="confidence", ordering="confidence")
    def confidence_(self, obj: CategoryReview) -> str:
        return f"{obj.confidence:.3f}"

    @admin.display(description="review")
    def decide(self, obj: CategoryReview) -> str:
        # The changelist is one <form> already (it carries the CSRF token) and forms cannot nest, so
        # each button posts that form to its own review's view instead.
        choices = [("accept", "Accept")] if obj.status != CategoryReview.Status.ACCEPTED else []
        if obj.status == CategoryReview.Status.OPEN:
            choices.append(("dismiss", "Dismiss"))
        return (
            format_html_join(
                " ",
                '<button type="submit" class="button" formaction="{}" formmethod="post">{}</button>',
                (
                    (reverse(f"admin:outfits_categoryreview_{name}", args=[obj.pk]), label)
                    for name, label in choices
                ),
            )
            or "—"
        )

    def get_urls(self) -> list[URLPattern]:
        def view(decision: str) -> Any:
            return self.admin_site.admin_view(partial(self.decide_view, decision=decision))

        return [
            path("<int:review_id>/accept/", view("accept"), name="outfits_categoryreview_accept"),
            path("<int:review_id>/dismiss/", view("dismiss"), name="outfits_categoryreview_dismiss"),
            *super().get_urls(),
        ]

    def decide_view(
        self, request: AuthenticatedHttpRequest, review_id: int, *, decision: str
    ) -> HttpResponseBase:
        """One click on a row's Accept or Dismiss (POST only; the admin site checks CSRF and staff)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        review = self.get_object(request, str(review_id))
        if review is None:
            raise Http404(f"no category review {review_id}")
        if not self.has_change_permission(request, review):
            raise PermissionDenied
        self._decide(request, [review], decision)
        back = request.META.get("HTTP_REFERER", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
            back = reverse("admin:outfits_categoryreview_changelist")
        return HttpResponseRedirect(back)

    @admin.action(description="Accept the suggested categories", permissions=["change"])
    def accept(self, request: AuthenticatedHttpRequest, queryset: QuerySet[CategoryReview]) -> None:
        self._decide(request, list(queryset), "accept")

    @admin.action(description="Dismiss the suggestions (the stated categories stand)", permissions=["change"])
    def dismiss(self, request: AuthenticatedHttpRequest, queryset: QuerySet[CategoryReview]) -> None:
        self._decide(request, list(queryset), "dismiss")

    def _decide(
        self, request: AuthenticatedHttpRequest, reviews: list[CategoryReview], decision: str
    ) -> None:
        refused = 0
        if decision == "accept":
            # Accepting recategorises the garment: catalog data needs the catalog item's own right.
            allowed = [
                r for r in reviews if request.user.has_perm(f"outfits.change_{r.garment._meta.model_name}")
            ]
            refused, reviews = len(reviews) - len(allowed), allowed
        ids = [review.pk for review in reviews]
        if decision == "accept":
            outcome = services.category_review_accept(review_ids=ids, reviewer=request.user)
        else:
            outcome = services.category_review_dismiss(review_ids=ids, reviewer=request.user)
        by_pk = {review.pk: review for review in reviews}
        for pk in outcome.reviews:
            review = by_pk[pk]
            if decision == "accept":
                change = f"category {review.stated.path} → {review.suggested.path} (mislabel audit)"
                self.log_change(request, review, f"Accepted: {change}")
                self.log_change(request, review.garment, f"Changed {change}")
            else:
                self.log_change(request, review, f"Dismissed: {review.suggested.path} suggested")
        done = "accepted" if decision == "accept" else "dismissed"
        text = f"{len(outcome.reviews)} suggestions {done}."
        if outcome.skipped:
            text += f" {outcome.skipped} skipped (already decided, or the garment was recategorised since)."
        if refused:
            text += f" {refused} refused: changing their garments' category needs that model's permission."
        if outcome.slots_changed:
            text += f" {outcome.slots_changed} garments changed slot: rebuild the index to place them."
        self.message_user(
            request, text, messages.SUCCESS if outcome.reviews and not refused else messages.WARNING
        )


@admin.register(OutfitPhoto)
class OutfitPhotoAdmin(admin.ModelAdmin):
    """Outfit photos become pending library outfits: upload one or many (the "Upload outfit photos"
    button), then review the outfits they made in the quality queue."""

    list_display = (
        "thumb",
        "filename",
        "source",
        "status",
        "photo_kind",
        "quality_score",
        "problems",
        "outfit_link",
    )
    list_filter = ("status", "source", "photo_kind")
    search_fields = ("filename", "source", "image_sha256")
    readonly_fields = (
        "preview", "filename", "source", "image_sha256", "status", "error", "photo_kind", "found",
        "quality_score", "quality_problems", "outfit", "uploaded_by", "created_at", "started_at",
        "finished_at",
    )  # fmt: skip
    fields = ("preview", *readonly_fields[1:], "quality_override")
    actions = ("keep_despite_problems", "reanalyse")
    change_list_template = "admin/outfits/outfitphoto/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # photos come in through the upload view, which stores and queues them

    @admin.display(description="photo")
    def thumb(self, obj: OutfitPhoto) -> str:
        return thumbnail(obj.image)

    @admin.display(description="photo")
    def preview(self, obj: OutfitPhoto) -> str:
        return thumbnail(obj.image, 360)

    @admin.display(description="garments found")
    def found(self, obj: OutfitPhoto) -> str:
        return (
            format_html_join(
                "",
                "<div>{} {} ({}) at {}{}</div>",
                (
                    (
                        g.get("slot") or "?",
                        g.get("part", ""),
                        f"{float(g.get('confidence') or 0):.0%}",
                        g.get("box"),
                        "" if g.get("placed") else f": not used, {g.get('reason', '')}",
                    )
                    for g in obj.garments
                ),
            )
            or "—"
        )

    @admin.display(description="problems")
    def problems(self, obj: OutfitPhoto) -> str:
        return "; ".join(obj.quality_problems) or obj.error or "—"

    @admin.display(description="outfit")
    def outfit_link(self, obj: OutfitPhoto) -> str:
        if obj.outfit_id is None:
            return "—"
        url = reverse("admin:outfits_libraryoutfit_change", args=[obj.outfit_id])
        return format_html('<a href="{}">{}</a>', url, obj.outfit)

    def save_model(self, request: HttpRequest, obj: OutfitPhoto, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if obj.outfit_id is not None and "quality_override" in form.changed_data:
            self._refresh([obj.outfit_id])

    def _refresh(self, outfit_ids: list[int]) -> None:
        spec = selectors.newest_model_spec()
        if spec is not None:
            services.library_outfits_refresh_quality(outfit_ids=outfit_ids, model_spec=spec)
            services.library_changed()

    @admin.action(description="Keep in the library despite the photo's problems", permissions=["change"])
    def keep_despite_problems(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[OutfitPhoto]
    ) -> None:
        changed = queryset.exclude(quality_override="keep").update(quality_override="keep")
        self._refresh([pk for pk in queryset.values_list("outfit_id", flat=True) if pk is not None])
        self.message_user(request, f"{changed} photos kept despite their problems.", messages.SUCCESS)

    @admin.action(description="Analyse again (queued)", permissions=["change"])
    def reanalyse(self, request: AuthenticatedHttpRequest, queryset: QuerySet[OutfitPhoto]) -> None:
        from . import tasks

        ids = list(queryset.values_list("pk", flat=True))
        OutfitPhoto.objects.filter(pk__in=ids).update(status=OutfitPhoto.Status.PENDING)
        for pk in ids:
            tasks.outfit_photo_analyze.delay(pk)
        self.message_user(request, f"{len(ids)} photos queued for analysis.", messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        upload = self.admin_site.admin_view(self.upload_view)
        return [path("upload/", upload, name="outfits_outfitphoto_upload"), *super().get_urls()]

    def upload_view(self, request: AuthenticatedHttpRequest) -> HttpResponseBase:
        """Upload one photo or a whole folder's: each is stored and queued; refused ones are named."""
        if not self.has_view_permission(request) or not request.user.has_perm("outfits.add_libraryoutfit"):
            raise PermissionDenied
        form = OutfitPhotoUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            added = again = 0
            for photo in form.cleaned_data["photos"]:
                try:
                    outcome = outfit_photos.outfit_photo_add(
                        photo=photo.read(),
                        filename=photo.name or "photo.jpg",
                        source=form.cleaned_data["source"],
                        uploaded_by=request.user,
                    )
                except (ImageRejected, OSError) as exc:
                    self.message_user(request, f"Refused {photo.name}: {exc}", messages.ERROR)
                    continue
                added, again = added + outcome.created, again + (not outcome.created)
            self.message_user(
                request,
                f"{added} photo{'s' if added != 1 else ''} queued for analysis"
                + (f", {again} already imported" if again else "")
                + ": their outfits appear in the quality queue (pending library outfits).",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:outfits_outfitphoto_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload outfit photos",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/outfits/outfitphoto/upload.html", context)


# The editors' workbench (quality queue, index status) registers its own admins.
from . import admin_queues  # noqa: E402, F401
