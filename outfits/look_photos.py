"""Shoppers' look photos are private.

A look's photo is a shopper's own picture (often of themselves), so it is kept out of MEDIA_ROOT,
which `/media/` (or the web server or CDN in front of it) hands to anyone, in the `private` storage,
which has no URLs at all. The API serves a photo to the key or editor that may read its look, and to
a browser holding the signed link the look's `image_url` carries: a storefront shows the photo in an
`<img>`, which cannot send an `X-Api-Key` header, so the payload needs a URL that works on its own.
The link names one look and expires (CTL_LOOK_PHOTO_URL_SECONDS); it is signed with SECRET_KEY by
Django's TimestampSigner, so nothing about it is stored.
"""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.http import FileResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control
from PIL import Image, UnidentifiedImageError

if TYPE_CHECKING:
    from .models import LookRequest

# A signature made for a look photo is good for nothing else signed with the same key.
_SALT = "outfits.look-photo"
SIGNATURE_PARAM = "sig"


class PrivateFileSystemStorage(FileSystemStorage):
    """A folder nothing serves by address. `url()` refuses, so no page or payload can point a browser
    at a private file by mistake: `photo_url` is the way to a look's photo."""

    def url(self, name: str | None) -> str:
        raise ValueError(f"{name} is private and has no public URL: use outfits.look_photos.photo_url")


def private_storage() -> Storage:
    """The storage of shoppers' photos (a callable, so tests and settings may swap it)."""
    return storages["private"]


class BadSignature(Exception):
    """The photo link was not signed by us for this look, or it has expired."""


def photo_url(look: LookRequest) -> str | None:
    """The look's photo as a signed, expiring path a browser can fetch without credentials."""
    if not look.image:
        return None
    signature = signing.TimestampSigner(salt=_SALT).sign(str(look.pk)).split(":", 1)[1]
    path = reverse("api:look-photo", kwargs={"pk": look.pk})
    return f"{path}?{SIGNATURE_PARAM}={signature}"


def check_signature(look_id: str, signature: str) -> None:
    """Raises BadSignature unless `signature` was made by `photo_url` for this look and is still fresh."""
    try:
        signing.TimestampSigner(salt=_SALT).unsign(
            f"{look_id}:{signature}", max_age=settings.CTL_LOOK_PHOTO_URL_SECONDS
        )
    except signing.BadSignature as exc:  # SignatureExpired is one
        raise BadSignature(
            "the photo link is not valid or has expired: read the look again for a fresh one"
        ) from exc


def photo_response(look: LookRequest) -> FileResponse:
    """The photo file, typed by what it is (the upload's file name may lie), cached by the browser
    only (`private`: no shared cache may keep a shopper's photo), for no longer than its link lives."""
    handle = look.image.open("rb")
    response = FileResponse(handle, content_type=_content_type(handle, look.image.name or ""))
    patch_cache_control(response, private=True, max_age=settings.CTL_LOOK_PHOTO_URL_SECONDS)
    return response


def _content_type(handle: Any, name: str) -> str:
    try:
        with Image.open(handle) as image:  # reads the header only
            found = Image.MIME.get(image.format or "")
    except (UnidentifiedImageError, OSError):
        found = None
    handle.seek(0)
    return found or mimetypes.guess_type(name)[0] or "application/octet-stream"
