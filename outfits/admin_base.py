"""What the admin's modules share: photo thumbnails and the request type admin actions get."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html

from . import services
from .models import IndexBuild

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    class AuthenticatedHttpRequest(HttpRequest):
        """What admin actions get: the admin site lets in logged-in staff only (django-stubs' pattern)."""

        user: User


def thumbnail(image: Any, size: int = 72, *, alt: str) -> str:
    return thumbnail_at(image.url, size, alt=alt) if image else "—"


def thumbnail_at(url: str, size: int = 72, *, alt: str) -> str:
    """A photo in a list or form; `alt` names what it shows (axe: images need alternative text)."""
    return format_html(
        '<img src="{}" alt="{}" style="height:{}px;background:#f2f2f2" loading="lazy">', url, alt, size
    )


def index_rebuild(model_admin: admin.ModelAdmin, request: AuthenticatedHttpRequest, where: str) -> IndexBuild:
    """Queue an index build through the service, log who asked and where (an addition in the admin
    log, against the build), and say so. For every rebuild button and action."""
    build = services.index_build_request(requested_by=request.user)
    model_admin.log_addition(request, build, f"Rebuild requested {where}")
    model_admin.message_user(request, f"Index build {build.build_id} queued.", messages.SUCCESS)
    return build
