"""Hold out part of an outfit library, item-disjoint, and build its evaluation files.

    python bench/make_heldout.py DATA_DIR OUT_DIR [--share 0.15] [--seed 0]

DATA_DIR is a MANGO-layout folder (products.csv, outfits.csv, images/). The outfits are split with
recsys.compat.split (communities of the outfit-garment graph, no garment in two parts). Writes:

  OUT_DIR/library/   products and outfits of the training part: import with --role library
  OUT_DIR/catalog/   products of the held-out part only, the "next season": import --role catalog
  OUT_DIR/eval/      fitb.json, fitb_popular.json, compat.json, retrieval.json on the held-out
                     part (recsys.eval_files), and manifest.json (split figures, seed, sources)

Images are symlinked, not copied. Everything a compat model or the library method learns from is
in library/; nothing in eval/ names a garment of library/. train_compat sets its own validation
outfits aside inside the library, so the held-out part is never tuned on: report on it.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recsys.compat.split import TEST, TRAIN, split_outfits
from recsys.eval_files import (
    Garment,
    compat_entries,
    fitb_questions,
    retrieval_entries,
)


def _rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write_rows(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _link_images(source: Path, folder: Path) -> None:
    link = folder / "images"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to((source / "images").resolve(), target_is_directory=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--share", type=float, default=0.15, help="share of outfits held out")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for name in ("products.csv", "outfits.csv"):
        if not (args.data_dir / name).is_file():
            parser.error(f"{args.data_dir} has no {name}: not a MANGO-layout folder")

    product_columns, products = _rows(args.data_dir / "products.csv")
    outfit_columns, outfit_rows = _rows(args.data_dir / "outfits.csv")
    by_id = {row["cod_modelo_color"]: row for row in products}
    outfits: dict[str, list[str]] = defaultdict(list)
    for row in outfit_rows:
        if row["cod_modelo_color"] in by_id:
            outfits[row["cod_outfit"]].append(row["cod_modelo_color"])
    split = split_outfits(outfits, shares={TEST: args.share}, seed=args.seed)
    print(json.dumps(split.summary()))

    garments = {
        item: Garment(
            id=item,
            category=row["des_product_category"],
            family=row["des_product_family"],
            type=row["des_product_type"],
        )
        for item, row in by_id.items()
    }
    library_items, held_out_items = split.items(TRAIN), split.items(TEST)
    library, catalog, eval_dir = (args.out_dir / name for name in ("library", "catalog", "eval"))
    _write_rows(library / "products.csv", product_columns, [by_id[i] for i in sorted(library_items)])
    _write_rows(
        library / "outfits.csv",
        outfit_columns,
        [
            {"cod_outfit": outfit, "cod_modelo_color": item}
            for outfit, items in sorted(split.outfits[TRAIN].items())
            for item in items
        ],
    )
    _write_rows(catalog / "products.csv", product_columns, [by_id[i] for i in sorted(held_out_items)])
    for folder in (library, catalog):
        _link_images(args.data_dir, folder)

    held_out = split.outfits[TEST]
    prefix = f"heldout{args.seed}"
    files = {
        "fitb.json": fitb_questions(held_out, garments, seed=args.seed, prefix=prefix),
        "fitb_popular.json": fitb_questions(
            held_out, garments, seed=args.seed, prefix=prefix + "-pop", match_popularity=True
        ),
        "compat.json": compat_entries(held_out, garments, seed=args.seed, prefix=prefix),
        "retrieval.json": retrieval_entries(held_out, garments, prefix=prefix),
    }
    eval_dir.mkdir(parents=True, exist_ok=True)
    for name, entries in files.items():
        (eval_dir / name).write_text("[\n" + ",\n".join(json.dumps(e) for e in entries) + "\n]\n")
    manifest = {
        "generator": "bench/make_heldout.py",
        "source": str(args.data_dir.resolve()),
        "seed": args.seed,
        "share": args.share,
        "split": split.summary(),
        "counts": {name: len(entries) for name, entries in files.items()},
        "sha256": {
            name: hashlib.sha256((args.data_dir / name).read_bytes()).hexdigest()
            for name in ("products.csv", "outfits.csv")
        },
    }
    (eval_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(json.dumps(manifest["counts"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
