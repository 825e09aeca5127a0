"""The demo data generator: a MANGO-layout folder whose outfits follow named style rules.

No database and no Django: these call the plain package directly (its management command is tested
in tests/outfits/test_make_demo_data.py).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import demo as demo_data
from demo import (
    CATEGORIES,
    CATEGORY_ACCESSORIES,
    CATEGORY_BOTTOMS,
    CATEGORY_DRESSES,
    CATEGORY_TOPS,
    COLOURS,
    CREAM,
    GREY,
    MARKER_NAME,
    STYLES_BY_NAME,
    NotADemoFolderError,
    parse_background,
    render_garment,
    write_demo_dataset,
)
from demo import folders as demo_folders

N_OUTFITS = 24


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "library"
    write_demo_dataset(folder, n_outfits=N_OUTFITS, seed=1, background=CREAM, id_prefix="L")
    return folder


@pytest.fixture(scope="module")
def products(library: Path) -> dict[str, dict[str, str]]:
    return {row["cod_modelo_color"]: row for row in _read(library / "products.csv")}


@pytest.fixture(scope="module")
def outfits(library: Path) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for row in _read(library / "outfits.csv"):
        grouped[row["cod_outfit"]].append(row["cod_modelo_color"])
    return dict(grouped)


def _slot(row: dict[str, str]) -> str:
    category = row["des_product_category"]
    if category == CATEGORY_ACCESSORIES:
        return {"Footwear": "shoes", "Bags": "bag"}[row["des_product_family"]]
    return {CATEGORY_TOPS: "top", CATEGORY_BOTTOMS: "bottom", CATEGORY_DRESSES: "dress"}.get(
        category, "outerwear"
    )


def test_same_seed_writes_the_same_bytes(library: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_demo_dataset(again, n_outfits=N_OUTFITS, seed=1, background=CREAM, id_prefix="L")
    for name in ("products.csv", "outfits.csv"):
        assert (again / name).read_bytes() == (library / name).read_bytes()
    first = sorted((library / "images").iterdir())[0]
    assert (again / "images" / first.name).read_bytes() == first.read_bytes()


def test_another_seed_gives_other_products(library: Path, tmp_path: Path) -> None:
    write_demo_dataset(tmp_path / "other", n_outfits=N_OUTFITS, seed=2, id_prefix="L")
    assert (tmp_path / "other" / "products.csv").read_bytes() != (library / "products.csv").read_bytes()


def test_summary_counts_what_was_written(tmp_path: Path) -> None:
    summary = write_demo_dataset(tmp_path / "d", n_outfits=7, seed=3)
    assert summary.n_outfits == 7
    assert summary.n_products == len(_read(tmp_path / "d" / "products.csv"))
    assert summary.path == tmp_path / "d"
    marker = json.loads((tmp_path / "d" / MARKER_NAME).read_text())
    assert marker["complete"] is True and marker["n_products"] == summary.n_products


def test_every_product_has_a_product_shot(library: Path, products: dict[str, dict[str, str]]) -> None:
    for item_id, row in products.items():
        assert row["des_filename"] == f"images/{item_id}.jpg"
        with Image.open(library / row["des_filename"]) as image:
            image.load()
            assert image.format == "JPEG"
            assert image.mode == "RGB"
            assert image.size == (240, 336)
    assert len(list((library / "images").iterdir())) == len(products)


def test_products_use_mango_columns_and_vocabulary(products: dict[str, dict[str, str]]) -> None:
    required = {
        "cod_modelo_color",
        "des_product_category",
        "des_product_family",
        "des_product_type",
        "des_agrup_color_eng",
        "des_fabric",
        "des_filename",
        "des_sex",
        "des_product_aggregated_family",
        "pattern",
        "style",
        "title",
        "price",
        "brand",
    }
    for row in products.values():
        assert required <= set(row)
        assert row["des_product_category"] in CATEGORIES
        if row["des_product_category"] == CATEGORY_ACCESSORIES:
            assert row["des_product_aggregated_family"] == "Accessories"
            assert row["des_product_family"] in ("Footwear", "Bags")
        assert row["des_agrup_color_eng"] in {c.group for c in COLOURS.values()}
        assert row["pattern"] in demo_data.PATTERNS
        assert row["style"] in STYLES_BY_NAME
        assert re.fullmatch(r"\d+\.99", row["price"])
    assert {_slot(row) for row in products.values()} == {
        "top",
        "bottom",
        "dress",
        "outerwear",
        "shoes",
        "bag",
    }


def test_item_ids_are_unique_and_look_like_mango_ids(
    library: Path, products: dict[str, dict[str, str]]
) -> None:
    ids = [row["cod_modelo_color"] for row in _read(library / "products.csv")]
    assert len(ids) == len(set(ids))
    for item_id, row in products.items():
        assert re.fullmatch(r"L\d{7}-[0-9A-Z]{2}", item_id)
        assert item_id.endswith("-" + row["cod_color_code"])


def test_every_outfit_is_a_complete_look(
    outfits: dict[str, list[str]], products: dict[str, dict[str, str]]
) -> None:
    assert len(outfits) == N_OUTFITS
    for outfit_id, item_ids in outfits.items():
        slots = Counter(_slot(products[i]) for i in item_ids)
        has_body = (slots["top"] == 1 and slots["bottom"] == 1 and slots["dress"] == 0) or (
            slots["dress"] == 1 and slots["top"] == 0 and slots["bottom"] == 0
        )
        assert has_body, (outfit_id, slots)
        assert slots["shoes"] == 1, (outfit_id, slots)
        assert slots["bag"] <= 1 and slots["outerwear"] <= 1, (outfit_id, slots)
        assert len(item_ids) == len(set(item_ids))


def test_outfits_follow_their_style(
    outfits: dict[str, list[str]], products: dict[str, dict[str, str]]
) -> None:
    for outfit_id, item_ids in outfits.items():
        styles = {products[i]["style"] for i in item_ids}
        assert len(styles) == 1, (outfit_id, styles)
        style = STYLES_BY_NAME[styles.pop()]
        for item_id in item_ids:
            row = products[item_id]
            rule = style.rule(_slot(row))
            assert rule is not None
            assert row["cod_color_code"] in {COLOURS[c].code for c in rule.colours}
            assert row["pattern"] in rule.patterns


def test_products_are_reused_across_outfits(
    outfits: dict[str, list[str]], products: dict[str, dict[str, str]]
) -> None:
    uses = Counter(i for item_ids in outfits.values() for i in item_ids)
    assert set(uses) == set(products)  # every product is in some look, as in a curated library
    assert sum(uses.values()) / len(uses) > 1.4
    assert max(uses.values()) >= 3


def test_refuses_to_overwrite_a_folder_it_did_not_write(tmp_path: Path) -> None:
    real = tmp_path / "mango"
    real.mkdir()
    (real / "products.csv").write_text("cod_modelo_color\nreal-1\n")
    with pytest.raises(NotADemoFolderError, match="refusing to overwrite"):
        write_demo_dataset(real, n_outfits=3)
    assert (real / "products.csv").read_text() == "cod_modelo_color\nreal-1\n"
    assert sorted(p.name for p in real.iterdir()) == ["products.csv"]


def test_refuses_a_path_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(NotADemoFolderError):
        write_demo_dataset(target, n_outfits=3)


def test_rewrites_its_own_folder_without_stale_images(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    write_demo_dataset(folder, n_outfits=30, seed=5)
    summary = write_demo_dataset(folder, n_outfits=6, seed=6)
    ids = {row["cod_modelo_color"] for row in _read(folder / "products.csv")}
    assert {p.stem for p in (folder / "images").iterdir()} == ids
    assert summary.n_products == len(ids)


def test_a_run_that_dies_leaves_no_complete_looking_products_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "demo"
    write_demo_dataset(folder, n_outfits=6, seed=1)
    calls = 0

    def dying_render(*args: object, **kwargs: object) -> Image.Image:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise RuntimeError("disk full")
        return Image.new("RGB", (240, 336))

    monkeypatch.setattr(demo_folders, "render_product", dying_render)
    with pytest.raises(RuntimeError):
        write_demo_dataset(folder, n_outfits=6, seed=2)
    assert not (folder / "products.csv").exists()
    assert not (folder / "outfits.csv").exists()
    assert json.loads((folder / MARKER_NAME).read_text())["complete"] is False

    monkeypatch.undo()  # the half-written folder is still ours: a rerun completes it
    write_demo_dataset(folder, n_outfits=6, seed=2)
    assert (folder / "products.csv").exists()


def test_library_and_catalog_photos_differ_in_background_only(tmp_path: Path) -> None:
    write_demo_dataset(tmp_path / "library", n_outfits=6, seed=1, background=CREAM, id_prefix="L")
    write_demo_dataset(tmp_path / "catalog", n_outfits=6, seed=2, background=GREY, id_prefix="C")
    for folder, background in ((tmp_path / "library", CREAM), (tmp_path / "catalog", GREY)):
        rows = _read(folder / "products.csv")
        assert {r["style"] for r in rows} == set(STYLES_BY_NAME)
        for row in rows[:10]:
            with Image.open(folder / row["des_filename"]) as image:
                corner = (
                    np.asarray(image.convert("RGB"), dtype=np.float32)[:12, :12].reshape(-1, 3).mean(axis=0)
                )
            assert np.abs(corner - np.array(background)).max() < 12, (row["cod_modelo_color"], corner)


@pytest.mark.parametrize(
    ("family", "type_"),
    [
        ("T-shirt", "T-Shirt"),
        ("T-shirts", "T-shirt"),
        ("Footwear", "Ankle Boots"),
        ("Footwear", "Sneakers"),
        ("Footwear", "Heels"),
        ("Bags", "Tote bag"),
        ("Bags", "Bag"),
        ("Jeans", "Jeans"),
        ("Dresses", "Dress"),
        ("Blazers", "Blazer"),
    ],
)
def test_render_garment_takes_mango_and_plain_names(family: str, type_: str) -> None:
    image = render_garment(
        family, type_, (30, 50, 120), "solid", background=CREAM, rng=np.random.default_rng(0)
    )
    assert image.size == (240, 336)
    assert image.mode == "RGB"


def test_render_garment_draws_the_garment_in_its_colour_on_the_background() -> None:
    colour = (180, 30, 40)
    image = render_garment(
        "Trousers", "Trousers", colour, "solid", background=GREY, rng=np.random.default_rng(4)
    )
    pixels = np.asarray(image, dtype=np.float32).reshape(-1, 3)
    assert np.abs(np.asarray(image, dtype=np.float32)[:10, :10].reshape(-1, 3).mean(axis=0) - GREY).max() < 10
    garment = pixels[np.abs(pixels - np.array(GREY)).max(axis=1) > 60]
    assert 0.1 < len(garment) / len(pixels) < 0.6  # one garment with a margin around it, like a product shot
    assert np.abs(np.median(garment, axis=0) - np.array(colour)).max() < 30


@pytest.mark.parametrize("size", [(224, 224), (60, 80), (400, 300)])
def test_render_garment_fits_any_photo_size(size: tuple[int, int]) -> None:
    image = render_garment("Dresses", "Dress", (30, 60, 160), "dots", size=size, rng=np.random.default_rng(0))
    assert image.size == size
    border = np.concatenate(
        [np.asarray(image)[0], np.asarray(image)[-1], np.asarray(image)[:, 0], np.asarray(image)[:, -1]]
    ).astype(np.float32)
    assert np.abs(border - np.array(CREAM)).max() < 25  # the garment stays inside the frame


def test_render_garment_patterns_change_the_picture() -> None:
    shots = {
        pattern: np.asarray(
            render_garment("Shirt", "Shirt", (32, 42, 76), pattern, rng=np.random.default_rng(1)),
            dtype=np.float32,
        )
        for pattern in demo_data.PATTERNS
    }
    for pattern in ("stripes", "checks", "dots", "denim"):
        assert np.abs(shots[pattern] - shots["solid"]).mean() > 1.0, pattern


def test_render_garment_is_deterministic_for_a_seed() -> None:
    def shot(seed: int) -> bytes:
        return render_garment(
            "Footwear", "Trainers", (240, 240, 240), "solid", rng=np.random.default_rng(seed)
        ).tobytes()

    assert shot(3) == shot(3)
    assert shot(3) != shot(4)


def test_render_garment_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="cannot draw"):
        render_garment("Gadgets", "Umbrella", (0, 0, 0), "solid")
    with pytest.raises(ValueError, match="unknown pattern"):
        render_garment("Shirt", "Shirt", (0, 0, 0), "paisley")
    with pytest.raises(ValueError, match="colour"):
        render_garment("Shirt", "Shirt", (0, 0, 300), "solid")


def test_parse_background() -> None:
    assert parse_background("cream") == CREAM
    assert parse_background(" Grey ") == GREY
    assert parse_background("10,20,30") == (10, 20, 30)
    for bad in ("blue", "1,2", "1,2,256", "a,b,c"):
        with pytest.raises(ValueError):
            parse_background(bad)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_outfits": 0},
        {"seed": -1},
        {"id_prefix": "l"},
        {"id_prefix": "LONG"},
        {"id_prefix": ""},
        {"background": (1, 2)},
    ],
)
def test_rejects_bad_arguments(tmp_path: Path, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        write_demo_dataset(tmp_path / "x", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "x").exists()
