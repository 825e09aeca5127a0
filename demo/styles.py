"""Style rules and the data set in memory: every demo outfit is built by one of a handful of named
styles (palette, allowed patterns and garment families per slot, a few stylist habits), and products
are reused across outfits, so a recommender that learns from the library has something to find.
Deterministic for a seed; writes nothing."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .vocabulary import BRAND, COLOURS, CREAM, GARMENT_KINDS, SLOTS, GarmentKind, luminance

_PREFIX_RE = re.compile(r"[A-Z]{1,3}")

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


def _accent_for(colour: str, palette: Sequence[str], rng: np.random.Generator) -> str:
    """A second colour for stripes, checks and dots: from the style, clearly lighter or darker."""
    base = luminance(COLOURS[colour].rgb)
    contrasting = [c for c in dict.fromkeys(palette) if abs(luminance(COLOURS[c].rgb) - base) > 55]
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
    check_arguments(n_outfits=n_outfits, seed=seed, id_prefix=id_prefix, background=CREAM)
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


def check_arguments(*, n_outfits: int, seed: int, id_prefix: str, background: Sequence[int]) -> None:
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
