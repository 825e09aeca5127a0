"""Garment regions per kind of photo, through the real detector: collages of generated products, a
real photo of a person that scikit-image ships, blank photos, and body regions from a known pose."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from demo import CREAM, render_garment
from vision.detect import Box, find_garment
from vision.people import Pose, PoseReader, body_regions
from vision.regions import PhotoKind, find_regions, region_photo


@pytest.fixture(scope="module")
def poses() -> PoseReader:
    return PoseReader()


def _collage(
    kinds: list[tuple[str, str, tuple[int, int, int]]], *, whole_photos: bool = False
) -> tuple[Image.Image, list[Box]]:
    """Products laid side by side on one cream backdrop (cut out, as on a flat-lay, or as whole
    photos, as on a collage of product shots), and each product's own box there."""
    rng = np.random.default_rng(0)
    canvas = Image.new("RGB", (300 * len(kinds), 420), CREAM)
    truth = []
    for i, (family, type_, colour) in enumerate(kinds):
        tile = render_garment(family, type_, colour, "solid", background=CREAM, rng=rng).resize((250, 250))
        x, y = 25 + 300 * i, 60 + 60 * (i % 2)
        own = find_garment(tile)
        canvas.paste(tile, (x, y), None if whole_photos else Image.fromarray(own.mask))
        truth.append(Box(x + own.box.x0, y + own.box.y0, x + own.box.x1, y + own.box.y1))
    return canvas, truth


def test_a_collage_gives_one_region_per_product(poses: PoseReader) -> None:
    canvas, truth = _collage(
        [
            ("T-shirts", "T-shirt", (30, 50, 120)),
            ("Jeans", "Jeans", (40, 60, 140)),
            ("Sneakers", "Sneakers", (200, 30, 30)),
        ]
    )
    found = find_regions(canvas, poses=poses)
    assert found.kind is PhotoKind.FLAT_LAY
    assert len(found.regions) == 3
    for box in truth:
        assert max(box.iou(region.box) for region in found.regions) >= 0.5
    assert all(region.mask.shape == (region.box.height, region.box.width) for region in found.regions)


def test_a_collage_of_whole_product_photos_finds_each_product_within_its_photo(poses: PoseReader) -> None:
    canvas, truth = _collage(
        [("T-shirts", "T-shirt", (30, 50, 120)), ("Coats", "Coat", (150, 110, 70))], whole_photos=True
    )
    found = find_regions(canvas, poses=poses)
    assert found.kind is PhotoKind.FLAT_LAY and len(found.regions) == 2
    assert any(truth[0].iou(region.box) >= 0.9 for region in found.regions)


def test_a_region_becomes_a_product_photo_the_detector_finds_again(poses: PoseReader) -> None:
    canvas, _ = _collage([("Jeans", "Jeans", (40, 60, 140)), ("Bags", "Handbag", (90, 60, 30))])
    region = find_regions(canvas, poses=poses).regions[0]
    photo = region_photo(canvas, region)
    assert photo.size[0] > region.box.width and photo.size[1] > region.box.height
    again = find_garment(photo)
    assert again.plain_background and not again.empty
    assert abs(again.box.width - region.box.width) <= 3


def test_a_speck_on_a_flat_lay_is_not_a_product(poses: PoseReader) -> None:
    canvas, _ = _collage([("Skirts", "Skirt", (20, 120, 60)), ("Bags", "Handbag", (90, 60, 30))])
    canvas.paste((10, 10, 10), (canvas.width - 12, canvas.height - 12, canvas.width - 8, canvas.height - 8))
    assert len(find_regions(canvas, poses=poses).regions) == 2


def test_one_product_is_one_region(poses: PoseReader) -> None:
    photo = render_garment(
        "Coats", "Coat", (150, 110, 70), "solid", background=CREAM, rng=np.random.default_rng(1)
    )
    found = find_regions(photo, poses=poses)
    assert found.kind is PhotoKind.PRODUCT and len(found.regions) == 1


def test_a_real_photo_of_a_person_gives_the_worn_parts_in_view(poses: PoseReader) -> None:
    from skimage import data

    astronaut = Image.fromarray(data.astronaut())  # head and shoulders, hips at the bottom edge
    found = find_regions(astronaut, poses=poses)
    assert found.kind is PhotoKind.PERSON
    parts = {region.part: region.box for region in found.regions}
    assert "upper" in parts and "feet" not in parts
    upper = parts["upper"]
    assert upper.y0 < 260 < upper.y1 and upper.width > astronaut.width / 2  # the suit's shoulders


@pytest.mark.parametrize(
    "photo",
    [
        Image.new("RGB", (400, 400), (128, 128, 128)),
        Image.new("RGB", (20, 20), (255, 0, 0)),
        Image.fromarray(np.random.default_rng(0).integers(0, 256, (12, 12, 3), dtype=np.uint8)),
    ],
    ids=["blank grey", "20x20 red square", "12x12 noise"],
)
def test_a_blank_photo_has_no_garment(poses: PoseReader, photo: Image.Image) -> None:
    found = find_regions(photo, poses=poses)
    assert found.kind is PhotoKind.EMPTY and found.regions == ()
    assert "no garment" in found.reason


def _pose(visible: set[int]) -> Pose:
    """A standing person 400 px tall in a 300 x 500 photo, with the given landmarks visible."""
    points = np.zeros((33, 3), dtype=np.float32)
    ys = {11: 100, 12: 100, 23: 250, 24: 250, 25: 350, 26: 350, 27: 440, 28: 440}
    ys.update(dict.fromkeys((29, 30, 31, 32), 455))
    for index, y in ys.items():
        points[index] = (130 if index % 2 else 170, y, 1.0 if index in visible else 0.1)
    person = np.zeros((500, 300), dtype=bool)
    person[80:470, 100:200] = True
    return Pose(points=points, person=person)


def test_body_regions_follow_the_visible_landmarks() -> None:
    everything = set(range(33))
    parts = {region.part: region.box for region in body_regions(_pose(everything))}
    assert set(parts) == {"upper", "lower", "full", "feet"}
    assert parts["upper"].y0 < 100 < 250 < parts["upper"].y1 < parts["lower"].y1
    assert parts["lower"].y0 < 250 and parts["lower"].y1 == 440
    assert parts["full"].y0 == parts["upper"].y0 and parts["full"].y1 == parts["lower"].y1
    assert parts["feet"].y0 < 440 < 455 < parts["feet"].y1
    assert parts["upper"].x0 == 100 and parts["upper"].x1 == 200  # the person mask's width

    # hips and below out of the photo: only the upper body
    assert [r.part for r in body_regions(_pose({11, 12}))] == ["upper"]
    # no shoulders in view: no region rather than a guess
    assert body_regions(_pose({23, 24, 27, 28})) == []
    # a skeleton squeezed onto a product (shoulders 4 px apart in a 300 px photo) is no wearer
    squeezed = _pose(everything)
    squeezed.points[[11, 12], 0] = (148, 152)
    assert body_regions(squeezed) == []


def test_a_bag_held_apart_from_the_body_is_a_carried_region() -> None:
    from vision.regions import _carried

    foreground = np.zeros((600, 400), dtype=bool)
    person = np.zeros_like(foreground)
    person[50:580, 120:260] = True  # the wearer
    foreground |= person
    foreground[300:420, 300:380] = True  # a bag held out at arm's length
    foreground[100:104, 270:273] = True  # a wisp of hair beside the head: no region
    (bag,) = _carried(foreground, person)
    assert bag.part == "carried"
    assert bag.box.iou(Box(300, 300, 380, 420)) >= 0.8
    assert _carried(person, person) == []


def test_a_product_joined_to_a_shaded_patch_of_its_own_photo_is_cut_to_the_product() -> None:
    from vision.regions import Region, _cored

    backdrop = (236, 236, 231)
    pixels = np.full((400, 300, 3), backdrop, dtype=np.uint8)
    pixels[0:250, :] = (224, 224, 219)  # the upper part of a pasted photo, a shade darker
    pixels[250:330, 80:220] = (30, 30, 30)  # a black belt bag resting low in it
    image = Image.fromarray(pixels)
    region = Region("product", Box(0, 0, 300, 330), np.ones((330, 300), dtype=bool))
    cored = _cored(image, region, backdrop)
    assert cored.box.iou(Box(80, 250, 220, 330)) >= 0.8
    assert cored.mask.shape == (cored.box.height, cored.box.width)
    # A pale product differs only faintly everywhere: its faint part is the product, kept whole.
    pale = Image.fromarray(np.full((330, 300, 3), (222, 222, 216), dtype=np.uint8))
    assert _cored(pale, region, backdrop) == region


def test_a_skeleton_fitted_to_one_garment_of_a_collage_is_no_wearer() -> None:
    from vision.regions import _wears

    pixels = np.full((400, 600, 3), 240, dtype=np.uint8)
    pixels[50:350, 40:260] = (30, 60, 140)  # a sweater, which has shoulders
    pixels[50:350, 340:560] = (150, 40, 40)  # and trousers beside it
    foreground = find_garment(Image.fromarray(pixels))
    on_sweater = np.zeros((400, 600), dtype=bool)
    on_sweater[50:350, 40:260] = True
    assert not _wears(on_sweater, foreground)
    everything = foreground.mask.copy()
    assert _wears(everything, foreground)


def test_an_arm_the_person_mask_missed_is_not_carried() -> None:
    from vision.regions import _carried

    person = np.zeros((600, 400), dtype=bool)
    person[50:580, 120:260] = True
    foreground = person.copy()
    foreground[150:400, 260:300] = True  # an arm the segmentation left out, joined to the body
    assert _carried(foreground, person) == []
