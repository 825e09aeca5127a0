"""python manage.py train_quality DATA_DIR [DATA_DIR ...] [--seed N] [--out FOLDER] [--limit N]"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from PIL import Image
from tqdm import tqdm

from outfits.photos import photo_open
from vision.datasets import DatasetError, LabelledGarment, read_labelled_folder
from vision.images import ImageRejected
from vision.quality_filter import spread_sample, train_quality_filter

# Categories listed under the table: the ones whose clean test photos were rejected most.
WORST_SLOTS = 5


class Command(BaseCommand):
    help = (
        "Train the learned photo-quality filter on the clean product photos of MANGO-layout "
        "(products.csv) or Myntra-layout (styles.csv) folders and degraded copies it makes of them. "
        "Prints the held-out test figures and writes the filter to --out (default MODELS_DIR/quality)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("data_dirs", nargs="+", type=Path)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--out", type=Path, help="where to write the filter (default MODELS_DIR/quality)")
        parser.add_argument("--limit", type=int, help="at most N photos per folder (a spread, by id hash)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        photos: list[LabelledGarment] = []
        for folder in options["data_dirs"]:
            try:
                garments = read_labelled_folder(folder).garments
            except DatasetError as error:
                raise CommandError(str(error)) from error
            photos += spread_sample(garments, options["limit"], item_id=lambda garment: garment.item_id)
        if not photos:
            raise CommandError("no photos found")
        out = options["out"] or Path(settings.MODELS_DIR) / "quality"
        self.stdout.write(f"{len(photos)} clean photos from {len(options['data_dirs'])} folders")

        unreadable: list[str] = []
        started = time.perf_counter()
        with tqdm(
            total=len(photos), desc="measuring photos", unit="img", disable=options["verbosity"] < 1
        ) as bar:
            quality_filter, metrics = train_quality_filter(
                _images(photos, unreadable),
                ids=[photo.item_id for photo in photos],
                slots=[f"{photo.slot}/{photo.family}" for photo in photos],
                seed=options["seed"],
                progress=lambda done, total: bar.update(done - bar.n),
            )
        seconds = time.perf_counter() - started
        quality_filter.save(out)

        if unreadable:
            self.stdout.write(f"skipped {len(unreadable)} unreadable photos, e.g. {unreadable[0]}")
        self.stdout.write(metrics.table("test part (items never seen in training)"))
        worst = sorted(metrics.clean_rejected_by_slot.items(), key=lambda entry: -entry[1][0])
        for slot, (share, count) in worst[:WORST_SLOTS]:
            self.stdout.write(f"clean rejected {share:6.1%} of {count:>4} {slot}")
        self.stdout.write(f"filter {quality_filter.build_id} written to {out} in {seconds:.0f} s")


def _images(photos: Sequence[LabelledGarment], unreadable: list[str]) -> Iterator[Image.Image | None]:
    # One photo in memory at a time; None for an unreadable one (the trainer skips it).
    for photo in photos:
        try:
            yield photo_open(photo.image_path)
        except (ImageRejected, OSError) as error:
            unreadable.append(f"{photo.image_path}: {error}")
            yield None
