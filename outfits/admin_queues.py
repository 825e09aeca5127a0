"""The editors' workbench in the admin: the quality queue (pending library outfits with the quality
filter's score and reasons) and the index status page. Every decision is written to Django's admin
log (LogEntry), against the library outfit or index build it changed.

Both are proxies of the models they show (outfits.models.QualityQueueOutfit, IndexStatus), so each
has its own entry on the admin index; their permissions are the real models' (LibraryOutfit,
IndexBuild), so one grant covers the outfit list and the queue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from . import fresh_items, selectors, services
from .admin_base import index_rebuild
from .models import (
    ImageAnalysis,
    IndexBuild,
    IndexStatus,
    LibraryItem,
    LibraryOutfit,
    OutfitPhoto,
    QualityQueueOutfit,
    QualityVerdict,
)

if TYPE_CHECKING:
    from .admin_base import AuthenticatedHttpRequest


def _thumb(url: str, size: int = 72, title: str = "") -> str:
    return format_html(
        '<img src="{}" alt="{}" title="{}" style="height:{}px;margin-right:2px;background:#f2f2f2"'
        ' loading="lazy">',
        url,
        title,
        title,
        size,
    )


class ConcretePermissions:
    """A proxy's admin asks for the real model's permissions: an editor granted LibraryOutfit (or
    IndexBuild) rights gets the queue (or the status page) with them, and nobody else does."""

    concrete: type[Any]

    def _perm(self, request: HttpRequest, action: str) -> bool:
        meta = self.concrete._meta
        return request.user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._perm(request, "view") or self._perm(request, "change")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._perm(request, "change")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VerdictFilter(admin.SimpleListFilter):
    title = "quality verdict"
    parameter_name = "verdict"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*QualityVerdict.choices, ("none", "Not analysed yet")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "none":
            return queryset.filter(quality_verdict="")
        return queryset.filter(quality_verdict=self.value()) if self.value() else queryset


@admin.register(QualityQueueOutfit)
class QualityQueueAdmin(ConcretePermissions, admin.ModelAdmin):
    """Pending library outfits, the ones the quality filter rejected first: the photo they were read
    from, their pieces with each photo's score, and the reasons. Approve or reject in bulk; "keep
    despite the filter" is an editor's verdict that beats the filter's."""

    concrete = LibraryOutfit
    list_display = ("photo", "outfit", "pieces", "quality_score", "quality_verdict", "reasons", "source")
    list_display_links = None
    list_filter = (VerdictFilter, "source")
    search_fields = ("external_id",)
    actions = ("approve", "reject", "keep_despite_quality")
    change_list_template = "admin/outfits/qualityqueueoutfit/change_list.html"
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[QualityQueueOutfit]:
        analyses = ImageAnalysis.objects.filter(status=ImageAnalysis.Status.OK).order_by("-updated_at")
        items = LibraryItem.objects.prefetch_related(
            Prefetch("analyses", queryset=analyses.only("library_item", "quality_score", "quality_problems"))
        )
        return (
            super()
            .get_queryset(request)
            .filter(status=LibraryOutfit.Status.PENDING)
            .select_related("photo")
            .prefetch_related(Prefetch("items", queryset=items))
        )

    def get_ordering(self, request: HttpRequest) -> tuple[str, ...]:
        # The filter's rejections first (they need an editor's eye), then the weakest photos.
        return ("-quality_verdict", "quality_score", "pk")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        photos = OutfitPhoto.objects.filter(outfit__isnull=True)
        waiting = photos.filter(status__in=[OutfitPhoto.Status.PENDING, OutfitPhoto.Status.RUNNING]).count()
        failed = photos.filter(status=OutfitPhoto.Status.FAILED).count()
        context = {
            "title": "Quality queue: library outfits waiting for review",
            **(extra_context or {}),
            "photos_waiting": waiting,
            "photos_failed": failed,
        }
        return super().changelist_view(request, extra_context=context)

    @staticmethod
    def _photo(obj: LibraryOutfit) -> OutfitPhoto | None:
        return getattr(obj, "photo", None)  # only outfits read from an outfit photo have one

    @admin.display(description="outfit photo")
    def photo(self, obj: LibraryOutfit) -> str:
        found = self._photo(obj)
        return _thumb(found.image.url, 120, found.filename) if found and found.image else "—"

    @admin.display(description="outfit", ordering="external_id")
    def outfit(self, obj: LibraryOutfit) -> str:
        url = reverse("admin:outfits_libraryoutfit_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj)

    @admin.display(description="pieces (photo score)")
    def pieces(self, obj: LibraryOutfit) -> str:
        def score(item: LibraryItem) -> str:
            analysis = next(iter(item.analyses.all()), None)
            if analysis is None or analysis.quality_score is None:
                return "not analysed"
            return f"{analysis.quality_score:.2f}" + (" (kept by an editor)" if item.quality_override else "")

        return format_html_join(
            "",
            '<figure style="display:inline-block;margin:0 4px 0 0;text-align:center">{}'
            "<figcaption>{}</figcaption></figure>",
            ((_thumb(item.image.url, 64, item.external_id), score(item)) for item in obj.items.all()),
        )

    @admin.display(description="reasons")
    def reasons(self, obj: LibraryOutfit) -> str:
        found: list[str] = []
        photo = self._photo(obj)
        if photo is not None:
            found += [f"photo: {problem}" for problem in photo.quality_problems]
            if photo.quality_override:
                found.append(f"photo: editor said {photo.quality_override}")
        for item in obj.items.all():
            analysis = next(iter(item.analyses.all()), None)
            problems = analysis.quality_problems if analysis is not None else []
            found += [f"{item.external_id}: {problem}" for problem in problems]
        return format_html_join("", "<div>{}</div>", ((reason,) for reason in found)) or "—"

    def _log(self, request: HttpRequest, ids: list[int], message: str) -> None:
        # Against the library outfit itself, so the entry shows in that outfit's history.
        for outfit in LibraryOutfit.objects.filter(pk__in=ids):
            self.log_change(request, outfit, message)

    def _review(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Any], status: str) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        changed = services.library_outfits_review(outfit_ids=ids, status=status, reviewer=request.user)
        self._log(request, ids, f"{status.capitalize()} in the quality queue")
        text = f"{changed} outfits {status}."
        if status == LibraryOutfit.Status.APPROVED:
            still = queryset.model.objects.filter(pk__in=ids, quality_verdict=QualityVerdict.REJECT).count()
            if still:
                text += f" {still} of them stay out of suggestions until kept despite the quality filter."
        self.message_user(request, text, messages.SUCCESS)

    @admin.action(description="Approve selected outfits", permissions=["change"])
    def approve(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Any]) -> None:
        self._review(request, queryset, LibraryOutfit.Status.APPROVED)

    @admin.action(description="Reject selected outfits", permissions=["change"])
    def reject(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Any]) -> None:
        self._review(request, queryset, LibraryOutfit.Status.REJECTED)

    @admin.action(description="Keep despite the quality filter (an editor's verdict)", permissions=["change"])
    def keep_despite_quality(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Any]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        changed = services.library_outfits_override_quality(outfit_ids=ids, verdict=QualityVerdict.KEEP)
        self._log(request, ids, "Kept despite the quality filter: pieces' and photo's verdict overridden")
        self.message_user(request, f"{changed} outfits no longer rejected by the filter.", messages.SUCCESS)


@admin.register(IndexStatus)
class IndexStatusAdmin(ConcretePermissions, admin.ModelAdmin):
    """One page: the active build, its age and counts, what changed since, a rebuild button, and
    the last builds' timings."""

    concrete = IndexBuild
    recent_builds = 10

    def get_urls(self) -> list[URLPattern]:
        return [
            path("", self.admin_site.admin_view(self.status_view), name="outfits_indexstatus_changelist"),
            path(
                "rebuild/", self.admin_site.admin_view(self.rebuild_view), name="outfits_indexstatus_rebuild"
            ),
        ]

    def can_rebuild(self, request: HttpRequest) -> bool:
        return self._perm(request, "add")

    def status_view(self, request: HttpRequest) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        active = selectors.active_build()
        since = active.started_at if active is not None else None
        context = {
            **self.admin_site.each_context(request),
            "title": "Index status",
            "opts": self.model._meta,
            "active": active,
            "age": timesince(active.finished_at, timezone.now()) if active and active.finished_at else None,
            "fresh_items": fresh_items.count_since(active) if active is not None else 0,
            "reviewed_since": (
                LibraryOutfit.objects.filter(reviewed_at__gte=since).count() if since is not None else 0
            ),
            "waiting": IndexBuild.objects.filter(
                status__in=[IndexBuild.Status.PENDING, IndexBuild.Status.BUILDING]
            ).order_by("created_at"),
            "builds": IndexBuild.objects.select_related("requested_by")[: self.recent_builds],
            "can_rebuild": self.can_rebuild(request),
        }
        return TemplateResponse(request, "admin/outfits/indexstatus/status.html", context)

    def rebuild_view(self, request: AuthenticatedHttpRequest) -> HttpResponseBase:
        """The rebuild button (POST; the admin site checks CSRF and staff): queue a build through the
        service, as the outfit list's action does, and log who asked."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.can_rebuild(request):
            raise PermissionDenied
        index_rebuild(self, request, "on the index status page")
        return HttpResponseRedirect(reverse("admin:outfits_indexstatus_changelist"))
