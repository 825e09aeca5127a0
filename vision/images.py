"""Open and validate a garment photo: bytes or a path in, a decoded RGB image out.

The web process calls this on every upload before anything is stored, so it imports PIL and the
standard library only (never torch), and every way an upload can be bad ends in one exception,
`ImageRejected`, whose message can be shown to the person who uploaded the file.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

# 40 MP is larger than any catalog or phone photo we expect, and small enough that a decoded RGB
# image (120 MB) cannot exhaust a web worker's memory.
MAX_PIXELS: Final = 40_000_000

ACCEPTED_FORMATS: Final = ("JPEG", "PNG", "WEBP")
# The file names those formats go by: what a folder of photos is searched for.
IMAGE_SUFFIXES: Final = frozenset({".jpg", ".jpeg", ".png", ".webp"})

# Transparent pixels become white: a cut-out garment on white looks like a catalog product shot.
_ALPHA_BACKGROUND: Final = (255, 255, 255)

# Magic bytes of the accepted formats: a file that starts like one but cannot be identified is a
# damaged upload, not a wrong format, and deserves that message.
_JPEG_SIGNATURE: Final = b"\xff\xd8\xff"
_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"

# Magic bytes of formats people commonly upload by mistake. Used only to name the format in the
# rejection message: their decoders (and their header parsers) never run on untrusted bytes.
_OTHER_FORMAT_SIGNATURES: Final = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"8BPS", "PSD"),
    (b"\x00\x00\x01\x00", "ICO"),
)
_ISO_MEDIA_BRANDS: Final = {
    b"heic": "HEIC",
    b"heix": "HEIC",
    b"mif1": "HEIF",
    b"avif": "AVIF",
}

# What Pillow raises while decoding damaged data: OSError ("image file is truncated", "broken data
# stream"), SyntaxError (broken PNG chunks), ValueError and EOFError from some decoders.
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError)

# EXIF blocks are written by every camera and editor and are often slightly malformed. A photo with
# an unreadable orientation tag is still a good photo, so those errors only skip the rotation.
_EXIF_ERRORS: Final = (OSError, SyntaxError, ValueError, KeyError, TypeError)


class ImageRejected(ValueError):
    """The upload is not a usable garment photo; str() says why, in words fit for the uploader."""


def open_garment_image(
    source: bytes | str | os.PathLike[str], *, max_pixels: int = MAX_PIXELS, draft_side: int | None = None
) -> Image.Image:
    """Decode a garment photo fully and return it upright, in RGB.

    Checks, in order: not empty; a JPEG, PNG or WEBP; at most `max_pixels` pixels according to the
    header (so a decompression bomb is refused before any pixel is decoded); decodes completely
    (a truncated or corrupt file raises here, not later in a worker). Then applies the EXIF
    orientation and composites any transparency on white. `draft_side` lets a JPEG decode at a
    reduced scale (a power of two, never below that many pixels a side): far cheaper for a big photo
    that will be shrunk to 224 px anyway.

    Raises `ImageRejected` for every problem with the file itself; `FileNotFoundError` and other
    `OSError`s about reading a path are left alone (they are our bug, not the uploader's).
    """
    data = _read_bytes(source)
    if not data:
        raise ImageRejected("the file is empty")
    image = _identify(data, max_pixels=max_pixels)
    try:
        if draft_side is not None and image.format == "JPEG":
            image.draft("RGB", (draft_side, draft_side))
        image.load()
    except _DECODE_ERRORS as error:
        raise ImageRejected("the image is truncated or corrupt") from error
    return _to_rgb(_upright(image))


def _read_bytes(source: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(source, bytes):
        return source
    with open(source, "rb") as file:
        return file.read()


def _identify(data: bytes, *, max_pixels: int) -> Image.Image:
    # catch_warnings is process-wide, not per thread: at worst another thread briefly misses this
    # one warning category, which nothing relies on.
    with warnings.catch_warnings():
        # Pillow warns from Image.MAX_IMAGE_PIXELS (89 MP) and raises from twice that. The warning
        # is silenced here only so the size check below can name the size; it enforces both limits.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
        except UnidentifiedImageError as error:
            raise ImageRejected(_unidentified_reason(data)) from error
        except Image.DecompressionBombError as error:
            limit = 2 * (Image.MAX_IMAGE_PIXELS or 0)
            raise ImageRejected(f"image is over {_size(limit)}, Pillow's decompression-bomb limit") from error
        except _DECODE_ERRORS as error:
            # The signature matched but the header itself is damaged.
            raise ImageRejected("the image is truncated or corrupt") from error
    width, height = image.size
    pillow_limit = Image.MAX_IMAGE_PIXELS
    limit = max_pixels if pillow_limit is None else min(max_pixels, pillow_limit)
    if width * height > limit:
        raise ImageRejected(
            f"image is {width}x{height} = {_size(width * height)}, over the {_size(limit)} limit"
        )
    if width == 0 or height == 0:
        raise ImageRejected(f"image has no pixels ({width}x{height})")
    return image


def _size(pixels: int) -> str:
    return f"{pixels / 1e6:.1f} MP" if pixels >= 100_000 else f"{pixels:,} pixels"


def _unidentified_reason(data: bytes) -> str:
    if _looks_accepted(data):
        return "the image is truncated or corrupt"
    other = _sniff_other_format(data)
    if other is not None:
        return f"unsupported image format {other} (accepted: {', '.join(ACCEPTED_FORMATS)})"
    return "not an image (could not identify the format)"


def _looks_accepted(data: bytes) -> bool:
    is_webp = data.startswith(b"RIFF") and data[8:12] == b"WEBP"
    return is_webp or data.startswith((_JPEG_SIGNATURE, _PNG_SIGNATURE))


def _sniff_other_format(data: bytes) -> str | None:
    for signature, name in _OTHER_FORMAT_SIGNATURES:
        if data.startswith(signature):
            return name
    # HEIC/HEIF/AVIF (iPhone photos): an ISO media "ftyp" box whose major brand names the format
    # (other brands are videos, which are simply not images).
    if data[4:8] == b"ftyp":
        return _ISO_MEDIA_BRANDS.get(data[8:12])
    return None


def _upright(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except _EXIF_ERRORS:
        return image


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16/32-bit greyscale PNGs: scale to 8 bits first, Pillow's direct conversion would clip.
        image = image.point(lambda value: value / 256).convert("L")
    if _has_alpha(image):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_ALPHA_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode == "RGB":
        return image
    return image.convert("RGB")


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def image_files(paths: Sequence[Path]) -> Iterator[Path]:
    """Each named file, and the image files under each named folder (sorted, recursively)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                found
                for found in path.rglob("*")
                if found.is_file() and found.suffix.lower() in IMAGE_SUFFIXES
            )
        else:
            yield path  # a missing file is reported as unreadable, not skipped
