from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from tests.vision.garments import CREAM, GREY, draw_garment_photo
from vision.detect import find_garment
from vision.quality import (
    HANDSET_THRESHOLD,
    STATISTIC_NAMES,
    PhotoStatistics,
    QualityReport,
    assess_quality,
    photo_statistics,
)


def grade(image: Image.Image) -> QualityReport:
    return assess_quality(image, find_garment(image))


def test_clean_studio_shot_has_no_problems() -> None:
    assert grade(draw_garment_photo(CREAM).image) == QualityReport(score=1.0, problems=())


def test_flags_blurry_photo() -> None:
    report = grade(draw_garment_photo(CREAM).image.filter(ImageFilter.GaussianBlur(2)))
    assert report.problems == ("blurry",)
    assert report.score < 0.8


def test_flags_small_photo_with_its_size() -> None:
    report = grade(draw_garment_photo(CREAM).image.resize((120, 160)))
    assert "too small (120x160)" in report.problems


def test_flags_dark_photo() -> None:
    report = grade(ImageEnhance.Brightness(draw_garment_photo(CREAM).image).enhance(0.3))
    assert report.problems == ("too dark",)


def test_flags_overexposed_garment() -> None:
    report = grade(draw_garment_photo(GREY, colour=(255, 255, 255), noise=0).image)
    assert "overexposed" in report.problems


def test_flags_garment_too_small_in_the_frame() -> None:
    photo = draw_garment_photo(CREAM, size=(480, 640), box=(200, 300, 250, 360))
    assert "garment fills too little of the frame" in grade(photo.image).problems


def test_flags_garment_cut_off_at_the_edge() -> None:
    report = grade(draw_garment_photo(GREY, box=(60, 80, 180, 320)).image)
    assert report.problems == ("garment cut off at the edge",)


def test_more_problems_score_lower() -> None:
    sharp = grade(draw_garment_photo(CREAM).image)
    blurry = grade(draw_garment_photo(CREAM).image.filter(ImageFilter.GaussianBlur(2)))
    blurry_and_dark = grade(
        ImageEnhance.Brightness(draw_garment_photo(CREAM).image.filter(ImageFilter.GaussianBlur(2))).enhance(
            0.3
        )
    )
    assert sharp.score > blurry.score > blurry_and_dark.score > 0


def test_grading_is_deterministic() -> None:
    image = draw_garment_photo(GREY, gradient=30.0).image.filter(ImageFilter.GaussianBlur(1))
    assert grade(image) == grade(image)


def test_street_photo_is_not_called_cut_off() -> None:
    street = Image.effect_noise((240, 320), 60).convert("RGB")
    assert "garment cut off at the edge" not in grade(street).problems


def statistics(image: Image.Image) -> PhotoStatistics:
    return photo_statistics(image, find_garment(image))


def test_hand_set_verdict_follows_the_threshold() -> None:
    clean = grade(draw_garment_photo(CREAM).image)
    assert (clean.verdict, clean.method) == ("keep", "hand-set")
    tiny_and_blurry = grade(
        draw_garment_photo(CREAM).image.resize((60, 80)).filter(ImageFilter.GaussianBlur(2))
    )
    assert tiny_and_blurry.score < HANDSET_THRESHOLD
    assert tiny_and_blurry.verdict == "reject"
    photo = draw_garment_photo(CREAM).image
    assert assess_quality(photo, find_garment(photo), threshold=1.01).verdict == "reject"


def test_statistics_are_named_finite_and_deterministic() -> None:
    image = draw_garment_photo(GREY, gradient=30.0).image
    first, second = statistics(image), statistics(image)
    assert first == second
    assert list(first.as_dict()) == list(STATISTIC_NAMES)
    assert np.isfinite(first.as_array()).all()


def test_statistics_measure_what_they_are_named_after() -> None:
    photo = draw_garment_photo(CREAM).image
    clean = statistics(photo)
    assert clean["short_side_log2"] == pytest.approx(np.log2(240))
    assert clean["plain_background"] == 1.0
    assert clean["edge_share_max"] == 0.0
    assert statistics(ImageEnhance.Brightness(photo).enhance(0.3))["luma_p95"] < 0.4 * clean["luma_p95"]
    assert (
        statistics(photo.filter(ImageFilter.GaussianBlur(2)))["edge_steepness"]
        < 0.6 * clean["edge_steepness"]
    )
    cut_off = statistics(draw_garment_photo(GREY, box=(60, 80, 180, 320)).image)
    assert cut_off["edge_share_max"] > 0.2
    assert cut_off["edges_touched"] == 1.0
    corner = statistics(draw_garment_photo(CREAM, size=(480, 640), box=(10, 10, 90, 130)).image)
    assert corner["centre_offset_x"] > 0.3
    assert corner["box_share"] < 0.05


def test_statistics_of_a_street_photo_show_clutter() -> None:
    street = statistics(Image.effect_noise((240, 320), 60).convert("RGB"))
    clean = statistics(draw_garment_photo(CREAM).image)
    assert street["plain_background"] == 0.0
    assert street["border_edge_density"] > clean["border_edge_density"] + 0.1


def test_statistics_of_a_12_megapixel_photo_come_from_a_small_copy() -> None:
    big = draw_garment_photo(CREAM).image.resize((3000, 4000), Image.Resampling.BILINEAR)
    measured = statistics(big)
    assert measured["long_side_log2"] == pytest.approx(np.log2(4000))
    assert np.isfinite(measured.as_array()).all()
