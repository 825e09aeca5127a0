"""Score how usable a garment photo is, so the curated library can keep out poor ones.

Two graders share one report:

- The learned filter (vision.quality_filter): a small classifier over `photo_statistics`, trained on
  clean product shots and degraded copies of them (vision.degrade). Its score is the probability
  that the photo is clean; below the filter's threshold the verdict is "reject" and the problems
  name the likeliest faults. Callers pass it in: `assess_quality(image, fg, quality_filter=...)`.
- The hand-set rules below, used when no learned filter is available: each check measures one
  thing, flags a problem past a named threshold, and a flagged problem multiplies the score by a
  factor below one (more so the further past the threshold). Thresholds were set on a few hundred
  studio catalog shots (239x334 px) and on blurred, shrunk, darkened and brightened copies of them;
  on a thousand such shots they flag 1.4% (mostly bags whose strap runs off the frame, and rings too
  small to show detail). They miss most plainly degraded photos (see bench/eval_quality.py).

Same image in, same report out. numpy and PIL only: no torch, so the web process can import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from vision.detect import Box, Foreground

if TYPE_CHECKING:  # the filter module imports this one
    from vision.quality_filter import QualityFilter

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


# The hand-set score below which a photo is rejected (the default of CTL_LIBRARY_MIN_QUALITY).
HANDSET_THRESHOLD: Final = 0.35
HANDSET_METHOD: Final = "hand-set"


@dataclass(frozen=True)
class QualityReport:
    # 0..1, higher is better. Learned filter: the probability that the photo is clean. Hand-set
    # rules: 1.0 means no problem was found.
    score: float
    # Human-readable problems, e.g. "too small (120x90)", "blurry", "too dark", "overexposed",
    # "garment cut off at the edge", "noisy", "cluttered background". The learned filter names them
    # only for a rejected photo; the hand-set rules name every one they flag.
    problems: tuple[str, ...]
    verdict: str = "keep"  # "keep" or "reject"
    # Which grader: HANDSET_METHOD or the learned filter's build id ("quality-<...>").
    method: str = HANDSET_METHOD
    # What the learned filter looked at (None from the hand-set rules).
    statistics: PhotoStatistics | None = field(default=None, compare=False, repr=False)


def assess_quality(
    image: Image.Image,
    foreground: Foreground,
    *,
    quality_filter: QualityFilter | None = None,
    extra: npt.NDArray[np.float32] | None = None,
    threshold: float | None = None,
) -> QualityReport:
    """Grade one garment photo: with the learned filter when one is given, else the hand-set rules.

    `threshold` overrides the filter's own (chosen when it was trained) or HANDSET_THRESHOLD;
    `extra` is the filter's extra feature columns, for a filter trained with them.
    """
    if quality_filter is not None:
        return quality_filter.assess(image, foreground, extra=extra, threshold=threshold)
    return handset_quality(image, foreground, threshold=HANDSET_THRESHOLD if threshold is None else threshold)


def handset_quality(
    image: Image.Image, foreground: Foreground, *, threshold: float = HANDSET_THRESHOLD
) -> QualityReport:
    """Check resolution, sharpness, exposure and framing of one garment photo with fixed rules."""
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
    score = round(score, 4)
    return QualityReport(
        score=score, problems=tuple(problems), verdict="keep" if score >= threshold else "reject"
    )


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
    grey = _box_grey(image, box)
    fine = _laplacian_variance(np.asarray(grey, dtype=np.float32))
    coarse = _laplacian_variance(np.asarray(grey.reduce(2), dtype=np.float32))
    return fine / max(coarse, 1e-3), fine


def _box_grey(image: Image.Image, box: Box) -> Image.Image:
    """The garment box in grey, its longer side scaled to SHARPNESS_SIDE."""
    crop = image.crop((box.x0, box.y0, box.x1, box.y1))
    # A big crop is first block-averaged to at most twice the target: the bilinear resize after it
    # then sees what it would have, at a fraction of the cost on a 12 MP photo.
    factor = max(crop.size) // (2 * SHARPNESS_SIDE)
    if factor > 1:
        crop = crop.reduce(factor)
    grey = crop.convert("L")
    scale = SHARPNESS_SIDE / max(grey.size)
    size = (max(4, round(grey.width * scale)), max(4, round(grey.height * scale)))
    return grey.resize(size, Image.Resampling.BILINEAR)


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


# --- Measured statistics: what the learned filter looks at ------------------------------------

# Bump when a statistic's definition changes: a filter trained on the old ones must be retrained.
STATISTICS_VERSION: Final = "qs1"

STATISTIC_NAMES: Final = (
    # Resolution (log2 pixels).
    "short_side_log2",
    "long_side_log2",
    # Sharpness of the garment box at SHARPNESS_SIDE: fine-to-coarse detail ratio, log fine detail,
    # and the steepest edges relative to the box's contrast.
    "sharpness_ratio",
    "detail_log",
    "edge_steepness",
    # Exposure, luminance 0..255: whole photo, garment, backdrop.
    "luma_p05",
    "luma_p50",
    "luma_p95",
    "garment_luma_p10",
    "garment_luma_p50",
    "garment_luma_p90",
    "backdrop_luma",
    "garment_saturation",
    "garment_contrast",
    # Clipping: share of pixels at the ends of the scale.
    "white_clipped_share",
    "garment_white_clipped_share",
    "black_clipped_share",
    "garment_black_clipped_share",
    # Framing, as shares of the frame.
    "box_share",
    "coverage",
    "centre_offset_x",
    "centre_offset_y",
    "margin_min",
    "margin_asymmetry",
    # Cut-off: garment share of the image edges.
    "edge_share_max",
    "edge_share_second",
    "edges_touched",
    "plain_background",
    # Noise: fine residual on the backdrop, and in the flattest tenth of the photo.
    "backdrop_noise",
    "flat_noise",
    # JPEG artefacts on the 8x8 block grid, at full resolution.
    "blockiness",
    "flat_block_share",
    # Clutter: how far the border strays from one colour, and how busy it and the backdrop are.
    "border_spread",
    "border_edge_density",
    "backdrop_edge_density",
)

# Luminance at or past these counts as clipped.
WHITE_CLIPPED: Final = 250.0
BLACK_CLIPPED: Final = 5.0
# A luminance step of more than this between neighbours is an edge (clutter).
EDGE_STEP: Final = 20.0
# The border band sampled for clutter, as a share of the shorter side of the working copy.
BORDER_BAND_SHARE: Final = 0.04
# JPEG artefacts are measured on a window of at most this many pixels on a side, at full
# resolution (the block grid is lost in any resampled copy), placed on the garment.
BLOCK_WINDOW: Final = 512
JPEG_BLOCK: Final = 8
# Percentiles are taken on an even sample of at most this many values.
QUANTILE_SAMPLE: Final = 8192


@dataclass(frozen=True)
class PhotoStatistics:
    """One photo's measurements, in STATISTIC_NAMES order."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.values) != len(STATISTIC_NAMES):
            raise ValueError(f"expected {len(STATISTIC_NAMES)} statistics, got {len(self.values)}")

    def __getitem__(self, name: str) -> float:
        return self.values[STATISTIC_NAMES.index(name)]

    def as_dict(self) -> dict[str, float]:
        return dict(zip(STATISTIC_NAMES, self.values, strict=True))

    def as_array(self) -> npt.NDArray[np.float32]:
        return np.asarray(self.values, dtype=np.float32)


def photo_statistics(image: Image.Image, foreground: Foreground) -> PhotoStatistics:
    """Measure resolution, sharpness, exposure, clipping, framing, cut-off, noise, JPEG artefacts
    and clutter of one photo. Deterministic; a few milliseconds even on a 12 MP photo (everything
    but the JPEG grid is measured on a copy of at most EXPOSURE_MAX_SIDE pixels)."""
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    width, height = rgb.size
    factor = -(-max(rgb.size) // EXPOSURE_MAX_SIDE)
    small = rgb.reduce(factor) if factor > 1 else rgb
    pixels = np.asarray(small, dtype=np.float32)
    luminance = pixels @ np.array(_LUMA_WEIGHTS, dtype=np.float32)
    garment = foreground.mask[::factor, ::factor][: luminance.shape[0], : luminance.shape[1]]
    if not garment.any():
        garment = np.ones_like(garment)
    border = _border_band(luminance.shape)
    backdrop = ~_grown(garment, 2) if foreground.plain_background else border
    if not backdrop.any():
        backdrop = border

    ratio, detail, steepness = _box_sharpness(rgb, foreground.box)
    p05, p50, p95 = _quantiles(luminance, (5, 50, 95))
    g10, g50, g90 = _quantiles(luminance[garment], (10, 50, 90))
    (backdrop_luma,) = _quantiles(luminance[backdrop], (50,))
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    brightest = np.maximum(np.maximum(red, green), blue)
    darkest = np.minimum(np.minimum(red, green), blue)
    saturation = float(np.mean(((brightest - darkest) / (brightest + 1.0))[garment]))

    box = foreground.box
    margins = (box.x0 / width, (width - box.x1) / width, box.y0 / height, (height - box.y1) / height)
    mask = foreground.mask
    edges = sorted(
        (float(edge.mean()) for edge in (mask[0], mask[-1], mask[:, 0], mask[:, -1])), reverse=True
    )

    residual = _neighbour_residual(luminance)
    step = _edge_steps(luminance)
    blockiness, flat_blocks = _jpeg_grid(rgb, box)
    border_colours = pixels[border]
    border_median = np.array([_quantiles(border_colours[:, channel], (50,))[0] for channel in range(3)])

    values = (
        float(np.log2(min(width, height))),
        float(np.log2(max(width, height))),
        ratio,
        float(np.log1p(detail)),
        steepness,
        p05,
        p50,
        p95,
        g10,
        g50,
        g90,
        backdrop_luma,
        saturation,
        abs(g50 - backdrop_luma) / 255.0,
        float(np.mean(luminance >= WHITE_CLIPPED)),
        float(np.mean(luminance[garment] >= WHITE_CLIPPED)),
        float(np.mean(luminance <= BLACK_CLIPPED)),
        float(np.mean(luminance[garment] <= BLACK_CLIPPED)),
        box.width * box.height / (width * height),
        foreground.coverage,
        abs((box.x0 + box.x1) / 2 - width / 2) / width,
        abs((box.y0 + box.y1) / 2 - height / 2) / height,
        min(margins),
        max(abs(margins[0] - margins[1]), abs(margins[2] - margins[3])),
        edges[0],
        edges[1],
        float(sum(share > CUT_OFF_EDGE_SHARE for share in edges)),
        1.0 if foreground.plain_background else 0.0,
        _quantiles(np.abs(residual[backdrop]), (50,))[0],
        _flat_noise(residual),
        blockiness,
        flat_blocks,
        _quantiles(np.sqrt(np.square(border_colours - border_median).sum(axis=1)), (50,))[0],
        float(np.mean(step[border])),
        float(np.mean(step[backdrop])),
    )
    return PhotoStatistics(values=values)


def _box_sharpness(image: Image.Image, box: Box) -> tuple[float, float, float]:
    """(fine-to-coarse detail ratio, fine Laplacian variance, edge steepness) of the garment box."""
    grey_image = _box_grey(image, box)
    grey = np.asarray(grey_image, dtype=np.float32)
    fine = _laplacian_variance(grey)
    coarse = _laplacian_variance(np.asarray(grey_image.reduce(2), dtype=np.float32))
    if min(grey.shape) < 2:
        return 0.0, fine, 0.0
    gradient = np.concatenate([np.abs(np.diff(grey, axis=0)).ravel(), np.abs(np.diff(grey, axis=1)).ravel()])
    low, high = _quantiles(grey, (1, 99))
    steepness = _quantiles(gradient, (99,))[0] / (high - low + 10.0)
    return fine / max(coarse, 1e-3), fine, steepness


def _quantiles(values: npt.NDArray[np.float32], percents: tuple[float, ...]) -> tuple[float, ...]:
    # Percentiles of an evenly strided sample of at most QUANTILE_SAMPLE values: a whole photo's
    # worth of partitions would cost more than every other statistic together.
    flat = values.ravel()
    stride = -(-flat.size // QUANTILE_SAMPLE)
    sample = flat[::stride] if stride > 1 else flat
    if sample.size == 0:
        return tuple(0.0 for _ in percents)
    return tuple(float(v) for v in np.percentile(sample, percents))


def _border_band(shape: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    height, width = shape[0], shape[1]
    band = max(2, round(BORDER_BAND_SHARE * min(height, width)))
    border = np.ones((height, width), dtype=bool)
    border[band:-band, band:-band] = False
    return border


def _grown(mask: npt.NDArray[np.bool_], radius: int) -> npt.NDArray[np.bool_]:
    grown = mask.copy()
    for step in range(1, radius + 1):
        grown[step:] |= mask[:-step]
        grown[:-step] |= mask[step:]
        grown[:, step:] |= mask[:, :-step]
        grown[:, :-step] |= mask[:, step:]
    return grown


def _neighbour_residual(luminance: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Each pixel minus the mean of its four neighbours (0 on the outermost ring): fine noise."""
    residual = np.zeros_like(luminance)
    if min(luminance.shape) >= 3:
        centre = luminance[1:-1, 1:-1]
        around = luminance[:-2, 1:-1] + luminance[2:, 1:-1] + luminance[1:-1, :-2] + luminance[1:-1, 2:]
        residual[1:-1, 1:-1] = centre - 0.25 * around
    return residual


def _flat_noise(residual: npt.NDArray[np.float32]) -> float:
    # The spread of the residual in the flattest tenth of 8x8 blocks: noise wherever the photo is
    # smooth, with no need to know which part is backdrop (clutter and street shots included).
    height, width = (side // JPEG_BLOCK * JPEG_BLOCK for side in residual.shape)
    if height == 0 or width == 0:
        return float(residual.std())
    blocks = residual[:height, :width].reshape(
        height // JPEG_BLOCK, JPEG_BLOCK, width // JPEG_BLOCK, JPEG_BLOCK
    )
    return float(np.percentile(blocks.std(axis=(1, 3)), 10))


def _edge_steps(luminance: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    step = np.zeros(luminance.shape, dtype=bool)
    step[:, :-1] |= np.abs(np.diff(luminance, axis=1)) > EDGE_STEP
    step[:-1, :] |= np.abs(np.diff(luminance, axis=0)) > EDGE_STEP
    return step


def _jpeg_grid(image: Image.Image, box: Box) -> tuple[float, float]:
    """(blockiness, flat block share) on a full-resolution window aligned to the 8x8 JPEG grid.

    Blockiness: the mean luminance step across block boundaries over the mean step inside blocks
    (1 for a clean photo, well above 1 when coarse quantisation leaves each block a flat patch).
    Flat block share: among blocks that are not clipped, those with no variation at all, as heavy
    compression leaves a smooth backdrop or a fine fabric.
    """
    width, height = image.size
    side = JPEG_BLOCK
    window_w, window_h = min(width, BLOCK_WINDOW) // side * side, min(height, BLOCK_WINDOW) // side * side
    if window_w < 2 * side or window_h < 2 * side:
        return 1.0, 0.0
    centre_x, centre_y = (box.x0 + box.x1) // 2, (box.y0 + box.y1) // 2
    x0 = min(max(0, centre_x - window_w // 2), width - window_w) // side * side
    y0 = min(max(0, centre_y - window_h // 2), height - window_h) // side * side
    grey = np.asarray(image.crop((x0, y0, x0 + window_w, y0 + window_h)).convert("L"), dtype=np.float32)
    across = np.abs(np.diff(grey, axis=1))  # column j: the step from pixel j to j + 1
    down = np.abs(np.diff(grey, axis=0))
    on_grid_x = (np.arange(across.shape[1]) % side) == side - 1
    on_grid_y = (np.arange(down.shape[0]) % side) == side - 1
    boundary = (across[:, on_grid_x].mean() + down[on_grid_y].mean()) / 2
    inside = (across[:, ~on_grid_x].mean() + down[~on_grid_y].mean()) / 2
    blockiness = float((boundary + 0.5) / (inside + 0.5))
    blocks = grey.reshape(window_h // side, side, window_w // side, side)
    spread = blocks.max(axis=(1, 3)) - blocks.min(axis=(1, 3))
    mean = blocks.mean(axis=(1, 3))
    unclipped = (mean > BLACK_CLIPPED + 3) & (mean < WHITE_CLIPPED - 3)
    flat = float(np.mean(spread[unclipped] <= 1.0)) if unclipped.any() else 0.0
    return blockiness, flat
