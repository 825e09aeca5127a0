"""The checks a catalog photo passes on the request path, and where its bytes are stored.

A request only reads the photo's header (format and size: Pillow's `Image.open` reads no pixel), so a
500-item upsert of camera-sized photos answers in seconds. The full decode, and with it a truncated or
corrupt body, is the analysis worker's (`services.garments_analyze` records a failed analysis that
says why; the item's `analysis` shows it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from vision.images import ImageRejected

from .photos import photo_header_check


@dataclass(frozen=True)
class PhotoUpload:
    """Photo bytes that passed the request's checks, named by their content."""

    data: bytes
    sha256: str
    suffix: str

    @property
    def name(self) -> str:
        """The stored file's name: the same bytes are stored once, whichever item sends them."""
        return f"{self.sha256[:2]}/{self.sha256}{self.suffix}"


def photo_upload_check(data: bytes) -> PhotoUpload:
    """Size and header only: raises ImageRejected (its message is for the uploader) for an empty or
    oversized body, a format other than JPEG, PNG or WEBP, or a header over the photo limits
    (outfits.photos: pixels, sides, aspect ratio, decode memory)."""
    if not data:
        raise ImageRejected("the file is empty")
    if len(data) > settings.CTL_MAX_UPLOAD_BYTES:
        raise ImageRejected(f"the file is {len(data)} bytes, over the {settings.CTL_MAX_UPLOAD_BYTES} limit")
    suffix = photo_header_check(data).suffix
    return PhotoUpload(data=data, sha256=hashlib.sha256(data).hexdigest(), suffix=suffix)


def photo_store(storage: Storage, upload_to: str, photo: PhotoUpload) -> tuple[str, bool]:
    """Store the photo under its content name unless those bytes are stored already.
    Returns (the stored name, whether this call wrote it)."""
    name = f"{upload_to.rstrip('/')}/{photo.name}"
    if storage.exists(name):
        return name, False
    return storage.save(name, ContentFile(photo.data)), True
