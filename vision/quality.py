"""Score how usable a garment photo is, so the curated library can keep out poor ones.

Each check measures one thing, flags a problem past a named threshold, and a flagged problem
multiplies the score by a factor below one (more so the further past the threshold). Same image
in, same report out. Thresholds were set on a few hundred studio catalog shots (239x334 px) and on
blurred, shrunk, darkened and brightened copies of them; on a thousand such shots they flag 1.4%
(mostly bags whose strap runs off the frame, and rings too small to show detail).

numpy and PIL only: no torch, so the web process can import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from vision.detect import Box, Foreground

# Resolution: the network looks at 224x224; a shorter side below that is upscaled, detail it never had.
MIN_SHORT_SIDE: Final = 224

# Sharpness is measured on the garment's box, scaled so its longer side is SHARPNESS_SIDE (the
# network's input size), as the ratio of fine detail (Laplacian variance) to detail at half that
# scale. Unlike the raw Laplacian variance, the ratio hardly depends on how patterned the garment
# is: studio shots sit at 0.20 and above (1st percentile), a 1 px Gaussian blur brings the median
# to 0.14.
SHARPNESS_SIDE: Final = 224
BLURRY_BELOW: Final = 0.17
# A box with almost no detail at all (Laplacian variance below this) is blurry whatever the ratio.
FLAT_BELOW: Final = 3.0

# Exposure, on luminance 0..255. Too dark: even the brightest 5% of the photo stays below this
# (studio shots: 235 and above; the same shots at 40% brightness: 95).
DARK_P95_BELOW: Final = 110.0
# Overexposed: more than this share of the garment's pixels are clipped white (studio shots: 1% at
# the 99th percentile). A clipped white backdrop is a house style, not a fault, so only the garment
# counts.
CLIPPED_LEVEL: Final = 250.0
OVEREXPOSED_SHARE: Final = 0.2

# Framing. The garment's box covers less than this share of the frame (a ring shot from afar).
# The box, not the mask, because a white garment on a cream backdrop has a patchy mask.
MIN_BOX_SHARE: Final = 0.03
# Cut off: garment pixels cover more than this share of one image edge.
CUT_OFF_EDGE_SHARE: Final = 0.05

# How much each problem costs: the score is multiplied by 1 - weight * severity, where severity
# runs from 0.5 (just past the threshold) to 1.0 (as bad as it gets).
PENALTY_WEIGHTS: Final = {
    "small": 0.6,
    "blurry": 0.6,
    "dark": 0.5,
    "overexposed": 0.5,
    "framing": 0.4,
    "cut_off": 0.3,
}

# Exposure is measured on a copy at most this many pixels on its longer side (a 12 MP photo would
# otherwise cost 150 MB of float luminance).
EXPOSURE_MAX_SIDE: Final = 512

_LUMA_WEIGHTS: Final = (0.299, 0.587, 0.114)

# A finding: (problem shown to people, key into PENALTY_WEIGHTS, depth past the threshold 0..1).
_Finding = tuple[str, str, float] | None


@dataclass(frozen=True)
class QualityReport:
    # 0..1, higher is better; 1.0 means no problem was found.
    score: float
    # Human-readable problems, e.g. "too small (120x90)", "blurry", "too dark", "overexposed",
    # "garment fills too little of the frame", "garment cut off at the edge".
    problems: tuple[str, ...]


def assess_quality(image: Image.Image, foreground: Foreground) -> QualityReport:
    """Check resolution, sharpness, exposure and framing of one garment photo."""
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    factor = -(-max(rgb.size) // EXPOSURE_MAX_SIDE)
    small = rgb.reduce(factor) if factor > 1 else rgb
    luminance = np.asarray(small, dtype=np.float32) @ np.array(_LUMA_WEIGHTS, dtype=np.float32)
    garment = foreground.mask[::factor, ::factor][: luminance.shape[0], : luminance.shape[1]]
    findings = [
        _resolution(rgb.size),
        _sharpness(rgb, foreground.box),
        _darkness(luminance),
        _overexposure(luminance, garment),
        _framing(foreground.box, rgb.size),
        _cut_off(foreground),
    ]
    score = 1.0
    problems: list[str] = []
    for finding in findings:
        if finding is not None:
            problem, weight, depth = finding
            problems.append(problem)
            score *= 1.0 - PENALTY_WEIGHTS[weight] * (0.5 + 0.5 * min(1.0, max(0.0, depth)))
    return QualityReport(score=round(score, 4), problems=tuple(problems))


def _resolution(size: tuple[int, int]) -> _Finding:
    width, height = size
    short = min(width, height)
    if short >= MIN_SHORT_SIDE:
        return None
    return (f"too small ({width}x{height})", "small", 1.0 - short / MIN_SHORT_SIDE)


def _sharpness(image: Image.Image, box: Box) -> _Finding:
    ratio, fine = sharpness(image, box)
    if fine < FLAT_BELOW:
        return ("blurry", "blurry", 1.0)
    if ratio >= BLURRY_BELOW:
        return None
    return ("blurry", "blurry", 1.0 - ratio / BLURRY_BELOW)


def sharpness(image: Image.Image, box: Box) -> tuple[float, float]:
    """(fine-to-coarse detail ratio, fine Laplacian variance) of the garment box; see BLURRY_BELOW."""
    grey = image.crop((box.x0, box.y0, box.x1, box.y1)).convert("L")
    scale = SHARPNESS_SIDE / max(grey.size)
    size = (max(4, round(grey.width * scale)), max(4, round(grey.height * scale)))
    grey = grey.resize(size, Image.Resampling.BILINEAR)
    fine = _laplacian_variance(np.asarray(grey, dtype=np.float32))
    coarse = _laplacian_variance(np.asarray(grey.reduce(2), dtype=np.float32))
    return fine / max(coarse, 1e-3), fine


def _laplacian_variance(grey: npt.NDArray[np.float32]) -> float:
    if min(grey.shape) < 3:
        return 0.0
    centre = grey[1:-1, 1:-1]
    laplacian = 4 * centre - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return float(laplacian.var())


def _darkness(luminance: npt.NDArray[np.float32]) -> _Finding:
    bright = float(np.percentile(luminance, 95))
    if bright >= DARK_P95_BELOW:
        return None
    return ("too dark", "dark", 1.0 - bright / DARK_P95_BELOW)


def _overexposure(luminance: npt.NDArray[np.float32], garment: npt.NDArray[np.bool_]) -> _Finding:
    clipped = float(np.mean(luminance[garment] >= CLIPPED_LEVEL)) if garment.any() else 0.0
    if clipped <= OVEREXPOSED_SHARE:
        return None
    return ("overexposed", "overexposed", (clipped - OVEREXPOSED_SHARE) / (1.0 - OVEREXPOSED_SHARE))


def _framing(box: Box, size: tuple[int, int]) -> _Finding:
    share = box.width * box.height / (size[0] * size[1])
    if share >= MIN_BOX_SHARE:
        return None
    return ("garment fills too little of the frame", "framing", 1.0 - share / MIN_BOX_SHARE)


def _cut_off(foreground: Foreground) -> _Finding:
    if not foreground.plain_background:
        return None  # the whole photo counts as garment: nothing to tell
    mask = foreground.mask
    worst = max(float(edge.mean()) for edge in (mask[0], mask[-1], mask[:, 0], mask[:, -1]))
    if worst <= CUT_OFF_EDGE_SHARE:
        return None
    return ("garment cut off at the edge", "cut_off", worst)
