from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.vision.garments import CREAM, GREY, draw_garment_photo
from vision.detect import NEUTRAL_BACKGROUND, Box, find_garment, isolate_garment


def assert_box_close(found: Box, expected: tuple[int, int, int, int], tolerance: int = 3) -> None:
    assert all(abs(a - b) <= tolerance for a, b in zip(found.as_list(), expected, strict=True)), (
        found.as_list(),
        expected,
    )


def test_box_reports_its_size() -> None:
    box = Box(10, 20, 110, 70)
    assert (box.width, box.height, box.as_list()) == (100, 50, [10, 20, 110, 70])


@pytest.mark.parametrize("backdrop", [CREAM, GREY], ids=["cream", "grey"])
def test_finds_the_garment_box_on_a_plain_backdrop(backdrop: tuple[int, int, int]) -> None:
    photo = draw_garment_photo(backdrop)
    foreground = find_garment(photo.image)
    assert foreground.plain_background
    assert_box_close(foreground.box, photo.box)
    assert foreground.coverage == pytest.approx(photo.garment_pixels / (240 * 320), rel=0.1)
    assert all(abs(a - b) <= 3 for a, b in zip(foreground.background_rgb, backdrop, strict=True))
    assert foreground.mask.shape == (320, 240) and foreground.mask.dtype == bool


def test_finds_the_garment_in_a_large_photo() -> None:
    # Detection runs on a downscaled copy; the box must still come back in full-size pixels.
    photo = draw_garment_photo(size=(1200, 1600), box=(300, 250, 900, 1350))
    assert_box_close(find_garment(photo.image).box, photo.box, tolerance=8)


def test_follows_a_strong_lighting_gradient() -> None:
    photo = draw_garment_photo(CREAM, gradient=45.0)
    foreground = find_garment(photo.image)
    assert_box_close(foreground.box, photo.box)


def test_a_light_garment_on_a_cream_backdrop_is_still_found() -> None:
    photo = draw_garment_photo(CREAM, colour=(250, 250, 250))
    assert_box_close(find_garment(photo.image).box, photo.box, tolerance=6)


def test_street_photo_counts_as_all_garment() -> None:
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 255, (8, 6, 3), dtype=np.uint8)
    street = Image.fromarray(blocks, mode="RGB").resize((240, 320), Image.Resampling.NEAREST)
    foreground = find_garment(street)
    assert not foreground.plain_background
    assert foreground.coverage == 1.0
    assert foreground.box == Box(0, 0, 240, 320)
    assert foreground.mask.all()


def test_blank_backdrop_counts_as_all_garment() -> None:
    foreground = find_garment(Image.new("RGB", (200, 300), CREAM))
    assert foreground.coverage == 1.0 and foreground.box == Box(0, 0, 200, 300)


def test_ignores_a_distant_speck() -> None:
    photo = draw_garment_photo(CREAM)
    ImageDraw.Draw(photo.image).rectangle((220, 20, 222, 22), fill=(20, 20, 20))
    assert_box_close(find_garment(photo.image).box, photo.box)


def test_keeps_both_shoes_of_a_pair() -> None:
    image = Image.new("RGB", (300, 200), GREY)
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 80, 120, 140), fill=(120, 60, 30))
    draw.rectangle((170, 80, 250, 140), fill=(120, 60, 30))
    assert_box_close(find_garment(image).box, (40, 80, 251, 141), tolerance=2)


def test_fills_backdrop_coloured_holes_inside_the_garment() -> None:
    image = Image.new("RGB", (240, 320), CREAM)
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, 180, 260), fill=(30, 30, 90))
    draw.rectangle((100, 120, 140, 180), fill=CREAM)  # a cream patch sewn on the garment
    foreground = find_garment(image)
    assert foreground.mask[150, 120]
    assert not foreground.mask[20, 20]


def test_garment_cut_off_at_the_edge_reaches_the_edge() -> None:
    photo = draw_garment_photo(GREY, box=(60, 80, 180, 320))
    foreground = find_garment(photo.image)
    assert foreground.box.y1 == 320


def test_isolated_garment_is_square_and_on_the_neutral_colour() -> None:
    photo = draw_garment_photo(CREAM)
    isolated = isolate_garment(photo.image, find_garment(photo.image), margin=0.05)
    assert isolated.width == isolated.height
    assert isolated.height == pytest.approx((photo.box[3] - photo.box[1]) * 1.1, abs=4)
    pixels = np.asarray(isolated)
    assert tuple(pixels[2, 2]) == NEUTRAL_BACKGROUND
    assert tuple(pixels[-3, -3]) == NEUTRAL_BACKGROUND


def test_isolation_makes_the_same_garment_on_two_backdrops_nearly_identical() -> None:
    on_cream, on_grey = draw_garment_photo(CREAM), draw_garment_photo(GREY)
    raw_difference = np.abs(
        np.asarray(on_cream.image, dtype=np.float32) - np.asarray(on_grey.image, dtype=np.float32)
    ).mean()
    isolated = [isolate_garment(p.image, find_garment(p.image)) for p in (on_cream, on_grey)]
    assert isolated[0].size == isolated[1].size
    difference = np.abs(np.asarray(isolated[0], dtype=np.float32) - np.asarray(isolated[1], dtype=np.float32))
    assert raw_difference > 20
    assert difference.mean() < 0.5
    assert np.quantile(difference.max(axis=2), 0.999) < 10


def test_isolating_a_street_photo_only_pads_it() -> None:
    rng = np.random.default_rng(2)
    street = Image.fromarray(rng.integers(0, 255, (120, 80, 3), dtype=np.uint8), mode="RGB")
    isolated = isolate_garment(street, find_garment(street), margin=0.05)
    pixels = np.asarray(isolated)
    assert isolated.size == (120, 120)
    np.testing.assert_array_equal(pixels[:, 20:100], np.asarray(street))
    assert tuple(pixels[0, 0]) == NEUTRAL_BACKGROUND


def test_isolate_refuses_a_foreground_from_another_image() -> None:
    photo = draw_garment_photo(CREAM)
    with pytest.raises(ValueError, match="not this 100x100 one"):
        isolate_garment(Image.new("RGB", (100, 100)), find_garment(photo.image))


def test_detection_is_deterministic() -> None:
    photo = draw_garment_photo(GREY, gradient=30.0)
    first, second = find_garment(photo.image), find_garment(photo.image)
    assert first == second
    np.testing.assert_array_equal(first.mask, second.mask)


def test_tiny_image_counts_as_all_garment() -> None:
    foreground = find_garment(Image.new("RGB", (8, 8), (10, 200, 10)))
    assert foreground.box == Box(0, 0, 8, 8) and foreground.coverage == 1.0


def test_mask_clean_up_drops_specks_keeps_pairs_and_fills_holes() -> None:
    from vision.detect import _clean

    mask = np.zeros((60, 90), dtype=bool)
    mask[10:40, 5:30] = True  # a shoe
    mask[10:40, 50:75] = True  # its pair: a part of similar size stays
    mask[20:25, 12:18] = False  # a highlight inside the shoe: a hole, filled
    mask[55, 85] = True  # a speck of dust: dropped
    mask[10:40, 17] = False  # a one-pixel seam splitting the shoe: closed
    cleaned = _clean(mask)
    assert cleaned[22, 15] and cleaned[25, 17]
    assert not cleaned[55, 85]
    assert cleaned[10:40, 50:75].all()
    assert not cleaned[:, 35:45].any()  # the gap between the two shoes stays backdrop
