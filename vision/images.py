"""Open and validate a garment photo: bytes or a path in, a decoded RGB image out.

The web process calls this on every upload before anything is stored, so it imports PIL and the
standard library only (never torch), and every way an upload can be bad ends in one exception,
`ImageRejected`, whose message can be shown to the person who uploaded the file.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

# 40 MP is larger than any catalog or phone photo we expect, and small enough that a decoded RGB
# image (120 MB) cannot exhaust a web worker's memory.
MAX_PIXELS: Final = 40_000_000
# No camera or catalog photo has a side this long (a 40 MP photo at 4:3 is 7300 px wide); a longer
# side is a panorama, a scan strip or a crafted file.
MAX_SIDE: Final = 10_000
# A garment photo, even a belt or a scarf laid flat, is shot well under 10:1. Squared for the model
# (the analysis pads the garment to a square), a 10:1 photo's garment already fills a tenth of it;
# a 40000x1 PNG of 201 bytes was squared to 1.6 GP (6.1 GB, 14 s: measured before these limits).
MAX_ASPECT: Final = 10.0
# What decoding may allocate (see _decode_bytes): a 40 MP PNG or JPEG in any mode (at most 160 MB),
# a progressive JPEG up to 38 MP (its coefficients too), a WEBP up to 16 MP (16 bytes a pixel).
MAX_DECODE_BYTES: Final = 256 * 2**20
# The analysis (garment box, quality, crop, embedding) works on a copy whose longer side is at most
# this: the model sees 224 px and the box and quality work at 256 to 512, so a phone photo loses
# nothing they read, and the garment's square stays within 2048 x 2048 (16 MB) whatever was uploaded.
ANALYSIS_SIDE: Final = 2048

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

# Bytes Pillow allocates per pixel of each mode (any other: four).
_BYTES_PER_PIXEL: Final = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
# A WEBP is decoded through libwebp's RGBA canvas whatever its mode, then copied: 16.7 bytes a pixel
# of peak memory measured in a fresh process (bench/bench_photo_worst.py), against 4.3 for a PNG.
_WEBP_BYTES_PER_PIXEL: Final = 16
# A progressive JPEG keeps every DCT coefficient (2 bytes a sample) until its last scan, at full size
# even when drafted to a smaller one: 1.5 samples a pixel for the usual 4:2:0 colour JPEG.
_JPEG_COEFFICIENT_BYTES: Final = 2


_ORIENTATION_TAG: Final = 0x0112  # EXIF Orientation; 5-8 turn the photo a quarter


class ImageRejected(ValueError):
    """The upload is not a usable garment photo; str() says why, in words fit for the uploader."""


@dataclass(frozen=True)
class PhotoLimits:
    """What one photo may cost, judged from its header before any pixel is decoded."""

    max_pixels: int = MAX_PIXELS
    max_side: int = MAX_SIDE
    max_aspect: float = MAX_ASPECT  # longer side / shorter side
    max_decode_bytes: int = MAX_DECODE_BYTES


DEFAULT_LIMITS: Final = PhotoLimits()


@dataclass(frozen=True)
class PhotoInfo:
    """A photo that passed every check: its format (JPEG, PNG or WEBP) and size as stored."""

    format: str
    size: tuple[int, int]

    @property
    def suffix(self) -> str:
        """The file name ending its bytes call for, whatever name or type the upload declared."""
        return {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}[self.format]


def check_garment_image(
    source: bytes | str | os.PathLike[str], *, limits: PhotoLimits = DEFAULT_LIMITS
) -> PhotoInfo:
    """Check a photo as `open_garment_image` does, without keeping its pixels: what the web process
    does before it stores an upload. A JPEG is decoded at an eighth of its size (every byte of it is
    still read, so a truncated one is caught); a PNG or WEBP is decoded whole, within the limits."""
    data = _read_bytes(source)
    if not data:
        raise ImageRejected("the file is empty")
    image = _identify(data, limits=limits)
    info = PhotoInfo(format=str(image.format), size=image.size)
    with image:
        _decode(image, limits=limits, draft_size=(1, 1))
    return info


def check_garment_header(data: bytes, *, limits: PhotoLimits = DEFAULT_LIMITS) -> PhotoInfo:
    """The checks of `check_garment_image` that need only the header (format, pixels, sides, aspect
    ratio, decode memory), no pixel decoded: what a request with hundreds of photos can afford. A
    truncated or corrupt body passes here and is refused where the photo is decoded."""
    if not data:
        raise ImageRejected("the file is empty")
    with _identify(data, limits=limits) as image:
        _check_decode_memory(image, limits)
        return PhotoInfo(format=str(image.format), size=image.size)


def upright_size(data: bytes) -> tuple[int, int]:
    """A photo's width and height as shown (its EXIF orientation applied, as browsers do), from the
    header alone: the frame that boxes found on its reduced copy are given back in."""
    with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as image:
        width, height = image.size
        turned = image.getexif().get(_ORIENTATION_TAG, 1) in (5, 6, 7, 8)
    return (height, width) if turned else (width, height)


def open_garment_image(
    source: bytes | str | os.PathLike[str],
    *,
    limits: PhotoLimits = DEFAULT_LIMITS,
    work_side: int | None = None,
) -> Image.Image:
    """Decode a garment photo fully and return it upright, in RGB.

    Checks, in order: not empty; a JPEG, PNG or WEBP; within `limits` according to the header
    (pixels, longest side, aspect ratio, decode memory: a decompression bomb or a 40000x1 strip is
    refused before any pixel is decoded); decodes completely (a truncated or corrupt file raises
    here, not later in a worker). With `work_side`, the photo is brought down so its longer side is
    at most that, before any conversion: a JPEG is decoded at a reduced scale (draft), any photo is
    then reduced by a whole factor. Then applies the EXIF orientation and composites any
    transparency on white.

    Raises `ImageRejected` for every problem with the file itself; `FileNotFoundError` and other
    `OSError`s about reading a path are left alone (they are our bug, not the uploader's).
    """
    data = _read_bytes(source)
    if not data:
        raise ImageRejected("the file is empty")
    image = _identify(data, limits=limits)
    draft_size = None
    if work_side is not None:
        factor = _reduce_factor(image.size, work_side)
        draft_size = (-(-image.width // factor), -(-image.height // factor))
    _decode(image, limits=limits, draft_size=draft_size)
    image = _reducible(image)
    if work_side is not None and (factor := _reduce_factor(image.size, work_side)) > 1:
        image = image.reduce(factor)
    return _to_rgb(_upright(image))


def _read_bytes(source: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(source, bytes):
        return source
    with open(source, "rb") as file:
        return file.read()


def _identify(data: bytes, *, limits: PhotoLimits) -> Image.Image:
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
    try:
        _check_size(image.size, limits)
    except ImageRejected:
        image.close()
        raise
    return image


def _check_size(size: tuple[int, int], limits: PhotoLimits) -> None:
    width, height = size
    if width == 0 or height == 0:
        raise ImageRejected(f"image has no pixels ({width}x{height})")
    pillow_limit = Image.MAX_IMAGE_PIXELS
    limit = limits.max_pixels if pillow_limit is None else min(limits.max_pixels, pillow_limit)
    if width * height > limit:
        raise ImageRejected(
            f"image is {width}x{height} = {_size(width * height)}, over the {_size(limit)} limit"
        )
    if max(width, height) > limits.max_side:
        raise ImageRejected(f"image is {width}x{height}: a side over the {limits.max_side} px limit")
    if max(width, height) / min(width, height) > limits.max_aspect:
        raise ImageRejected(
            f"image is {width}x{height}: one side over {limits.max_aspect:g} times the other, the limit"
        )


def _decode(image: Image.Image, *, limits: PhotoLimits, draft_size: tuple[int, int] | None) -> None:
    """Decode the pixels (at a reduced scale for a JPEG given `draft_size`), within the decode memory
    limit. The limit is judged at the photo's full size, whatever the draft: the web check (which
    drafts to an eighth) and a worker's decode (to the analysis's size) then always agree."""
    _check_decode_memory(image, limits)
    try:
        if draft_size is not None and image.format == "JPEG":
            image.draft(image.mode, draft_size)
        image.load()
    except _DECODE_ERRORS as error:
        raise ImageRejected("the image is truncated or corrupt") from error


def _check_decode_memory(image: Image.Image, limits: PhotoLimits) -> None:
    needed = _decode_bytes(image)
    if needed > limits.max_decode_bytes:
        raise ImageRejected(
            f"image is {image.width}x{image.height} in mode {image.mode}: decoding it takes "
            f"{_memory(needed)}, over the {_memory(limits.max_decode_bytes)} limit"
        )


def _decode_bytes(image: Image.Image) -> int:
    """What decoding the whole image allocates at its peak, from its header alone."""
    pixels = image.width * image.height
    if image.format == "WEBP":
        return pixels * _WEBP_BYTES_PER_PIXEL
    needed = pixels * _BYTES_PER_PIXEL.get(image.mode, 4)
    if image.format == "JPEG" and image.info.get("progressive"):
        # Pillow lists each component's sampling factors in `layer`: (id, horizontal, vertical, table).
        layers = getattr(image, "layer", None) or [("", 1, 1, 0)] * len(image.getbands())
        most = max(h * v for _, h, v, _ in layers)
        samples = sum(h * v for _, h, v, _ in layers) / most
        needed += int(pixels * samples * _JPEG_COEFFICIENT_BYTES)
    return needed


def _reduce_factor(size: tuple[int, int], work_side: int) -> int:
    return max(1, math.ceil(max(size) / work_side))


def _memory(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


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


def _reducible(image: Image.Image) -> Image.Image:
    """The photo in a mode Image.reduce averages correctly, converted while it is still one copy:
    8-bit for 16/32-bit greyscale, RGBA for palettes and colour-keyed transparency (averaging
    palette indices or a transparent colour key would invent colours), L for 1-bit."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16/32-bit greyscale PNGs: scale to 8 bits first, Pillow's direct conversion would clip.
        # The colour key of a 16-bit PNG cannot survive the scaling: it is dropped, not misapplied.
        scaled = image.point(lambda value: value / 256).convert("L")
        scaled.info.pop("transparency", None)
        return scaled
    if _has_alpha(image) and image.mode not in ("RGBA", "LA"):
        return image.convert("RGBA")
    if image.mode in ("1", "P"):
        return image.convert("L" if image.mode == "1" else "RGB")
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
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
