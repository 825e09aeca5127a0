from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from tests.vision.garments import CREAM, GREY, draw_garment_photo
from vision.datasets import split_part
from vision.degrade import DEGRADATIONS
from vision.detect import find_garment
from vision.quality import STATISTIC_NAMES, assess_quality, photo_statistics
from vision.quality_filter import (
    CLEAN,
    FORMAT_VERSION,
    MANIFEST_NAME,
    TRAIN,
    QualityFilter,
    QualityFilterMismatch,
    QualityMetrics,
    build_quality_dataset,
    choose_threshold,
    evaluate_rejects,
    load_quality_filter,
    spread_sample,
    train_quality_filter,
)

WHITE = (250, 250, 250)
BACKDROPS = (CREAM, GREY, WHITE, (225, 228, 232))


def catalog_photo(index: int) -> Image.Image:
    """One of a varied set of studio shots: backdrop, colour, size and place of the garment vary."""
    rng = np.random.default_rng(1000 + index)
    width, height = 240, 320
    garment_w = int(rng.integers(70, 170))
    garment_h = int(rng.integers(110, 260))
    x0 = (width - garment_w) // 2 + int(rng.integers(-15, 16))
    y0 = (height - garment_h) // 2 + int(rng.integers(-15, 16))
    colour = tuple(int(c) for c in rng.integers(20, 235, 3))
    return draw_garment_photo(
        BACKDROPS[index % len(BACKDROPS)],
        box=(x0, y0, x0 + garment_w, y0 + garment_h),
        colour=(colour[0], colour[1], colour[2]),
        gradient=float(rng.uniform(0, 20)),
        seed=index,
    ).image


@pytest.fixture(scope="module")
def trained() -> tuple[QualityFilter, QualityMetrics]:
    count = 60
    return train_quality_filter(
        (catalog_photo(i) for i in range(count)),
        ids=[f"item-{i}" for i in range(count)],
        slots=["tops" if i % 2 else "bottoms" for i in range(count)],
        seed=0,
        model_params={"max_iter": 40},
    )


def test_every_copy_of_an_item_lands_in_its_items_part() -> None:
    dataset = build_quality_dataset(
        (catalog_photo(i) for i in range(3)), ids=["a", "b", "c"], kinds=("dark", "tiny"), seed=1
    )
    assert dataset.features.shape == (3 * 4, len(STATISTIC_NAMES))  # clean, benign variant, 2 kinds
    assert dataset.kinds[:4] == (CLEAN, CLEAN, "dark", "tiny")
    assert dataset.benign.tolist()[:4] == [False, True, False, False]
    for item, part in zip(dataset.item_ids, dataset.parts, strict=True):
        assert part == split_part(item)


def test_unreadable_photos_are_skipped() -> None:
    dataset = build_quality_dataset([catalog_photo(0), None], ids=["a", "b"], kinds=("dark",))
    assert set(dataset.item_ids) == {"a"}


def test_threshold_rejects_at_most_the_allowed_share_of_clean_photos() -> None:
    scores = np.linspace(0.01, 1.0, 100)
    threshold = choose_threshold(scores, max_clean_rejected=0.02)
    assert np.mean(scores < threshold) == pytest.approx(0.02)


def test_metrics_count_rejects_per_kind_against_the_clean_photos() -> None:
    metrics = evaluate_rejects(
        [0.9, 0.9, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1],
        [CLEAN, CLEAN, CLEAN, "dark", "dark", "blurred", "blurred", "blurred"],
        threshold=0.5,
        strengths=[0, 0, 0, 0.1, 0.9, 0.5, 0.5, 0.5],
        slots=["tops", "tops", "bags", "", "", "", "", ""],
    )
    assert metrics.clean_rejected == pytest.approx(1 / 3)
    assert metrics.per_kind["dark"].recall == 0.5
    assert metrics.per_kind["dark"].precision == 0.5  # one caught, one clean photo rejected
    assert metrics.per_kind["blurred"].recall == 1.0
    assert metrics.overall.recall == pytest.approx(4 / 5)
    assert metrics.clean_rejected_by_slot == {"bags": (1.0, 1), "tops": (0.0, 2)}
    assert metrics.recall_by_strength == {"low": 1.0, "mid": 1.0, "high": 0.0}


def test_trained_filter_keeps_a_new_clean_photo_and_rejects_its_dark_and_blurred_copies(
    trained: tuple[QualityFilter, QualityMetrics],
) -> None:
    quality_filter = trained[0]
    photo = draw_garment_photo(CREAM, box=(70, 60, 175, 270), colour=(120, 40, 60), seed=99).image
    kept = assess_quality(photo, find_garment(photo), quality_filter=quality_filter)
    assert kept.verdict == "keep", kept
    assert kept.problems == ()
    assert kept.method == quality_filter.build_id
    assert kept.statistics is not None

    dark = ImageEnhance.Brightness(photo).enhance(0.25)
    report = assess_quality(dark, find_garment(dark), quality_filter=quality_filter)
    assert report.verdict == "reject"
    assert report.problems[0] == "too dark"

    blurred = photo.filter(ImageFilter.GaussianBlur(4))
    report = assess_quality(blurred, find_garment(blurred), quality_filter=quality_filter)
    assert report.verdict == "reject"
    assert report.problems[0] == "blurry"
    assert report.score < kept.score


def test_a_blurred_photo_saved_as_an_ordinary_jpeg_is_still_rejected(
    trained: tuple[QualityFilter, QualityMetrics],
) -> None:
    # The clean photos are JPEG files: had the copies not been saved as uploads are, "shows a JPEG
    # grid" would have meant "clean".
    photo = draw_garment_photo(CREAM, box=(70, 60, 175, 270), colour=(120, 40, 60), seed=99).image
    buffer = io.BytesIO()
    photo.filter(ImageFilter.GaussianBlur(4)).save(buffer, format="JPEG", quality=75)
    blurred = Image.open(buffer).convert("RGB")
    report = assess_quality(blurred, find_garment(blurred), quality_filter=trained[0])
    assert report.verdict == "reject"
    assert report.problems[0] == "blurry"


def test_a_batch_is_graded_as_each_photo_alone(trained: tuple[QualityFilter, QualityMetrics]) -> None:
    quality_filter = trained[0]
    photos = [catalog_photo(5), ImageEnhance.Brightness(catalog_photo(6)).enhance(0.25)]
    foregrounds = [find_garment(photo) for photo in photos]
    alone = [
        assess_quality(p, fg, quality_filter=quality_filter)
        for p, fg in zip(photos, foregrounds, strict=True)
    ]
    assert quality_filter.assess_many(photos, foregrounds) == alone
    assert quality_filter.assess_many([], []) == []


def test_tiny_photo_is_rejected_with_its_size(trained: tuple[QualityFilter, QualityMetrics]) -> None:
    tiny = draw_garment_photo(CREAM, seed=98).image.resize((60, 80), Image.Resampling.LANCZOS)
    report = assess_quality(tiny, find_garment(tiny), quality_filter=trained[0])
    assert report.verdict == "reject"
    assert "too small (60x80)" in report.problems


def test_threshold_can_be_overridden(trained: tuple[QualityFilter, QualityMetrics]) -> None:
    photo = catalog_photo(0)
    foreground = find_garment(photo)
    assert assess_quality(photo, foreground, quality_filter=trained[0], threshold=1.01).verdict == "reject"
    assert assess_quality(photo, foreground, quality_filter=trained[0], threshold=0.0).verdict == "keep"


def test_training_reports_test_figures_for_every_kind(trained: tuple[QualityFilter, QualityMetrics]) -> None:
    quality_filter, metrics = trained
    assert set(metrics.per_kind) == set(DEGRADATIONS)
    assert metrics.overall.clean > 0
    assert set(metrics.clean_rejected_by_slot) <= {"tops", "bottoms"}
    assert 0.0 < quality_filter.threshold < 1.0
    assert metrics.overall.recall > 0.5  # even from 60 drawn photos, most copies are caught


def test_save_and_load_round_trip(tmp_path: Path, trained: tuple[QualityFilter, QualityMetrics]) -> None:
    quality_filter, _ = trained
    quality_filter.save(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["feature_names"] == list(STATISTIC_NAMES)
    assert manifest["threshold"] == quality_filter.threshold
    assert manifest["seed"] == 0
    assert manifest["counts"]["items"][TRAIN] > 0
    assert "per_kind" in manifest["test_metrics"]
    assert not list(tmp_path.glob("*.part"))

    loaded = QualityFilter.load(tmp_path)
    photos = [catalog_photo(i) for i in (1, 2)]
    rows = np.stack([photo_statistics(photo, find_garment(photo)).as_array() for photo in photos])
    assert np.array_equal(loaded.probabilities(rows), quality_filter.probabilities(rows))
    assert loaded.build_id == quality_filter.build_id


def test_loading_another_format_version_is_refused(
    tmp_path: Path, trained: tuple[QualityFilter, QualityMetrics]
) -> None:
    trained[0].save(tmp_path)
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text())
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({**manifest, "format_version": FORMAT_VERSION + 1}))
    with pytest.raises(QualityFilterMismatch, match="format version"):
        QualityFilter.load(tmp_path)


def test_loading_a_damaged_model_file_is_refused(
    tmp_path: Path, trained: tuple[QualityFilter, QualityMetrics]
) -> None:
    trained[0].save(tmp_path)
    model_file = tmp_path / json.loads((tmp_path / MANIFEST_NAME).read_text())["model_file"]
    model_file.write_bytes(model_file.read_bytes()[:100])
    with pytest.raises(QualityFilterMismatch, match="does not match its manifest"):
        QualityFilter.load(tmp_path)


def test_load_quality_filter_gives_none_for_a_folder_without_one(tmp_path: Path) -> None:
    assert load_quality_filter(tmp_path / "nothing") is None


def test_without_a_learned_filter_the_hand_set_rules_grade() -> None:
    photo = catalog_photo(3)
    report = assess_quality(photo, find_garment(photo))
    assert report.method == "hand-set"
    assert report.verdict == "keep"


def test_spread_sample_is_stable_and_spread() -> None:
    items = [f"item-{i}" for i in range(100)]
    picked = spread_sample(items, 10, item_id=str)
    assert picked == spread_sample(items, 10, item_id=str)
    assert len(picked) == 10
    assert picked == sorted(picked, key=items.index)  # input order kept
    assert max(items.index(item) for item in picked) > 50  # not just the first rows
    assert spread_sample(items, None, item_id=str) == items


def test_importing_the_filter_pulls_in_neither_scikit_learn_nor_torch() -> None:
    # The web process may import it (to pass a filter along); only training and loading need sklearn.
    code = (
        "import sys\n"
        "import vision.quality_filter, vision.degrade\n"
        "heavy = sorted(m for m in ('sklearn', 'joblib', 'torch') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
