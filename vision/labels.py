"""How each data set's labels land in our vocabulary: slot → family → type, attributes, and a text.

One home for the mapping, used by the importers (`outfits/`) and by training (`vision.train`), so a
category the model predicts is the same node the importer created. Plain Python: no Django, no torch.

Attributes are normalised across data sets where they mean the same thing (gender, colour group) and
kept per data set where they do not (MANGO's fabric codes, Myntra's usage). MANGO's colour groups are
the house convention for `colour_group` (black is in GREY, camel and beige in WHITE, khaki in BROWN);
Myntra's base colours are mapped into those groups and also kept as the finer `colour`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# The slots a look is made of; same values as outfits.models.Slot and recsys.slots.SLOTS.
SLOTS: Final = ("top", "bottom", "dress", "outerwear", "shoes", "bag", "accessory")


class UnmappedCategory(ValueError):
    """The row's labels name no garment slot we complete looks with."""


# MANGO files put shoes and bags under one "accessories" category; their family says which slot.
_MANGO_CATEGORY_SLOTS: Final = {
    "tops": "top",
    "bottoms": "bottom",
    "dresses, jumpsuits and complete set": "dress",
    "outerwear": "outerwear",
}
_MANGO_ACCESSORY_FAMILY_SLOTS: Final = {"footwear": "shoes", "bags": "bag"}

_MYNTRA_SUBCATEGORY_SLOTS: Final = {
    "topwear": "top",
    "bottomwear": "bottom",
    "dress": "dress",
    "shoes": "shoes",
    "sandal": "shoes",
    "flip flops": "shoes",
    "bags": "bag",
}
# Myntra files jackets and blazers under Topwear; a shopper completes a look with them as outerwear.
_MYNTRA_OUTERWEAR_TYPES: Final = {
    "jackets",
    "blazers",
    "coats",
    "rain jacket",
    "nehru jackets",
    "waistcoat",
    "shrug",
}
# Not garments a look is completed with: fragrances, free gifts, innerwear, sports equipment.
_MYNTRA_NOT_WORN_MASTERS: Final = {"personal care", "free items", "sporting goods", "home"}
_MYNTRA_NOT_WORN_SUBCATEGORIES: Final = {"innerwear", "loungewear and nightwear", "free gifts", "fragrance"}

# Names evaluation files use for a target category, mapped to our slots.
_CATEGORY_NAME_SLOTS: Final = {
    **_MANGO_CATEGORY_SLOTS,
    "top": "top",
    "bottom": "bottom",
    "topwear": "top",
    "bottomwear": "bottom",
    "dresses": "dress",
    "shoes": "shoes",
    "footwear": "shoes",
    "bags": "bag",
}


def mango_slot(category: str, family: str) -> str:
    key = category.strip().lower()
    if key in _MANGO_CATEGORY_SLOTS:
        return _MANGO_CATEGORY_SLOTS[key]
    if key.startswith("acces"):  # MANGO spells it "Accesories"
        return _MANGO_ACCESSORY_FAMILY_SLOTS.get(family.strip().lower(), "accessory")
    raise UnmappedCategory(f"unknown des_product_category {category!r}")


def myntra_slot(master: str, sub: str, article_type: str) -> str:
    master_key, sub_key, type_key = master.strip().lower(), sub.strip().lower(), article_type.strip().lower()
    if master_key in _MYNTRA_NOT_WORN_MASTERS or sub_key in _MYNTRA_NOT_WORN_SUBCATEGORIES:
        raise UnmappedCategory(f"{master}/{sub} is not a garment a look is completed with")
    if type_key in _MYNTRA_OUTERWEAR_TYPES:
        return "outerwear"
    if sub_key in _MYNTRA_SUBCATEGORY_SLOTS:
        return _MYNTRA_SUBCATEGORY_SLOTS[sub_key]
    if master_key == "accessories":
        return "accessory"
    raise UnmappedCategory(f"unknown category {master}/{sub}/{article_type}")


def slot_for_category_name(name: str) -> str:
    """A category as an evaluation file or API client names it (a slot, or a data set category)."""
    key = name.strip().lower()
    if key in SLOTS:
        return key
    if key in _CATEGORY_NAME_SLOTS:
        return _CATEGORY_NAME_SLOTS[key]
    raise UnmappedCategory(f"unknown category {name!r}; use one of {', '.join(SLOTS)}")


def category_path(slot: str, family: str, type_: str) -> tuple[str, str, str]:
    """The (slot, family, type) names a row lands on: the importer's tree and the model's classes."""
    family_name = family.strip() or "Other"
    return slot, family_name, type_.strip() or family_name


# --- Attributes ------------------------------------------------------------------------------

# Myntra base colours into MANGO's colour groups (the house convention, see the module docstring).
_MYNTRA_COLOUR_GROUPS: Final = {
    "black": "GREY", "grey": "GREY", "charcoal": "GREY", "silver": "GREY", "steel": "GREY",
    "grey melange": "GREY", "metallic": "GREY", "gunmetal": "GREY",
    "white": "WHITE", "off white": "WHITE", "cream": "WHITE", "beige": "WHITE", "skin": "WHITE",
    "gold": "WHITE", "nude": "PINK", "champagne": "WHITE", "taupe": "BROWN", "khaki": "BROWN",
    "blue": "BLUE", "navy blue": "BLUE", "turquoise blue": "BLUE", "teal": "BLUE",
    "red": "RED", "maroon": "RED", "burgundy": "RED", "rust": "ORANGE", "coffee brown": "BROWN",
    "brown": "BROWN", "tan": "BROWN", "bronze": "BROWN", "copper": "BROWN", "mushroom brown": "BROWN",
    "green": "GREEN", "olive": "GREEN", "sea green": "GREEN", "lime green": "GREEN",
    "fluorescent green": "GREEN",
    "yellow": "YELLOW", "mustard": "YELLOW", "orange": "ORANGE", "peach": "ORANGE",
    "pink": "PINK", "magenta": "PINK", "rose": "PINK",
    "purple": "PURPLE", "lavender": "PURPLE", "mauve": "PURPLE",
}  # fmt: skip

# MANGO's colour specifications are Spanish shop names; the common ones in English, for titles.
_MANGO_COLOUR_NAMES: Final = {
    "NEGRO": "black", "BLANCO": "white", "OFFWHITE": "off-white", "CRUDO": "ecru", "ORO": "gold",
    "BEIGE": "beige", "ARENA": "sand", "CAMEL": "camel", "PIEDRA": "stone", "MARFIL": "ivory",
    "NAVY": "navy", "AZUL": "blue", "MARINO": "navy", "CELESTE": "sky blue", "TEJANO MEDIO": "mid denim",
    "TEJANO OSCURO": "dark denim", "TEJANO CLARO": "light denim", "TEJANO NEGRO": "black denim",
    "ROSA": "pink", "ROSA PASTEL": "pastel pink", "NUDE": "nude", "CORAL": "coral", "MOSTAZA": "mustard",
    "AMARILLO": "yellow", "CARAMELO": "caramel", "ROJO": "red", "CALDERO": "brick red", "GRANATE": "burgundy",
    "VINO": "wine", "BURDEOS": "burgundy", "GRIS": "grey", "PLATA": "silver", "ANTRACITA": "charcoal",
    "KHAKI": "khaki", "MARRON": "brown", "CHOCOLATE": "chocolate", "CUERO": "leather brown",
    "VERDE": "green", "BOTELLA": "bottle green", "NARANJA": "orange", "TERRACOTA": "terracotta",
    "MALVA": "mauve", "LILA": "lilac",
    # The rest of mango-old's names: a name missing here made a title of the colour group (a pearl
    # blouse was "Grey", a tobacco top "Brown").
    "GRIS CLARO VIGORE": "light grey marl", "GRIS MEDIO VIGORE": "mid grey marl",
    "GRIS OSCURO VIGORE": "dark grey marl", "PERLA": "pearl grey", "GUNMETAL": "gunmetal",
    "TEJANO GRIS": "grey denim", "TEJANO GRIS OSCURO": "dark grey denim", "TEJANO SOFT": "soft-wash denim",
    "DIRTY OSCURO": "dark dirty-wash denim", "BLEACH": "bleached denim", "BLUEBLACK": "blue-black",
    "AZUL NOCHE": "midnight blue", "ELECTRICO": "electric blue", "PORCELANA": "porcelain blue",
    "TURQUESA": "turquoise", "INDIGO": "indigo", "HIELO": "ice white",
    "AMARILLO PASTEL": "pastel yellow", "AMARILLO FLUOR": "neon yellow", "VAINILLA": "vanilla",
    "LIMA": "lime", "OCRE": "ochre", "CANELA": "cinnamon", "CURRY": "curry",
    "AGUA": "aqua", "MENTA": "mint", "VERDE PASTEL": "pastel green", "MANZANA": "apple green",
    "BILLAR": "billiard green", "MUSGO": "moss green", "ESMERALDA": "emerald",
    "TABACO": "tobacco", "COGNAC": "cognac", "TOPO": "taupe", "TAUPE": "taupe", "COFFEE": "coffee",
    "MISTERIO": "dark brown", "COBRE": "copper", "OLIVA": "olive", "CAZA": "hunter khaki",
    "FRESA": "strawberry", "CEREZA": "cherry", "BERMELLON": "vermilion",
    "PEACH": "peach", "MANDARINA": "tangerine", "SALMON": "salmon", "PIMENTON": "paprika",
    "NARANJA PASTEL": "pastel orange",
    "ROSA LIGHT": "light pink", "ROSA PALO": "blush pink", "ROSA FLUOR": "neon pink", "FUCSIA": "fuchsia",
    "CHICLE": "bubblegum pink", "GERANIO": "geranium", "MORADO": "purple", "VIOLETA": "violet",
}  # fmt: skip

# MANGO's fabric codes, in words a shopper uses ("C-COMPLEMENTOS" is the accessories line: no fabric).
_MANGO_FABRICS: Final = {
    "P-PLANA": "woven", "K-CIRCULAR": "jersey", "T-TRICOT": "knit", "J-JEANS": "denim",
    "O-POLIPIEL": "faux leather", "L-PIEL": "leather",
}  # fmt: skip

# Codes that name a line rather than a fabric: no word for them.
_MANGO_FABRIC_CODES: Final = frozenset({"C-COMPLEMENTOS", *_MANGO_FABRICS})

_GENDERS: Final = {
    "female": "women", "women": "women", "male": "men", "men": "men", "unisex": "unisex",
    "girls": "girls", "boys": "boys",
}  # fmt: skip


def mango_attributes(row: dict[str, str]) -> dict[str, str]:
    """Attribute labels of one MANGO products.csv row (only those it carries)."""
    found = {
        "colour_group": row.get("des_agrup_color_eng", "").strip().upper(),
        "fabric": row.get("des_fabric", "").strip().upper(),
        "gender": _GENDERS.get(row.get("des_sex", "").strip().lower(), ""),
        "age_group": row.get("des_age", "").strip().lower(),
        "line": row.get("des_line", "").strip().upper(),
    }
    return {name: value for name, value in found.items() if value}


def myntra_attributes(row: dict[str, str]) -> dict[str, str]:
    """Attribute labels of one Myntra styles.csv row (only those it carries)."""
    colour = row.get("baseColour", "").strip()
    gender = row.get("gender", "").strip().lower()
    found = {
        "colour": colour.lower(),
        "colour_group": _MYNTRA_COLOUR_GROUPS.get(colour.lower(), ""),
        "gender": _GENDERS.get(gender, ""),
        "age_group": ("kids" if gender in {"boys", "girls"} else "adult") if gender else "",
        "season": row.get("season", "").strip().lower(),
        "usage": row.get("usage", "").strip().lower() if row.get("usage", "").strip() != "NA" else "",
    }
    return {name: value for name, value in found.items() if value}


def catalogued_attributes(stored: Mapping[str, str], *, gender: str = "") -> dict[str, str]:
    """Attribute labels from a garment's catalogue fields as the importers store them (MANGO's
    columns or Myntra's, whichever the row carries), in the names the model predicts, plus "colour":
    the most specific colour the row names. `gender` is the catalog item's own field. A shop's own
    fields (API upserts) give only the gender."""
    if "master_category" in stored:  # a Myntra row: baseColour, season and usage kept by name
        row = {
            "baseColour": stored.get("colour", ""),
            "gender": gender,
            "season": stored.get("season", ""),
            "usage": stored.get("usage", ""),
        }
        return myntra_attributes(row)
    if "des_line" in stored or "des_color_specification_esp" in stored:  # a MANGO row
        found = mango_attributes(
            {
                "des_agrup_color_eng": stored.get("colour", ""),
                "des_fabric": stored.get("fabric", ""),
                "des_sex": stored.get("des_sex", "") or gender,
                "des_age": stored.get("des_age", ""),
                "des_line": stored.get("des_line", ""),
            }
        )
        colour = mango_colour({"des_color_specification_esp": stored.get("des_color_specification_esp", "")})
        if colour:
            found["colour"] = colour
        return found
    known = _GENDERS.get(gender.strip().lower(), "")
    return {"gender": known} if known else {}


def garment_words(*, colour: str = "", fabric: str = "", kind: str = "") -> str:
    """A shopper's words for a garment from its labels: "camel woven coat". `fabric` may be one of
    MANGO's codes (what the attribute head predicts) or a word already; it is left out when the
    colour says it already ("dark denim jeans", not "dark denim denim jeans")."""
    colour = colour.strip().lower()
    fabric = fabric.strip()
    fabric_word = _MANGO_FABRICS.get(
        fabric.upper(), "" if fabric.upper() in _MANGO_FABRIC_CODES else fabric.lower()
    )
    if fabric_word and fabric_word in colour.split():
        fabric_word = ""
    return " ".join(word for word in (colour, fabric_word, kind.strip().lower()) if word)


def mango_colour(row: Mapping[str, str]) -> str:
    """The most specific colour a MANGO row names, in a shopper's words: its colour specification
    in English ("CAMEL" → "camel"), else that specification as the shop wrote it (a name we have no
    English for is still the colour, where the group would name another: MANGO files camel under
    WHITE and black under GREY), and only for a row without one, the colour group."""
    spec = " ".join(row.get("des_color_specification_esp", "").split()).upper()
    if spec:
        return _MANGO_COLOUR_NAMES.get(spec, spec.lower())
    return row.get("des_agrup_color_eng", "").strip().lower()


def mango_title(row: Mapping[str, str]) -> str:
    """A shopper's words for a MANGO product without a title: "camel woven coat".

    The most specific colour the row gives (`mango_colour`), then the fabric, then the product type.
    """
    kind = row.get("des_product_type", "").strip() or row.get("des_product_family", "").strip()
    return garment_words(colour=mango_colour(row), fabric=row.get("des_fabric", ""), kind=kind)
