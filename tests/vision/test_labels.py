"""Data set labels → our slots, categories, attributes and texts (vision.labels)."""

from __future__ import annotations

import pytest

from vision import labels


def test_mango_accessories_are_split_by_family() -> None:
    assert labels.mango_slot("Accesories, Swim and Intimate", "Footwear") == "shoes"
    assert labels.mango_slot("Accesories, Swim and Intimate", "Bags") == "bag"
    assert labels.mango_slot("Accesories, Swim and Intimate", "Jewellery") == "accessory"
    assert labels.mango_slot("Dresses, jumpsuits and Complete set", "Dresses") == "dress"


def test_myntra_jackets_are_outerwear_and_innerwear_is_refused() -> None:
    assert labels.myntra_slot("Apparel", "Topwear", "Jackets") == "outerwear"
    assert labels.myntra_slot("Footwear", "Flip Flops", "Flip Flops") == "shoes"
    with pytest.raises(labels.UnmappedCategory):
        labels.myntra_slot("Apparel", "Innerwear", "Briefs")


def test_category_path_fills_missing_family_and_type() -> None:
    assert labels.category_path("top", "", "") == ("top", "Other", "Other")
    assert labels.category_path("top", "Shirt", " ") == ("top", "Shirt", "Shirt")


def test_myntra_colour_lands_in_the_house_colour_group() -> None:
    found = labels.myntra_attributes(
        {"baseColour": "Navy Blue", "gender": "Boys", "season": "Fall", "usage": "NA"}
    )
    assert found == {
        "colour": "navy blue",
        "colour_group": "BLUE",
        "gender": "boys",
        "age_group": "kids",
        "season": "fall",
    }


def test_mango_attributes_keep_only_what_the_row_carries() -> None:
    found = labels.mango_attributes({"des_agrup_color_eng": "GREY", "des_fabric": "", "des_sex": "Female"})
    assert found == {"colour_group": "GREY", "gender": "women"}


def test_mango_title_uses_the_most_specific_colour() -> None:
    row = {
        "des_color_specification_esp": "CAMEL",
        "des_agrup_color_eng": "WHITE",
        "des_fabric": "P-PLANA",
        "des_product_type": "Coat",
    }
    assert labels.mango_title(row) == "camel woven coat"
    # A name we have no English for is still the colour: the group (camel is WHITE) would be wrong.
    assert labels.mango_title(row | {"des_color_specification_esp": "VERDE AGUA"}) == "verde agua woven coat"
    # Only a row without a colour name falls back to its group.
    assert labels.mango_title(row | {"des_color_specification_esp": ""}) == "white woven coat"


# Real mango-old rows (id, colour name, colour group, fabric, type) whose titles named the group.
_MANGO_ROWS = [
    ("53015744-09", "CAMEL", "WHITE", "T-TRICOT", "Sweater", "camel knit sweater"),
    ("53073709-99", "NEGRO", "GREY", "P-PLANA", "Blazer", "black woven blazer"),
    ("53023045-90", "PERLA", "GREY", "P-PLANA", "Blouse", "pearl grey woven blouse"),
    ("53083714-31", "TABACO", "BROWN", "P-PLANA", "Top", "tobacco woven top"),
    ("51030638-45", "AGUA", "GREEN", "K-CIRCULAR", "T-shirt", "aqua jersey t-shirt"),
    ("53090718-57", "AZUL NOCHE", "BLUE", "C-COMPLEMENTOS", "Kerchief", "midnight blue kerchief"),
    ("53033709-03", "HIELO", "WHITE", "P-PLANA", "Puffer coat", "ice white woven puffer coat"),
    ("57047688-BB", "BLUEBLACK", "BLUE", "J-JEANS", "Jeans", "blue-black denim jeans"),
    ("53000586-TO", "TEJANO OSCURO", "BLUE", "J-JEANS", "Jeans", "dark denim jeans"),
]


@pytest.mark.parametrize(("spec", "group", "fabric", "type_", "title"), [row[1:] for row in _MANGO_ROWS])
def test_mango_titles_name_the_colour_not_its_group(
    spec: str, group: str, fabric: str, type_: str, title: str
) -> None:
    row = {
        "des_color_specification_esp": spec,
        "des_agrup_color_eng": group,
        "des_fabric": fabric,
        "des_product_type": type_,
    }
    assert labels.mango_title(row) == title
    assert labels.catalogued_attributes({"colour": group, "des_color_specification_esp": spec})[
        "colour"
    ] == labels.mango_colour(row)


def test_catalogued_attributes_read_each_layout_as_the_importers_store_it() -> None:
    from vision.labels import catalogued_attributes

    mango = {
        "colour": "BLUE",
        "fabric": "J-JEANS",
        "des_sex": "Female",
        "des_age": "Adult",
        "des_line": "SHE",
        "des_color_specification_esp": "TEJANO OSCURO",
    }
    assert catalogued_attributes(mango) == {
        "colour_group": "BLUE",
        "fabric": "J-JEANS",
        "gender": "women",
        "age_group": "adult",
        "line": "SHE",
        "colour": "dark denim",
    }
    # a catalog item keeps MANGO's des_sex in its own gender field
    assert catalogued_attributes({**mango, "des_sex": ""}, gender="Female")["gender"] == "women"
    myntra = {"colour": "Navy Blue", "season": "Summer", "usage": "Casual", "master_category": "Apparel"}
    assert catalogued_attributes(myntra, gender="Men") == {
        "colour": "navy blue",
        "colour_group": "BLUE",
        "gender": "men",
        "age_group": "adult",
        "season": "summer",
        "usage": "casual",
    }
    assert catalogued_attributes({"anything": "x"}, gender="unisex") == {"gender": "unisex"}
    assert catalogued_attributes({}) == {}
