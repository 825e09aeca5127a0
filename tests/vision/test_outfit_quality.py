"""An outfit photo graded for the library: the seed's problems, each on a photo that has it."""

from __future__ import annotations

import numpy as np
from PIL import Image

from vision.analyze import GarmentAnalysis
from vision.detect import Box
from vision.outfit_quality import assess_outfit_photo
from vision.photo import FoundGarment, PhotoReading
from vision.quality import QualityReport
from vision.regions import PhotoKind


def _garment(slot: str, box: Box) -> FoundGarment:
    analysis = GarmentAnalysis(
        box=box, coverage=0.5, background_rgb=(240, 240, 240), quality=QualityReport(1.0, ()),
        embedding=np.zeros(4, np.float32),
    )  # fmt: skip
    return FoundGarment(
        part="product", box=box, mask_share=0.6, analysis=analysis, slot=slot, confidence=0.9,
        garment_odds=None, placed=True,
    )  # fmt: skip


OUTFIT = (_garment("top", Box(100, 100, 400, 500)), _garment("bottom", Box(500, 100, 800, 600)))


def _reading(*garments: FoundGarment) -> PhotoReading:
    return PhotoReading(PhotoKind.FLAT_LAY, garments)


def test_a_clean_flat_lay_of_a_whole_outfit_has_no_problem() -> None:
    photo = Image.new("RGB", (900, 700), (242, 238, 228))
    quality = assess_outfit_photo(photo, _reading(*OUTFIT))
    assert quality.problems == () and quality.score == 1.0


def test_each_problem_is_named() -> None:
    rng = np.random.default_rng(0)
    busy = Image.fromarray(rng.integers(0, 256, (700, 900, 3), dtype=np.uint8))
    assert "cluttered background" in assess_outfit_photo(busy, _reading(*OUTFIT)).problems
    dark = Image.new("RGB", (900, 700), (20, 20, 25))
    assert "dark background" in assess_outfit_photo(dark, _reading(*OUTFIT)).problems
    small = Image.new("RGB", (300, 250), (242, 238, 228))
    tiny_outfit = (_garment("top", Box(10, 10, 120, 200)), _garment("bottom", Box(150, 10, 290, 240)))
    assert any(
        p.startswith("low resolution") for p in assess_outfit_photo(small, _reading(*tiny_outfit)).problems
    )
    plain = Image.new("RGB", (900, 700), (242, 238, 228))
    lone = assess_outfit_photo(plain, _reading(OUTFIT[0]))
    assert any(p.startswith("not a full outfit: top") for p in lone.problems)
    cut = assess_outfit_photo(plain, _reading(OUTFIT[0], _garment("bottom", Box(500, 100, 900, 700))))
    assert cut.problems == ("garment cut off: the bottom runs into the photo's edge",)
    assert cut.score == 0.75


def test_a_dress_is_a_full_outfit() -> None:
    plain = Image.new("RGB", (900, 700), (242, 238, 228))
    assert assess_outfit_photo(plain, _reading(_garment("dress", Box(300, 100, 600, 600)))).problems == ()
