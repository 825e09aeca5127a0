"""What an answer reads of its candidates: shop facts for the filters, and what a row shows.

The busiest path of the API (a storefront's complete-the-look) reads the facts of a few dozen
candidates and shows about 30 of them. Both come from one SQL statement per request (not an ORM
queryset for the facts and model instances for the rows: compiling querysets and building models
took a third of a cold answer's time), and the library outfits an answer cites come from a table
read once per build and library change (outfit_refs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from recsys.rank.filters import CatalogFacts

from . import answer_cache
from .models import CatalogItem, Category, LibraryOutfit


@dataclass(frozen=True)
class ShownItem:
    """A catalog item as a suggestion shows it (the API's SuggestedItem, the demo's cards): what a
    storefront row needs, no more. The whole item is at /items/{id}/."""

    key: int
    external_id: str
    title: str
    brand: str
    price: Decimal | None
    in_stock: bool
    link: str
    image: str  # the photo's name in storage ("" without one)
    slot: str
    type_name: str

    @property
    def image_url(self) -> str | None:
        """The photo's URL as storage gives it (site-relative), None without one: worked out for
        the rows shown only (a URL costs 40 us, and an answer reads some 160 candidates)."""
        if not self.image:
            return None
        url: str = CatalogItem._meta.get_field("image").storage.url(self.image)
        return url


def catalog_rows(keys: Iterable[int]) -> tuple[dict[int, CatalogFacts], dict[int, ShownItem]]:
    """Facts and shown fields of the catalog items with these keys (deleted ones are missing), in
    one statement."""
    wanted = sorted({int(key) for key in keys})
    if not wanted:
        return {}, {}
    items, categories = CatalogItem._meta.db_table, Category._meta.db_table
    # One array parameter on PostgreSQL; a placeholder per key elsewhere (the demo's SQLite).
    postgres = connection.vendor == "postgresql"
    matching = "= ANY(%s)" if postgres else f"IN ({', '.join(['%s'] * len(wanted))})"
    statement = (
        f"SELECT i.id, i.external_id, i.title, i.brand, i.price, i.in_stock, i.link, i.image, "
        f"i.gender, c.name, c.slot FROM {items} i JOIN {categories} c ON c.id = i.category_id "
        f"WHERE i.id {matching}"
    )
    facts: dict[int, CatalogFacts] = {}
    shown: dict[int, ShownItem] = {}
    with connection.cursor() as cursor:
        cursor.execute(statement, [wanted] if postgres else wanted)
        for key, external_id, title, brand, price, in_stock, link, image, gender, type_name, slot in cursor:
            facts[key] = CatalogFacts(
                key=key,
                type_name=type_name,
                in_stock=bool(in_stock),
                price=float(price) if price is not None else None,
                gender=gender,
                brand=brand,
            )
            shown[key] = ShownItem(
                key=key,
                external_id=external_id,
                title=title,
                brand=brand,
                price=price if price is None or isinstance(price, Decimal) else Decimal(str(price)),
                in_stock=bool(in_stock),
                link=link,
                image=image or "",
                slot=slot,
                type_name=type_name,
            )
    return facts, shown


_refs_lock = threading.Lock()
_refs: dict[int, dict[int, Mapping[str, Any]]] = {}
_REF_FIELDS = ("id", "external_id", "source")


def outfit_refs(outfit_ids: Iterable[int]) -> dict[int, Mapping[str, Any]]:
    """id, external_id and source of the cited library outfits that still exist. Every library
    outfit's reference is read once per process and catalog version (a library outfit's save or
    delete bumps it): a library is thousands of rows, cited on every request."""
    stamp = answer_cache.version()
    with _refs_lock:
        refs = _refs.get(stamp)
        if refs is None:
            refs = {row["id"]: row for row in LibraryOutfit.objects.values(*_REF_FIELDS)}
            _refs.clear()
            _refs[stamp] = refs
    wanted = set(outfit_ids)
    unknown = wanted - refs.keys()
    if unknown:  # added without a version bump (a bulk insert, Redis down): read them, once
        found = {row["id"]: row for row in LibraryOutfit.objects.filter(id__in=unknown).values(*_REF_FIELDS)}
        with _refs_lock:
            refs.update(found)
    return {outfit: refs[outfit] for outfit in wanted if outfit in refs}
