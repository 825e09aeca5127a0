"""Where the garments are in a photo, whatever kind of photo it is: one region per garment.

Photos come in four kinds, told apart per photo:

    empty     a plain backdrop with nothing on it (blank, or specks): no garment, say so
    person    someone wearing the garments (MediaPipe Pose finds a person): a region per body part
              (vision.people), and on a plain backdrop one per thing carried apart from the body
              (a bag held out or set down: part "carried")
    flat-lay  several products on one plain backdrop (a collage, a flat-lay): a region per product,
              the connected components of the foreground mask, small fragments merged into the
              product they touch or dropped
    product   one product (or a photo without a plain backdrop): one region, as vision.detect finds it

Connected components and their boxes come from scikit-image (`measure.label`, `regionprops`) on the
downscaled foreground mask, not hand-written loops. Classification and embedding of each region's
crop happen after (vision.analyze); a region the classifier cannot place is reported there.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from .detect import NEUTRAL_BACKGROUND, Box, find_garment
from .people import PoseReader, body_regions

BoolMask = npt.NDArray[np.bool_]

# A photo whose shorter side is below this shows no garment anyone could recognise (the smallest
# catalog thumbnails are 60 px wide).
MIN_PHOTO_SIDE: Final = 32
# Components are found on a copy of at most this side: a product is hundreds of pixels there.
COMPONENT_SIDE: Final = 256
# A component smaller than this share of the foreground is a fragment (a tag, a shadow speck): it is
# merged into a product whose box it touches, else dropped.
MIN_PRODUCT_SHARE: Final = 0.04
# A person's carried things: the foreground farther than this share of the photo's longer side from
# the person mask, in pieces of at least this share of the photo (smaller ones are hair, shadows).
CARRIED_MARGIN: Final = 0.02
MIN_CARRIED_SHARE: Final = 0.01
# Two components whose boxes are closer than this share of the photo's longer side are one product
# (a strap apart from its bag, two shoes of a pair).
MERGE_GAP: Final = 0.02


class PhotoKind(StrEnum):
    EMPTY = "empty"
    PERSON = "person"
    FLAT_LAY = "flat-lay"
    PRODUCT = "product"


@dataclass(frozen=True)
class Region:
    part: str  # product, or the body part for a person: upper, lower, full, feet
    box: Box
    mask: BoolMask  # garment pixels inside the box; shape (box.height, box.width)


@dataclass(frozen=True)
class PhotoRegions:
    kind: PhotoKind
    regions: tuple[Region, ...]
    reason: str = ""  # why there is no region (kind EMPTY, or a person with no visible garment)


def find_regions(image: Image.Image, *, poses: PoseReader | None = None) -> PhotoRegions:
    """The garment regions of one photo. `poses` reads people; without it a person photo is taken
    for one product."""
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    if min(rgb.size) < MIN_PHOTO_SIDE:
        return PhotoRegions(
            PhotoKind.EMPTY, (), f"no garment: a {rgb.width}x{rgb.height} photo is too small to show one"
        )
    foreground = find_garment(rgb)
    if foreground.empty:
        return PhotoRegions(
            PhotoKind.EMPTY, (), "no garment: the photo is a plain backdrop with nothing on it"
        )
    if poses is not None:
        pose = poses.read(np.asarray(rgb))
        if pose is not None:
            worn = tuple(Region(r.part, r.box, r.mask) for r in body_regions(pose))
            if worn:
                carried = _carried(foreground.mask, pose.person) if foreground.plain_background else []
                return PhotoRegions(PhotoKind.PERSON, worn + tuple(carried))
    if foreground.plain_background:
        products = [_tightened(rgb, region) for region in _products(foreground.mask)]
        if len(products) >= 2:
            return PhotoRegions(PhotoKind.FLAT_LAY, tuple(products))
    box = foreground.box
    mask = foreground.mask[box.y0 : box.y1, box.x0 : box.x1].copy()
    return PhotoRegions(PhotoKind.PRODUCT, (Region("product", box, mask),))


def region_photo(image: Image.Image, region: Region, *, margin: float = 0.05) -> Image.Image:
    """The region as a product photo of its own, for the classifier and the embedding: its box (plus
    a margin) with everything outside the region's mask on the neutral backdrop, so the garment
    model sees it as it sees a catalog shot and vision.detect finds it again."""
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    box = region.box
    pad_x, pad_y = round(margin * box.width), round(margin * box.height)
    crop = Image.new("RGB", (box.width + 2 * pad_x, box.height + 2 * pad_y), NEUTRAL_BACKGROUND)
    garment = rgb.crop((box.x0, box.y0, box.x1, box.y1))
    crop.paste(garment, (pad_x, pad_y), Image.fromarray(region.mask))
    return crop


def _products(mask: BoolMask) -> list[Region]:
    """One region per product on a plain backdrop: components of the foreground, fragments merged."""
    from skimage.measure import label, regionprops  # workers only (requirements/ml.txt)

    # scikit-image ships no type hints: its two calls are typed here, where they are used.

    height, width = mask.shape
    scale = min(1.0, COMPONENT_SIDE / max(height, width))
    small_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = np.asarray(Image.fromarray(mask).resize(small_size, Image.Resampling.NEAREST))
    components = regionprops(label(small, connectivity=2))  # type: ignore[no-untyped-call]
    if not components:
        return []
    total = sum(c.area for c in components)
    # Boxes in working pixels (min_row, min_col, max_row, max_col), big ones first.
    boxes = [list(c.bbox) for c in sorted(components, key=lambda c: -c.area)]
    areas = [c.area for c in sorted(components, key=lambda c: -c.area)]
    gap = MERGE_GAP * max(small_size)
    merged = _merge_close(boxes, areas, gap)
    kept = [(box, area) for box, area in merged if area >= MIN_PRODUCT_SHARE * total]
    regions = []
    for (r0, c0, r1, c1), _ in kept:
        box = Box(
            int(c0 / scale),
            int(r0 / scale),
            min(width, int(np.ceil(c1 / scale))),
            min(height, int(np.ceil(r1 / scale))),
        )
        regions.append(Region("product", box, mask[box.y0 : box.y1, box.x0 : box.x1].copy()))
    return sorted(regions, key=lambda r: (r.box.y0, r.box.x0))


def _carried(foreground: BoolMask, person: BoolMask) -> list[Region]:
    """What a person carries apart from their body (a bag held out, a bag set down beside them): the
    foreground products left once the person, grown by a margin, is taken away."""
    from skimage.morphology import binary_dilation, disk  # workers only (requirements/ml.txt)

    height, width = foreground.shape
    scale = min(1.0, COMPONENT_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small_person = np.asarray(Image.fromarray(person).resize(size, Image.Resampling.NEAREST))
    grown = binary_dilation(small_person, disk(max(1, round(CARRIED_MARGIN * max(size)))))  # type: ignore[no-untyped-call]
    apart = np.asarray(Image.fromarray(foreground).resize(size, Image.Resampling.NEAREST)) & ~grown
    if apart.mean() < MIN_CARRIED_SHARE:
        return []
    full_apart = (
        np.asarray(Image.fromarray(apart).resize((width, height), Image.Resampling.NEAREST)) & foreground
    )
    return [
        Region("carried", r.box, r.mask)
        for r in _products(full_apart)
        if r.mask.mean() * r.box.width * r.box.height >= MIN_CARRIED_SHARE * height * width
    ]


def _tightened(image: Image.Image, region: Region) -> Region:
    """A product pasted as a whole photo (a collage tile) stands on its own backdrop, which differs a
    little from the collage's: find the product again inside its region, against that backdrop."""
    box = region.box
    inner = find_garment(image.crop((box.x0, box.y0, box.x1, box.y1)))
    if inner.empty or not inner.plain_background:
        return region
    tight = Box(box.x0 + inner.box.x0, box.y0 + inner.box.y0, box.x0 + inner.box.x1, box.y0 + inner.box.y1)
    mask = inner.mask[inner.box.y0 : inner.box.y1, inner.box.x0 : inner.box.x1].copy()
    return Region(region.part, tight, mask)


def _merge_close(boxes: list[list[int]], areas: list[int], gap: float) -> list[tuple[list[int], int]]:
    """Union boxes closer than `gap` until none are: (box, total area) per merged group."""
    groups = [(list(box), area) for box, area in zip(boxes, areas, strict=True)]
    changed = True
    while changed:
        changed = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                (a, area_a), (b, area_b) = groups[i], groups[j]
                if _box_gap(a, b) < gap:
                    union = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    groups[i] = (union, area_a + area_b)
                    del groups[j]
                    changed = True
                    break
            if changed:
                break
    return groups


def _box_gap(a: list[int], b: list[int]) -> float:
    """Distance between two (r0, c0, r1, c1) boxes; 0 when they overlap."""
    rows = max(0, max(a[0], b[0]) - min(a[2], b[2]))
    cols = max(0, max(a[1], b[1]) - min(a[3], b[3]))
    return float(np.hypot(rows, cols))
