"""Demo outfit data set: a synthetic catalog and stylist library in the MANGO layout.

On a fresh machine the service starts with demo data instead of nothing. This module writes a data
set folder in exactly the layout of a real MANGO export (``products.csv``, ``outfits.csv``,
``images/<id>.jpg``, see ``FORMATS.md``), so the very same importer loads demo and real data.

The data are not random noise: every outfit is built by one of a handful of named style rules
(palette, allowed patterns, allowed garment families per slot, plus a few stylist habits such as
"at most one patterned piece" and "bag matches the shoes"), and products are reused across several
outfits, so a recommender that learns from the library has something real to find. Images are flat
product shots drawn with PIL and numpy: a recognisable silhouette per family, filled with the
product's colour and pattern, softly shaded and photographed on a plain background whose tint is a
parameter (the shop's photo style drifts between seasons).

Plain library: no Django import; PIL, numpy and csv only.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter

RGB = tuple[int, int, int]
FloatArray = npt.NDArray[np.float32]
Point = tuple[float, float]

# Written first and last: a folder holding it was made by this module and may be overwritten.
MARKER_NAME = "demo_dataset.json"
GENERATOR = "outfits.demo_data"
FORMAT_VERSION = 1

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

_PREFIX_RE = re.compile(r"[A-Z]{1,3}")


class NotADemoFolderError(FileExistsError):
    """The target folder holds files that this module did not write; it is never overwritten."""


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


def _kind_for(family: str, type_: str) -> GarmentKind:
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


# --------------------------------------------------------------------------------------------------
# Styles: the rules outfits are built by
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotRule:
    """What a style allows in one slot. Repeating an entry weights it."""

    kinds: tuple[str, ...]
    colours: tuple[str, ...]
    patterns: tuple[str, ...] = ("solid",)


@dataclass(frozen=True)
class Style:
    """A stylist's look: per-slot rules plus how often a look has a dress, outerwear or a bag."""

    name: str
    top: SlotRule
    bottom: SlotRule
    dress: SlotRule | None
    outerwear: SlotRule
    shoes: SlotRule
    bag: SlotRule
    p_dress: float
    p_outerwear: float
    p_bag: float
    # Stylist habit: the bag picks up the shoes' colour when the pool allows it.
    bag_matches_shoes: bool

    def rule(self, slot: str) -> SlotRule | None:
        rules: dict[str, SlotRule | None] = {
            "top": self.top,
            "bottom": self.bottom,
            "dress": self.dress,
            "outerwear": self.outerwear,
            "shoes": self.shoes,
            "bag": self.bag,
        }
        return rules[slot]


STYLES: tuple[Style, ...] = (
    Style(
        name="classic",
        top=SlotRule(
            ("shirt", "shirt", "tshirt", "sweater"),
            ("navy", "white", "offwhite", "camel"),
            ("solid", "solid", "stripes"),
        ),
        bottom=SlotRule(
            ("trousers", "trousers", "skirt"),
            ("navy", "camel", "beige", "offwhite"),
            ("solid", "solid", "stripes"),
        ),
        dress=SlotRule(("dress",), ("navy", "offwhite"), ("solid", "stripes")),
        outerwear=SlotRule(("trench", "blazer", "coat"), ("camel", "beige", "navy")),
        shoes=SlotRule(("heels", "ankle_boots"), ("cognac", "navy", "camel")),
        bag=SlotRule(("handbag", "handbag", "tote"), ("cognac", "camel", "navy")),
        p_dress=0.15,
        p_outerwear=0.45,
        p_bag=0.8,
        bag_matches_shoes=True,
    ),
    Style(
        name="monochrome",
        top=SlotRule(
            ("tshirt", "top", "sweater", "shirt"),
            ("black", "white", "grey", "lightgrey"),
            ("solid", "solid", "solid", "stripes"),
        ),
        bottom=SlotRule(
            ("trousers", "trousers", "skirt"),
            ("black", "anthracite", "grey", "white"),
            ("solid", "solid", "checks"),
        ),
        dress=SlotRule(("dress",), ("black", "anthracite"), ("solid",)),
        outerwear=SlotRule(("coat", "blazer"), ("black", "anthracite", "grey")),
        shoes=SlotRule(("ankle_boots", "boots", "heels"), ("black", "black", "anthracite")),
        bag=SlotRule(("handbag", "backpack"), ("black", "anthracite", "grey")),
        p_dress=0.2,
        p_outerwear=0.4,
        p_bag=0.75,
        bag_matches_shoes=True,
    ),
    Style(
        name="earthy",
        top=SlotRule(
            ("sweater", "sweater", "shirt"),
            ("khaki", "ecru", "sand", "terracotta", "brown"),
            ("solid", "checks"),
        ),
        bottom=SlotRule(("trousers", "skirt"), ("brown", "khaki", "chocolate", "sand"), ("solid", "checks")),
        dress=SlotRule(("dress",), ("khaki", "terracotta"), ("solid", "checks")),
        outerwear=SlotRule(("coat", "jacket"), ("khaki", "brown", "camel"), ("solid", "checks")),
        shoes=SlotRule(("ankle_boots", "boots"), ("chocolate", "brown", "cognac")),
        bag=SlotRule(("tote", "handbag"), ("chocolate", "brown", "cognac")),
        p_dress=0.15,
        p_outerwear=0.5,
        p_bag=0.7,
        bag_matches_shoes=True,
    ),
    Style(
        name="bold",
        top=SlotRule(
            ("top", "tshirt", "blouse"),
            ("red", "yellow", "cobalt", "pink", "green"),
            ("solid", "solid", "dots"),
        ),
        bottom=SlotRule(
            ("skirt", "trousers", "shorts"), ("cobalt", "red", "yellow", "green"), ("solid", "solid", "dots")
        ),
        dress=SlotRule(("dress",), ("red", "cobalt", "yellow", "green"), ("solid", "dots")),
        outerwear=SlotRule(("blazer",), ("cobalt", "red", "pink")),
        shoes=SlotRule(("heels", "sandals"), ("red", "cobalt", "yellow", "pink")),
        bag=SlotRule(("handbag",), ("red", "cobalt", "yellow", "green")),
        p_dress=0.35,
        p_outerwear=0.2,
        p_bag=0.7,
        bag_matches_shoes=False,
    ),
    Style(
        name="denim casual",
        top=SlotRule(
            ("tshirt", "tshirt", "sweatshirt", "shirt"),
            ("white", "lightgrey", "skyblue", "navy"),
            ("solid", "solid", "stripes"),
        ),
        bottom=SlotRule(("jeans", "jeans", "shorts"), ("denim_light", "denim_mid", "denim_dark"), ("denim",)),
        dress=None,
        outerwear=SlotRule(("jacket",), ("denim_mid", "denim_light", "denim_dark"), ("denim",)),
        shoes=SlotRule(("trainers",), ("white", "white", "navy", "lightgrey")),
        bag=SlotRule(("backpack", "tote"), ("navy", "lightgrey", "sand")),
        p_dress=0.0,
        p_outerwear=0.35,
        p_bag=0.6,
        bag_matches_shoes=False,
    ),
    Style(
        name="romantic",
        top=SlotRule(
            ("blouse", "top"), ("pastelpink", "lilac", "skyblue", "white"), ("solid", "dots", "checks")
        ),
        bottom=SlotRule(("skirt",), ("pastelpink", "skyblue", "ecru", "lilac"), ("solid", "dots")),
        dress=SlotRule(("dress",), ("pastelpink", "lilac", "skyblue"), ("solid", "dots", "checks")),
        outerwear=SlotRule(("blazer",), ("ecru", "pastelpink")),
        shoes=SlotRule(("sandals", "heels"), ("ecru", "pastelpink", "beige")),
        bag=SlotRule(("handbag",), ("ecru", "pastelpink", "lilac", "beige")),
        p_dress=0.5,
        p_outerwear=0.15,
        p_bag=0.75,
        bag_matches_shoes=True,
    ),
)
STYLES_BY_NAME: dict[str, Style] = {s.name: s for s in STYLES}

# Each product should appear in about this many outfits of the library.
_MEAN_REUSE = 2.3


# --------------------------------------------------------------------------------------------------
# The data set in memory
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoProduct:
    """One product of a demo data set; ``row()`` is its line in ``products.csv``."""

    item_id: str
    kind: str
    style: str
    colour: str
    accent: str
    pattern: str
    fabric: str
    title: str
    price: str
    render_seed: int

    @property
    def garment_kind(self) -> GarmentKind:
        return GARMENT_KINDS[self.kind]

    @property
    def filename(self) -> str:
        return f"images/{self.item_id}.jpg"

    def row(self) -> dict[str, str]:
        kind = self.garment_kind
        colour = COLOURS[self.colour]
        return {
            "cod_modelo_color": self.item_id,
            "cod_color_code": colour.code,
            "des_color_specification_esp": colour.spec,
            "des_agrup_color_eng": colour.group,
            "des_sex": "Female",
            "des_fabric": self.fabric,
            "des_product_category": kind.category,
            "des_product_aggregated_family": kind.aggregated_family,
            "des_product_family": kind.family,
            "des_product_type": kind.type_,
            "des_filename": self.filename,
            "pattern": self.pattern,
            "style": self.style,
            "title": self.title,
            "price": self.price,
            "brand": BRAND,
        }


@dataclass(frozen=True)
class DemoOutfit:
    """One stylist look: products of one style, filling top + bottom (or dress), shoes and more."""

    outfit_id: str
    style: str
    item_ids: tuple[str, ...]


@dataclass(frozen=True)
class DemoSummary:
    """What ``write_demo_dataset`` wrote, and where."""

    n_products: int
    n_outfits: int
    path: Path


def _luminance(rgb: RGB) -> float:
    r, g, b = rgb
    return 0.299 * r + 0.587 * g + 0.114 * b


def _accent_for(colour: str, palette: Sequence[str], rng: np.random.Generator) -> str:
    """A second colour for stripes, checks and dots: from the style, clearly lighter or darker."""
    base = _luminance(COLOURS[colour].rgb)
    contrasting = [c for c in dict.fromkeys(palette) if abs(_luminance(COLOURS[c].rgb) - base) > 55]
    if contrasting:
        return str(contrasting[int(rng.integers(len(contrasting)))])
    return "white" if base < 140 else "navy"


def _title(kind: GarmentKind, pattern: str, fabric: str, rng: np.random.Generator) -> str:
    adjective = {"stripes": "Striped", "checks": "Check", "dots": "Polka-dot"}.get(pattern, "")
    noun = kind.noun
    if pattern == "denim" and kind.key != "jeans":
        noun = f"denim {noun}"
    elif kind.key == "jeans":
        noun = ("straight-fit jeans", "slim-fit jeans", "mom-fit jeans")[int(rng.integers(3))]
    elif kind.slot in ("shoes", "bag") and fabric == "L-PIEL":
        noun = f"leather {noun}"
    elif kind.key in ("tshirt", "shirt"):
        noun = f"cotton {noun}"
    words = f"{adjective} {noun}".strip()
    return words[0].upper() + words[1:]


def _price(kind: GarmentKind, rng: np.random.Generator) -> str:
    low, high = kind.price_range
    return f"{int(rng.integers(low, high + 1)) + 0.99:.2f}"


class _ModelNumbers:
    """MANGO-like model numbers: the prefix plus seven digits, drawn at random and never repeated, so
    that an id says nothing about the product's style."""

    def __init__(self, prefix: str, rng: np.random.Generator) -> None:
        self._prefix = prefix
        self._rng = rng
        self._used: set[int] = set()

    def take(self) -> int:
        if len(self._used) > 4_000_000:
            raise ValueError("too many demo products for seven-digit model numbers")
        while True:
            number = int(self._rng.integers(1_000_000, 10_000_000))
            if number not in self._used:
                self._used.add(number)
                return number

    def item_id(self, number: int, colour: str) -> str:
        return f"{self._prefix}{number:07d}-{COLOURS[colour].code}"


def _make_pool(
    style: Style,
    slot: str,
    size: int,
    numbers: _ModelNumbers,
    rng: np.random.Generator,
    seed: int,
) -> list[DemoProduct]:
    """Products of one style for one slot. About a quarter are colour variants of an earlier model,
    as in a real collection where one T-shirt comes in three colours."""
    rule = style.rule(slot)
    if rule is None or size <= 0:
        return []
    palette = rule.colours
    all_colours = tuple(dict.fromkeys(style.top.colours + style.bottom.colours + palette))
    pool: list[DemoProduct] = []
    models: list[tuple[int, DemoProduct]] = []
    taken: set[str] = set()
    attempts = 0
    while len(pool) < size and attempts < size * 20:
        attempts += 1
        colour = palette[int(rng.integers(len(palette)))]
        if models and rng.random() < 0.25:
            number, base = models[int(rng.integers(len(models)))]
            kind, pattern, fabric, title, price, render_seed = (
                GARMENT_KINDS[base.kind],
                base.pattern,
                base.fabric,
                base.title,
                base.price,
                base.render_seed,
            )
        else:
            number = numbers.take()
            kind = GARMENT_KINDS[rule.kinds[int(rng.integers(len(rule.kinds)))]]
            pattern = rule.patterns[int(rng.integers(len(rule.patterns)))]
            fabric = kind.fabric
            if pattern == "denim":
                fabric = "J-JEANS"
            elif kind.slot in ("shoes", "bag") and rng.random() < 0.3:
                fabric = "L-PIEL"
            title = _title(kind, pattern, fabric, rng)
            price = _price(kind, rng)
            render_seed = int(np.random.SeedSequence([seed, number]).generate_state(1)[0])
        item_id = numbers.item_id(number, colour)
        if item_id in taken:
            continue
        accent = _accent_for(colour, all_colours, rng) if pattern in ("stripes", "checks", "dots") else colour
        product = DemoProduct(
            item_id=item_id,
            kind=kind.key,
            style=style.name,
            colour=colour,
            accent=accent,
            pattern=pattern,
            fabric=fabric,
            title=title,
            price=price,
            render_seed=render_seed,
        )
        taken.add(item_id)
        pool.append(product)
        if not any(n == number for n, _ in models):
            models.append((number, product))
    return pool


def _choose(
    pool: Sequence[DemoProduct],
    uses: dict[str, int],
    rng: np.random.Generator,
    accept: Callable[[DemoProduct], bool],
) -> DemoProduct | None:
    """A product from the pool that the rule accepts, favouring the little-used ones so that every
    product ends up in some outfit."""
    candidates = [p for p in pool if accept(p)]
    if not candidates:
        return None
    weights = np.array([1.0 / (1.0 + uses[p.item_id]) ** 2 for p in candidates])
    return candidates[int(rng.choice(len(candidates), p=weights / weights.sum()))]


def _build_outfit(
    style: Style,
    pools: dict[str, list[DemoProduct]],
    uses: dict[str, int],
    rng: np.random.Generator,
) -> list[DemoProduct]:
    """One look by the style's rules: top + bottom (or a dress), shoes, often a bag, sometimes
    outerwear; colours of neighbouring pieces differ and at most one piece is patterned."""
    items: list[DemoProduct] = []

    def patterned(p: DemoProduct) -> bool:
        return p.pattern in ("stripes", "checks", "dots")

    def clash_free(p: DemoProduct) -> bool:
        if patterned(p) and any(patterned(q) for q in items):
            return False
        return all(q.colour != p.colour for q in items if q.garment_kind.slot != "bag")

    def pick(slot: str, accept: Callable[[DemoProduct], bool] = clash_free) -> None:
        chosen = _choose(pools[slot], uses, rng, accept)
        if chosen is None:
            chosen = _choose(pools[slot], uses, rng, lambda p: True)
        if chosen is not None:
            items.append(chosen)
            uses[chosen.item_id] += 1

    if pools["dress"] and rng.random() < style.p_dress:
        pick("dress")
    else:
        pick("top")
        pick("bottom")
    if pools["outerwear"] and rng.random() < style.p_outerwear:
        pick("outerwear")
    pick("shoes", lambda p: True)
    if pools["bag"] and rng.random() < style.p_bag:
        shoes = items[-1]
        if style.bag_matches_shoes and rng.random() < 0.75:
            pick("bag", lambda p: p.colour == shoes.colour)
        else:
            pick("bag", lambda p: True)
    return items


def build_demo_dataset(
    *, n_outfits: int = 120, seed: int = 0, id_prefix: str = "D"
) -> tuple[list[DemoProduct], list[DemoOutfit]]:
    """The products and outfits of a demo data set, without writing anything. Deterministic for a
    seed. Products that no outfit uses are left out, as in a curated library."""
    _check_arguments(n_outfits=n_outfits, seed=seed, id_prefix=id_prefix, background=CREAM)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 20_240_611]))
    numbers = _ModelNumbers(id_prefix, rng)

    # Every style gets its share of looks, in a shuffled order.
    style_of_outfit = [STYLES[int(i) % len(STYLES)] for i in rng.permutation(n_outfits)]

    pools: dict[str, dict[str, list[DemoProduct]]] = {}
    for style in STYLES:
        n = sum(1 for s in style_of_outfit if s is style)
        expected = {
            "dress": n * style.p_dress,
            "top": n * (1.0 - style.p_dress),
            "bottom": n * (1.0 - style.p_dress),
            "outerwear": n * style.p_outerwear,
            "shoes": float(n),
            "bag": n * style.p_bag,
        }
        pools[style.name] = {
            slot: _make_pool(
                style,
                slot,
                max(2, math.ceil(expected[slot] / _MEAN_REUSE)) if expected[slot] > 0 else 0,
                numbers,
                rng,
                seed,
            )
            for slot in SLOTS
        }

    uses: dict[str, int] = {
        p.item_id: 0 for by_slot in pools.values() for pool in by_slot.values() for p in pool
    }
    outfits: list[DemoOutfit] = []
    for index, style in enumerate(style_of_outfit, start=1):
        items = _build_outfit(style, pools[style.name], uses, rng)
        outfits.append(DemoOutfit(f"{id_prefix}-{index:05d}", style.name, tuple(p.item_id for p in items)))

    products = sorted(
        (p for by_slot in pools.values() for pool in by_slot.values() for p in pool if uses[p.item_id] > 0),
        key=lambda p: p.item_id,
    )
    return products, outfits


# --------------------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------------------

_SUPERSAMPLE = 2
_BASE_W, _BASE_H = 240.0, 336.0


def _qbez(p0: Point, p1: Point, p2: Point, n: int = 10) -> list[Point]:
    """Points along a quadratic Bezier curve, end points included."""
    out = []
    for i in range(n + 1):
        t = i / n
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        out.append((a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]))
    return out


def _mirror(left: Sequence[Point]) -> list[Point]:
    """A symmetric outline from its left half, which runs from the centre line back to it."""
    return list(left) + [(_BASE_W - x, y) for x, y in reversed(left)]


def _mx(points: Sequence[Point]) -> list[Point]:
    return [(_BASE_W - x, y) for x, y in points]


class _Canvas:
    """Masks of one garment drawn in a 240x336 design frame, supersampled for smooth edges.

    Layers: ``body`` (the patterned fabric), ``trim`` (a second material such as a sole, in
    ``trim_colour``), ``metal`` (buttons, rivets, clasps), ``stitch`` (contrast thread), ``seam``
    (darker lines), ``light`` (lighter lines), ``shade`` (areas in shadow such as the inside of a
    collar) and ``rib`` (ribbed knit bands).
    """

    LAYERS = ("body", "trim", "metal", "stitch", "seam", "light", "shade", "rib")

    def __init__(self, size: tuple[int, int], rng: np.random.Generator) -> None:
        self.w, self.h = size
        self.rng = rng
        self._sw, self._sh = self.w * _SUPERSAMPLE, self.h * _SUPERSAMPLE
        self._images = {name: Image.new("L", (self._sw, self._sh), 0) for name in self.LAYERS}
        self._draws = {name: ImageDraw.Draw(im) for name, im in self._images.items()}
        self._used: set[str] = set()
        self.colour: RGB = (128, 128, 128)
        self.trim_colour: RGB = (238, 236, 230)
        self.metal_colour: RGB = (196, 164, 92)
        self.stitch_colour: RGB = (196, 136, 62)
        self.gloss = 0.35
        self.place(0.7, 168.0)

    def place(self, scale: float, centre_y: float) -> None:
        """Where the design frame lands in the photo: a product shot leaves a margin around it."""
        jitter = float(self.rng.uniform(0.96, 1.03))
        self._scale = scale * jitter
        self._cx = 120.0 + float(self.rng.uniform(-3, 3))
        self._cy = centre_y + float(self.rng.uniform(-4, 4))

    def _map(self, points: Sequence[Point]) -> list[tuple[float, float]]:
        # One scale for both axes, so a square or landscape photo shows the garment undistorted.
        k = min(self._sw / _BASE_W, self._sh / _BASE_H)
        ox, oy = (self._sw - _BASE_W * k) / 2, (self._sh - _BASE_H * k) / 2
        return [
            (ox + (self._cx + (x - 120.0) * self._scale) * k, oy + (self._cy + (y - 168.0) * self._scale) * k)
            for x, y in points
        ]

    def _width(self, width: float) -> int:
        return max(1, round(width * self._scale * min(self._sw / _BASE_W, self._sh / _BASE_H)))

    def poly(self, layer: str, points: Sequence[Point], value: int = 255) -> None:
        self._used.add(layer)
        self._draws[layer].polygon(self._map(points), fill=value)

    def line(self, layer: str, points: Sequence[Point], width: float = 1.2, value: int = 255) -> None:
        self._used.add(layer)
        self._draws[layer].line(self._map(points), fill=value, width=self._width(width), joint="curve")

    def dashed(self, layer: str, points: Sequence[Point], width: float = 0.9, dash: float = 3.0) -> None:
        """Top-stitching: a dashed line along a polyline."""
        on = True
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            length = math.hypot(x1 - x0, y1 - y0)
            steps = max(1, int(length / dash))
            for i in range(steps):
                if on:
                    a, b = i / steps, (i + 1) / steps
                    self.line(
                        layer,
                        [(x0 + (x1 - x0) * a, y0 + (y1 - y0) * a), (x0 + (x1 - x0) * b, y0 + (y1 - y0) * b)],
                        width,
                    )
                on = not on

    def ellipse(
        self, layer: str, centre: Point, rx: float, ry: float | None = None, value: int = 255
    ) -> None:
        ry = rx if ry is None else ry
        (x0, y0), (x1, y1) = self._map([(centre[0] - rx, centre[1] - ry), (centre[0] + rx, centre[1] + ry)])
        self._used.add(layer)
        self._draws[layer].ellipse((x0, y0, x1, y1), fill=value)

    def button(self, centre: Point, r: float = 2.6) -> None:
        self.ellipse("metal", centre, r)
        self.ellipse("seam", (centre[0] + 0.4, centre[1] + 0.5), r * 0.35, value=150)

    def masks(self) -> dict[str, FloatArray]:
        """Each layer at the photo's size, as floats in 0..1."""
        out = {}
        for name, im in self._images.items():
            if name not in self._used:
                out[name] = np.zeros((self.h, self.w), dtype=np.float32)
                continue
            small = im.reduce(_SUPERSAMPLE)
            out[name] = np.asarray(small, dtype=np.float32) / 255.0
        return out


# Garments, drawn in the 240x336 design frame (centre x = 120). Every function draws one kind.


def _draw_tshirt(cv: _Canvas) -> None:
    cv.place(0.8, 150)
    w = float(cv.rng.uniform(-4, 4))
    neck_y = 58.0
    left = [
        (120, neck_y - 4),
        (100, neck_y),
        (62 - w, 70),
        (26 - w, 118),
        (48 - w, 134),
        (68 - w, 112),
        (70 - w, 226),
        (120, 228),
    ]
    cv.poly("body", _mirror(left))
    front = _qbez((100, neck_y), (120, neck_y + 30), (140, neck_y), 12)
    back = _qbez((100, neck_y), (120, neck_y - 8), (140, neck_y), 12)
    cv.poly("shade", front + list(reversed(back)), 150)
    inner = _qbez((104, neck_y + 1), (120, neck_y + 24), (136, neck_y + 1), 12)
    cv.poly("rib", front + list(reversed(inner)))
    cv.line("seam", front, 1.0)
    cv.line("seam", inner, 0.7)
    for side in (1, -1):
        pts = [(62 - w, 70), (68 - w, 112)]
        cv.line("seam", pts if side == 1 else _mx(pts), 0.6)
        cuff = [(30 - w, 114), (51 - w, 129)]
        cv.dashed("seam", cuff if side == 1 else _mx(cuff), 0.6)
        fold = [(88, 130), (84, 220)]
        cv.line("light", fold if side == 1 else _mx(fold), 2.0, 50)
    cv.dashed("seam", [(71 - w, 219), (169 + w, 219)], 0.6)


def _draw_top(cv: _Canvas) -> None:
    cv.place(0.72, 168)
    neckline = _qbez((88, 92), (120, 122), (152, 92), 12)
    cv.poly(
        "body",
        [
            (88, 92),
            (72, 114),
            (74, 170),
            (66, 282),
            (120, 288),
            (174, 282),
            (166, 170),
            (168, 114),
            (152, 92),
            *list(reversed(neckline)),
        ],
    )
    back = _qbez((88, 92), (120, 86), (152, 92), 12)
    cv.poly("body", back + list(reversed(neckline)))
    cv.poly("shade", back + list(reversed(neckline)), 160)
    for x in (92, 148):
        cv.line("body", [(x, 94), (x + (-4 if x < 120 else 4), 30)], 2.4)
    cv.line("seam", neckline, 0.9)
    cv.dashed("seam", [(68, 275), (120, 281), (172, 275)], 0.6)
    for x in (100, 140):
        cv.line("light", [(x, 150), (x - 6 if x < 120 else x + 6, 270)], 1.2, 90)


def _draw_shirt(cv: _Canvas, collar: bool = True) -> None:
    cv.place(0.76, 156)
    w = float(cv.rng.uniform(-3, 3))
    left = [
        (120, 48),
        (102, 50),
        (60 - w, 64),
        (24 - w, 236),
        (48 - w, 242),
        (68 - w, 116),
        (68 - w, 250),
        (96, 262),
        (120, 264),
    ]
    cv.poly("body", _mirror(left))
    if collar:
        cv.poly("shade", [(102, 50), (120, 58), (138, 50), (120, 46)], 120)
        for side in (1, -1):
            flap = [(102, 48), (94, 58), (106, 86), (120, 66)]
            cv.poly("body", flap if side == 1 else _mx(flap))
            cv.line("seam", ([*flap, flap[0]]) if side == 1 else _mx([*flap, flap[0]]), 0.8)
        cv.line("seam", [(120, 66), (120, 262)], 0.8)
        cv.line("seam", [(124, 68), (124, 263)], 0.6)
        cv.metal_colour = (238, 234, 222)
        for y in range(92, 256, 30):
            cv.button((121.5, y), 2.0)
        if cv.rng.random() < 0.5:
            cv.line("seam", [(132, 104), (152, 104), (152, 126), (142, 130), (132, 126), (132, 104)], 0.6)
    else:
        neck = _qbez((102, 50), (120, 98), (138, 50), 12)
        back = _qbez((102, 50), (120, 44), (138, 50), 12)
        cv.poly("shade", back + list(reversed(neck)), 150)
        cv.line("seam", neck, 0.8)
        cv.line("light", [(120, 100), (120, 256)], 1.0, 60)
    for side in (1, -1):
        cuff = [(26 - w, 222), (50 - w, 229)]
        cv.line("seam", cuff if side == 1 else _mx(cuff), 0.8)
        sleeve = [(60 - w, 64), (68 - w, 116)]
        cv.line("seam", sleeve if side == 1 else _mx(sleeve), 0.6)
        fold = [(44 - w, 110), (38 - w, 200)]
        cv.line("light", fold if side == 1 else _mx(fold), 2.0, 70)
    cv.dashed("seam", [(70 - w, 244), (96, 255), (120, 257), (144, 255), (170 + w, 244)], 0.6)


def _draw_blouse(cv: _Canvas) -> None:
    _draw_shirt(cv, collar=False)


def _draw_sweater(cv: _Canvas, sweatshirt: bool = False) -> None:
    cv.place(0.78, 154)
    w = float(cv.rng.uniform(-3, 4))
    left = [
        (120, 52),
        (100, 54),
        (58 - w, 70),
        (30 - w, 238),
        (54 - w, 244),
        (64 - w, 122),
        (62 - w, 252),
        (120, 254),
    ]
    cv.poly("body", _mirror(left))
    front = _qbez((100, 54), (120, 80), (140, 54), 12)
    back = _qbez((100, 54), (120, 48), (140, 54), 12)
    cv.poly("shade", back + list(reversed(front)), 150)
    inner = _qbez((104, 56), (120, 74), (136, 56), 12)
    cv.poly("rib", front + list(reversed(inner)))
    cv.line("seam", front, 0.9)
    cv.line("seam", inner, 0.6)
    cv.poly("rib", [(63 - w, 234), (177 + w, 234), (178 + w, 254), (62 - w, 254)])
    cv.line("seam", [(63 - w, 234), (177 + w, 234)], 0.7)
    for side in (1, -1):
        cuff = [(32 - w, 224), (56 - w, 230), (54 - w, 244), (30 - w, 238)]
        cv.poly("rib", cuff if side == 1 else _mx(cuff))
        edge = [(32 - w, 224), (56 - w, 230)]
        cv.line("seam", edge if side == 1 else _mx(edge), 0.7)
        sleeve = [(58 - w, 70), (64 - w, 122)]
        cv.line("seam", sleeve if side == 1 else _mx(sleeve), 0.7)
    if sweatshirt:
        cv.line("seam", [(114, 80), (120, 90), (126, 80)], 0.8)


def _draw_sweatshirt(cv: _Canvas) -> None:
    _draw_sweater(cv, sweatshirt=True)


def _draw_trousers(cv: _Canvas, jeans: bool = False) -> None:
    cv.place(0.8, 170)
    wide = float(cv.rng.uniform(0, 8)) if not jeans else float(cv.rng.uniform(-6, 0))
    left = [(120, 30), (72, 30), (70, 48), (62 - wide, 318), (114 - wide * 0.2, 318), (120, 138)]
    cv.poly("body", _mirror(left))
    cv.line("seam", [(71, 47), (169, 47)], 0.8)
    if jeans:
        for y in (50.0, 314.0):
            cv.dashed("stitch", [(72, y), (168, y)] if y < 100 else [(64 - wide, y), (112, y)], 0.7)
        cv.dashed("stitch", [(128, 314), (176 + wide, 314)], 0.7)
        for side in (1, -1):
            pocket = _qbez((96, 48), (92, 74), (71, 80), 8)
            cv.line("seam", pocket if side == 1 else _mx(pocket), 0.8)
            cv.dashed(
                "stitch",
                [(p[0] + 2, p[1] + 2) for p in pocket]
                if side == 1
                else _mx([(p[0] + 2, p[1] + 2) for p in pocket]),
                0.6,
            )
            cv.ellipse("metal", (96, 50) if side == 1 else (144, 50), 1.6)
            seam = [(71, 80), (64 - wide, 316)]
            cv.line("light", seam if side == 1 else _mx(seam), 1.0, 70)
        cv.dashed("stitch", [(126, 48), (126, 112), (120, 124)], 0.7)
        cv.line("seam", [(120, 48), (120, 128)], 0.7)
        cv.metal_colour = (176, 140, 86)
        cv.ellipse("metal", (120, 39), 3.0)
        for x in (80, 104, 136, 160):
            cv.line("seam", [(x, 31), (x, 47)], 0.6)
    else:
        cv.metal_colour = (70, 64, 58)
        cv.button((128, 39), 2.4)
        cv.line("seam", [(120, 48), (120, 120)], 0.7)
        cv.line("seam", [(126, 48), (126, 114), (120, 122)], 0.6)
        for side in (1, -1):
            pocket = [(96, 48), (72, 96)]
            cv.line("seam", pocket if side == 1 else _mx(pocket), 0.8)
            crease = [(92, 60), (88 - wide * 0.6, 316)]
            cv.line("light", crease if side == 1 else _mx(crease), 1.2, 80)
            cv.line(
                "seam",
                [(p[0] + 1.5, p[1]) for p in crease]
                if side == 1
                else _mx([(p[0] + 1.5, p[1]) for p in crease]),
                0.5,
                90,
            )
        for x in (82, 108, 132, 158):
            cv.line("seam", [(x, 31), (x, 47)], 0.5)


def _draw_jeans(cv: _Canvas) -> None:
    _draw_trousers(cv, jeans=True)


def _draw_skirt(cv: _Canvas) -> None:
    cv.place(0.74, 176)
    flare = float(cv.rng.uniform(16, 40))
    hem_y = 262.0
    left = [(120, 42), (76, 42), (76, 58), (76 - flare, hem_y), (100, hem_y + 6), (120, hem_y + 7)]
    cv.poly("body", _mirror(left))
    cv.line("seam", [(77, 57), (163, 57)], 0.8)
    cv.metal_colour = (70, 64, 58)
    cv.button((154, 50), 2.2)
    for i, x in enumerate((96, 110, 130, 144)):
        spread = (x - 120) / 44 * flare
        cv.line("light" if i % 2 else "seam", [(x, 60), (x + spread, hem_y + 4)], 1.4 if i % 2 else 0.6, 70)
    cv.dashed("seam", [(80 - flare, hem_y - 7), (120, hem_y), (160 + flare, hem_y - 7)], 0.6)


def _draw_shorts(cv: _Canvas) -> None:
    cv.place(0.76, 150)
    left = [(120, 100), (72, 100), (70, 116), (58, 236), (114, 244), (120, 190)]
    cv.poly("body", _mirror(left))
    cv.line("seam", [(71, 115), (169, 115)], 0.8)
    for side in (1, -1):
        cuff = [(60, 222), (114, 230)]
        cv.line("seam", cuff if side == 1 else _mx(cuff), 0.8)
        pocket = _qbez((96, 116), (92, 140), (71, 146), 8)
        cv.line("seam", pocket if side == 1 else _mx(pocket), 0.8)
    cv.line("seam", [(120, 116), (120, 176)], 0.7)
    cv.line("seam", [(126, 116), (126, 168), (120, 176)], 0.6)
    cv.metal_colour = (176, 140, 86)
    cv.ellipse("metal", (120, 108), 2.8)


def _draw_dress(cv: _Canvas) -> None:
    cv.place(0.8, 170)
    strappy = cv.rng.random() < 0.5
    flare = float(cv.rng.uniform(24, 44))
    waist_y = 132.0
    hem_y = 312.0
    if strappy:
        neckline = _qbez((88, 72), (120, 96), (152, 72), 12)
        back = _qbez((88, 72), (120, 66), (152, 72), 12)
        outline = [
            (88, 72),
            (80, 92),
            (86, waist_y),
            (86 - flare, hem_y),
            (120, hem_y + 8),
            (154 + flare, hem_y),
            (154, waist_y),
            (160, 92),
            (152, 72),
        ]
        cv.poly("body", outline + list(reversed(neckline)))
        cv.poly("body", back + list(reversed(neckline)))
        cv.poly("shade", back + list(reversed(neckline)), 160)
        for x in (92, 148):
            cv.line("body", [(x, 74), (x + (-3 if x < 120 else 3), 22)], 2.4)
        cv.line("seam", neckline, 0.8)
    else:
        left = [
            (120, 30),
            (102, 28),
            (74, 40),
            (48, 86),
            (70, 98),
            (82, 78),
            (86, waist_y),
            (86 - flare, hem_y),
            (120, hem_y + 8),
        ]
        cv.poly("body", _mirror(left))
        front = _qbez((102, 28), (120, 56), (138, 28), 12)
        back = _qbez((102, 28), (120, 22), (138, 28), 12)
        cv.poly("shade", back + list(reversed(front)), 150)
        cv.line("seam", front, 0.9)
        for side in (1, -1):
            pts = [(74, 40), (82, 78)]
            cv.line("seam", pts if side == 1 else _mx(pts), 0.6)
    cv.line("seam", [(86, waist_y), (154, waist_y)], 0.8)
    for i, x in enumerate((100, 112, 128, 140)):
        spread = (x - 120) / 34 * flare
        cv.line(
            "light" if i % 2 == 0 else "seam",
            [(x, waist_y + 4), (x + spread, hem_y + 2)],
            1.6 if i % 2 == 0 else 0.6,
            80,
        )
    cv.dashed("seam", [(90 - flare, hem_y - 6), (120, hem_y + 2), (150 + flare, hem_y - 6)], 0.6)


def _lapels(cv: _Canvas, top_y: float, bottom_y: float, notch: bool = True) -> None:
    for side in (1, -1):
        lapel = [
            (104, top_y),
            (90, top_y + 14),
            (98, top_y + 46),
            (92, top_y + 52) if notch else (96, top_y + 50),
            (120, bottom_y),
        ]
        cv.line("seam", lapel if side == 1 else _mx(lapel), 0.9)
        cv.line(
            "light",
            [(p[0] + 1.4, p[1]) for p in lapel[1:]]
            if side == 1
            else _mx([(p[0] + 1.4, p[1]) for p in lapel[1:]]),
            0.8,
            60,
        )
    cv.poly("shade", [(104, top_y), (120, top_y + 6), (136, top_y), (120, bottom_y - 8)], 200)


def _draw_coat(cv: _Canvas, length: float = 322.0, trench: bool = False) -> None:
    cv.place(0.84 if length > 280 else 0.76, 170 if length > 280 else 160)
    w = float(cv.rng.uniform(-2, 4))
    left = [
        (120, 32),
        (104, 32),
        (56 - w, 46),
        (22 - w, 254),
        (50 - w, 262),
        (66 - w, 120),
        (62 - w - (6 if length > 280 else 0), length),
        (120, length + 2),
    ]
    cv.poly("body", _mirror(left))
    _lapels(cv, 32, 136)
    cv.line("seam", [(120, 136), (124, length)], 0.9)
    cv.metal_colour = (58, 44, 34)
    double = trench or cv.rng.random() < 0.5
    for y in np.linspace(150, min(length - 40, 250), 3 if length > 280 else 2):
        if double:
            cv.button((106, float(y)), 3.2)
            cv.button((138, float(y)), 3.2)
        else:
            cv.button((126, float(y)), 3.2)
    for side in (1, -1):
        cuff = [(24 - w, 236), (51 - w, 244)]
        cv.line("seam", cuff if side == 1 else _mx(cuff), 0.8)
        flap_y = min(length - 70, 224)
        flap = [(72 - w, flap_y), (102, flap_y), (102, flap_y + 10), (72 - w, flap_y + 10), (72 - w, flap_y)]
        cv.line("seam", flap if side == 1 else _mx(flap), 0.7)
        sleeve = [(56 - w, 46), (66 - w, 120)]
        cv.line("seam", sleeve if side == 1 else _mx(sleeve), 0.6)
    if trench:
        cv.poly("body", [(64 - w, 168), (176 + w, 168), (176 + w, 180), (64 - w, 180)])
        cv.line("seam", [(64 - w, 168), (176 + w, 168), (176 + w, 180), (64 - w, 180), (64 - w, 168)], 0.8)
        cv.metal_colour = (150, 128, 84)
        cv.poly("metal", [(140, 166), (152, 166), (152, 182), (140, 182)])
        cv.poly("body", [(143, 169), (149, 169), (149, 179), (143, 179)])
        cv.dashed("seam", [(64 - w, 300), (176 + w, 300)], 0.6)


def _draw_trench(cv: _Canvas) -> None:
    _draw_coat(cv, trench=True)


def _draw_blazer(cv: _Canvas) -> None:
    cv.place(0.74, 160)
    w = float(cv.rng.uniform(-2, 3))
    left = [
        (120, 36),
        (104, 36),
        (56 - w, 50),
        (26 - w, 250),
        (52 - w, 258),
        (68 - w, 120),
        (72 - w, 168),
        (66 - w, 262),
        (112, 270),
        (120, 252),
    ]
    cv.poly("body", _mirror(left))
    _lapels(cv, 36, 168)
    cv.line("seam", [(120, 168), (118, 262)], 0.8)
    cv.metal_colour = (40, 36, 34)
    cv.button((124, 176), 3.0)
    if cv.rng.random() < 0.5:
        cv.button((124, 210), 3.0)
    for side in (1, -1):
        flap = [(74 - w, 214), (104, 214), (104, 222), (74 - w, 222), (74 - w, 214)]
        cv.line("seam", flap if side == 1 else _mx(flap), 0.7)
        sleeve = [(56 - w, 50), (68 - w, 120)]
        cv.line("seam", sleeve if side == 1 else _mx(sleeve), 0.6)
        dart = [(92, 140), (90, 210)]
        cv.line("seam", dart if side == 1 else _mx(dart), 0.5, 120)
    cv.line("seam", [(134, 120), (156, 118)], 0.8)


def _draw_jacket(cv: _Canvas) -> None:
    cv.place(0.76, 158)
    w = float(cv.rng.uniform(-2, 3))
    left = [
        (120, 44),
        (102, 44),
        (58 - w, 58),
        (28 - w, 238),
        (52 - w, 246),
        (68 - w, 126),
        (70 - w, 228),
        (120, 230),
    ]
    cv.poly("body", _mirror(left))
    cv.poly("shade", [(102, 44), (120, 50), (138, 44), (120, 40)], 120)
    for side in (1, -1):
        flap = [(102, 42), (88, 56), (104, 84), (120, 60)]
        cv.poly("body", flap if side == 1 else _mx(flap))
        cv.line("seam", ([*flap, flap[0]]) if side == 1 else _mx([*flap, flap[0]]), 0.8)
        pocket = [(80, 106), (108, 106), (108, 118), (94, 122), (80, 118), (80, 106)]
        cv.line("seam", pocket if side == 1 else _mx(pocket), 0.8)
        cv.dashed(
            "stitch",
            [(p[0], p[1] + 2) for p in pocket[:3]]
            if side == 1
            else _mx([(p[0], p[1] + 2) for p in pocket[:3]]),
            0.6,
        )
        yoke = [(70 - w, 96), (116, 100)]
        cv.dashed("stitch", yoke if side == 1 else _mx(yoke), 0.6)
        cuff = [(30 - w, 224), (53 - w, 232)]
        cv.line("seam", cuff if side == 1 else _mx(cuff), 0.8)
    cv.line("seam", [(70 - w, 210), (170 + w, 210)], 0.8)
    cv.line("seam", [(120, 60), (120, 230)], 0.8)
    cv.metal_colour = (176, 140, 86)
    for y in (78, 112, 146, 180, 218):
        cv.button((124, y), 2.4)


def _shoe_outline(kind: str) -> tuple[list[Point], list[Point], list[Point]]:
    """Side view of one shoe, toe to the left: (upper, sole or heel in the trim material, opening)."""
    upper: list[Point]
    sole: list[Point]
    opening: list[Point]
    if kind == "trainers":
        upper = [
            (34, 242),
            *_qbez((34, 242), (30, 214), (74, 206), 8),
            (108, 192),
            (142, 170),
            *_qbez((142, 170), (172, 156), (200, 168), 8),
            (210, 204),
            (210, 242),
        ]
        sole = [(30, 238), (212, 238), (212, 252), (200, 262), (48, 262), (32, 254)]
        opening = [(142, 170), (170, 162), (200, 168), (186, 176), (150, 178)]
        return upper, sole, opening
    if kind == "ankle_boots":
        upper = [
            (28, 252),
            *_qbez((28, 252), (24, 222), (70, 216), 8),
            (112, 202),
            (124, 176),
            (124, 128),
            (180, 124),
            (182, 196),
            (188, 240),
            (160, 248),
            (120, 254),
            (60, 258),
        ]
        sole = [
            (26, 250),
            (160, 244),
            (188, 238),
            (192, 268),
            (168, 268),
            (162, 254),
            (120, 258),
            (60, 262),
            (30, 260),
        ]
        opening = [(124, 128), (152, 120), (180, 124), (150, 132)]
        return upper, sole, opening
    if kind == "boots":
        upper = [
            (28, 252),
            *_qbez((28, 252), (24, 222), (70, 216), 8),
            (112, 202),
            (126, 170),
            (122, 40),
            (184, 34),
            (184, 196),
            (188, 240),
            (160, 248),
            (120, 254),
            (60, 258),
        ]
        sole = [
            (26, 250),
            (160, 244),
            (188, 238),
            (192, 268),
            (168, 268),
            (162, 254),
            (120, 258),
            (60, 262),
            (30, 260),
        ]
        opening = [(122, 40), (154, 30), (184, 34), (152, 46)]
        return upper, sole, opening
    # heels and sandals share a stiletto sole; a pump has a closed upper, a sandal straps.
    sole = [
        (16, 258),
        (30, 262),
        (70, 266),
        (130, 248),
        (170, 226),
        (188, 218),
        (190, 224),
        (184, 230),
        (180, 300),
        (172, 300),
        (168, 236),
        (132, 254),
        (72, 272),
        (28, 268),
    ]
    if kind == "heels":
        topline = _qbez((92, 228), (130, 242), (186, 200), 10)
        upper = [
            (16, 258),
            (24, 246),
            (52, 234),
            *topline,
            (192, 208),
            (188, 220),
            (130, 248),
            (70, 266),
            (30, 262),
        ]
        opening = topline + list(reversed(_qbez((96, 232), (132, 248), (184, 208), 10)))
        return upper, sole, opening
    upper = [(20, 256), (34, 238), (62, 230), (80, 260)]
    return upper, sole, []


def _draw_footwear(cv: _Canvas, kind: str) -> None:
    tall = kind == "boots"
    cv.place(0.66 if tall else 0.74, 150 if tall else 168)
    cv.gloss = 0.9
    upper, sole, opening = _shoe_outline(kind)
    if kind == "trainers":
        # White rubber soles, light grey under white uppers so the two parts stay apart.
        cv.trim_colour = (236, 234, 228) if _luminance(cv.colour) < 200 else (212, 212, 208)
    elif kind == "sandals":
        cv.trim_colour = (196, 160, 118)  # a natural leather footbed
    else:
        cv.trim_colour = (40, 34, 32)
    strap = [(150, 186), (188, 182), (189, 190), (151, 194)]
    heel_strap = [(174, 186), (184, 186), (190, 220), (178, 226)]
    # The second shoe of the pair stands behind the first, a little up and to the right.
    shift = (22.0, -40.0) if not tall else (26.0, -10.0)
    for dx, dy, behind in ((shift[0], shift[1], True), (0.0, 0.0, False)):

        def moved(points: Sequence[Point], dx: float = dx, dy: float = dy) -> list[Point]:
            return [(x + dx, y + dy) for x, y in points]

        parts = [moved(upper)] + ([moved(strap), moved(heel_strap)] if kind == "sandals" else [])
        if not behind:
            # The front shoe hides whatever of the back shoe lies under it.
            for layer in ("trim", "shade", "rib", "seam"):
                for part in [*parts, moved(sole)]:
                    cv.poly(layer, part, 0)
        for part in parts:
            cv.poly("body", part)
        cv.poly("trim", moved(sole))
        if opening:
            cv.poly("shade", moved(opening), 235)
        if behind:
            for part in [*parts, moved(sole)]:
                cv.poly("shade", part, 110)
        else:
            for part in parts:
                cv.line("seam", [*part, part[0]], 0.7, 160)
            cv.line("seam", [*moved(sole), sole[0]], 0.6, 120)
    if kind == "trainers":
        for i in range(5):
            x = 108 + i * 8
            y = 192 - i * 5.4
            cv.line("seam", [(x - 5, y - 4), (x + 5, y + 4)], 0.9)
        cv.line("seam", _qbez((40, 236), (56, 214), (84, 212), 8), 0.7)
        cv.line("seam", [(150, 232), (176, 190), (206, 200)], 0.8)
    elif kind in ("ankle_boots", "boots"):
        top = 128 if kind == "ankle_boots" else 40
        cv.poly("rib", [(134, top + 14), (154, top + 12), (150, 196), (138, 196)])
        cv.line("seam", [(134, top + 14), (138, 196), (150, 196), (154, top + 12)], 0.7)
        cv.line("seam", [(170, top), (172, top - 10), (180, top - 10), (180, top)], 1.0)


def _draw_handbag(cv: _Canvas) -> None:
    cv.place(0.62, 200)
    cv.gloss = 1.0
    cv.metal_colour = (204, 172, 96)
    cv.line("body", _qbez((84, 150), (120, 58), (156, 150), 16), 8)
    cv.line("seam", _qbez((84, 150), (120, 62), (156, 150), 16), 0.6, 120)
    body = [
        (58, 148),
        (182, 148),
        (194, 272),
        *_qbez((194, 272), (194, 284), (180, 284), 4),
        (60, 284),
        *_qbez((60, 284), (46, 284), (46, 272), 4),
    ]
    cv.poly("body", body)
    flap = [(58, 148), (182, 148), (186, 196), *_qbez((186, 196), (120, 236), (54, 196), 12)]
    cv.line("seam", [*flap, flap[0]], 0.9)
    cv.line("light", [(62, 152), (178, 152)], 1.2, 90)
    cv.poly("metal", [(112, 208), (128, 208), (128, 222), (112, 222)])
    cv.poly("seam", [(116, 212), (124, 212), (124, 218), (116, 218)], 120)
    cv.dashed("seam", [(52, 200), (56, 276), (184, 276), (188, 200)], 0.6)


def _draw_tote(cv: _Canvas) -> None:
    cv.place(0.7, 178)
    cv.gloss = 0.7
    cv.line("body", _qbez((80, 128), (100, 22), (120, 128), 16), 7)
    cv.line("shade", _qbez((80, 128), (100, 22), (120, 128), 16), 7, 110)
    cv.line("body", _qbez((120, 128), (140, 22), (160, 128), 16), 7)
    body = [(40, 126), (200, 126), (190, 300), (50, 300)]
    cv.poly("body", body)
    cv.poly("shade", body, 0)
    cv.poly("shade", [(40, 126), (200, 126), (199, 136), (41, 136)], 90)
    cv.dashed("seam", [(44, 138), (196, 138)], 0.7)
    cv.line("seam", _qbez((120, 128), (140, 26), (160, 128), 16), 0.5, 110)
    cv.line("light", [(70, 150), (76, 290)], 2.0, 50)


def _draw_backpack(cv: _Canvas) -> None:
    cv.place(0.66, 176)
    cv.gloss = 0.6
    cv.metal_colour = (180, 180, 176)
    cv.line("body", _qbez((104, 78), (120, 56), (136, 78), 8), 5)
    for side in (1, -1):
        strap = [(66, 100), (58, 180), (64, 280)]
        cv.line("body", strap if side == 1 else _mx(strap), 8)
        cv.line("shade", strap if side == 1 else _mx(strap), 8, 170)
    body = (
        _qbez((70, 130), (70, 76), (120, 76), 8)
        + _qbez((120, 76), (170, 76), (170, 130), 8)
        + [(176, 290), (64, 290)]
    )
    cv.poly("body", body)
    cv.poly("shade", _qbez((70, 130), (70, 76), (120, 76), 8) + _qbez((120, 76), (170, 76), (170, 130), 8), 0)
    flap = [(76, 96), *_qbez((76, 96), (120, 72), (164, 96), 8), (166, 150), (120, 160), (74, 150)]
    cv.line("seam", [*flap, flap[0]], 0.8)
    pocket = [(84, 196), (156, 196), (160, 276), (80, 276), (84, 196)]
    cv.line("seam", pocket, 0.8)
    cv.line("seam", [(86, 206), (154, 206)], 0.9)
    cv.ellipse("metal", (150, 206), 2.2)
    for x in (100, 140):
        cv.line("seam", [(x, 140), (x, 176)], 1.6)
        cv.poly("metal", [(x - 3, 172), (x + 3, 172), (x + 3, 178), (x - 3, 178)])


_DRAWERS: dict[str, Callable[[_Canvas], None]] = {
    "tshirt": _draw_tshirt,
    "top": _draw_top,
    "shirt": _draw_shirt,
    "blouse": _draw_blouse,
    "sweater": _draw_sweater,
    "sweatshirt": _draw_sweatshirt,
    "trousers": _draw_trousers,
    "jeans": _draw_jeans,
    "skirt": _draw_skirt,
    "shorts": _draw_shorts,
    "dress": _draw_dress,
    "coat": _draw_coat,
    "trench": _draw_trench,
    "blazer": _draw_blazer,
    "jacket": _draw_jacket,
    "trainers": lambda cv: _draw_footwear(cv, "trainers"),
    "ankle_boots": lambda cv: _draw_footwear(cv, "ankle_boots"),
    "boots": lambda cv: _draw_footwear(cv, "boots"),
    "heels": lambda cv: _draw_footwear(cv, "heels"),
    "sandals": lambda cv: _draw_footwear(cv, "sandals"),
    "handbag": _draw_handbag,
    "tote": _draw_tote,
    "backpack": _draw_backpack,
}

_VERTICAL_STRIPES = {"shirt", "trousers", "blazer", "coat", "trench"}
_LARGE_CHECKS = {"coat", "trench", "blazer", "jacket", "skirt", "trousers"}


@lru_cache(maxsize=8)
def _grid(h: int, w: int) -> tuple[FloatArray, FloatArray]:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy.flags.writeable = xx.flags.writeable = False  # shared between photos and threads
    return yy, xx


@lru_cache(maxsize=1)
def _noise_bank() -> FloatArray:
    """Gaussian noise to cut grain from: drawing fresh noise per photo costs more than the photo.
    Callers only read windows of it."""
    bank: FloatArray = (
        np.random.default_rng(20_240_611).normal(0.0, 1.0, size=(1024, 1024)).astype(np.float32)
    )
    bank.flags.writeable = False
    return bank


def _grain(h: int, w: int, rng: np.random.Generator) -> FloatArray:
    """Unit Gaussian grain of shape (h, w), a random window of the noise bank."""
    bank = _noise_bank()
    if h > bank.shape[0] or w > bank.shape[1]:
        return rng.normal(0.0, 1.0, size=(h, w)).astype(np.float32)
    y = int(rng.integers(0, bank.shape[0] - h + 1))
    x = int(rng.integers(0, bank.shape[1] - w + 1))
    return bank[y : y + h, x : x + w]


def _smooth_noise(h: int, w: int, cells: tuple[int, int], rng: np.random.Generator) -> FloatArray:
    """Low-frequency noise in about -1..1: a coarse random grid, smoothly enlarged."""
    coarse = rng.normal(0.0, 1.0, size=cells).astype(np.float32)
    lo, hi = float(coarse.min()), float(coarse.max())
    im = Image.fromarray(((coarse - lo) / max(hi - lo, 1e-6) * 255).astype(np.uint8), "L")
    big = np.asarray(im.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32)
    return big / 127.5 - 1.0


def _bands(coord: FloatArray, period: float, width: float, offset: float) -> FloatArray:
    """Anti-aliased bands of a given width repeating every period pixels."""
    phase = np.mod(coord + offset, period)
    distance = np.abs(phase - period / 2)
    bands: FloatArray = np.clip(width / 2 + 0.5 - distance, 0.0, 1.0)
    return bands


def _fabric_texture(
    kind: str,
    pattern: str,
    colour: RGB,
    accent: RGB,
    yy: FloatArray,
    xx: FloatArray,
    rng: np.random.Generator,
) -> FloatArray:
    """The garment's fabric at photo pixel coordinates ``yy``, ``xx``: H x W x 3 floats. The pattern
    is laid out in photo coordinates; the silhouette masks it later."""
    h, w = yy.shape
    base = np.array(colour, dtype=np.float32)
    second = np.array(accent, dtype=np.float32)
    tex = np.broadcast_to(base, (h, w, 3)).copy()

    def blend(amount: FloatArray) -> None:
        nonlocal tex
        tex = tex + (second - tex) * amount[..., None]

    if pattern == "stripes":
        if kind in _VERTICAL_STRIPES:
            period = float(rng.uniform(7, 10))
            blend(_bands(xx, period, float(rng.uniform(1.2, 2.0)), float(rng.uniform(0, period))))
        else:
            period = float(rng.uniform(11, 17))
            blend(_bands(yy, period, period * float(rng.uniform(0.35, 0.5)), float(rng.uniform(0, period))))
    elif pattern == "checks":
        if kind in _LARGE_CHECKS:
            period = float(rng.uniform(26, 36))
            off = float(rng.uniform(0, period))
            wide = 0.35 * (_bands(xx, period, period * 0.3, off) + _bands(yy, period, period * 0.3, off))
            thin = 0.85 * np.maximum(
                _bands(xx, period, 1.4, off + period / 2), _bands(yy, period, 1.4, off + period / 2)
            )
            blend(np.clip(wide + thin, 0.0, 0.9))
        else:
            period = float(rng.uniform(8, 12))
            off = float(rng.uniform(0, period))
            blend(0.5 * _bands(xx, period, period / 2, off) + 0.5 * _bands(yy, period, period / 2, off))
    elif pattern == "dots":
        spacing = float(rng.uniform(13, 19))
        radius = float(rng.uniform(2.2, 3.8))
        row = np.floor(yy / spacing)
        dx = np.mod(xx + np.mod(row, 2) * spacing / 2, spacing) - spacing / 2
        dy = np.mod(yy, spacing) - spacing / 2
        blend(np.clip(radius + 0.5 - np.sqrt(dx * dx + dy * dy), 0.0, 1.0))
    elif pattern == "denim":
        twill = np.sin((xx + yy) * (2 * math.pi / 3.2)).astype(np.float32)
        yarn = rng.normal(0.0, 1.0, size=(1, w)).astype(np.float32)
        yarn = np.convolve(yarn[0], np.ones(3) / 3, mode="same")[None, :]
        fade = np.clip(_smooth_noise(h, w, (5, 4), rng), 0.0, 1.0)
        tex = tex * (1.0 + 0.07 * twill + 0.05 * yarn)[..., None]
        tex = tex + (np.array((214, 224, 236), dtype=np.float32) - tex) * (0.22 * fade)[..., None]
    elif pattern != "solid":
        raise ValueError(f"unknown pattern {pattern!r}; expected one of {', '.join(PATTERNS)}")
    if kind == "sweater":
        tex = tex * (1.0 + 0.035 * np.sin(xx * (2 * math.pi / 3.5)))[..., None]
    return tex


def _blur(mask: FloatArray, radius: float) -> FloatArray:
    """A soft copy of a mask. Blurred at half size, which looks the same and costs a third."""
    h, w = mask.shape
    im = Image.fromarray((np.clip(mask, 0.0, 1.0) * 255).astype(np.uint8), "L")
    small = im.reduce(2).filter(ImageFilter.GaussianBlur(radius / 2))
    return np.asarray(small.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0


def _shift(mask: FloatArray, dx: int, dy: int) -> FloatArray:
    out = np.zeros_like(mask)
    h, w = mask.shape
    out[max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = mask[
        max(-dy, 0) : h - max(dy, 0), max(-dx, 0) : w - max(dx, 0)
    ]
    return out


def _background(size: tuple[int, int], background: RGB, rng: np.random.Generator) -> FloatArray:
    """A studio backdrop: the season's tint with a little jitter, lighter at the top centre."""
    w, h = size
    # Mostly a change of exposure, barely of hue: a season's tint stays recognisable.
    jitter = float(rng.integers(-4, 5)) + rng.integers(-1, 2, size=3).astype(np.float32)
    tint = np.array(background, dtype=np.float32) + jitter
    bg: FloatArray = tint[None, None, :] * _falloff(h, w)[..., None] + 0.8 * _grain(h, w, rng)[..., None]
    return bg


@lru_cache(maxsize=8)
def _falloff(h: int, w: int) -> FloatArray:
    yy, xx = _grid(h, w)
    r = np.sqrt(((xx - w / 2) / w) ** 2 + ((yy - h * 0.3) / h) ** 2)
    falloff: FloatArray = (1.0 + 0.025 - 0.09 * np.clip(r, 0.0, 1.0) ** 1.6).astype(np.float32)
    falloff.flags.writeable = False
    return falloff


def render_garment(
    family: str,
    type_: str,
    colour: tuple[int, int, int],
    pattern: str,
    *,
    background: tuple[int, int, int] = CREAM,
    size: tuple[int, int] = IMAGE_SIZE,
    rng: np.random.Generator | None = None,
    accent: tuple[int, int, int] | None = None,
) -> Image.Image:
    """A product shot of one garment: its silhouette, filled with ``colour`` in ``pattern``, softly
    shaded, on a plain ``background``. ``family``/``type_`` are MANGO's ``des_product_family`` and
    ``des_product_type`` (``"Footwear"``/``"Ankle Boots"``) or a plain name (``"Jeans"``, ``"Sneakers"``,
    ``"Tote bag"``); ``pattern`` is one of ``PATTERNS``; ``accent`` is the second colour of stripes,
    checks and dots (a contrasting default otherwise). Returns an RGB image of ``size`` (w, h).
    Deterministic for the state of ``rng``."""
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r}; expected one of {', '.join(PATTERNS)}")
    for name, value in (("colour", colour), ("background", background)) + (
        (("accent", accent),) if accent is not None else ()
    ):
        if len(value) != 3 or not all(0 <= int(c) <= 255 for c in value):
            raise ValueError(f"{name} must be three integers 0..255, got {value!r}")
    if len(size) != 2 or not all(isinstance(v, int) and 16 <= v <= 4096 for v in size):
        raise ValueError(f"size must be (width, height), each 16..4096 pixels; got {size!r}")
    kind = _kind_for(family, type_)
    rng = rng if rng is not None else np.random.default_rng(0)
    colour = (int(colour[0]), int(colour[1]), int(colour[2]))
    if accent is None:
        accent = (246, 244, 238) if _luminance(colour) < 150 else (34, 42, 72)

    cv = _Canvas(size, rng)
    cv.colour = colour
    _DRAWERS[kind.key](cv)
    m = cv.masks()
    w, h = size

    alpha = np.clip(np.maximum(np.maximum(m["body"], m["trim"]), m["metal"]), 0.0, 1.0)
    # Sizes below are in pixels of the 240x336 design; ``unit`` converts them to this photo's pixels.
    unit = min(w / _BASE_W, h / _BASE_H)
    soft = _blur(alpha, 4.0 * unit)
    shadow = _blur(_shift(alpha, max(1, round(2 * unit)), max(2, round(5 * unit))), 6.0 * unit)
    bg = _background(size, background, rng)
    bg *= (1.0 - 0.16 * shadow)[..., None]

    # The garment is coloured only inside its bounding box (with a margin for the rim light).
    rows = np.flatnonzero(alpha.max(axis=1) > 0)
    cols = np.flatnonzero(alpha.max(axis=0) > 0)
    if rows.size == 0:
        return Image.fromarray(np.clip(bg + 0.5, 0, 255).astype(np.uint8), "RGB")
    y0, y1 = max(0, int(rows[0]) - 4), min(h, int(rows[-1]) + 5)
    x0, x1 = max(0, int(cols[0]) - 4), min(w, int(cols[-1]) + 5)
    box = (slice(y0, y1), slice(x0, x1))
    yy, xx = _grid(h, w)
    yy, xx = yy[box], xx[box]
    mb = {name: layer[box] for name, layer in m.items()}

    col = _fabric_texture(kind.key, pattern, colour, accent, yy / unit, xx / unit, rng)
    for name, rgb in (("trim", cv.trim_colour), ("stitch", cv.stitch_colour), ("metal", cv.metal_colour)):
        if mb[name].any():
            amount = mb[name] * mb["body"] if name == "stitch" else mb[name]
            col += (np.array(rgb, dtype=np.float32) - col) * amount[..., None]

    soft_b = soft[box]
    rim_shift = max(1, round(3 * unit))
    rim = np.clip(soft_b - _shift(soft, rim_shift, rim_shift)[box], 0.0, 1.0)
    factor = 0.84 + 0.16 * np.clip((soft_b - 0.5) * 2.2, 0.0, 1.0)
    factor *= 1.0 + 0.05 * _smooth_noise(h, w, (7, 5), rng)[box]
    factor *= 1.04 - 0.07 * (yy / h) - 0.025 * (xx / w)
    factor *= (1 - 0.42 * mb["seam"]) * (1 - 0.4 * mb["shade"])
    if mb["rib"].any():
        factor *= 1 - 0.16 * mb["rib"] * (0.5 + 0.5 * np.sin(xx * (2 * math.pi / 2.6)))
    col *= factor[..., None]
    col += (
        70.0 * cv.gloss * rim + 55.0 * mb["light"] * (1.0 - mb["seam"]) + 2.2 * _grain(y1 - y0, x1 - x0, rng)
    )[..., None]
    bg[box] += (col - bg[box]) * alpha[box][..., None]
    return Image.fromarray(np.clip(bg + 0.5, 0, 255).astype(np.uint8), "RGB")


def render_product(
    product: DemoProduct, *, background: RGB, size: tuple[int, int] = IMAGE_SIZE
) -> Image.Image:
    """The product shot of a demo product; the same product always looks the same."""
    kind = product.garment_kind
    return render_garment(
        kind.family,
        kind.key,
        COLOURS[product.colour].rgb,
        product.pattern,
        background=background,
        size=size,
        rng=np.random.default_rng(product.render_seed),
        accent=COLOURS[product.accent].rgb,
    )


# --------------------------------------------------------------------------------------------------
# Writing the folder
# --------------------------------------------------------------------------------------------------


def parse_background(text: str) -> RGB:
    """``cream``, ``grey`` or ``R,G,B`` (each 0..255) to a colour; ValueError otherwise."""
    name = text.strip().lower()
    if name in BACKGROUNDS:
        return BACKGROUNDS[name]
    parts = [p.strip() for p in name.split(",")]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"background must be {', '.join(BACKGROUNDS)} or R,G,B; got {text!r}")
    rgb = (int(parts[0]), int(parts[1]), int(parts[2]))
    if not all(0 <= c <= 255 for c in rgb):
        raise ValueError(f"background channels must be 0..255; got {text!r}")
    return rgb


def _check_arguments(*, n_outfits: int, seed: int, id_prefix: str, background: Sequence[int]) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}")
    if isinstance(n_outfits, bool) or not isinstance(n_outfits, int) or n_outfits < 1:
        raise ValueError(f"n_outfits must be a positive integer; got {n_outfits!r}")
    if n_outfits > 100_000:
        raise ValueError(f"n_outfits must be at most 100000; got {n_outfits}")
    if not _PREFIX_RE.fullmatch(id_prefix):
        raise ValueError(
            f"id_prefix must be 1 to 3 capital letters (item ids look like 'D1000123-02'); got {id_prefix!r}"
        )
    if len(background) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in background):
        raise ValueError(f"background must be three integers 0..255; got {background!r}")


def _is_demo_folder(root: Path) -> bool:
    try:
        marker = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("generator") == GENERATOR


def _write_text_atomic(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".part")
    with open(part, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, path)


def _csv_text(columns: Sequence[str], rows: Iterable[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def _prepare_folder(root: Path) -> None:
    """Create the folder, or make sure the one there is ours; then drop the old CSVs so a run that
    dies half-way never leaves a complete-looking data set with mismatched images."""
    if root.exists() and not root.is_dir():
        raise NotADemoFolderError(f"{root} exists and is not a folder; not writing demo data there")
    if root.is_dir() and any(root.iterdir()) and not _is_demo_folder(root):
        raise NotADemoFolderError(
            f"{root} is not empty and was not written by the demo generator (no {MARKER_NAME}); "
            "refusing to overwrite it. Choose an empty or new folder."
        )
    root.mkdir(parents=True, exist_ok=True)
    for name in ("products.csv", "outfits.csv"):
        (root / name).unlink(missing_ok=True)


def _marker_text(*, complete: bool, n_products: int | None, settings: dict[str, object]) -> str:
    marker = {"generator": GENERATOR, "format_version": FORMAT_VERSION, "complete": complete, **settings}
    marker["n_products"] = n_products
    return json.dumps(marker, indent=2) + "\n"


def _save_jpeg(image: Image.Image, path: Path) -> None:
    part = path.with_name(path.name + ".part")
    image.save(part, format="JPEG", quality=90, optimize=False)
    os.replace(part, path)


def write_demo_dataset(
    path: str | os.PathLike[str],
    *,
    n_outfits: int = 120,
    seed: int = 0,
    background: tuple[int, int, int] = CREAM,
    id_prefix: str = "D",
) -> DemoSummary:
    """Write a demo outfit data set in the MANGO layout to ``path``.

    Side effects: creates ``path`` (and ``images/``) if needed, writes ``demo_dataset.json``,
    ``images/<id>.jpg``, ``outfits.csv`` and, last, ``products.csv``; every file goes to a ``.part``
    name first and is moved into place, and stale images of an earlier run are removed. Idempotent:
    the same arguments give the same CSV bytes. Raises ``NotADemoFolderError`` if ``path`` holds
    anything this function did not write, ``ValueError`` for bad arguments.
    """
    _check_arguments(n_outfits=n_outfits, seed=seed, id_prefix=id_prefix, background=background)
    background = (int(background[0]), int(background[1]), int(background[2]))
    root = Path(path)
    products, outfits = build_demo_dataset(n_outfits=n_outfits, seed=seed, id_prefix=id_prefix)

    _prepare_folder(root)
    settings: dict[str, object] = {
        "seed": seed,
        "n_outfits": n_outfits,
        "background": list(background),
        "id_prefix": id_prefix,
    }
    _write_text_atomic(root / MARKER_NAME, _marker_text(complete=False, n_products=None, settings=settings))

    images = root / "images"
    images.mkdir(exist_ok=True)
    wanted = {Path(p.filename).name for p in products}
    for old in images.iterdir():
        if old.is_file() and (old.name not in wanted or old.name.endswith(".part")):
            old.unlink()

    def render(product: DemoProduct) -> None:
        _save_jpeg(render_product(product, background=background), root / product.filename)

    # numpy and PIL release the GIL for most of the work, so threads use the second core.
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        for _ in pool.map(render, products):
            pass

    _write_text_atomic(
        root / "outfits.csv",
        _csv_text(
            OUTFIT_COLUMNS,
            [{"cod_outfit": o.outfit_id, "cod_modelo_color": i} for o in outfits for i in o.item_ids],
        ),
    )
    _write_text_atomic(root / "products.csv", _csv_text(PRODUCT_COLUMNS, [p.row() for p in products]))
    _write_text_atomic(
        root / MARKER_NAME, _marker_text(complete=True, n_products=len(products), settings=settings)
    )
    return DemoSummary(n_products=len(products), n_outfits=len(outfits), path=root)
