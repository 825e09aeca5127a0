from __future__ import annotations

from PIL import Image, ImageEnhance, ImageFilter

from tests.vision.garments import CREAM, GREY, draw_garment_photo
from vision.detect import find_garment
from vision.quality import QualityReport, assess_quality


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
