"""The category tree and how each data set's vocabulary lands in it (slot → family → type)."""

from __future__ import annotations

import time

from django.db import transaction

from vision import labels

from .models import Category, Slot

# The data sets' vocabularies are mapped in one place, shared with training: vision.labels.
UnmappedCategory = labels.UnmappedCategory


def mango_slot(category: str, family: str) -> Slot:
    return Slot(labels.mango_slot(category, family))


def myntra_slot(master: str, sub: str, article_type: str) -> Slot:
    return Slot(labels.myntra_slot(master, sub, article_type))


def slot_for_category_name(name: str) -> Slot:
    """A category as an evaluation file or API client names it (a slot, or a data set category)."""
    return Slot(labels.slot_for_category_name(name))


def recent_tree(max_age: float = 60.0) -> CategoryTree:
    """A tree shared by one process's calls for up to `max_age` seconds: an analysis worker saves
    a batch's predicted categories every second or so, and each new tree asked again for every
    path (a category an editor removes meanwhile is forgotten by the next tree)."""
    global _recent
    made, tree = _recent
    if time.monotonic() - made >= max_age:
        tree = CategoryTree()
        _recent = (time.monotonic(), tree)
    return tree


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
        _, family_name, type_name = labels.category_path(slot.value, family, type_)
        root = self._node(None, slot.value, Category.Level.SLOT, slot.value)
        family_node = self._node(root, family_name, Category.Level.FAMILY, slot.value)
        return self._node(family_node, type_name, Category.Level.TYPE, slot.value)

    def slot_root(self, slot: Slot) -> Category:
        return self._node(None, slot.value, Category.Level.SLOT, slot.value)


_recent: tuple[float, CategoryTree] = (-float("inf"), CategoryTree())
