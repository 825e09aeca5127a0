"""Test data in one place: real photos rendered by the demo generator, API clients, small data sets."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from outfits.demo_data import render_garment, write_demo_dataset

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
