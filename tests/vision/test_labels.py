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
    # An unknown Spanish name falls back to the colour group.
    assert labels.mango_title(row | {"des_color_specification_esp": "XYZ"}) == "white woven coat"


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
