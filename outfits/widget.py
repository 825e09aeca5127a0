"""The storefront widget's script, served by the service: under a content-hashed name cached for a
year (a new script is a new name), and under a stable loader name cached for five minutes, so a shop
that pastes the stable tag picks up a new release within minutes without a build of its own.

The script is committed as written (outfits/static/ctl/ctl-widget.js, framework-free, small enough
gzipped that minifying would need a toolchain for little gain) and read once per process. Both names
answer gzipped to a browser that accepts it (Django's gzip_page; `Vary: Accept-Encoding`)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

SOURCE = Path(__file__).resolve().parent / "static" / "ctl" / "ctl-widget.js"
IMMUTABLE = "public, max-age=31536000, immutable"
LOADER = "public, max-age=300"


@dataclass(frozen=True)
class WidgetScript:
    body: bytes
    digest: str  # the first 8 hex digits of the script's sha256: its name in the hashed URL


@functools.cache
def widget_script() -> WidgetScript:
    body = SOURCE.read_bytes()
    return WidgetScript(body=body, digest=hashlib.sha256(body).hexdigest()[:8])


def widget_url() -> str:
    """The hashed URL of this release, for pages the service renders itself (the demo storefront)."""
    return reverse("widget-hashed", kwargs={"digest": widget_script().digest})


def _script_response(script: WidgetScript, cache_control: str) -> HttpResponse:
    response = HttpResponse(script.body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = cache_control
    response["ETag"] = f'"{script.digest}"'
    # Any shop's page may load the script (it carries no secret): a plain <script> needs no CORS,
    # this lets a shop that adds crossorigin="anonymous" (for error details or SRI) load it too.
    response["Access-Control-Allow-Origin"] = "*"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@gzip_page
@require_GET
def hashed(request: HttpRequest, digest: str) -> HttpResponse:
    script = widget_script()
    if digest != script.digest:
        # An old release's name: not served as this one under a year-long cache.
        raise Http404("no such widget release")
    return _script_response(script, IMMUTABLE)


@gzip_page
@require_GET
def loader(request: HttpRequest) -> HttpResponse:
    script = widget_script()
    # gzip_page marks the ETag weak (W/"..."): a browser revalidates with either form.
    if request.headers.get("If-None-Match", "").removeprefix("W/") == f'"{script.digest}"':
        response = HttpResponse(status=304)
        response["Cache-Control"] = LOADER
        return response
    return _script_response(script, LOADER)
