"""Fabric, light and backdrop: pattern fills (stripes, checks, dots, denim), grain, soft shadows
and the studio backdrop whose tint is the season's photo style. numpy arrays in, arrays out."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageFilter

from .vocabulary import PATTERNS, RGB, FloatArray

_VERTICAL_STRIPES = {"shirt", "trousers", "blazer", "coat", "trench"}
_LARGE_CHECKS = {"coat", "trench", "blazer", "jacket", "skirt", "trousers"}


@lru_cache(maxsize=8)
def grid(h: int, w: int) -> tuple[FloatArray, FloatArray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy.flags.writeable = xx.flags.writeable = False  # shared between photos and threads
    return yy, xx


@lru_cache(maxsize=1)
def _noise_bank() -> FloatArray:
    """Gaussian noise to cut grain from: drawing fresh noise per photo costs more than the photo.
    Callers only read windows of it."""
    bank: FloatArray = (
        np.random.default_rng(20_240_611).normal(0.0, 1.0, size=(1024, 1024)).astype(np.float32)
    )
    bank.flags.writeable = False
    return bank


def grain(h: int, w: int, rng: np.random.Generator) -> FloatArray:
    """Unit Gaussian grain of shape (h, w), a random window of the noise bank."""
    bank = _noise_bank()
    if h > bank.shape[0] or w > bank.shape[1]:
        return rng.normal(0.0, 1.0, size=(h, w)).astype(np.float32)
    y = int(rng.integers(0, bank.shape[0] - h + 1))
    x = int(rng.integers(0, bank.shape[1] - w + 1))
    return bank[y : y + h, x : x + w]


def smooth_noise(h: int, w: int, cells: tuple[int, int], rng: np.random.Generator) -> FloatArray:
    """Low-frequency noise in about -1..1: a coarse random grid, smoothly enlarged."""
    coarse = rng.normal(0.0, 1.0, size=cells).astype(np.float32)
    lo, hi = float(coarse.min()), float(coarse.max())
    im = Image.fromarray(((coarse - lo) / max(hi - lo, 1e-6) * 255).astype(np.uint8), "L")
    big = np.asarray(im.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)
    return big / 127.5 - 1.0


def _bands(coord: FloatArray, period: float, width: float, offset: float) -> FloatArray:
    """Anti-aliased bands of a given width repeating every period pixels."""
    phase = np.mod(coord + offset, period)
    distance = np.abs(phase - period / 2)
    bands: FloatArray = np.clip(width / 2 + 0.5 - distance, 0.0, 1.0)
    return bands


def fabric_texture(
    kind: str,
    pattern: str,
    colour: RGB,
    accent: RGB,
    yy: FloatArray,
    xx: FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    """The garment's fabric at photo pixel coordinates ``yy``, ``xx``: H x W x 3 floats. The pattern
    is laid out in photo coordinates; the silhouette masks it later."""
    h, w = yy.shape
    base = np.array(colour, dtype=np.float32)
    second = np.array(accent, dtype=np.float32)
    tex = np.broadcast_to(base, (h, w, 3)).copy()

    def blend(amount: FloatArray) -> None:
        nonlocal tex
        tex = tex + (second - tex) * amount[..., None]

    if pattern == "stripes":
        if kind in _VERTICAL_STRIPES:
            period = float(rng.uniform(7, 10))
            blend(_bands(xx, period, float(rng.uniform(1.2, 2.0)), float(rng.uniform(0, period))))
        else:
            period = float(rng.uniform(11, 17))
            blend(_bands(yy, period, period * float(rng.uniform(0.35, 0.5)), float(rng.uniform(0, period))))
    elif pattern == "checks":
        if kind in _LARGE_CHECKS:
            period = float(rng.uniform(26, 36))
            off = float(rng.uniform(0, period))
            wide = 0.35 * (_bands(xx, period, period * 0.3, off) + _bands(yy, period, period * 0.3, off))
            thin = 0.85 * np.maximum(
                _bands(xx, period, 1.4, off + period / 2), _bands(yy, period, 1.4, off + period / 2)
            )
            blend(np.clip(wide + thin, 0.0, 0.9))
        else:
            period = float(rng.uniform(8, 12))
            off = float(rng.uniform(0, period))
            blend(0.5 * _bands(xx, period, period / 2, off) + 0.5 * _bands(yy, period, period / 2, off))
    elif pattern == "dots":
        spacing = float(rng.uniform(13, 19))
        radius = float(rng.uniform(2.2, 3.8))
        row = np.floor(yy / spacing)
        dx = np.mod(xx + np.mod(row, 2) * spacing / 2, spacing) - spacing / 2
        dy = np.mod(yy, spacing) - spacing / 2
        blend(np.clip(radius + 0.5 - np.sqrt(dx * dx + dy * dy), 0.0, 1.0))
    elif pattern == "denim":
        twill = np.sin((xx + yy) * (2 * math.pi / 3.2)).astype(np.float32)
        yarn = rng.normal(0.0, 1.0, size=(1, w)).astype(np.float32)
        yarn = np.convolve(yarn[0], np.ones(3) / 3, mode="same")[None, :]
        fade = np.clip(smooth_noise(h, w, (5, 4), rng), 0.0, 1.0)
        tex = tex * (1.0 + 0.07 * twill + 0.05 * yarn)[..., None]
        tex = tex + (np.array((214, 224, 236), dtype=np.float32) - tex) * (0.22 * fade)[..., None]
    elif pattern != "solid":
        raise ValueError(f"unknown pattern {pattern!r}; expected one of {', '.join(PATTERNS)}")
    if kind == "sweater":
        tex = tex * (1.0 + 0.035 * np.sin(xx * (2 * math.pi / 3.5)))[..., None]
    return tex


def blur(mask: FloatArray, radius: float) -> FloatArray:
    """A soft copy of a mask. Blurred at half size, which looks the same and costs a third."""
    h, w = mask.shape
    im = Image.fromarray((np.clip(mask, 0.0, 1.0) * 255).astype(np.uint8), "L")
    small = im.reduce(2).filter(ImageFilter.GaussianBlur(radius / 2))
    return np.asarray(small.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0


def shift(mask: FloatArray, dx: int, dy: int) -> FloatArray:
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = mask[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def backdrop(size: tuple[int, int], background: RGB, rng: np.random.Generator) -> FloatArray:
    """A studio backdrop: the season's tint with a little jitter, lighter at the top centre."""
    w, h = size
    # Mostly a change of exposure, barely of hue: a season's tint stays recognisable.
    jitter = float(rng.integers(-4, 5)) + rng.integers(-1, 2, size=3).astype(np.float32)
    tint = np.array(background, dtype=np.float32) + jitter
    bg: FloatArray = tint[None, None, :] * _falloff(h, w)[..., None] + 0.8 * grain(h, w, rng)[..., None]
    return bg


@lru_cache(maxsize=8)
def _falloff(h: int, w: int) -> FloatArray:
    yy, xx = grid(h, w)
    r = np.sqrt(((xx - w / 2) / w) ** 2 + ((yy - h * 0.3) / h) ** 2)
    falloff: FloatArray = (1.0 + 0.025 - 0.09 * np.clip(r, 0.0, 1.0) ** 1.6).astype(np.float32)
    falloff.flags.writeable = False
    return falloff
