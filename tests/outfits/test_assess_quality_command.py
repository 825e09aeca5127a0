"""The assess_quality and train_quality commands, on photos drawn into a temporary folder."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from PIL import Image, ImageEnhance

from tests.vision.garments import CREAM, GREY, draw_garment_photo

BACKDROPS = (CREAM, GREY, (250, 250, 250))


@pytest.fixture(autouse=True)
def models_dir(settings: Any, tmp_path: Path) -> Path:
    # Never the shared var/models: what a test finds there must be what it put there.
    settings.MODELS_DIR = tmp_path / "models"
    return Path(settings.MODELS_DIR)


def run(*args: str) -> list[str]:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO(), verbosity=0)
    return out.getvalue().splitlines()


def photo(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    width, height = int(rng.integers(90, 150)), int(rng.integers(150, 250))
    x0, y0 = (240 - width) // 2, (320 - height) // 2
    colour = tuple(int(c) for c in rng.integers(20, 230, 3))
    return draw_garment_photo(
        BACKDROPS[seed % len(BACKDROPS)],
        box=(x0, y0, x0 + width, y0 + height),
        colour=(colour[0], colour[1], colour[2]),
        seed=seed,
    ).image


@pytest.fixture
def photo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    (folder / "more").mkdir(parents=True)
    photo(1).save(folder / "clean.jpg", quality=92)
    ImageEnhance.Brightness(photo(2)).enhance(0.2).save(folder / "dark.png")
    photo(3).save(folder / "more" / "other.webp", quality=92)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    (folder / "notes.txt").write_text("not a photo, and not named: left out")
    return folder


def write_mango_folder(root: Path, count: int) -> Path:
    (root / "images").mkdir(parents=True)
    rows = ["cod_modelo_color,des_product_category,des_product_family,des_product_type,des_filename"]
    for index in range(count):
        photo(100 + index).save(root / "images" / f"{index}.jpg", quality=92)
        rows.append(f"P{index:03d},Tops,T-shirt,T-shirt,images/{index}.jpg")
    (root / "products.csv").write_text("\n".join(rows) + "\n")
    return root


def test_grades_files_and_folders_with_the_hand_set_rules_when_no_filter_is_trained(
    photo_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report" / "quality.json"
    lines = run("assess_quality", str(photo_folder), str(tmp_path / "missing.jpg"), "--json", str(out))

    by_file = {line.split("  ")[0]: line.split("  ")[1:] for line in lines[:-1]}
    assert list(by_file) == [
        str(photo_folder / "broken.jpg"),
        str(photo_folder / "clean.jpg"),
        str(photo_folder / "dark.png"),
        str(photo_folder / "more" / "other.webp"),
        str(tmp_path / "missing.jpg"),
    ]
    assert by_file[str(photo_folder / "clean.jpg")][1:] == ["keep", "-"]
    assert by_file[str(photo_folder / "broken.jpg")] == [
        "0.000",
        "reject",
        "unreadable: the image is truncated or corrupt",
    ]
    assert by_file[str(tmp_path / "missing.jpg")][1] == "reject"
    assert "too dark" in by_file[str(photo_folder / "dark.png")][2]
    assert lines[-1].startswith("5 images: ")
    assert "(2 unreadable)" in lines[-1]
    assert "hand-set rules" in lines[-1]

    results = json.loads(out.read_text())
    assert [Path(result["file"]).name for result in results] == [
        "broken.jpg",
        "clean.jpg",
        "dark.png",
        "other.webp",
        "missing.jpg",
    ]
    for result in results:
        assert set(result) == {"file", "score", "verdict", "reasons"}
        assert result["verdict"] in ("keep", "reject")
        assert isinstance(result["score"], float)
    assert results[0]["reasons"] == ["unreadable: the image is truncated or corrupt"]


def test_trains_a_filter_that_assess_quality_then_uses(
    photo_folder: Path, tmp_path: Path, models_dir: Path
) -> None:
    data = write_mango_folder(tmp_path / "mango", 40)
    lines = run("train_quality", str(data), "--seed", "1")
    assert lines[0] == "40 clean photos from 1 folders"
    assert any(line.startswith("dark ") for line in lines)
    assert any(line.startswith("clean rejected") for line in lines)
    assert "written to" in lines[-1]
    assert (models_dir / "quality" / "manifest.json").exists()

    # The filter in MODELS_DIR/quality is used without being named...
    lines = run("assess_quality", str(photo_folder))
    assert "learned filter quality-" in lines[-1]
    assert str(models_dir / "quality") in lines[-1]
    verdicts = {Path(line.split("  ")[0]).name: line.split("  ")[2] for line in lines[:-1]}
    assert verdicts["dark.png"] == "reject"
    assert verdicts["broken.jpg"] == "reject"
    # ...and one named with --filter wins over it.
    named = tmp_path / "elsewhere"
    lines = run("train_quality", str(data), "--limit", "30", "--out", str(named))
    assert lines[0] == "30 clean photos from 1 folders"
    lines = run("assess_quality", str(photo_folder / "clean.jpg"), "--filter", str(named), "--threshold", "0")
    assert f"from {named}" in lines[-1]
    assert lines[0].split("  ")[2] == "keep"


def test_a_named_filter_folder_without_a_filter_is_an_error(photo_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no quality filter in"):
        run("assess_quality", str(photo_folder), "--filter", str(tmp_path / "empty"))


def test_train_quality_refuses_a_folder_of_no_known_layout(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=r"products\.csv"):
        run("train_quality", str(tmp_path))
