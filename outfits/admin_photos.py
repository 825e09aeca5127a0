"""Outfit photos in the admin (OutfitPhotoAdmin): upload one or a folder's, see what the worker
found and the photo's problems, keep one despite them, analyse again."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from vision.images import ImageRejected

from . import outfit_photos, services
from .admin_base import thumbnail
from .forms import OutfitPhotoUploadForm
from .models import OutfitPhoto, QualityVerdict

if TYPE_CHECKING:
    from .admin_base import AuthenticatedHttpRequest


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
        return thumbnail(obj.image, alt=obj.filename or "outfit photo")

    @admin.display(description="photo")
    def preview(self, obj: OutfitPhoto) -> str:
        return thumbnail(obj.image, 360, alt=obj.filename or "outfit photo")

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
        if "quality_override" in form.changed_data:
            # Through the service, like the action: it works the outfit's verdict out again. The
            # change view logs the change itself.
            services.outfit_photos_override_quality(photo_ids=[obj.pk], verdict=obj.quality_override)
        super().save_model(request, obj, form, change)

    @admin.action(description="Keep in the library despite the photo's problems", permissions=["change"])
    def keep_despite_problems(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[OutfitPhoto]
    ) -> None:
        photos = list(queryset)
        changed = services.outfit_photos_override_quality(
            photo_ids=[photo.pk for photo in photos], verdict=QualityVerdict.KEEP
        )
        for photo in photos:
            self.log_change(request, photo, "Kept in the library despite the photo's problems")
        self.message_user(request, f"{changed} photos kept despite their problems.", messages.SUCCESS)

    @admin.action(description="Analyse again (queued)", permissions=["change"])
    def reanalyse(self, request: AuthenticatedHttpRequest, queryset: QuerySet[OutfitPhoto]) -> None:
        from . import tasks

        photos = list(queryset)
        OutfitPhoto.objects.filter(pk__in=[p.pk for p in photos]).update(status=OutfitPhoto.Status.PENDING)
        for photo in photos:
            # After commit: a worker must find the row pending (outfits.jobs claims it).
            transaction.on_commit(partial(tasks.outfit_photo_analyze.delay, photo.pk))
            self.log_change(request, photo, "Analysis queued again")
        self.message_user(request, f"{len(photos)} photos queued for analysis.", messages.SUCCESS)

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
