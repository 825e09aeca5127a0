"""Test data in one place: real photos rendered by the demo generator, API clients, small data sets."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from demo import render_garment, write_demo_dataset

CREAM, GREY = (242, 238, 228), (214, 216, 219)


def garment_photo(
    family: str = "T-shirts",
    type_: str = "T-shirt",
    colour: tuple[int, int, int] = (30, 50, 120),
    pattern: str = "solid",
    *,
    background: tuple[int, int, int] = CREAM,
    fmt: str = "JPEG",
    seed: int = 0,
) -> bytes:
    image = render_garment(
        family, type_, colour, pattern, background=background, rng=np.random.default_rng(seed)
    )
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def huge_png_header(width: int = 20000, height: int = 20000) -> bytes:
    """A real PNG whose header claims a huge canvas: small on the wire, a bomb once decoded."""
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def small_shop(root: Path, *, outfits: int = 40) -> tuple[Path, Path]:
    """A tiny library (cream photos) and catalog (grey photos: another season) in MANGO layout."""
    library = root / "library"
    catalog = root / "catalog"
    if not (library / "products.csv").exists():
        write_demo_dataset(library, n_outfits=outfits, seed=11, background=CREAM, id_prefix="L")
    if not (catalog / "products.csv").exists():
        write_demo_dataset(catalog, n_outfits=max(outfits // 2, 6), seed=12, background=GREY, id_prefix="C")
    return library, catalog


# A top, a bottom and shoes: a whole outfit laid flat.
OUTFIT_PIECES: tuple[tuple[str, str, tuple[int, int, int]], ...] = (
    ("T-shirts", "T-shirt", (30, 50, 120)),
    ("Jeans", "Jeans", (40, 60, 140)),
    ("Sneakers", "Sneakers", (200, 30, 30)),
)


def flat_lay_photo(
    pieces: tuple[tuple[str, str, tuple[int, int, int]], ...] = OUTFIT_PIECES,
    *,
    background: tuple[int, int, int] = CREAM,
    clutter: bool = False,
    tile: int = 300,
) -> bytes:
    """Garments cut out and laid side by side on one backdrop (plain, or busy with noise): an
    outfit photo as a stylist shoots a flat-lay, as JPEG bytes."""
    from vision.detect import find_garment

    rng = np.random.default_rng(1)
    width, height = (tile + 40) * len(pieces) + 40, tile + 160
    if clutter:
        pixels = rng.integers(0, 256, (height // 8, width // 8, 3), dtype=np.uint8)
        canvas = Image.fromarray(pixels).resize((width, height), Image.Resampling.NEAREST)
    else:
        canvas = Image.new("RGB", (width, height), background)
    for i, (family, type_, colour) in enumerate(pieces):
        garment = render_garment(family, type_, colour, "solid", background=background, rng=rng)
        garment = garment.resize((tile, tile))
        canvas.paste(garment, (40 + (tile + 40) * i, 80), Image.fromarray(find_garment(garment).mask))
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def sell_out(external_id: str) -> None:
    """The shop marks an item sold out (a save, as the admin and the bulk upsert make it)."""
    from outfits.models import CatalogItem

    item = CatalogItem.objects.get(external_id=external_id)
    item.in_stock = False
    item.save()
