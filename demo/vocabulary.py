"""The demo's vocabulary: MANGO's columns and categories, the shop colours and the garment kinds
(each with the silhouette it is drawn as). Plain data; no Django."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RGB = tuple[int, int, int]
FloatArray = npt.NDArray[np.float32]
Point = tuple[float, float]


IMAGE_SIZE = (240, 336)
CREAM: RGB = (242, 238, 228)
GREY: RGB = (214, 216, 219)
BACKGROUNDS: dict[str, RGB] = {"cream": CREAM, "grey": GREY}

PATTERNS = ("solid", "stripes", "checks", "dots", "denim")
SLOTS = ("top", "bottom", "dress", "outerwear", "shoes", "bag")

# MANGO's own category vocabulary (including its spelling of "Accesories").
CATEGORY_TOPS = "Tops"
CATEGORY_BOTTOMS = "Bottoms"
CATEGORY_DRESSES = "Dresses, jumpsuits and Complete set"
CATEGORY_OUTERWEAR = "Outerwear"
CATEGORY_ACCESSORIES = "Accesories, Swim and Intimate"
CATEGORIES = (CATEGORY_TOPS, CATEGORY_BOTTOMS, CATEGORY_DRESSES, CATEGORY_OUTERWEAR, CATEGORY_ACCESSORIES)

PRODUCT_COLUMNS = (
    "cod_modelo_color",
    "cod_color_code",
    "des_color_specification_esp",
    "des_agrup_color_eng",
    "des_sex",
    "des_fabric",
    "des_product_category",
    "des_product_aggregated_family",
    "des_product_family",
    "des_product_type",
    "des_filename",
    "pattern",
    "style",
    "title",
    "price",
    "brand",
)
OUTFIT_COLUMNS = ("cod_outfit", "cod_modelo_color")
BRAND = "Demo Atelier"


# --------------------------------------------------------------------------------------------------
# Vocabulary: colours and garment kinds
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Colour:
    """A shop colour: MANGO colour code, Spanish specification, colour group, and its sRGB value."""

    key: str
    code: str
    spec: str
    group: str
    rgb: RGB


_COLOUR_LIST = (
    Colour("white", "01", "BLANCO", "WHITE", (244, 244, 240)),
    Colour("offwhite", "02", "OFFWHITE", "WHITE", (236, 230, 216)),
    Colour("ecru", "05", "CRUDO", "WHITE", (226, 215, 190)),
    Colour("sand", "07", "ARENA", "WHITE", (203, 184, 150)),
    Colour("beige", "08", "BEIGE", "WHITE", (214, 194, 162)),
    Colour("camel", "09", "CAMEL", "WHITE", (186, 138, 88)),
    Colour("black", "99", "NEGRO", "GREY", (30, 30, 33)),
    Colour("anthracite", "95", "ANTRACITA", "GREY", (66, 68, 73)),
    Colour("grey", "92", "GRIS", "GREY", (132, 133, 136)),
    Colour("lightgrey", "91", "GRIS CLARO VIGORE", "GREY", (196, 196, 194)),
    Colour("navy", "56", "NAVY", "BLUE", (32, 42, 76)),
    Colour("cobalt", "52", "AZUL", "BLUE", (30, 74, 184)),
    Colour("skyblue", "50", "CELESTE", "BLUE", (170, 198, 226)),
    Colour("denim_light", "TC", "TEJANO CLARO", "BLUE", (128, 156, 192)),
    Colour("denim_mid", "TM", "TEJANO MEDIO", "BLUE", (72, 102, 148)),
    Colour("denim_dark", "TO", "TEJANO OSCURO", "BLUE", (40, 54, 88)),
    Colour("khaki", "37", "KHAKI", "BROWN", (110, 108, 64)),
    Colour("brown", "30", "MARRON", "BROWN", (118, 78, 48)),
    Colour("chocolate", "32", "CHOCOLATE", "BROWN", (76, 50, 34)),
    Colour("cognac", "CG", "COGNAC", "BROWN", (150, 82, 40)),
    Colour("terracotta", "28", "TERRACOTA", "ORANGE", (178, 90, 62)),
    Colour("red", "70", "ROJO", "RED", (196, 32, 44)),
    Colour("mustard", "15", "MOSTAZA", "YELLOW", (212, 162, 36)),
    Colour("yellow", "12", "AMARILLO", "YELLOW", (242, 204, 50)),
    Colour("pink", "85", "ROSA", "PINK", (224, 112, 146)),
    Colour("pastelpink", "81", "ROSA PASTEL", "PINK", (240, 196, 204)),
    Colour("lilac", "61", "LILA", "PURPLE", (186, 166, 214)),
    Colour("green", "43", "VERDE", "GREEN", (34, 126, 78)),
)
COLOURS: dict[str, Colour] = {c.key: c for c in _COLOUR_LIST}


@dataclass(frozen=True)
class GarmentKind:
    """One drawable silhouette and the MANGO labels its products carry."""

    key: str
    slot: str
    category: str
    aggregated_family: str
    family: str
    type_: str
    fabric: str
    noun: str
    price_range: tuple[int, int]


_KIND_LIST = (
    GarmentKind(
        "tshirt", "top", CATEGORY_TOPS, "T-shirts", "T-shirt", "T-Shirt", "K-CIRCULAR", "T-shirt", (12, 19)
    ),
    GarmentKind("top", "top", CATEGORY_TOPS, "Tops", "Tops", "Top", "K-CIRCULAR", "strappy top", (15, 25)),
    GarmentKind("shirt", "top", CATEGORY_TOPS, "Shirts", "Shirt", "Shirt", "P-PLANA", "shirt", (29, 39)),
    GarmentKind("blouse", "top", CATEGORY_TOPS, "Shirts", "Shirt", "Blouse", "P-PLANA", "blouse", (25, 35)),
    GarmentKind(
        "sweater",
        "top",
        CATEGORY_TOPS,
        "Sweaters and Cardigans",
        "Sweater",
        "Sweater",
        "T-TRICOT",
        "sweater",
        (29, 49),
    ),
    GarmentKind(
        "sweatshirt",
        "top",
        CATEGORY_TOPS,
        "Sweaters and Cardigans",
        "Sweatshirts",
        "Sweatshirt",
        "K-CIRCULAR",
        "sweatshirt",
        (22, 29),
    ),
    GarmentKind(
        "trousers",
        "bottom",
        CATEGORY_BOTTOMS,
        "Trousers & leggings",
        "Trousers",
        "Trousers",
        "P-PLANA",
        "trousers",
        (29, 49),
    ),
    GarmentKind("jeans", "bottom", CATEGORY_BOTTOMS, "Jeans", "Jeans", "Jeans", "J-JEANS", "jeans", (29, 39)),
    GarmentKind(
        "skirt",
        "bottom",
        CATEGORY_BOTTOMS,
        "Skirts and shorts",
        "Skirts",
        "Skirt",
        "P-PLANA",
        "midi skirt",
        (25, 39),
    ),
    GarmentKind(
        "shorts",
        "bottom",
        CATEGORY_BOTTOMS,
        "Skirts and shorts",
        "Shorts",
        "Shorts",
        "P-PLANA",
        "shorts",
        (19, 29),
    ),
    GarmentKind(
        "dress",
        "dress",
        CATEGORY_DRESSES,
        "Dresses and jumpsuits",
        "Dresses",
        "Dress",
        "P-PLANA",
        "dress",
        (35, 69),
    ),
    GarmentKind(
        "coat",
        "outerwear",
        CATEGORY_OUTERWEAR,
        "Coats and Parkas",
        "Coats",
        "Coat",
        "P-PLANA",
        "wool-blend coat",
        (99, 149),
    ),
    GarmentKind(
        "trench",
        "outerwear",
        CATEGORY_OUTERWEAR,
        "Coats and Parkas",
        "Trenchcoats",
        "Trenchcoat",
        "P-PLANA",
        "trench coat",
        (89, 119),
    ),
    GarmentKind(
        "blazer",
        "outerwear",
        CATEGORY_OUTERWEAR,
        "Jackets and Blazers",
        "Blazers",
        "Blazer",
        "P-PLANA",
        "blazer",
        (59, 89),
    ),
    GarmentKind(
        "jacket",
        "outerwear",
        CATEGORY_OUTERWEAR,
        "Jackets and Blazers",
        "Jackets",
        "Jacket",
        "P-PLANA",
        "jacket",
        (39, 59),
    ),
    GarmentKind(
        "trainers",
        "shoes",
        CATEGORY_ACCESSORIES,
        "Accessories",
        "Footwear",
        "Trainers",
        "C-COMPLEMENTOS",
        "trainers",
        (35, 59),
    ),
    GarmentKind(
        "ankle_boots",
        "shoes",
        CATEGORY_ACCESSORIES,
        "Accessories",
        "Footwear",
        "Ankle Boots",
        "C-COMPLEMENTOS",
        "ankle boots",
        (49, 79),
    ),
    GarmentKind(
        "boots",
        "shoes",
        CATEGORY_ACCESSORIES,
        "Accessories",
        "Footwear",
        "Boots",
        "C-COMPLEMENTOS",
        "knee-high boots",
        (79, 119),
    ),
    GarmentKind(
        "heels",
        "shoes",
        CATEGORY_ACCESSORIES,
        "Accessories",
        "Footwear",
        "Shoes",
        "C-COMPLEMENTOS",
        "heeled shoes",
        (39, 59),
    ),
    GarmentKind(
        "sandals",
        "shoes",
        CATEGORY_ACCESSORIES,
        "Accessories",
        "Footwear",
        "Sandals",
        "C-COMPLEMENTOS",
        "strappy sandals",
        (29, 49),
    ),
    GarmentKind(
        "handbag",
        "bag",
        CATEGORY_ACCESSORIES,
        "Accessories",
        "Bags",
        "Handbag",
        "C-COMPLEMENTOS",
        "handbag",
        (29, 49),
    ),
    GarmentKind(
        "tote",
        "bag",
        CATEGORY_ACCESSORIES,
        "Accessories",
        "Bags",
        "Handbag",
        "C-COMPLEMENTOS",
        "shopper bag",
        (25, 39),
    ),
    GarmentKind(
        "backpack",
        "bag",
        CATEGORY_ACCESSORIES,
        "Accessories",
        "Bags",
        "Backpack",
        "C-COMPLEMENTOS",
        "backpack",
        (29, 45),
    ),
)
GARMENT_KINDS: dict[str, GarmentKind] = {k.key: k for k in _KIND_LIST}

# Names callers may use for a kind in render_garment, besides the MANGO family and type above.
_KIND_ALIASES = {
    "t-shirts": "tshirt",
    "tee": "tshirt",
    "tops": "top",
    "camisole": "top",
    "shirts": "shirt",
    "sweaters": "sweater",
    "jumper": "sweater",
    "knit": "sweater",
    "sweatshirts": "sweatshirt",
    "trouser": "trousers",
    "pants": "trousers",
    "skirts": "skirt",
    "bermudas": "shorts",
    "dresses": "dress",
    "coats": "coat",
    "trenchcoats": "trench",
    "trenchcoat": "trench",
    "trench coat": "trench",
    "blazers": "blazer",
    "jackets": "jacket",
    "sneakers": "trainers",
    "trainer": "trainers",
    "ankle boots": "ankle_boots",
    "ankle_boots": "ankle_boots",
    "heels": "heels",
    "pumps": "heels",
    "shoes": "heels",
    "sandal": "sandals",
    "bags": "handbag",
    "bag": "handbag",
    "handbag": "handbag",
    "shoulder bag": "handbag",
    "tote bag": "tote",
    "tote": "tote",
    "shopper": "tote",
    "backpack": "backpack",
    "footwear": "trainers",
}


def kind_for(family: str, type_: str) -> GarmentKind:
    """The kind drawn for a MANGO (family, type) pair; the type wins, the family is the fallback."""
    names: dict[str, str] = {}
    for kind in _KIND_LIST:
        names.setdefault(kind.key.lower(), kind.key)
        names.setdefault(kind.type_.lower(), kind.key)
    names.update(_KIND_ALIASES)
    family_names = {kind.family.lower(): kind.key for kind in reversed(_KIND_LIST)}
    for name in (type_.strip().lower(), family.strip().lower()):
        if name in names:
            return GARMENT_KINDS[names[name]]
    if family.strip().lower() in family_names:
        return GARMENT_KINDS[family_names[family.strip().lower()]]
    known = sorted({k.type_ for k in _KIND_LIST} | set(_KIND_ALIASES))
    raise ValueError(f"cannot draw family={family!r} type={type_!r}; known types: {', '.join(known)}")


def luminance(rgb: RGB) -> float:
    r, g, b = rgb
    return 0.299 * r + 0.587 * g + 0.114 * b
