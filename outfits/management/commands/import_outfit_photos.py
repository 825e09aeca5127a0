"""python manage.py import_outfit_photos PATH [PATH ...] [--source NAME] [--queue]"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outfits import outfit_photos
from outfits.models import OutfitPhoto
from vision.images import ImageRejected, image_files


class Command(BaseCommand):
    help = (
        "Import stylists' outfit photos (files, or folders of .jpg/.png/.webp, searched whole) into the "
        "curated library: each becomes a pending library outfit whose pieces are the garments found, "
        "graded for quality and waiting in the admin's quality queue. A photo already imported in the "
        "source is skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument(
            "--source", default="", help="name recorded on every outfit (default: the folder's name)"
        )
        parser.add_argument("--queue", action="store_true", help="queue the analysis on the gpu workers")

    def handle(self, *args: Any, **options: Any) -> None:
        files = _photo_files(options["paths"])
        if not files:
            raise CommandError(
                "no .jpg, .jpeg, .png or .webp photos in " + ", ".join(map(str, options["paths"]))
            )
        tally: Counter[str] = Counter()
        for path in files:
            source = options["source"] or path.parent.name or "outfit-photos"
            try:
                added = outfit_photos.outfit_photo_add(
                    photo=path.read_bytes(), filename=path.name, source=source, enqueue=options["queue"]
                )
            except (ImageRejected, OSError) as exc:
                tally["refused"] += 1
                self.stderr.write(f"{path}: refused: {exc}")
                continue
            if not added.created:
                tally["already imported"] += 1
                continue
            tally["added"] += 1
            if options["queue"]:
                continue
            row = outfit_photos.outfit_photo_analyze(photo_pk=added.photo.pk)
            if row is None:
                continue
            if row.status == OutfitPhoto.Status.FAILED:
                tally["no outfit"] += 1
                self.stderr.write(f"{path}: no outfit: {row.error}")
            else:
                tally["pending review"] += 1
                if row.quality_problems:
                    tally["with problems"] += 1
                if options["verbosity"] > 1:
                    problems = "; ".join(row.quality_problems) or "no problems"
                    self.stdout.write(
                        f"{path}: {row.photo_kind}, quality {row.quality_score:.2f}: {problems}"
                    )
        self.stdout.write(", ".join(f"{count} {what}" for what, count in tally.items()))
        if tally["refused"] == len(files):
            raise CommandError("every photo was refused")


def _photo_files(paths: list[Path]) -> list[Path]:
    """The photos named, and those in the folders named (sorted, sub-folders too)."""
    for path in paths:
        if not path.exists():
            raise CommandError(f"{path} does not exist")
    return list(image_files(paths))
