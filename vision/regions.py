"""Where the garments are in a photo, whatever kind of photo it is: one region per garment.

Photos come in four kinds, told apart per photo:

    empty     a plain backdrop with nothing on it (blank, or specks): no garment, say so
    person    someone wearing the garments (MediaPipe Pose finds a person): a region per body part
              (vision.people), and on a plain backdrop one per thing carried apart from the body
              (a bag held out or set down: part "carried")
    flat-lay  several products on one plain backdrop (a collage, a flat-lay): a region per product,
              the connected components of the foreground mask, small fragments merged into the
              product they touch or dropped; a product pasted as a whole photo is found again
              against that photo's backdrop, and cut loose from a faint shaded patch of it
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

from .detect import NEUTRAL_BACKGROUND, Box, Foreground, find_garment
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
# A product against a shaded patch of its own photo's backdrop: pixels farther than this from the
# collage's colour (0-255, any channel) are the product; used when they are at least MIN_CORE_SHARE
# of the region's mask and their box (plus CORE_MARGIN of the region's side) at most MAX_CORE_AREA
# of the region's.
CORE_DISTANCE: Final = 40
MIN_CORE_SHARE: Final = 0.05
CORE_MARGIN: Final = 0.02
MAX_CORE_AREA: Final = 0.7
# A wearer found by pose covers at least this share of the foreground of a plain-backdrop photo.
MIN_WEARER_SHARE: Final = 0.5
# How far below a region the backdrop may be modelled when its product touches the region's foot,
# as a share of the region's height.
TIGHTEN_BELOW: Final = 0.1
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
        if pose is not None and _wears(pose.person, foreground):
            worn = tuple(Region(r.part, r.box, r.mask) for r in body_regions(pose))
            if worn:
                carried = _carried(foreground.mask, pose.person) if foreground.plain_background else []
                return PhotoRegions(PhotoKind.PERSON, worn + tuple(carried))
    if foreground.plain_background:
        products = [
            _cored(rgb, _tightened(rgb, region), foreground.background_rgb)
            for region in _products(foreground.mask)
        ]
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


def _cored(image: Image.Image, region: Region, backdrop: tuple[int, int, int]) -> Region:
    """A pasted product photo whose backdrop is shaded (darker at the top, a vignette) leaves a faint
    patch joined to its product. The product differs from the collage's colour strongly, the patch
    faintly: when the strong part fills much less of the region, the region shrinks to it."""
    box = region.box
    crop = np.asarray(image.crop((box.x0, box.y0, box.x1, box.y1)), dtype=np.int16)
    strong = (np.abs(crop - np.array(backdrop)).max(axis=2) > CORE_DISTANCE) & region.mask
    if strong.sum() < MIN_CORE_SHARE * region.mask.sum():
        return region  # a pale product: its faint part is the product
    rows, cols = np.flatnonzero(strong.any(axis=1)), np.flatnonzero(strong.any(axis=0))
    pad = max(2, round(CORE_MARGIN * max(box.width, box.height)))
    core = Box(
        box.x0 + max(0, int(cols[0]) - pad),
        box.y0 + max(0, int(rows[0]) - pad),
        box.x0 + min(box.width, int(cols[-1]) + 1 + pad),
        box.y0 + min(box.height, int(rows[-1]) + 1 + pad),
    )
    if core.width * core.height > MAX_CORE_AREA * box.width * box.height:
        return region
    mask = region.mask[core.y0 - box.y0 : core.y1 - box.y0, core.x0 - box.x0 : core.x1 - box.x0].copy()
    return Region(region.part, core, mask)


def _carried(foreground: BoolMask, person: BoolMask) -> list[Region]:
    """What a person carries apart from their body (a bag held out, a bag set down beside them): the
    foreground pieces that stand clear of the person grown by a margin. A piece that touches the
    grown person is a part of the body the person mask missed (an arm, a hand), not something
    carried."""
    from skimage.measure import label  # workers only (requirements/ml.txt)
    from skimage.morphology import binary_dilation, disk

    height, width = foreground.shape
    scale = min(1.0, COMPONENT_SIDE / max(height, width))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small_person = np.asarray(Image.fromarray(person).resize(size, Image.Resampling.NEAREST))
    margin = disk(max(1, round(CARRIED_MARGIN * max(size))))  # type: ignore[no-untyped-call]
    grown = binary_dilation(small_person, margin)
    apart = np.asarray(Image.fromarray(foreground).resize(size, Image.Resampling.NEAREST)) & ~grown
    pieces = label(apart, connectivity=2)  # type: ignore[no-untyped-call]
    touching = np.unique(pieces[binary_dilation(grown, disk(1)) & apart])  # type: ignore[no-untyped-call]
    clear = apart & ~np.isin(pieces, touching)
    if clear.mean() < MIN_CARRIED_SHARE:
        return []
    back = np.asarray(Image.fromarray(clear).resize((width, height), Image.Resampling.NEAREST))
    return [
        Region("carried", r.box, r.mask)
        for r in _products(back & foreground)
        if r.mask.mean() * r.box.width * r.box.height >= MIN_CARRIED_SHARE * height * width
    ]


def _wears(person: BoolMask, foreground: Foreground) -> bool:
    """Pose sometimes fits a skeleton to one garment of a collage (a sweater has shoulders). A wearer
    is most of what stands on a plain backdrop; on a busy one there is no foreground to compare."""
    if not foreground.plain_background:
        return True
    shared = np.logical_and(person, foreground.mask).sum()
    return bool(shared >= MIN_WEARER_SHARE * max(1, int(foreground.mask.sum())))


def _tightened(image: Image.Image, region: Region) -> Region:
    """A product pasted as a whole photo (a collage tile) stands on its own backdrop, which differs a
    little from the collage's: find the product again inside its region, against that backdrop.

    A small product rests low in its photo (shoes, a belt, earrings) and the region may take in the
    upper part of its tile, whose shade differs from the collage's: the product then touches the
    region's lower edge, and the backdrop is modelled with a strip of the photo below it as well."""
    box = region.box
    height = image.height
    found: list[Region] = []
    for extra in (0, max(2, round(TIGHTEN_BELOW * box.height))):
        inner = find_garment(image.crop((box.x0, box.y0, box.x1, min(height, box.y1 + extra))))
        if inner.empty or not inner.plain_background:
            continue
        bottom = min(box.y1, box.y0 + inner.box.y1)
        tight = Box(box.x0 + inner.box.x0, box.y0 + inner.box.y0, box.x0 + inner.box.x1, bottom)
        if tight.height >= 2 and tight.width >= 2:
            mask = inner.mask[inner.box.y0 : inner.box.y0 + tight.height, inner.box.x0 : inner.box.x1]
            found.append(Region(region.part, tight, mask.copy()))
    # Both are the product against a backdrop fitted to its surroundings: the tighter one left the
    # tile's own shade out.
    return min(found, key=lambda r: r.box.width * r.box.height, default=region)


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
