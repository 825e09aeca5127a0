"""Synthetic garment photos for the vision tests: drawn with PIL and numpy, never read from disk."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

CREAM = (241, 236, 224)
GREY = (196, 198, 200)


@dataclass(frozen=True)
class GarmentPhoto:
    image: Image.Image
    box: tuple[int, int, int, int]  # the drawn garment's x0, y0, x1, y1 (exclusive)
    garment_pixels: int


def draw_garment_photo(
    backdrop: tuple[int, int, int] = CREAM,
    *,
    size: tuple[int, int] = (240, 320),
    box: tuple[int, int, int, int] = (60, 50, 180, 270),
    colour: tuple[int, int, int] = (40, 70, 140),
    gradient: float = 12.0,
    noise: float = 2.0,
    seed: int = 0,
) -> GarmentPhoto:
    """A studio-style shot: a striped T-shirt shape on a plain backdrop with a lighting gradient."""
    rng = np.random.default_rng(seed)
    width, height = size
    shade = np.linspace(-gradient / 2, gradient / 2, height, dtype=np.float32)[:, None, None]
    pixels = np.array(backdrop, dtype=np.float32)[None, None, :] + shade + np.zeros((height, width, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="RGB")

    shape = Image.new("L", size, 0)
    draw = ImageDraw.Draw(shape)
    x0, y0, x1, y1 = box
    sleeve = (x1 - x0) // 4
    draw.polygon(
        [
            (x0, y0 + sleeve),
            (x0 + sleeve, y0),
            (x1 - sleeve, y0),
            (x1, y0 + sleeve),
            (x1 - sleeve // 2, y0 + 2 * sleeve),
            (x1 - sleeve, y0 + 2 * sleeve - 8),
            (x1 - sleeve, y1 - 1),
            (x0 + sleeve, y1 - 1),
            (x0 + sleeve, y0 + 2 * sleeve - 8),
            (x0 + sleeve // 2, y0 + 2 * sleeve),
        ],
        fill=255,
    )
    fabric = np.array(colour, dtype=np.float32)[None, None, :] * np.ones((height, width, 3))
    stripes = ((np.arange(height) // 6) % 2 == 0)[:, None, None]
    fabric = np.where(stripes, fabric * 0.7, fabric) + rng.normal(0, 6, (height, width, 3))
    garment = Image.fromarray(np.clip(fabric, 0, 255).astype(np.uint8), mode="RGB")
    image.paste(garment, (0, 0), shape)

    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, noise, (height, width, 3))
    image = Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8), mode="RGB")
    mask = np.asarray(shape) > 0
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    true_box = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    return GarmentPhoto(image=image, box=true_box, garment_pixels=int(mask.sum()))
