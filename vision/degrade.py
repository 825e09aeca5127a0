"""Spoil a clean product photo on purpose, the ways real uploads go wrong.

The learned quality filter (vision.quality_filter) is trained on clean catalog shots and on copies
this module makes of them: too dark, blown out, blurred, tiny, cropped so the garment is cut off,
noisy, heavily compressed, on a cluttered background, or pushed small into a corner. Each kind runs
from `strength` 0 to 1, and even strength 0 is plainly degraded (a photo an editor would send back),
not a barely visible change: the filter should learn where "poor" starts, not chase noise.

Deterministic: the same image, kind, strength and generator state give the same copy. PIL and numpy
only (scipy and OpenCV are not needed for any of this).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageOps

from vision.detect import Foreground, find_garment

DEGRADATIONS: Final = (
    "dark",
    "overexposed",
    "blurred",
    "tiny",
    "cropped",
    "noisy",
    "compressed",
    "cluttered",
    "off_centre",
)

# Exposure is changed in linear light (sRGB decoded with gamma 2.2), as a camera's would be: a gain
# of 0.3 is 1.7 stops under (a cream backdrop drops from 240 to about 140), 0.07 nearly 4 stops.
DARK_GAIN: Final = (0.3, 0.07)
# 1.3 to 2.7 stops over: light garments lose their folds, mid tones go pale.
OVEREXPOSED_GAIN: Final = (2.5, 6.5)
# Gaussian blur sigma as a share of the photo's longer side (2 to 7 px on a 334 px catalog shot).
BLUR_SIGMA: Final = (0.006, 0.02)
# A third of the blurred copies are shaken instead: a straight motion streak, this share of the side.
MOTION_LENGTH: Final = (0.03, 0.08)
MOTION_SHARE: Final = 0.33
# Tiny: the shorter side becomes this many pixels (the network looks at 224).
TINY_SHORT_SIDE: Final = (150, 48)
# Cropped: this share of the garment's box is cut away at one edge (and, past half strength, a
# smaller share at a neighbouring edge too); the crop keeps the photo's shape and size.
CROP_CUT: Final = (0.2, 0.5)
# Noise standard deviation on 0..255, strongest in the shadows as sensor noise is.
NOISE_SIGMA: Final = (12.0, 40.0)
# Noise is drawn at most this many pixels on a side and scaled up: grain that shows at viewing size.
NOISE_GRAIN_SIDE: Final = 512
# JPEG quality of the heavily compressed copies (PIL's scale, 1..95).
JPEG_QUALITY: Final = (14, 3)
# Cluttered: how many objects are drawn behind the garment and how strong the surface texture is.
CLUTTER_OBJECTS: Final = (10, 45)
CLUTTER_TEXTURE: Final = (18.0, 55.0)
# A photo without a plain backdrop cannot be cut out: it is shrunk to this share and set in clutter.
CLUTTER_PHOTO_SHARE: Final = 0.75
# Off-centre: the garment is shrunk to this share of its size and set this close to a corner.
OFF_CENTRE_SCALE: Final = (0.55, 0.28)
OFF_CENTRE_MARGIN: Final = 0.03

# Every copy the trainer makes is saved as an upload would be before it is measured: mostly as a JPEG
# of ordinary quality, sometimes losslessly. Otherwise the clean photos (JPEG files) would be the
# only ones carrying JPEG traces, and a filter would learn "JPEG grid means clean": a blurred photo
# re-saved at quality 75 would pass.
UPLOAD_JPEG_QUALITY: Final = (70, 95)
UPLOAD_LOSSLESS_SHARE: Final = 0.15

# Benign variants of a clean photo (still clean): a little lighter or darker, auto levels or another
# white balance, resized a little, re-saved as JPEG at an ordinary quality. The filter learns from
# them that such changes are fine.
BENIGN_GAIN: Final = (0.8, 1.25)
# Auto levels clipping this share (percent) of the darkest and the brightest pixels.
BENIGN_LEVELS_CUTOFF: Final = (0.0, 2.0)
# White balance: each channel's gain within 1 +- this.
BENIGN_WHITE_BALANCE: Final = 0.06
BENIGN_SCALE: Final = (0.8, 1.25)
BENIGN_JPEG_QUALITY: Final = (60, 95)
# A benign resize never takes the shorter side below this (nor below the photo's own).
BENIGN_MIN_SHORT_SIDE: Final = 224

_Degrader = Callable[[Image.Image, float, np.random.Generator], Image.Image]
FloatImage = npt.NDArray[np.float32]


def degrade(image: Image.Image, kind: str, strength: float, rng: np.random.Generator) -> Image.Image:
    """A degraded copy of `image` (RGB), `kind` one of DEGRADATIONS, `strength` 0 (plainly) to 1."""
    try:
        degrader = _DEGRADERS[kind]
    except KeyError:
        raise ValueError(f"unknown degradation {kind!r}; known: {', '.join(DEGRADATIONS)}") from None
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    return degrader(rgb, min(1.0, max(0.0, float(strength))), rng)


def benign_variant(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A copy of a clean photo that is still clean: one to four of the BENIGN_* changes."""
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    steps = rng.uniform(size=4) < 0.5
    if not steps.any():
        steps[int(rng.integers(4))] = True
    if steps[0]:
        rgb = _exposed(rgb, float(rng.uniform(*BENIGN_GAIN)))
    if steps[1]:
        # An editor's auto levels, or another white balance.
        if rng.uniform() < 0.5:
            rgb = ImageOps.autocontrast(rgb, cutoff=float(rng.uniform(*BENIGN_LEVELS_CUTOFF)))
        else:
            gains = rng.uniform(1 - BENIGN_WHITE_BALANCE, 1 + BENIGN_WHITE_BALANCE, 3)
            rgb = _image(_pixels(rgb) * gains.astype(np.float32))
    if steps[2]:
        floor = min(1.0, min(rgb.size) / BENIGN_MIN_SHORT_SIDE)
        scale = max(float(rng.uniform(*BENIGN_SCALE)), BENIGN_MIN_SHORT_SIDE * floor / min(rgb.size))
        size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    if steps[3]:
        rgb = _jpeg(rgb, int(rng.integers(BENIGN_JPEG_QUALITY[0], BENIGN_JPEG_QUALITY[1] + 1)))
    return rgb


def as_uploaded(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The photo as a file upload would bring it: a JPEG of ordinary quality, or unchanged."""
    if rng.uniform() < UPLOAD_LOSSLESS_SHARE:
        return image
    return _jpeg(image, int(rng.integers(UPLOAD_JPEG_QUALITY[0], UPLOAD_JPEG_QUALITY[1] + 1)))


def _lerp(span: tuple[float, float], strength: float) -> float:
    return span[0] + (span[1] - span[0]) * strength


def _pixels(image: Image.Image) -> FloatImage:
    return np.asarray(image, dtype=np.float32)


def _image(pixels: npt.NDArray[np.floating[Any]]) -> Image.Image:
    return Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), mode="RGB")


def _exposed(image: Image.Image, gain: float) -> Image.Image:
    # Pointwise, so a 256-entry table applied by PIL: the same result as the arithmetic per pixel.
    levels = np.arange(256, dtype=np.float64) / 255.0
    linear = np.clip(np.power(levels, 2.2) * gain, 0.0, 1.0)
    table = np.clip(np.rint(255.0 * np.power(linear, 1 / 2.2)), 0, 255).astype(np.uint8).tolist()
    return image.point(table * 3)


def _dark(image: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    return _exposed(image, _lerp(DARK_GAIN, strength) * float(rng.uniform(0.9, 1.1)))


def _overexposed(image: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    return _exposed(image, _lerp(OVEREXPOSED_GAIN, strength) * float(rng.uniform(0.9, 1.1)))


def _blurred(image: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    side = max(image.size)
    if rng.uniform() < MOTION_SHARE:
        length = max(3, round(_lerp(MOTION_LENGTH, strength) * side))
        return _motion_blurred(image, length, float(rng.uniform(0, np.pi)))
    return image.filter(ImageFilter.GaussianBlur(_lerp(BLUR_SIGMA, strength) * side))


def _motion_blurred(image: Image.Image, length: int, angle: float) -> Image.Image:
    # The mean of the photo shifted along a straight line: a camera moving during the exposure.
    pixels = _pixels(image)
    padded = np.pad(pixels, ((length, length), (length, length), (0, 0)), mode="edge")
    height, width = pixels.shape[:2]
    total = np.zeros_like(pixels)
    for step in np.linspace(-length / 2, length / 2, length):
        dx, dy = round(step * np.cos(angle)), round(step * np.sin(angle))
        total += padded[length + dy : length + dy + height, length + dx : length + dx + width]
    return _image(total / length)


def _tiny(image: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    short = _lerp(TINY_SHORT_SIDE, strength) * float(rng.uniform(0.92, 1.08))
    scale = min(1.0, short / min(image.size))
    size = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _cropped(image: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    # A window of the photo's own shape, placed so that its edge runs through the garment: a shot
    # taken too close. Scaled back to the photo's size, so only the framing differs.
    box = find_garment(image).box
    width, height = image.size
    edges = ["top", "bottom", "left", "right"]
    first = edges[int(rng.integers(4))]
    cuts = {first: _lerp(CROP_CUT, strength)}
    if strength > 0.5:
        neighbours = ["left", "right"] if first in ("top", "bottom") else ["top", "bottom"]
        cuts[neighbours[int(rng.integers(2))]] = 0.5 * _lerp(CROP_CUT, strength)
    x0, y0, x1, y1 = 0.0, 0.0, float(width), float(height)
    if "top" in cuts:
        y0 = box.y0 + cuts["top"] * box.height
    if "bottom" in cuts:
        y1 = box.y1 - cuts["bottom"] * box.height
    if "left" in cuts:
        x0 = box.x0 + cuts["left"] * box.width
    if "right" in cuts:
        x1 = box.x1 - cuts["right"] * box.width
    # Shrink the free sides until the window has the photo's aspect ratio again.
    aspect = width / height
    if (x1 - x0) / (y1 - y0) > aspect:
        keep = (y1 - y0) * aspect
        x0, x1 = _shrink_span(x0, x1, keep, "left" in cuts, "right" in cuts)
    else:
        keep = (x1 - x0) / aspect
        y0, y1 = _shrink_span(y0, y1, keep, "top" in cuts, "bottom" in cuts)
    zoomed = image.resize(image.size, Image.Resampling.BICUBIC, box=(x0, y0, x1, y1))
    # A photo taken too close is as sharp as any other: restore what the enlargement softened, so
    # the filter learns the framing, not the resampling.
    zoom = width / (x1 - x0)
    if zoom > 1.1:
        zoomed = zoomed.filter(
            ImageFilter.UnsharpMask(radius=zoom, percent=round(60 * (zoom - 1)) + 40, threshold=1)
        )
    return zoomed


def _shrink_span(
    start: float, end: float, length: float, start_fixed: bool, end_fixed: bool
) -> tuple[float, float]:
    if start_fixed and not end_fixed:
        return start, start + length
    if end_fixed and not start_fixed:
        return end - length, end
    middle = (start + end) / 2
    return middle - length / 2, middle + length / 2


def _noisy(image: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    pixels = _pixels(image)
    height, width = pixels.shape[:2]
    grain = max(1, -(-max(width, height) // NOISE_GRAIN_SIDE))
    small = (-(-height // grain), -(-width // grain))
    channels = 3 if rng.uniform() < 0.5 else 1  # colour noise or luminance noise only
    noise = rng.normal(0.0, 1.0, (*small, channels)).astype(np.float32)
    if grain > 1:
        noise = np.repeat(np.repeat(noise, grain, axis=0), grain, axis=1)[:height, :width]
    # Sensor noise is relatively stronger in the shadows.
    shade = 0.55 + 0.45 * (1.0 - pixels.mean(axis=2, keepdims=True) / 255.0)
    sigma = _lerp(NOISE_SIGMA, strength)
    return _image(pixels + sigma * shade * noise)


def _compressed(image: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    quality = max(1, round(_lerp(JPEG_QUALITY, strength)) + int(rng.integers(-1, 2)))
    return _jpeg(image, quality)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, subsampling=2)
    buffer.seek(0)
    with Image.open(buffer) as compressed:
        return compressed.convert("RGB")


def _cluttered(image: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    foreground = find_garment(image)
    scene = clutter_scene(image.size, strength, rng)
    if not foreground.plain_background:
        # No backdrop to cut the garment from: the whole photo stands in the scene, like a print on
        # a shop wall.
        share = CLUTTER_PHOTO_SHARE
        size = (max(1, round(image.width * share)), max(1, round(image.height * share)))
        offset = ((image.width - size[0]) // 2, (image.height - size[1]) // 2)
        scene.paste(image.resize(size, Image.Resampling.BILINEAR), offset)
        return scene
    scene.paste(image, (0, 0), _soft_mask(foreground))
    return scene


def clutter_scene(size: tuple[int, int], strength: float, rng: np.random.Generator) -> Image.Image:
    """A busy, room-like background: a shaded wall, furniture-like shapes and surface texture."""
    width, height = size
    wall = rng.uniform(60, 220) + rng.normal(0, 20, 3)
    floor = rng.uniform(30, 200) + rng.normal(0, 30, 3)
    horizon = int(rng.uniform(0.45, 0.8) * height)
    rows = np.arange(height, dtype=np.float32)[:, None, None]
    base: FloatImage = np.where(rows < horizon, wall, floor).astype(np.float32)
    base = base + np.zeros((height, width, 3), dtype=np.float32)
    base += np.linspace(-25, 25, width, dtype=np.float32)[None, :, None] * float(rng.choice([-1, 1]))
    scene = _image(base)
    draw = ImageDraw.Draw(scene)
    for _ in range(round(_lerp(CLUTTER_OBJECTS, strength))):
        # Household colours: mostly muted, a few strong ones.
        tone = rng.uniform(20, 235) + rng.normal(0, float(rng.choice([25.0, 60.0])), 3)
        colour = tuple(int(c) for c in np.clip(tone, 0, 255))
        x0, y0 = int(rng.integers(-width // 4, width)), int(rng.integers(-height // 4, height))
        w = int(rng.integers(max(2, width // 20), max(3, width // 2)))
        h = int(rng.integers(max(2, height // 20), max(3, height // 2)))
        shape = int(rng.integers(3))
        if shape == 0:
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
        elif shape == 1:
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
        else:
            draw.line((x0, y0, x0 + w, y0 + h), fill=colour, width=max(1, min(width, height) // 60))
    # Blotchy texture (wood, carpet, wallpaper) at a few pixels' grain.
    grain = max(2, min(width, height) // 40)
    texture = rng.normal(0, 1, (-(-height // grain), -(-width // grain), 1)).astype(np.float32)
    texture = np.repeat(np.repeat(texture, grain, axis=0), grain, axis=1)[:height, :width]
    pixels = _pixels(scene) + _lerp(CLUTTER_TEXTURE, strength) * texture
    return _image(pixels).filter(ImageFilter.GaussianBlur(0.6))


def _soft_mask(foreground: Foreground) -> Image.Image:
    # The mask is found at a coarse scale: soften its outline by a pixel so the cut-out does not
    # carry a staircase edge the filter could learn instead of the clutter.
    mask = Image.fromarray(foreground.mask.astype(np.uint8) * 255, mode="L")
    return mask.filter(ImageFilter.GaussianBlur(1))


def _off_centre(image: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    foreground = find_garment(image)
    width, height = image.size
    box = foreground.box
    scale = _lerp(OFF_CENTRE_SCALE, strength) * float(rng.uniform(0.9, 1.1))
    if foreground.plain_background and foreground.background_surface is not None:
        surface = Image.fromarray(foreground.background_surface, mode="RGB").resize(
            image.size, Image.Resampling.BILINEAR
        )
        # The fitted backdrop is perfectly smooth; give it the photo's own backdrop grain back, or
        # "no grain at all" would give the copy away.
        expected = _pixels(surface)
        backdrop = ~foreground.mask
        residual = _pixels(image)[backdrop] - expected[backdrop]
        grain = 1.4826 * np.median(np.abs(residual - np.median(residual, axis=0)), axis=0)
        canvas = _image(expected + rng.normal(0.0, 1.0, expected.shape).astype(np.float32) * grain)
        piece = image.crop((box.x0, box.y0, box.x1, box.y1))
        mask = _soft_mask(foreground).crop((box.x0, box.y0, box.x1, box.y1))
    else:
        # No backdrop to lift the garment from: the whole photo is shrunk onto its border colour.
        canvas = Image.new("RGB", image.size, foreground.background_rgb)
        piece = image
        mask = Image.new("L", image.size, 255)
    size = (max(1, round(piece.width * scale)), max(1, round(piece.height * scale)))
    piece = piece.resize(size, Image.Resampling.LANCZOS)
    mask = mask.resize(size, Image.Resampling.BILINEAR)
    margin_x, margin_y = round(OFF_CENTRE_MARGIN * width), round(OFF_CENTRE_MARGIN * height)
    left = bool(rng.uniform() < 0.5)
    top = bool(rng.uniform() < 0.5)
    x = margin_x if left else width - margin_x - size[0]
    y = margin_y if top else height - margin_y - size[1]
    canvas.paste(piece, (max(0, x), max(0, y)), mask)
    return canvas


_DEGRADERS: Final[dict[str, _Degrader]] = {
    "dark": _dark,
    "overexposed": _overexposed,
    "blurred": _blurred,
    "tiny": _tiny,
    "cropped": _cropped,
    "noisy": _noisy,
    "compressed": _compressed,
    "cluttered": _cluttered,
    "off_centre": _off_centre,
}
