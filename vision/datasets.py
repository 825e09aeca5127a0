"""Labelled garment folders for training: MANGO layout (products.csv) or Myntra layout (styles.csv).

The layout is detected from the files. Each usable row becomes a LabelledGarment with the same
slot/family/type the importer files it under (vision.labels), its attribute labels and a text for
the image-text objective. Rows that cannot be used (no image file, a category that is no garment
we complete looks with) are counted by reason, never silently dropped. Plain Python: no torch.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from vision import labels

Layout = Literal["mango", "myntra"]
LAYOUT_FILES: Final[dict[Layout, str]] = {"mango": "products.csv", "myntra": "styles.csv"}


class DatasetError(ValueError):
    """The folder as a whole cannot be read (no known layout, missing columns)."""


@dataclass(frozen=True)
class LabelledGarment:
    item_id: str  # the data set's own id, prefixed with the folder's name (unique across folders)
    image_path: Path
    slot: str
    family: str
    type: str
    attributes: dict[str, str]
    text: str  # a title, or words built from type, colour and fabric

    @property
    def category(self) -> tuple[str, str, str]:
        return (self.slot, self.family, self.type)


@dataclass
class LabelledFolder:
    path: Path
    layout: Layout
    garments: list[LabelledGarment]
    skipped: Counter[str] = field(default_factory=Counter)


def detect_layout(folder: Path) -> Layout:
    found = [layout for layout, name in LAYOUT_FILES.items() if (folder / name).is_file()]
    if len(found) != 1:
        raise DatasetError(
            f"{folder}: expected exactly one of {', '.join(LAYOUT_FILES.values())}, found {found or 'none'}"
        )
    return found[0]


def read_labelled_folder(folder: Path) -> LabelledFolder:
    """Every usable garment of a MANGO- or Myntra-layout folder, in file order."""
    folder = Path(folder)
    layout = detect_layout(folder)
    result = LabelledFolder(path=folder, layout=layout, garments=[])
    prefix = folder.resolve().name
    with (folder / LAYOUT_FILES[layout]).open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        required = ("cod_modelo_color", "des_product_category", "des_product_type", "des_filename")
        if layout == "myntra":
            required = ("id", "masterCategory", "subCategory", "articleType")
        missing = [column for column in required if column not in (reader.fieldnames or [])]
        if missing:
            raise DatasetError(f"{folder / LAYOUT_FILES[layout]} lacks column(s) {', '.join(missing)}")
        for raw in reader:
            row = {key: (value or "").strip() for key, value in raw.items() if key}
            try:
                garment = (
                    _mango_garment(folder, prefix, row)
                    if layout == "mango"
                    else _myntra_garment(folder, prefix, row)
                )
            except labels.UnmappedCategory:
                result.skipped["not a garment we complete looks with"] += 1
                continue
            if not garment.image_path.is_file():
                result.skipped["image file missing"] += 1
                continue
            result.garments.append(garment)
    return result


def _mango_garment(folder: Path, prefix: str, row: dict[str, str]) -> LabelledGarment:
    slot = labels.mango_slot(row["des_product_category"], row.get("des_product_family", ""))
    _, family, type_ = labels.category_path(slot, row.get("des_product_family", ""), row["des_product_type"])
    return LabelledGarment(
        item_id=f"{prefix}:{row['cod_modelo_color']}",
        image_path=folder / row["des_filename"],
        slot=slot,
        family=family,
        type=type_,
        attributes=labels.mango_attributes(row),
        text=row.get("title", "") or labels.mango_title(row),
    )


def _myntra_garment(folder: Path, prefix: str, row: dict[str, str]) -> LabelledGarment:
    slot = labels.myntra_slot(row["masterCategory"], row["subCategory"], row["articleType"])
    _, family, type_ = labels.category_path(slot, row["subCategory"], row["articleType"])
    attributes = labels.myntra_attributes(row)
    text = row.get("productDisplayName", "") or " ".join(
        part for part in (attributes.get("colour", ""), type_.lower()) if part
    )
    return LabelledGarment(
        item_id=f"{prefix}:{row['id']}",
        image_path=folder / (row.get("image") or f"images/{row['id']}.jpg"),
        slot=slot,
        family=family,
        type=type_,
        attributes=attributes,
        text=text,
    )


Part = Literal["train", "validation", "test"]


def split_part(item_id: str, *, validation_share: float = 0.1, test_share: float = 0.1) -> Part:
    """Which part an item belongs to, by a hash of its id: stable across runs, machines and seeds,
    so an item never moves between training and the parts set aside."""
    bucket = int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:8], "big") / 2**64
    if bucket < test_share:
        return "test"
    if bucket < test_share + validation_share:
        return "validation"
    return "train"
