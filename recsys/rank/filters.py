"""Business filters a shop applies to suggestions: stock, price, gender, brand, the query's own type.

Pure: the caller loads the facts of the candidate catalog items (outfits.selectors) and passes them
in. A fact the shop does not know (no price, no brand) never excludes an item from a filter on it,
except that a price range asks for a price: an unpriced item cannot be shown as "under 50".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CatalogFacts:
    key: int
    type_name: str
    in_stock: bool = True
    price: float | None = None
    gender: str = ""
    brand: str = ""


@dataclass(frozen=True)
class ShopFilters:
    in_stock_only: bool = True
    price_min: float | None = None
    price_max: float | None = None
    genders: frozenset[str] = field(default_factory=frozenset)  # empty: any; compared lower-case
    brands: frozenset[str] = field(default_factory=frozenset)  # only these brands (empty: any)
    exclude_brands: frozenset[str] = field(default_factory=frozenset)
    exclude_types: frozenset[str] = field(default_factory=frozenset)  # the query's own types

    def __post_init__(self) -> None:
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise ValueError(f"price_min {self.price_min} is above price_max {self.price_max}")
        for name in ("price_min", "price_max"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative, got {value}")

    @classmethod
    def build(
        cls,
        *,
        in_stock_only: bool = True,
        price_min: float | None = None,
        price_max: float | None = None,
        genders: Collection[str] = (),
        brands: Collection[str] = (),
        exclude_brands: Collection[str] = (),
        exclude_types: Collection[str] = (),
    ) -> ShopFilters:
        def folded(values: Collection[str]) -> frozenset[str]:
            return frozenset(v.strip().lower() for v in values if v.strip())

        return cls(
            in_stock_only=in_stock_only,
            price_min=price_min,
            price_max=price_max,
            genders=folded(genders),
            brands=folded(brands),
            exclude_brands=folded(exclude_brands),
            exclude_types=folded(exclude_types),
        )


def passes(facts: CatalogFacts, filters: ShopFilters) -> bool:
    if filters.in_stock_only and not facts.in_stock:
        return False
    if filters.price_min is not None or filters.price_max is not None:
        if facts.price is None:
            return False
        if filters.price_min is not None and facts.price < filters.price_min:
            return False
        if filters.price_max is not None and facts.price > filters.price_max:
            return False
    gender = facts.gender.strip().lower()
    # Unisex garments suit every shopper; an unknown gender is not held against an item.
    if filters.genders and gender and gender != "unisex" and gender not in filters.genders:
        return False
    brand = facts.brand.strip().lower()
    if filters.brands and brand not in filters.brands:
        return False
    if brand and brand in filters.exclude_brands:
        return False
    return facts.type_name.strip().lower() not in filters.exclude_types


def apply_filters(
    candidates: Sequence[int], facts: Mapping[int, CatalogFacts], filters: ShopFilters
) -> list[int]:
    """The candidates (keys, in order) that pass; a key without facts (deleted since) is dropped."""
    return [key for key in candidates if key in facts and passes(facts[key], filters)]
