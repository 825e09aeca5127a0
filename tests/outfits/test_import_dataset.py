from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from outfits.models import CatalogItem, LibraryItem, LibraryOutfit, LibraryOutfitItem
from tests.factories import garment_photo

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int]:
    return (
        CatalogItem.objects.count(),
        LibraryItem.objects.count(),
        LibraryOutfit.objects.count(),
        LibraryOutfitItem.objects.count(),
    )


def test_a_second_import_changes_nothing(
    shop_folders: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    library, catalog = shop_folders
    before = _counts()
    stamps = list(LibraryItem.objects.order_by("pk").values_list("updated_at", flat=True))
    call_command(
        "import_dataset",
        "mango",
        str(library),
        "--role",
        "library",
        "--source",
        "test-library",
        "--no-analyze",
        verbosity=0,
    )
    call_command(
        "import_dataset",
        "mango",
        str(catalog),
        "--role",
        "catalog",
        "--source",
        "test-catalog",
        "--no-analyze",
        verbosity=0,
    )
    assert _counts() == before
    assert list(LibraryItem.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps
    out = capsys.readouterr().out
    assert "0 created, 0 updated" in out and "outfits: 0 created, 0 updated" in out


def test_editors_review_survives_a_reimport(shop_folders: tuple[Path, Path]) -> None:
    outfit = LibraryOutfit.objects.first()
    assert outfit is not None
    LibraryOutfit.objects.filter(pk=outfit.pk).update(status=LibraryOutfit.Status.REJECTED)
    call_command(
        "import_dataset",
        "mango",
        str(shop_folders[0]),
        "--role",
        "library",
        "--source",
        "test-library",
        "--no-analyze",
        verbosity=0,
    )
    outfit.refresh_from_db()
    assert outfit.status == LibraryOutfit.Status.REJECTED


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "set"
    shutil.copytree(folder, target)
    return target


def test_a_missing_column_is_named(shop_folders: tuple[Path, Path], tmp_path: Path) -> None:
    folder = _copy(shop_folders[1], tmp_path)
    rows = list(csv.DictReader((folder / "products.csv").open()))
    with (folder / "products.csv").open("w", newline="") as handle:
        fields = [f for f in rows[0] if f != "des_fabric"]
        writer = csv.DictWriter(handle, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(CommandError, match=r"missing column.*des_fabric"):
        call_command("import_dataset", "mango", str(folder), "--role", "catalog", verbosity=0)


def test_an_unreadable_image_names_its_row_and_the_rest_is_kept(
    shop_folders: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy(shop_folders[1], tmp_path)
    rows = list(csv.DictReader((folder / "products.csv").open()))
    broken = rows[2]
    (folder / broken["des_filename"]).write_bytes(garment_photo()[:900])  # truncated JPEG
    (folder / rows[3]["des_filename"]).unlink()
    before = CatalogItem.objects.count()
    with pytest.raises(CommandError, match="2 rows were not imported"):
        call_command(
            "import_dataset",
            "mango",
            str(folder),
            "--role",
            "catalog",
            "--source",
            "other-shop",
            "--no-analyze",
            verbosity=0,
        )
    err = capsys.readouterr().err
    assert f"products.csv line 4 ({broken['cod_modelo_color']})" in err and "truncated" in err
    assert f"line 5 ({rows[3]['cod_modelo_color']})" in err and "cannot read image" in err
    # Ids already in the catalog were unchanged rows of the same data; nothing was lost or doubled.
    assert CatalogItem.objects.count() == before
    assert CatalogItem.objects.filter(external_id=broken["cod_modelo_color"]).exists()


def test_a_myntra_catalog_imports_with_slots(tmp_path: Path) -> None:
    folder = tmp_path / "myntra"
    (folder / "images").mkdir(parents=True)
    rows = [
        ("101", "Men", "Apparel", "Topwear", "Tshirts", "Navy Blue", "Navy tee", "T-shirts", "T-shirt"),
        ("102", "Men", "Apparel", "Bottomwear", "Jeans", "Blue", "Blue jeans", "Jeans", "Jeans"),
        ("103", "Women", "Footwear", "Shoes", "Casual Shoes", "White", "White shoes", "Footwear", "Sneakers"),
        (
            "104",
            "Men",
            "Apparel",
            "Topwear",
            "Blazers",
            "Black",
            "Black blazer",
            "Jackets and Blazers",
            "Blazers",
        ),
        ("105", "Unisex", "Personal Care", "Fragrance", "Perfume", "Black", "Perfume", "T-shirts", "T-shirt"),
    ]
    with (folder / "styles.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "id",
                "gender",
                "masterCategory",
                "subCategory",
                "articleType",
                "baseColour",
                "season",
                "year",
                "usage",
                "productDisplayName",
                "image",
            ]
        )
        for row_id, gender, master, sub, article, colour, title, family, type_ in rows:
            (folder / "images" / f"{row_id}.jpg").write_bytes(garment_photo(family, type_))
            writer.writerow(
                [
                    row_id,
                    gender,
                    master,
                    sub,
                    article,
                    colour,
                    "Fall",
                    "2012",
                    "Casual",
                    title,
                    f"images/{row_id}.jpg",
                ]
            )
    with pytest.raises(CommandError, match="1 rows were not imported"):
        call_command(
            "import_dataset", "myntra", str(folder), "--role", "catalog", "--no-analyze", verbosity=0
        )
    slots = dict(CatalogItem.objects.filter(source="myntra").values_list("external_id", "category__slot"))
    assert slots == {"101": "top", "102": "bottom", "103": "shoes", "104": "outerwear"}


def test_bad_arguments_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("import_dataset", "mango", str(tmp_path / "nope"), "--role", "library", verbosity=0)
    with pytest.raises(CommandError, match=r"products\.csv not found"):
        call_command("import_dataset", "mango", str(tmp_path), "--role", "library", verbosity=0)
    with pytest.raises(CommandError, match="no outfits"):
        call_command("import_dataset", "myntra", str(tmp_path), "--role", "library", verbosity=0)


def test_mango_catalog_titles_name_the_colour_not_its_group(tmp_path: Path) -> None:
    """MANGO files camel under WHITE and black under GREY: a title is made of the colour's own name."""
    folder = tmp_path / "mango"
    (folder / "images").mkdir(parents=True)
    rows = [  # real mango-old rows, their images generated
        ("53015744-09", "09", "CAMEL", "WHITE", "T-TRICOT", "Tops", "Sweaters and cardigans", "Sweater"),
        ("53073709-99", "99", "NEGRO", "GREY", "P-PLANA", "Outerwear", "Jackets", "Blazer"),
        ("53023045-90", "90", "PERLA", "GREY", "P-PLANA", "Tops", "Shirts", "Blouse"),
        ("53083714-31", "31", "TABACO", "BROWN", "P-PLANA", "Tops", "Tops", "Top"),
    ]
    with (folder / "products.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "cod_modelo_color",
                "cod_color_code",
                "des_color_specification_esp",
                "des_agrup_color_eng",
                "des_fabric",
                "des_product_category",
                "des_product_family",
                "des_product_type",
                "des_filename",
            ]
        )
        for item_id, code, spec, group, fabric, category, family, type_ in rows:
            (folder / "images" / f"{item_id}.jpg").write_bytes(garment_photo(family, type_))
            writer.writerow(
                [item_id, code, spec, group, fabric, category, family, type_, f"images/{item_id}.jpg"]
            )
    call_command(
        "import_dataset",
        "mango",
        str(folder),
        "--role",
        "catalog",
        "--source",
        "titles",
        "--no-analyze",
        verbosity=0,
    )
    titles = dict(CatalogItem.objects.filter(source="titles").values_list("external_id", "title"))
    assert titles == {
        "53015744-09": "Camel knit sweater",
        "53073709-99": "Black woven blazer",
        "53023045-90": "Pearl grey woven blouse",
        "53083714-31": "Tobacco woven top",
    }
