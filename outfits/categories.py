"""The category tree and how each data set's vocabulary lands in it (slot → family → type)."""

from __future__ import annotations

from django.db import transaction

from .models import Category, Slot

# MANGO files put shoes and bags under one "accessories" category; their family says which slot.
_MANGO_CATEGORY_SLOTS = {
    "tops": Slot.TOP,
    "bottoms": Slot.BOTTOM,
    "dresses, jumpsuits and complete set": Slot.DRESS,
    "outerwear": Slot.OUTERWEAR,
}
_MANGO_ACCESSORY_FAMILY_SLOTS = {"footwear": Slot.SHOES, "bags": Slot.BAG}

_MYNTRA_SUBCATEGORY_SLOTS = {
    "topwear": Slot.TOP,
    "bottomwear": Slot.BOTTOM,
    "dress": Slot.DRESS,
    "shoes": Slot.SHOES,
    "sandal": Slot.SHOES,
    "flip flops": Slot.SHOES,
    "bags": Slot.BAG,
}
# Myntra files jackets and blazers under Topwear; a shopper completes a look with them as outerwear.
_MYNTRA_OUTERWEAR_TYPES = {
    "jackets",
    "blazers",
    "coats",
    "rain jacket",
    "nehru jackets",
    "waistcoat",
    "shrug",
}
# Not garments a look is completed with: fragrances, free gifts, innerwear, sports equipment.
_MYNTRA_NOT_WORN_MASTERS = {"personal care", "free items", "sporting goods", "home"}
_MYNTRA_NOT_WORN_SUBCATEGORIES = {"innerwear", "loungewear and nightwear", "free gifts", "fragrance"}

# Names evaluation files use for a target category, mapped to our slots.
_CATEGORY_NAME_SLOTS = {
    **{name: slot for name, slot in _MANGO_CATEGORY_SLOTS.items()},
    "top": Slot.TOP,
    "bottom": Slot.BOTTOM,
    "topwear": Slot.TOP,
    "bottomwear": Slot.BOTTOM,
    "dresses": Slot.DRESS,
    "shoes": Slot.SHOES,
    "footwear": Slot.SHOES,
    "bags": Slot.BAG,
}


class UnmappedCategory(ValueError):
    """The row's labels name no garment slot we complete looks with."""


def mango_slot(category: str, family: str) -> Slot:
    key = category.strip().lower()
    if key in _MANGO_CATEGORY_SLOTS:
        return _MANGO_CATEGORY_SLOTS[key]
    if key.startswith("acces"):  # MANGO spells it "Accesories"
        return _MANGO_ACCESSORY_FAMILY_SLOTS.get(family.strip().lower(), Slot.ACCESSORY)
    raise UnmappedCategory(f"unknown des_product_category {category!r}")


def myntra_slot(master: str, sub: str, article_type: str) -> Slot:
    master_key, sub_key, type_key = master.strip().lower(), sub.strip().lower(), article_type.strip().lower()
    if master_key in _MYNTRA_NOT_WORN_MASTERS or sub_key in _MYNTRA_NOT_WORN_SUBCATEGORIES:
        raise UnmappedCategory(f"{master}/{sub} is not a garment a look is completed with")
    if type_key in _MYNTRA_OUTERWEAR_TYPES:
        return Slot.OUTERWEAR
    if sub_key in _MYNTRA_SUBCATEGORY_SLOTS:
        return _MYNTRA_SUBCATEGORY_SLOTS[sub_key]
    if master_key == "accessories":
        return Slot.ACCESSORY
    raise UnmappedCategory(f"unknown category {master}/{sub}/{article_type}")


def slot_for_category_name(name: str) -> Slot:
    """A category as an evaluation file or API client names it (a slot, or a data set category)."""
    key = name.strip().lower()
    if key in Slot.values:
        return Slot(key)
    if key in _CATEGORY_NAME_SLOTS:
        return _CATEGORY_NAME_SLOTS[key]
    raise UnmappedCategory(f"unknown category {name!r}; use one of {', '.join(Slot.values)}")


class CategoryTree:
    """Get-or-create category paths, memoised for one import so each path costs one query once."""

    def __init__(self) -> None:
        self._nodes: dict[tuple[int | None, str], Category] = {}

    def _node(self, parent: Category | None, name: str, level: str, slot: str) -> Category:
        key = (parent.pk if parent else None, name)
        node = self._nodes.get(key)
        if node is None:
            with transaction.atomic():
                node, _ = Category.objects.get_or_create(
                    parent=parent, name=name, defaults={"level": level, "slot": slot}
                )
            self._nodes[key] = node
        return node

    def leaf(self, slot: Slot, family: str, type_: str) -> Category:
        root = self._node(None, slot.value, Category.Level.SLOT, slot.value)
        family_node = self._node(root, family.strip() or "Other", Category.Level.FAMILY, slot.value)
        return self._node(family_node, type_.strip() or family_node.name, Category.Level.TYPE, slot.value)

    def slot_root(self, slot: Slot) -> Category:
        return self._node(None, slot.value, Category.Level.SLOT, slot.value)
