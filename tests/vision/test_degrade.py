from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.vision.garments import CREAM, GREY, draw_garment_photo
from vision.degrade import BENIGN_MIN_SHORT_SIDE, DEGRADATIONS, benign_variant, degrade
from vision.detect import find_garment
from vision.quality import photo_statistics


def clean() -> Image.Image:
    return draw_garment_photo(CREAM, box=(60, 70, 180, 250)).image


def spoilt(kind: str, strength: float = 0.0, seed: int = 0) -> Image.Image:
    return degrade(clean(), kind, strength, np.random.default_rng(seed))


def stat(image: Image.Image, name: str) -> float:
    return photo_statistics(image, find_garment(image))[name]


def luminance(image: Image.Image) -> float:
    return float(np.asarray(image.convert("L"), dtype=np.float32).mean())


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_every_kind_is_deterministic_and_changes_the_photo(kind: str) -> None:
    first, second = spoilt(kind, 0.5, seed=3), spoilt(kind, 0.5, seed=3)
    assert first.mode == "RGB"
    assert np.array_equal(np.asarray(first), np.asarray(second))
    original = np.asarray(clean())
    assert first.size != clean().size or not np.array_equal(np.asarray(first), original)


def test_dark_copies_are_plainly_darker_and_darker_with_strength() -> None:
    weakest, strongest = luminance(spoilt("dark", 0.0)), luminance(spoilt("dark", 1.0))
    assert weakest < 0.7 * luminance(clean())
    assert strongest < weakest


def test_overexposed_copy_clips_the_backdrop_and_washes_out_the_garment() -> None:
    original, copy = clean(), spoilt("overexposed")
    assert stat(copy, "white_clipped_share") > 0.5 > stat(original, "white_clipped_share")
    garment = find_garment(original).mask
    before, after = (np.asarray(image.convert("L"))[garment].mean() for image in (original, copy))
    assert after > before + 30


@pytest.mark.parametrize("seed", range(4))  # Gaussian and motion blur both come up
def test_blurred_copy_loses_fine_detail(seed: int) -> None:
    # Edge steepness, not the detail ratio: a streak along the stripes leaves their fine detail.
    assert stat(spoilt("blurred", 0.0, seed), "edge_steepness") < 0.6 * stat(clean(), "edge_steepness")


def test_tiny_copy_has_a_short_side_well_under_the_networks_input() -> None:
    assert 130 <= min(spoilt("tiny", 0.0).size) <= 165
    assert min(spoilt("tiny", 1.0).size) <= 55


@pytest.mark.parametrize("seed", range(4))  # each edge in turn
def test_cropped_copy_keeps_the_size_but_cuts_the_garment_off(seed: int) -> None:
    copy = spoilt("cropped", 0.0, seed)
    assert copy.size == clean().size
    assert stat(clean(), "edge_share_max") == 0.0
    assert stat(copy, "edge_share_max") > 0.1


def test_noisy_copy_is_grainy_where_the_backdrop_was_smooth() -> None:
    assert stat(spoilt("noisy"), "flat_noise") > 3 * stat(clean(), "flat_noise") + 2


def test_compressed_copy_shows_the_jpeg_block_grid() -> None:
    original, weakest, strongest = clean(), spoilt("compressed", 0.0), spoilt("compressed", 1.0)
    # Smooth parts become flat 8x8 patches, with steps between them that grow with the strength.
    assert stat(weakest, "flat_block_share") > 0.5 > stat(original, "flat_block_share")
    assert stat(strongest, "blockiness") > stat(weakest, "blockiness") > stat(original, "blockiness") + 0.1


def test_cluttered_copy_puts_the_garment_on_a_busy_background() -> None:
    original, copy = clean(), spoilt("cluttered")
    assert stat(copy, "border_edge_density") > stat(original, "border_edge_density") + 0.05
    assert stat(copy, "border_spread") > 3 * stat(original, "border_spread")
    # The garment itself is still there, where it was.
    difference = np.asarray(copy, dtype=float)[160, 120] - np.asarray(original, dtype=float)[160, 120]
    assert np.abs(difference).max() < 20


def test_cluttered_copy_of_a_street_photo_sets_the_whole_photo_in_the_scene() -> None:
    street = Image.effect_noise((240, 320), 60).convert("RGB")
    copy = degrade(street, "cluttered", 0.5, np.random.default_rng(0))
    assert copy.size == street.size


@pytest.mark.parametrize("seed", range(4))  # each corner in turn
def test_off_centre_copy_shrinks_the_garment_into_a_corner(seed: int) -> None:
    copy = spoilt("off_centre", 0.0, seed)
    assert copy.size == clean().size
    assert stat(copy, "box_share") < 0.5 * stat(clean(), "box_share")
    offset = stat(copy, "centre_offset_x") + stat(copy, "centre_offset_y")
    assert offset > 0.3 > stat(clean(), "centre_offset_x") + stat(clean(), "centre_offset_y")


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown degradation 'sepia'"):
        degrade(clean(), "sepia", 0.5, np.random.default_rng(0))


@pytest.mark.parametrize("seed", range(6))
def test_benign_variant_stays_a_fine_photo(seed: int) -> None:
    original = draw_garment_photo(GREY, size=(224, 224), box=(50, 40, 170, 200)).image
    variant = benign_variant(original, np.random.default_rng(seed))
    assert min(variant.size) >= BENIGN_MIN_SHORT_SIDE
    assert abs(luminance(variant) - luminance(original)) < 0.25 * luminance(original)
