"""A photo as people take it: every garment in it, each found, read and placed on its own.

    regions (vision.regions)  →  one crop per region, the garment on the neutral backdrop
    →  one batch through the garment model (vision.analyze)  →  each garment placed or not

A garment is *placed* when the model can say with confidence which slot it fills, the slot is one
its body part can hold (feet hold shoes, not a top), and the garment gate (vision.garment_gate),
when one is fitted, takes it for a garment (products and carried things; worn parts are garments
by how they were found). Garments that are not placed are still reported, with
the reason, but never turned into suggestions. A photo of a person gives upper, lower and full body
regions: the full one is kept when the model reads a dress there more surely than a bottom below
the hips, else the upper and lower ones are (a coat over a dress keeps its upper region).

A single product photo is analysed whole, exactly as a catalog photo is, so a product shot gets the
same reading (box, quality, embedding) as the same photo in the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np
from PIL import Image

from .analyze import GarmentAnalysis, analyze_garments
from .detect import Box
from .embed import GarmentEmbedder
from .garment_gate import GarmentGate
from .people import PoseReader
from .quality_filter import QualityFilter
from .regions import PhotoKind, PhotoRegions, Region, find_regions, region_photo

# A garment whose slot the model gives less than this is not placed.
PLACED: Final = 0.5
# The parts the garment gate judges: products and things carried. A worn part is a garment by how
# it was found (a person's pose and mask), and the gate, fitted on product photos, takes a worn top
# with arms and a neck in it for something else (it refused a third of worn regions on Myntra).
GATED_PARTS: Final = frozenset({"product", "carried"})
# Which slots a garment in each part of a photo can fill.
ALL_SLOTS: Final = frozenset({"top", "bottom", "dress", "outerwear", "shoes", "bag", "accessory"})
PART_SLOTS: Final[dict[str, frozenset[str]]] = {
    "product": ALL_SLOTS,
    "upper": frozenset({"top", "outerwear", "dress"}),
    # A dress is judged on the full body; below the hips alone, an empty patch under a top that
    # pose stretched a skeleton past (a shirt on an invisible mannequin) read as one.
    "lower": frozenset({"bottom"}),
    "full": frozenset({"dress"}),
    "feet": frozenset({"shoes"}),
    "carried": frozenset({"bag", "accessory", "shoes"}),
}


@dataclass(frozen=True)
class FoundGarment:
    part: str  # product, or the body part: upper, lower, full, feet; or carried (beside the body)
    box: Box  # in the photo's pixels
    mask_share: float  # share of the box that is garment
    analysis: GarmentAnalysis  # of the garment's own crop
    slot: str  # the slot it fills ("" when the model cannot classify)
    confidence: float  # the model's probability of that slot
    garment_odds: float | None  # the gate's probability that it is a garment (None: no gate)
    placed: bool
    reason: str = ""  # why it is not placed
    # What the model read: the garment on the neutral backdrop (the whole photo for a product shot).
    crop: Image.Image | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class PhotoReading:
    kind: PhotoKind
    garments: tuple[FoundGarment, ...]
    reason: str = ""  # why no garment is placed

    @property
    def placed(self) -> tuple[FoundGarment, ...]:
        return tuple(g for g in self.garments if g.placed)

    def in_frame(self, read_size: tuple[int, int], shown_size: tuple[int, int]) -> PhotoReading:
        """The reading with its boxes given in the photo as stored and shown (`shown_size`), not in
        the reduced copy a worker read (`read_size`): what a page drawing boxes on the photo needs."""
        if read_size == shown_size:
            return self
        sx, sy = shown_size[0] / read_size[0], shown_size[1] / read_size[1]
        garments = tuple(replace(g, box=g.box.scaled(sx, sy)) for g in self.garments)
        return replace(self, garments=garments)


def read_photo(
    image: Image.Image,
    embedder: GarmentEmbedder,
    *,
    poses: PoseReader | None = None,
    gate: GarmentGate | None = None,
    quality_filter: QualityFilter | None = None,
    slot: str = "",
) -> PhotoReading:
    """Every garment of one photo, read by the garment model (one batch for all its regions).

    `slot`: the shopper's word that the photo shows one garment of this slot. The photo is then read
    as one product of that slot, unless it shows nothing at all (a blank or tiny photo)."""
    regions = find_regions(image, poses=None if slot else poses)
    if not regions.regions:
        return PhotoReading(regions.kind, (), regions.reason or "no garment found in the photo")
    if slot:
        analysis = analyze_garments([image], embedder, quality_filter=quality_filter)[0]
        given = FoundGarment(
            part="product", box=analysis.box, mask_share=float(analysis.coverage), analysis=analysis,
            slot=slot, confidence=1.0, garment_odds=None, placed=True, crop=image,
        )  # fmt: skip
        return PhotoReading(PhotoKind.PRODUCT, (given,))
    crops = _crops(image, regions)
    analyses = analyze_garments(crops, embedder, quality_filter=quality_filter)
    odds = gate.garment_odds(np.stack([a.embedding for a in analyses])) if gate is not None else None
    found = [
        replace(_placed(region, analysis, None if odds is None else float(odds[row]), gate), crop=crop)
        for row, (region, analysis, crop) in enumerate(zip(regions.regions, analyses, crops, strict=True))
    ]
    if regions.kind == PhotoKind.PERSON:
        found = _whole_or_parts(found)
    reading = PhotoReading(regions.kind, tuple(found))
    if not reading.placed:
        reasons = sorted({g.reason for g in found if g.reason})
        return replace(reading, reason="no garment recognised: " + "; ".join(reasons))
    return reading


def photo_crops(image: Image.Image, *, poses: PoseReader | None = None) -> list[Image.Image]:
    """What the garment model is shown of a photo: one crop per region (the photo itself for a
    product shot). For batch work over many photos (the gate's fitting) in one model call."""
    return _crops(image, find_regions(image, poses=poses))


def _crops(image: Image.Image, regions: PhotoRegions) -> list[Image.Image]:
    if regions.kind == PhotoKind.PRODUCT:
        return [image]
    return [region_photo(image, region) for region in regions.regions]


def _placed(
    region: Region, analysis: GarmentAnalysis, odds: float | None, gate: GarmentGate | None
) -> FoundGarment:
    mask_share = float(region.mask.mean()) if region.mask.size else 0.0
    prediction = analysis.prediction
    slot, confidence, reason = "", 0.0, "the image model cannot recognise garments (it is untrained)"
    if prediction is not None:
        allowed = PART_SLOTS.get(region.part, ALL_SLOTS)
        scores = {s: p for s, p in prediction.slot_scores.items() if s in allowed}
        slot = max(scores, key=lambda s: scores[s]) if scores else prediction.slot
        confidence = float(scores.get(slot, prediction.slot_confidence))
        reason = ""
        if gate is not None and odds is not None and odds < gate.threshold and region.part in GATED_PARTS:
            reason = f"the {region.part} region does not look like a garment"
        elif confidence < PLACED:
            reason = f"the {region.part} region is no garment the model recognises with confidence"
    return FoundGarment(
        part=region.part, box=region.box, mask_share=mask_share, analysis=analysis, slot=slot,
        confidence=confidence, garment_odds=odds, placed=not reason, reason=reason,
    )  # fmt: skip


def _whole_or_parts(found: list[FoundGarment]) -> list[FoundGarment]:
    """A person shows a dress (the full region) or a top and a bottom (upper and lower), never both."""
    by_part = {g.part: g for g in found}
    full, lower, upper = by_part.get("full"), by_part.get("lower"), by_part.get("upper")
    if full is None:
        return found
    dress = full.confidence if full.placed else 0.0
    bottom = lower.confidence if lower is not None and lower.placed and lower.slot == "bottom" else 0.0
    wear_dress = dress > bottom
    kept = []
    for garment in found:
        if garment is full and not wear_dress:
            continue
        if wear_dress and garment is lower:
            continue
        if wear_dress and garment is upper and garment.slot != "outerwear":
            continue
        kept.append(garment)
    return kept
