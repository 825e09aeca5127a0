"""Garment regions measured on composed photos (not a test: it prints figures).

    DJANGO_SETTINGS_MODULE=config.settings.local python bench/eval_regions.py [--collages 200] [--seed 0]
        [--no-gate]

Uses the catalog in the configured database (analysed garments whose photos the active garment
model never trained on: import a held-out part, e.g. bench/make_heldout.py's catalog/) and the
active garment model and garment gate (train_gate), reading each photo as the product does
(vision.photo.read_photo):

- collages of 2-5 catalog product photos pasted whole, in a row or a grid, on a plain backdrop of
  the photos' own border colour: the share of products found (a region with IoU >= 0.5 against the
  product's box in its own photo, as vision.detect finds it) and correctly slotted (the region's
  slot is the catalogued one and it is placed), and false regions per photo (placed regions that
  are no product);
- 50 photos with no garment (blank backdrops of several colours, noise, tiny images, and scikit-image's
  sample photos of no garment; none of them drawn by the gate's own generators): the share
  answered "no garment" (no region placed);
- seconds per photo for regions + classification + embedding, beside the single-product analysis.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import django

django.setup()

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from outfits.models import CatalogItem  # noqa: E402
from outfits.worker_models import garment_gate, vision_embedder  # noqa: E402
from vision.analyze import analysis_spec, analyze_garments  # noqa: E402
from vision.detect import Box, find_garment  # noqa: E402
from vision.images import open_garment_image  # noqa: E402
from vision.people import PoseReader  # noqa: E402
from vision.photo import read_photo  # noqa: E402
from vision.regions import PhotoKind  # noqa: E402


def compose(photos: list[Image.Image], rng: np.random.Generator) -> tuple[Image.Image, list[Box]]:
    """Photos pasted whole on a backdrop of their median border colour, in one row or a 2-row grid,
    with gaps; each product's box (its own photo's detection) moved to where it landed."""
    side = 300
    tiles = [
        photo.convert("RGB").resize(
            (side * photo.width // max(photo.size), side * photo.height // max(photo.size))
        )
        for photo in photos
    ]
    border = np.concatenate(
        [np.asarray(t)[[0, -1]].reshape(-1, 3) for t in tiles]
        + [np.asarray(t)[:, [0, -1]].reshape(-1, 3) for t in tiles]
    )
    colour = tuple(int(c) for c in np.median(border, axis=0))
    per_row = len(tiles) if len(tiles) <= 3 or rng.random() < 0.5 else (len(tiles) + 1) // 2
    rows = (len(tiles) + per_row - 1) // per_row
    gap = int(rng.integers(20, 60))
    canvas = Image.new("RGB", (per_row * (side + gap) + gap, rows * (side + gap) + gap), colour)
    truth = []
    for i, tile in enumerate(tiles):
        x = gap + (i % per_row) * (side + gap) + (side - tile.width) // 2
        y = gap + (i // per_row) * (side + gap) + (side - tile.height) // 2
        canvas.paste(tile, (x, y))
        own = find_garment(tile).box
        truth.append(Box(x + own.x0, y + own.y0, x + own.x1, y + own.y1))
    return canvas, truth


def _draw_miss(
    canvas: Image.Image, truth: list[Box], regions: list[tuple[Box, str, bool]], why: str, path: Path
) -> None:
    """A missed collage for the eye: products' boxes green, regions found red (dashed: unplaced)."""
    from PIL import ImageDraw

    drawn = canvas.copy()
    draw = ImageDraw.Draw(drawn)
    for box in truth:
        draw.rectangle(box.as_list(), outline=(0, 160, 0), width=5)
    for box, slot, placed in regions:
        draw.rectangle(box.as_list(), outline=(220, 0, 0) if placed else (150, 150, 150), width=3)
        draw.text((box.x0 + 4, box.y0 + 4), slot, fill=(220, 0, 0))
    draw.text((6, 6), why, fill=(0, 0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    drawn.save(path, quality=85)


def no_garment_photos(rng: np.random.Generator) -> list[tuple[str, Image.Image]]:
    from skimage import data

    photos: list[tuple[str, Image.Image]] = []
    for _ in range(15):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        photos.append(
            (
                f"blank {colour}",
                Image.new("RGB", (int(rng.integers(200, 1200)), int(rng.integers(200, 1200))), colour),
            )
        )
    for i in range(15):
        size = (int(rng.integers(100, 800)), int(rng.integers(100, 800)))
        if i % 3 == 0:
            noise = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        elif i % 3 == 1:
            noise = np.clip(rng.normal(128, 40, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
        else:
            noise = np.full((size[1], size[0], 3), 200, np.uint8)
            speckle = rng.random((size[1], size[0])) < 0.05
            noise[speckle] = 0
        photos.append((f"noise {i}", Image.fromarray(noise)))
    for _ in range(10):
        side = int(rng.integers(4, 33))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        photos.append((f"tiny {side}px", Image.new("RGB", (side, side), colour)))
    samples = [
        "chelsea",
        "coffee",
        "rocket",
        "hubble_deep_field",
        "immunohistochemistry",
        "logo",
        "horse",
        "cat",
        "moon",
        "text",
    ]
    for name in samples:
        try:
            array = getattr(data, name)()
        except Exception:  # a sample scikit-image would have to download
            continue
        array = np.asarray(array)
        if array.dtype != np.uint8:
            array = (255 * (array.astype(np.float64) / max(float(array.max()), 1.0))).astype(np.uint8)
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        photos.append((f"sample {name}", Image.fromarray(array[..., :3])))
    return photos[:50]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--collages", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-gate", action="store_true", help="measure without the garment gate")
    parser.add_argument("--misses", type=Path, default=None, help="draw up to 40 missed collages here")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    items = list(CatalogItem.objects.select_related("category").filter(analyses__status="ok").distinct())
    if len(items) < 5:
        sys.exit("the catalog needs at least 5 analysed items")
    embedder = vision_embedder()
    poses = PoseReader()
    gate = None if args.no_gate else garment_gate(analysis_spec(embedder))
    print(f"garment gate: {'none' if gate is None else f'threshold {gate.threshold:.3f}'}")

    def read(photo: Image.Image) -> tuple[PhotoKind, list[tuple[Box, str, bool]]]:
        """The product's own reading (vision.photo): each garment's box, slot and whether placed."""
        reading = read_photo(photo, embedder, poses=poses, gate=gate)
        return reading.kind, [(g.box, g.slot, g.placed) for g in reading.garments]

    found = correct = products = false_regions = unplaced = saved = 0
    kinds: dict[str, int] = {}
    seconds: list[float] = []
    for _ in range(args.collages):
        picked = [items[i] for i in rng.choice(len(items), int(rng.integers(2, 6)), replace=False)]
        photos = [open_garment_image(Path(item.image.path).read_bytes()) for item in picked]
        canvas, truth = compose(photos, rng)
        started = time.perf_counter()
        kind, regions = read(canvas)
        seconds.append(time.perf_counter() - started)
        kinds[kind.value] = kinds.get(kind.value, 0) + 1
        matched: set[int] = set()
        missed: list[str] = []
        for item, box in zip(picked, truth, strict=True):
            products += 1
            scores = [box.iou(region_box) for region_box, _, _ in regions]
            best = int(np.argmax(scores)) if scores else -1
            if best >= 0 and scores[best] >= 0.5:
                found += 1
                matched.add(best)
                slot, placed = regions[best][1], regions[best][2]
                correct += int(slot == item.category.slot and placed)
                if not (slot == item.category.slot and placed):
                    missed.append(f"{item.category.slot} read as {slot}{'' if placed else ' (unplaced)'}")
            else:
                missed.append(f"{item.category.slot} not found (best IoU {max(scores, default=0):.2f})")
        if missed and args.misses and saved < 40:
            saved += 1
            _draw_miss(canvas, truth, regions, "; ".join(missed), args.misses / f"miss-{saved:02d}.jpg")
        # A false region is one served as a garment (placed) that is no product of the collage.
        false_regions += sum(1 for i, (_, _, placed) in enumerate(regions) if placed and i not in matched)
        unplaced += sum(1 for _, _, placed in regions if not placed)
    print(f"collages: {args.collages} of 2-5 products ({products} products), kinds {kinds}")
    print(
        f"  found (IoU >= 0.5): {found / products:.3f}; "
        f"found and correctly slotted: {correct / products:.3f} (goal >= 0.9)"
    )
    print(
        f"  false regions per photo (served as garments): {false_regions / args.collages:.2f}; "
        f"regions reported unplaced per photo: {unplaced / args.collages:.2f}"
    )
    print(f"  seconds per collage (regions + classify + embed): median {np.median(seconds):.3f}")

    empty_answers = 0
    failures = []
    blanks = no_garment_photos(rng)
    for name, photo in blanks:
        kind, regions = read(photo)
        nothing = not any(placed for _, _, placed in regions)
        empty_answers += int(nothing)
        if not nothing:
            failures.append(f"{name}: {kind.value}, {[s for _, s, placed in regions if placed]}")
    print(f"no-garment photos answered 'no garment': {empty_answers}/{len(blanks)} (goal: all)")
    for line in failures:
        print(f"  missed: {line}")

    single = [open_garment_image(Path(item.image.path).read_bytes()) for item in items[:64]]
    started = time.perf_counter()
    analyze_garments(single, embedder)
    per_single = (time.perf_counter() - started) / len(single)
    started = time.perf_counter()
    for photo in single[:32]:
        read(photo)
    per_regions = (time.perf_counter() - started) / 32
    print(
        f"seconds per product photo: single-product analysis {per_single:.3f} (batch of {len(single)}), "
        f"regions + classify + embed {per_regions:.3f} (one photo at a time)"
    )


if __name__ == "__main__":
    main()
