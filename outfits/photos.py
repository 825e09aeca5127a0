"""The one way the service opens a photo: the deployment's limits (settings) applied to
vision.images. Uploads are checked with `photo_check` before anything is stored; workers decode with
`photo_open`, at the analysis's working size (a bulk upsert checks only headers, with
`photo_header_check`), so no photo that passed the check can cost a worker
more than the limits allow."""

from __future__ import annotations

import os

from django.conf import settings
from PIL import Image

from vision.images import (
    ANALYSIS_SIDE,
    PhotoInfo,
    PhotoLimits,
    check_garment_header,
    check_garment_image,
    open_garment_image,
)


def photo_limits() -> PhotoLimits:
    return PhotoLimits(
        max_pixels=settings.CTL_MAX_IMAGE_PIXELS,
        max_side=settings.CTL_MAX_IMAGE_SIDE,
        max_aspect=settings.CTL_MAX_IMAGE_ASPECT,
        max_decode_bytes=settings.CTL_MAX_DECODE_BYTES,
    )


def photo_check(source: bytes | str | os.PathLike[str]) -> PhotoInfo:
    """Raise ImageRejected unless the photo is a whole JPEG, PNG or WEBP within the limits; its
    format is read from the bytes (never from a declared name or content type)."""
    return check_garment_image(source, limits=photo_limits())


def photo_header_check(data: bytes) -> PhotoInfo:
    """`photo_check` from the header alone (no pixel decoded): for a request carrying hundreds of
    photos, whose decoding is the analysis worker's (a truncated body fails there, and says so)."""
    return check_garment_header(data, limits=photo_limits())


def photo_open(source: bytes | str | os.PathLike[str]) -> Image.Image:
    """The photo upright in RGB, its longer side at most ANALYSIS_SIDE; ImageRejected as photo_check."""
    return open_garment_image(source, limits=photo_limits(), work_side=ANALYSIS_SIDE)
