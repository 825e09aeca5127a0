"""Demo outfit data set: a synthetic catalog and stylist library in the MANGO layout.

On a fresh machine the service starts with demo data instead of nothing. This package writes a data
set folder in exactly the layout of a real MANGO export (``products.csv``, ``outfits.csv``,
``images/<id>.jpg``, see ``FORMATS.md``), so the very same importer loads demo and real data.

- ``vocabulary``: MANGO's columns and categories, shop colours, garment kinds;
- ``styles``: the named style rules outfits are built by, and the data set in memory;
- ``drawing``: a silhouette per garment kind, rendered as a product shot;
- ``textures``: fabric patterns, light and the studio backdrop (the season's tint);
- ``folders``: writing the folder, whole files only, never over anything it did not write.

Plain library: no Django import (a test guards it); PIL, numpy and csv only.
"""

from __future__ import annotations

from .drawing import render_garment, render_product
from .folders import MARKER_NAME, NotADemoFolderError, parse_background, write_demo_dataset
from .styles import STYLES, STYLES_BY_NAME, DemoOutfit, DemoProduct, DemoSummary, build_demo_dataset
from .vocabulary import (
    BACKGROUNDS,
    CATEGORIES,
    CATEGORY_ACCESSORIES,
    CATEGORY_BOTTOMS,
    CATEGORY_DRESSES,
    CATEGORY_OUTERWEAR,
    CATEGORY_TOPS,
    COLOURS,
    CREAM,
    GARMENT_KINDS,
    GREY,
    IMAGE_SIZE,
    PATTERNS,
    SLOTS,
)

__all__ = [
    "BACKGROUNDS",
    "CATEGORIES",
    "CATEGORY_ACCESSORIES",
    "CATEGORY_BOTTOMS",
    "CATEGORY_DRESSES",
    "CATEGORY_OUTERWEAR",
    "CATEGORY_TOPS",
    "COLOURS",
    "CREAM",
    "GARMENT_KINDS",
    "GREY",
    "IMAGE_SIZE",
    "MARKER_NAME",
    "PATTERNS",
    "SLOTS",
    "STYLES",
    "STYLES_BY_NAME",
    "DemoOutfit",
    "DemoProduct",
    "DemoSummary",
    "NotADemoFolderError",
    "build_demo_dataset",
    "parse_background",
    "render_garment",
    "render_product",
    "write_demo_dataset",
]
