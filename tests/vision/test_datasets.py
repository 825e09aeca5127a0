"""Labelled folders for training: layout detection, rows, the hash split (vision.datasets)."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from vision.datasets import DatasetError, detect_layout, read_labelled_folder, split_part

MYNTRA_HEADER = [
    "id", "gender", "masterCategory", "subCategory", "articleType", "baseColour",
    "season", "year", "usage", "productDisplayName", "image",
]  # fmt: skip


def write_myntra(folder: Path, rows: list[list[str]], *, images: bool = True) -> Path:
    (folder / "images").mkdir(parents=True, exist_ok=True)
    with (folder / "styles.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(MYNTRA_HEADER)
        for row in rows:
            writer.writerow(row)
            if images:
                Image.new("RGB", (40, 60), (200, 30, 30)).save(folder / row[-1])
    return folder


def test_reads_a_myntra_folder_with_labels_and_titles(tmp_path: Path) -> None:
    folder = write_myntra(
        tmp_path / "shop",
        [
            [
                "1",
                "Men",
                "Apparel",
                "Topwear",
                "Shirts",
                "Red",
                "Fall",
                "2011",
                "Casual",
                "Red Shirt",
                "images/1.jpg",
            ],
            [
                "2",
                "Women",
                "Personal Care",
                "Fragrance",
                "Perfume",
                "Pink",
                "",
                "",
                "",
                "Scent",
                "images/2.jpg",
            ],
        ],
    )
    read = read_labelled_folder(folder)
    assert read.layout == "myntra" and len(read.garments) == 1
    garment = read.garments[0]
    assert garment.item_id == "shop:1" and garment.category == ("top", "Topwear", "Shirts")
    assert garment.attributes["colour_group"] == "RED" and garment.text == "Red Shirt"
    assert read.skipped == Counter({"not a garment we complete looks with": 1})


def test_rows_without_their_photo_are_counted_not_dropped_silently(tmp_path: Path) -> None:
    row = [
        "1",
        "Men",
        "Apparel",
        "Topwear",
        "Shirts",
        "Red",
        "Fall",
        "2011",
        "Casual",
        "Red Shirt",
        "images/1.jpg",
    ]
    folder = write_myntra(tmp_path / "shop", [row], images=False)
    read = read_labelled_folder(folder)
    assert read.garments == [] and read.skipped["image file missing"] == 1


def test_a_folder_of_no_known_layout_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"products\.csv"):
        detect_layout(tmp_path)


def test_split_is_stable_and_roughly_proportional() -> None:
    ids = [f"shop:{i}" for i in range(5000)]
    parts = Counter(split_part(i) for i in ids)
    assert [split_part(i) for i in ids[:50]] == [split_part(i) for i in ids[:50]]
    assert 400 < parts["test"] < 600 and 400 < parts["validation"] < 600
