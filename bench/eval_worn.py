"""Garments worn by a model in Myntra photos (not a test: it prints figures and draws a sheet to check).

    DJANGO_SETTINGS_MODULE=config.settings.local python bench/eval_worn.py MYNTRA_DIR [--limit 3000]
        [--offset 0] [--sheet OUT.png] [--sheet-size 24] [--list OUT.txt] [--no-gate]

Only photos of the garment model's test part (vision.datasets.split_part: never trained on). The
person detector (MediaPipe Pose) picks the photos worn by a model; for those, the share where the
labelled product's slot is among the regions found (top or outerwear: upper body; bottom: lower;
dress: full body; shoes: feet), and the share where such a region is also placed as that slot, as a
look reads the photo (vision.photo.read_photo: dress or top and bottom decided, the garment gate
applied when one is fitted). `--sheet` draws a sample with its regions, to check the person detector by eye.
"""

from __future__ import annotations

import argparse
import csv
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
from PIL import Image, ImageDraw  # noqa: E402

from outfits.worker_models import garment_gate, vision_embedder  # noqa: E402
from vision.analyze import analysis_spec  # noqa: E402
from vision.datasets import split_part  # noqa: E402
from vision.images import open_garment_image  # noqa: E402
from vision.labels import UnmappedCategory, myntra_slot  # noqa: E402
from vision.people import PoseReader  # noqa: E402
from vision.photo import read_photo  # noqa: E402
from vision.regions import PhotoKind  # noqa: E402

PART_OF_SLOT = {"top": "upper", "outerwear": "upper", "bottom": "lower", "dress": "full", "shoes": "feet"}


def _slot(row: dict[str, str]) -> str:
    try:
        return myntra_slot(row["masterCategory"], row["subCategory"], row["articleType"])
    except UnmappedCategory:  # innerwear, personal care: not a slot a look is completed with
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("myntra", type=Path)
    parser.add_argument("--limit", type=int, default=3000, help="test-part photos to scan for people")
    parser.add_argument("--offset", type=int, default=0, help="skip the first N test-part photos")
    parser.add_argument("--sheet", type=Path, default=None)
    parser.add_argument("--sheet-size", type=int, default=24)
    parser.add_argument("--list", type=Path, default=None, help="write the worn photos' paths here")
    parser.add_argument("--no-gate", action="store_true", help="measure without the garment gate")
    args = parser.parse_args()
    with (args.myntra / "styles.csv").open(newline="", encoding="utf-8") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if split_part(f"{args.myntra.resolve().name}:{r['id']}") == "test"
        ]
    rows = rows[args.offset : args.offset + args.limit]
    poses = PoseReader()
    embedder = vision_embedder()
    gate = None if args.no_gate else garment_gate(analysis_spec(embedder))
    misses: dict[str, int] = {}
    worn: list[
        tuple[dict[str, str], Image.Image, list[tuple[str, tuple[int, int, int, int], str, bool]]]
    ] = []
    started = time.perf_counter()
    for row in rows:
        path = args.myntra / (row["image"] or f"images/{row['id']}.jpg")
        try:
            photo = open_garment_image(path.read_bytes())
        except (OSError, ValueError):
            continue
        reading = read_photo(photo, embedder, poses=poses, gate=gate)
        if reading.kind is not PhotoKind.PERSON:
            continue
        readings = [
            (g.part, (g.box.x0, g.box.y0, g.box.x1, g.box.y1), g.slot, g.placed) for g in reading.garments
        ]
        wanted = _slot(row)
        for g in reading.garments:
            if g.part == PART_OF_SLOT.get(wanted) and not (g.placed and g.slot == wanted):
                why = g.reason.split(" region ")[-1] if g.reason else f"read as {g.slot}"
                misses[why] = misses.get(why, 0) + 1
        worn.append((row, photo, readings))
    seconds = time.perf_counter() - started
    labelled = [(row, readings) for row, _, readings in worn]
    wearable = [(_slot(row), readings) for row, readings in labelled]
    wearable = [(slot, readings) for slot, readings in wearable if slot in PART_OF_SLOT]
    in_regions = sum(
        1 for slot, readings in wearable if any(part == PART_OF_SLOT[slot] for part, *_ in readings)
    )
    classified = sum(
        1
        for slot, readings in wearable
        if any(part == PART_OF_SLOT[slot] and s == slot and placed for part, _, s, placed in readings)
    )
    print(f"scanned {len(rows)} test-part Myntra photos in {seconds:.0f} s; worn by a person: {len(worn)}")
    print(f"  of those, labelled with a worn slot (top, outerwear, bottom, dress, shoes): {len(wearable)}")
    if wearable:
        print(f"  the labelled slot's body region found: {in_regions / len(wearable):.3f}")
        print(f"  ... and placed as that slot (as a look reads it): {classified / len(wearable):.3f}")
        print(f"  why the labelled slot's region was not placed as it: {misses}")
    if args.list:
        paths = [args.myntra / (row["image"] or "images/" + row["id"] + ".jpg") for row, _, _ in worn]
        args.list.write_text("".join(f"{path}\n" for path in paths))
    if args.sheet and worn:
        sample = [worn[i] for i in np.random.default_rng(0).permutation(len(worn))[: args.sheet_size]]
        cell = 240
        columns = 6
        sheet = Image.new(
            "RGB", (columns * cell, ((len(sample) + columns - 1) // columns) * (cell + 30)), "white"
        )
        draw = ImageDraw.Draw(sheet)
        for i, (row, photo, readings) in enumerate(sample):
            scale = cell / max(photo.size)
            thumb = photo.convert("RGB").resize((int(photo.width * scale), int(photo.height * scale)))
            x, y = (i % columns) * cell, (i // columns) * (cell + 30)
            sheet.paste(thumb, (x, y))
            for part, (x0, y0, x1, y1), _, _ in readings:
                colour = {"upper": "red", "lower": "blue", "full": "green", "feet": "orange"}.get(
                    part, "black"
                )
                draw.rectangle(
                    (x + x0 * scale, y + y0 * scale, x + x1 * scale, y + y1 * scale), outline=colour, width=2
                )
            draw.text((x + 2, y + cell + 2), f"{row['id']} {row['articleType']}"[:38], fill="black")
            draw.text(
                (x + 2, y + cell + 14), " ".join(f"{p[0]}:{s}" for p, _, s, _ in readings)[:40], fill="black"
            )
        args.sheet.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(args.sheet)
        print(f"sheet of {len(sample)} worn photos with their regions: {args.sheet}")


if __name__ == "__main__":
    main()
