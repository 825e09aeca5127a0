"""The shopper's garments as suggestions read them: catalog items and analysed photos.

What every answer needs of a garment (slot, type, the colour a reason names) is read with the item;
what only the live ranking needs (the image embedding, the compatibility model's inputs) is read
when it ranks, so an answer the build worked out ahead of time reads no analysis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any, Final

import numpy as np

from recsys.index import IndexSet
from recsys.slots import CATALOG
from vision.labels import catalogued_attributes

from . import fresh_items, selectors
from .compat import Blob, garment_attributes, likeliest
from .models import CatalogItem, GarmentReading, ImageAnalysis, LookRequest, embedding_vector

# The attribute a reason names: the predicted colour ("navy", "camel") reads as a stylist speaks.
REASON_ATTRIBUTE: Final = "colour"


@dataclass(frozen=True)
class LiveInputs:
    """What the live ranking reads of a garment (an answer stored by the build reads neither)."""

    embedding: np.ndarray  # raw image embedding under the index's image model
    compat_row: tuple[Blob, Blob, dict[str, str]]  # what the compatibility model reads


@dataclass(frozen=True)
class ShopperGarment:
    """One garment the shopper has: a catalog item, or an analysed photo."""

    slot: str
    type_name: str
    colour: str  # predicted, for reasons ("" when unknown)
    # Read on first use: a catalog item the build answered needs no analysis read.
    live_inputs: Callable[[], LiveInputs]
    catalog_item: int | None = None

    @cached_property
    def _live(self) -> LiveInputs:
        return self.live_inputs()

    @property
    def embedding(self) -> np.ndarray:
        return self._live.embedding

    @property
    def compat_row(self) -> tuple[Blob, Blob, dict[str, str]]:
        return self._live.compat_row


def catalog_garments(
    items: Sequence[CatalogItem], *, model_spec: str, index: IndexSet | None = None
) -> list[ShopperGarment]:
    """The shopper's catalog items as garments, in the order given; NotAnalysed if one is not yet.

    With the active build (`index`), an item it holds and that was not analysed again since needs
    no read now: its colour is the build's, and its analysis is read (one query for all the items)
    only if the live path ranks. The others' analyses are read at once."""
    fresh = fresh_items.current(index) if index is not None else None
    built = {
        item.pk
        for item in items
        if index is not None
        and index.row_of(CATALOG, item.category.slot, item.pk) is not None
        and (fresh is None or item.pk not in fresh)
    }
    analyses = _CatalogAnalyses(items, model_spec)
    if len(built) < len(items):
        analyses.read()
    garments = []
    for item in items:
        category = item.category
        colour = (
            index.label(category.slot, item.pk)
            if index is not None and item.pk in built
            else likeliest(analyses.predicted(item.pk).get(REASON_ATTRIBUTE))
        )
        garments.append(
            ShopperGarment(
                slot=category.slot,
                type_name=category.name,
                colour=colour,
                live_inputs=partial(analyses.live_inputs, item),
                catalog_item=item.pk,
            )
        )
    return garments


class _CatalogAnalyses:
    """The analyses of a request's catalog items under one model spec, read in one query when
    first needed."""

    def __init__(self, items: Sequence[CatalogItem], model_spec: str) -> None:
        self._items, self._spec = items, model_spec
        self._rows: dict[int, tuple[Blob, Blob, dict[str, Any]]] | None = None

    def read(self) -> dict[int, tuple[Blob, Blob, dict[str, Any]]]:
        if self._rows is None:
            self._rows = {
                key: (image, text, predicted or {})
                for key, image, text, predicted in ImageAnalysis.objects.filter(
                    catalog_item__in=[item.pk for item in self._items],
                    model_spec=self._spec,
                    status="ok",
                    embedding__isnull=False,
                ).values_list("catalog_item_id", "embedding", "text_embedding", "attributes")
            }
            for item in self._items:
                if item.pk not in self._rows:
                    raise selectors.NotAnalysed(
                        f"item {item.external_id} has not been analysed with {self._spec} yet"
                    )
        return self._rows

    def predicted(self, key: int) -> dict[str, Any]:
        return self.read()[key][2]

    def live_inputs(self, item: CatalogItem) -> LiveInputs:
        image, text, predicted = self.read()[item.pk]
        category = item.category
        family = category.parent.name if category.parent is not None else ""
        return LiveInputs(
            embedding=embedding_vector(image or b""),
            compat_row=(
                image,
                text,
                garment_attributes(
                    category.slot,
                    family,
                    category.name,
                    predicted,
                    catalogued_attributes(item.attributes or {}, gender=item.gender),
                ),
            ),
        )


def photo_garment(analysis: GarmentReading, *, slot: str) -> ShopperGarment:
    """An analysed photo (a look), or one garment found in it, as a garment of `slot` (given by the
    shopper or predicted). Its predicted category should come with its parent (select_related)."""
    predicted = analysis.attributes or {}
    category = analysis.predicted_category
    same_slot = category is not None and category.slot == slot and category.level == "type"
    type_name = category.name if same_slot and category is not None else ""
    family = category.parent.name if same_slot and category is not None and category.parent else ""
    inputs = LiveInputs(
        embedding=analysis.vector(),
        compat_row=(
            analysis.embedding,
            analysis.text_embedding,
            garment_attributes(slot, family, type_name, predicted),
        ),
    )
    return ShopperGarment(
        slot=slot,
        type_name=type_name,
        colour=likeliest(predicted.get(REASON_ATTRIBUTE)),
        live_inputs=lambda: inputs,
    )


def look_garment(look: LookRequest, *, model_spec: str) -> ShopperGarment:
    """A finished look's garment (its photo's analysis under `model_spec`); NotAnalysed if not ready."""
    analysis = (
        ImageAnalysis.objects.select_related("predicted_category__parent")
        .filter(look=look, model_spec=model_spec, status="ok")
        .first()
    )
    slot = (look.result or {}).get("garment_slot") or look.garment_slot
    if look.result is not None and not look.result.get("garments", [None]):
        raise selectors.NotAnalysed(f"look {look.pk} shows no garment: {look.result.get('reason')}")
    if analysis is None or not slot:
        raise selectors.NotAnalysed(f"look {look.pk} has no analysed garment under {model_spec} yet")
    return photo_garment(analysis, slot=slot)
