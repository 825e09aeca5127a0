"""Hypothesis strategies for the photo path: what people (and crafted files) upload.

One home for the property-based tests of vision.images and of the API's photo endpoints. Each drawn
`PhotoCase` says what its bytes are, and, for a whole image in an accepted format within the default
limits, the size the photo has once upright (EXIF orientations 5 to 8 swap the sides).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from vision.images import ACCEPTED_FORMATS, DEFAULT_LIMITS

MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr")
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# Formats that carry several frames.
ANIMATED = ("PNG", "WEBP", "GIF")
# Formats whose writer takes an EXIF block.
WITH_EXIF = ("JPEG", "PNG", "WEBP")
# Colour-keyed transparency (tRNS): which modes' PNGs can carry it, and the value that means clear.
PNG_TRANSPARENCY = {"L": 0, "RGB": (0, 0, 0), "P": 0, "I;16": 0}
SIGNATURES = (
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"",
)


def _savable() -> list[tuple[str, str]]:
    """(format, mode) pairs Pillow writes, found by writing a tiny image of each."""
    pairs = []
    for fmt in FORMATS:
        for mode in MODES:
            try:
                Image.new(mode, (3, 2)).save(io.BytesIO(), fmt)
            except (OSError, ValueError, KeyError):
                continue
            pairs.append((fmt, mode))
    return pairs


SAVABLE = _savable()
SAVABLE_ACCEPTED = [(fmt, mode) for fmt, mode in SAVABLE if fmt in ACCEPTED_FORMATS]


@dataclass(frozen=True)
class PhotoCase:
    data: bytes
    what: str  # for the failure report
    upright_size: tuple[int, int] | None = None  # set when the photo must be accepted

    @property
    def kind(self) -> str:
        """What the case is, for hypothesis.event (statistics: --hypothesis-show-statistics)."""
        if self.what.startswith("random"):
            return "random bytes"
        damage = " cut short" if "cut to" in self.what else " bit-flipped" if "flipped" in self.what else ""
        fmt, mode = self.what.split()[:2]
        return f"{fmt} {mode}{damage}"

    def __repr__(self) -> str:
        return f"PhotoCase({self.what}, {len(self.data)} bytes)"


def _pixels(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    width, height = size
    rng = np.random.default_rng(seed)
    rgb = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    if mode in ("RGB", "YCbCr", "CMYK", "L", "1", "P", "LA", "PA", "RGBA"):
        image = rgb.convert("RGBA") if mode in ("LA", "PA", "RGBA") else rgb
        if image.mode == "RGBA":
            alpha = Image.fromarray(rng.integers(0, 256, (height, width), dtype=np.uint8))
            image.putalpha(alpha)
        if mode in ("P", "PA"):
            return image.convert("RGB" if mode == "P" else "RGBA").quantize(16).convert(mode)
        return image.convert(mode)
    values = rng.integers(0, 65536, (height, width))
    if mode == "F":
        return Image.fromarray(values.astype(np.float32))
    if mode == "I":
        return Image.fromarray(values.astype(np.int32))
    return Image.fromarray(values.astype(np.uint16))


# Sides: mostly ordinary, sometimes a strip far past the aspect limit or exactly at it.
_ordinary = st.tuples(st.integers(1, 160), st.integers(1, 160))
_strip = st.tuples(st.integers(1, 3), st.integers(40, 4000)).map(lambda s: s if s[0] % 2 else s[::-1])
_at_aspect = st.integers(1, 40).map(lambda n: (int(n * DEFAULT_LIMITS.max_aspect), n))
sizes = st.one_of(_ordinary, _ordinary, _ordinary, _strip, _at_aspect)


def _within_limits(size: tuple[int, int]) -> bool:
    width, height = size
    return (
        max(size) <= DEFAULT_LIMITS.max_side
        and width * height <= DEFAULT_LIMITS.max_pixels
        and max(size) / min(size) <= DEFAULT_LIMITS.max_aspect
    )


@st.composite
def images(draw: st.DrawFn) -> PhotoCase:
    """A whole image in any format and mode Pillow writes, any size, EXIF orientation, frames."""
    # Mostly the accepted formats (JPEG, PNG, WEBP), whose decoding the service runs.
    fmt, mode = draw(
        st.one_of(
            st.sampled_from(SAVABLE_ACCEPTED), st.sampled_from(SAVABLE_ACCEPTED), st.sampled_from(SAVABLE)
        )
    )
    size = draw(sizes)
    seed = draw(st.integers(0, 2**16))
    image = _pixels(mode, size, seed)
    options: dict[str, object] = {}
    orientation = draw(st.integers(1, 8)) if fmt in WITH_EXIF else 1
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    if fmt == "PNG" and mode in PNG_TRANSPARENCY and draw(st.booleans()):
        options["transparency"] = PNG_TRANSPARENCY[mode]
    if fmt == "JPEG" and draw(st.booleans()):
        options["progressive"] = True
    frames = draw(st.integers(1, 3)) if fmt in ANIMATED else 1
    buffer = io.BytesIO()
    if frames > 1:
        more = [image.rotate(90 * i) for i in range(1, frames)]
        image.save(buffer, fmt, save_all=True, append_images=more, **options)
    else:
        image.save(buffer, fmt, **options)
    upright = size[::-1] if orientation >= 5 else size
    accepted = fmt in ACCEPTED_FORMATS and _within_limits(size)
    what = f"{fmt} {mode} {size[0]}x{size[1]} orientation {orientation} frames {frames} {options.keys()}"
    return PhotoCase(buffer.getvalue(), what, upright if accepted else None)


@st.composite
def truncated(draw: st.DrawFn) -> PhotoCase:
    """A whole image cut short (or with a few bytes flipped): rejected, or still a photo."""
    whole = draw(images())
    data = whole.data
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, max(0, len(data) - 1)))]
        what = f"cut to {len(data)} of {len(whole.data)} bytes"
    else:
        position = draw(st.integers(0, max(0, len(data) - 1)))
        data = data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :] if data else data
        what = f"byte {position} flipped"
    return PhotoCase(data, f"{whole.what}, {what}")


@st.composite
def random_bytes(draw: st.DrawFn) -> PhotoCase:
    """Bytes, often starting like an image format, that are no image."""
    start = draw(st.sampled_from(SIGNATURES))
    return PhotoCase(start + draw(st.binary(max_size=600)), f"random bytes after {start!r}")


@st.composite
def oversized(draw: st.DrawFn) -> PhotoCase:
    """A flat 1-bit PNG (a few kB) past the side or pixel limit: refused on its header."""
    side = DEFAULT_LIMITS.max_side + draw(st.integers(1, 4000))
    size = draw(st.sampled_from([(side, side // 10), (side // 10, side), (7000, 7000)]))
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, "PNG", optimize=True)
    return PhotoCase(buffer.getvalue(), f"PNG 1 {size[0]}x{size[1]}")


photos = st.one_of(images(), images(), truncated(), random_bytes(), oversized())
