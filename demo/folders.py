"""Writing a demo data set folder in the MANGO layout (``products.csv``, ``outfits.csv``,
``images/<id>.jpg``, see ``FORMATS.md``), every file moved into place whole, and never over a
folder this package did not write."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from .drawing import render_product
from .styles import DemoProduct, DemoSummary, build_demo_dataset, check_arguments
from .vocabulary import BACKGROUNDS, CREAM, OUTFIT_COLUMNS, PRODUCT_COLUMNS, RGB

# Written first and last: a folder holding it was made by this module and may be overwritten.
MARKER_NAME = "demo_dataset.json"
# The generator's name in the marker, from when it lived in outfits/: folders written before the move
# stay recognised as demo folders (and a fixed seed still gives the same bytes).
GENERATOR = "outfits.demo_data"
FORMAT_VERSION = 1


class NotADemoFolderError(FileExistsError):
    """The target folder holds files that this module did not write; it is never overwritten."""


def parse_background(text: str) -> RGB:
    """``cream``, ``grey`` or ``R,G,B`` (each 0..255) to a colour; ValueError otherwise."""
    name = text.strip().lower()
    if name in BACKGROUNDS:
        return BACKGROUNDS[name]
    parts = [p.strip() for p in name.split(",")]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"background must be {', '.join(BACKGROUNDS)} or R,G,B; got {text!r}")
    rgb = (int(parts[0]), int(parts[1]), int(parts[2]))
    if not all(0 <= c <= 255 for c in rgb):
        raise ValueError(f"background channels must be 0..255; got {text!r}")
    return rgb


def _is_demo_folder(root: Path) -> bool:
    try:
        marker = json.loads((root / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("generator") == GENERATOR


def _write_text_atomic(path: Path, text: str) -> None:
    part = path.with_name(path.name + ".part")
    with open(part, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, path)


def _csv_text(columns: Sequence[str], rows: Iterable[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def _prepare_folder(root: Path) -> None:
    """Create the folder, or make sure the one there is ours; then drop the old CSVs so a run that
    dies half-way never leaves a complete-looking data set with mismatched images."""
    if root.exists() and not root.is_dir():
        raise NotADemoFolderError(f"{root} exists and is not a folder; not writing demo data there")
    if root.is_dir() and any(root.iterdir()) and not _is_demo_folder(root):
        raise NotADemoFolderError(
            f"{root} is not empty and was not written by the demo generator (no {MARKER_NAME}); "
            "refusing to overwrite it. Choose an empty or new folder."
        )
    root.mkdir(parents=True, exist_ok=True)
    for name in ("products.csv", "outfits.csv"):
        (root / name).unlink(missing_ok=True)


def _marker_text(*, complete: bool, n_products: int | None, settings: dict[str, object]) -> str:
    marker = {"generator": GENERATOR, "format_version": FORMAT_VERSION, "complete": complete, **settings}
    marker["n_products"] = n_products
    return json.dumps(marker, indent=2) + "\n"


def _save_jpeg(image: Image.Image, path: Path) -> None:
    part = path.with_name(path.name + ".part")
    image.save(part, format="JPEG", quality=90, optimize=False)
    os.replace(part, path)


def write_demo_dataset(
    path: str | os.PathLike[str],
    *,
    n_outfits: int = 120,
    seed: int = 0,
    background: tuple[int, int, int] = CREAM,
    id_prefix: str = "D",
) -> DemoSummary:
    """Write a demo outfit data set in the MANGO layout to ``path``.

    Side effects: creates ``path`` (and ``images/``) if needed, writes ``demo_dataset.json``,
    ``images/<id>.jpg``, ``outfits.csv`` and, last, ``products.csv``; every file goes to a ``.part``
    name first and is moved into place, and stale images of an earlier run are removed. Idempotent:
    the same arguments give the same CSV bytes. Raises ``NotADemoFolderError`` if ``path`` holds
    anything this function did not write, ``ValueError`` for bad arguments.
    """
    check_arguments(n_outfits=n_outfits, seed=seed, id_prefix=id_prefix, background=background)
    background = (int(background[0]), int(background[1]), int(background[2]))
    root = Path(path)
    products, outfits = build_demo_dataset(n_outfits=n_outfits, seed=seed, id_prefix=id_prefix)

    _prepare_folder(root)
    settings: dict[str, object] = {
        "seed": seed,
        "n_outfits": n_outfits,
        "background": list(background),
        "id_prefix": id_prefix,
    }
    _write_text_atomic(root / MARKER_NAME, _marker_text(complete=False, n_products=None, settings=settings))

    images = root / "images"
    images.mkdir(exist_ok=True)
    wanted = {Path(p.filename).name for p in products}
    for old in images.iterdir():
        if old.is_file() and (old.name not in wanted or old.name.endswith(".part")):
            old.unlink()

    def render(product: DemoProduct) -> None:
        _save_jpeg(render_product(product, background=background), root / product.filename)

    # numpy and PIL release the GIL for most of the work, so threads use the second core.
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        for _ in pool.map(render, products):
            pass

    _write_text_atomic(
        root / "outfits.csv",
        _csv_text(
            OUTFIT_COLUMNS,
            [{"cod_outfit": o.outfit_id, "cod_modelo_color": i} for o in outfits for i in o.item_ids],
        ),
    )
    _write_text_atomic(root / "products.csv", _csv_text(PRODUCT_COLUMNS, [p.row() for p in products]))
    _write_text_atomic(
        root / MARKER_NAME, _marker_text(complete=True, n_products=len(products), settings=settings)
    )
    return DemoSummary(n_products=len(products), n_outfits=len(outfits), path=root)
