"""API request bodies over their limit are refused by their declared size, before anything reads them.

Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) guards only `request.body` and form fields, and its
refusal is an HTML 400; DRF's JSON parser reads the WSGI stream itself, so a JSON body of any size
was read whole into memory. Here a body whose Content-Length is over the view's limit is a JSON 413
naming the limit, answered before authentication and before a byte of the body is read (gunicorn
hands the stream to Django unread). A body sent without a length (chunked) is not read by Django at
all. The limit is CTL_MAX_UPLOAD_BYTES (20 MB: a look's photo upload, every JSON request); a view
may name a larger setting in `body_limit_setting` (the catalog bulk upsert: CTL_MAX_BULK_BYTES).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

DEFAULT_SETTING = "CTL_MAX_UPLOAD_BYTES"


def body_too_large(size: int | None, limit: int) -> JsonResponse:
    sent = f"the request body is {size} bytes" if size is not None else "the request body is too large"
    return JsonResponse({"detail": f"{sent}; the limit is {limit} bytes", "limit_bytes": limit}, status=413)


def declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0  # Django reads such a body as empty


class RequestBodyLimit:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if not request.path.startswith("/api/"):
            return None
        name = getattr(getattr(view, "cls", None), "body_limit_setting", DEFAULT_SETTING)
        limit = int(getattr(settings, name))
        size = declared_length(request)
        return body_too_large(size, limit) if size > limit else None
