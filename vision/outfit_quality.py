"""Is an outfit photo good enough for the curated library? The seed's list, checked on the photo.

    low resolution        the photo's shorter side, or a garment's crop, is too small to show it well
    dark background       what is not garment is dark on average
    cluttered background  what is not garment is busy (edges everywhere: a street, a room)
    not a full outfit     no top and bottom, and no dress, among the garments placed
    garment cut off       a garment's box runs into the photo's edge

Each problem costs a quarter of the score (1.0: none). Each garment's own photo quality (vision.quality
or the learned filter) is graded apart, on its crop; this module grades the photo as a whole.
Edges come from scikit-image (`filters.sobel`) on a downscaled grey copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from .photo import FoundGarment, PhotoReading

MIN_PHOTO_SIDE: Final = 400  # px, the shorter side of an outfit photo
MIN_GARMENT_SIDE: Final = 80  # px, the shorter side of a garment's box
DARK_BACKGROUND: Final = 60.0  # mean luminance (0-255) of the background below this is dark
# Mean Sobel magnitude (0-1 image) of the background above this is clutter: a plain studio backdrop
# stays below 0.01, a photo taken on a street or in a room is several times this.
CLUTTERED_BACKGROUND: Final = 0.04
EDGE_MARGIN: Final = 0.01  # a box within this share of the photo's side from an edge touches it
WORKING_SIDE: Final = 512
PROBLEM_COST: Final = 0.25


@dataclass(frozen=True)
class OutfitPhotoQuality:
    score: float
    problems: tuple[str, ...]


def assess_outfit_photo(image: Image.Image, reading: PhotoReading) -> OutfitPhotoQuality:
    """The photo's problems as an outfit of the library (see the module docstring)."""
    from skimage.filters import sobel  # workers only (requirements/ml.txt)

    rgb = image.convert("RGB") if image.mode != "RGB" else image
    width, height = rgb.size
    placed = reading.placed
    problems: list[str] = []
    small = [g for g in placed if min(g.box.width, g.box.height) < MIN_GARMENT_SIDE]
    if min(width, height) < MIN_PHOTO_SIDE:
        problems.append(f"low resolution: {width}x{height} px, at least {MIN_PHOTO_SIDE} px a side")
    elif small:
        problems.append(f"low resolution: the {_names(small)} shows under {MIN_GARMENT_SIDE} px")

    scale = min(1.0, WORKING_SIDE / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    grey = np.asarray(rgb.resize(size).convert("L"), dtype=np.float32) / 255.0
    background = ~_garment_mask(reading.garments, scale, (size[1], size[0]))
    if background.mean() > 0.05:
        if float(grey[background].mean()) * 255 < DARK_BACKGROUND:
            problems.append("dark background")
        edges = np.asarray(sobel(grey), dtype=np.float32)  # type: ignore[no-untyped-call]
        if float(edges[background].mean()) > CLUTTERED_BACKGROUND:
            problems.append("cluttered background")

    slots = {g.slot for g in placed}
    if "dress" not in slots and not ({"top", "outerwear"} & slots and "bottom" in slots):
        held = ", ".join(sorted(slots)) or "no garment"
        problems.append(f"not a full outfit: {held} (needs a top and a bottom, or a dress)")

    cut = [g for g in placed if _touches_edge(g, width, height)]
    if cut:
        problems.append(f"garment cut off: the {_names(cut)} runs into the photo's edge")
    return OutfitPhotoQuality(score=max(0.0, 1.0 - PROBLEM_COST * len(problems)), problems=tuple(problems))


def _garment_mask(
    garments: Sequence[FoundGarment], scale: float, shape: tuple[int, int]
) -> npt.NDArray[np.bool_]:
    """Every found garment's box, at working scale: what is not in one is background."""
    mask = np.zeros(shape, dtype=bool)
    for garment in garments:
        box = garment.box
        mask[
            int(box.y0 * scale) : int(np.ceil(box.y1 * scale)),
            int(box.x0 * scale) : int(np.ceil(box.x1 * scale)),
        ] = True
    return mask


def _touches_edge(garment: FoundGarment, width: int, height: int) -> bool:
    box = garment.box
    mx, my = EDGE_MARGIN * width, EDGE_MARGIN * height
    return box.x0 <= mx or box.y0 <= my or box.x1 >= width - mx or box.y1 >= height - my


def _names(garments: Sequence[FoundGarment]) -> str:
    return ", ".join(dict.fromkeys(g.slot or g.part for g in garments))
