"""python manage.py train_gate [--non-garments 1500] [--max-garments 6000] [--non-garments-dir DIR] [--seed 0]
[--no-activate]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone
from PIL import Image

from outfits.models import ImageAnalysis, LibraryOutfit, embedding_vector
from outfits.photos import photo_open
from outfits.worker_models import vision_embedder
from vision.images import ImageRejected, image_files


class Command(BaseCommand):
    help = (
        "Fit the garment gate (garment or not) on the active image model's embeddings: analysed catalog "
        "photos and pieces of approved library outfits against photos of no garment the gate draws "
        "itself (and any --non-garments-dir), read through the same regions and crops as a shopper's "
        "photo. Writes a new gate artefact and activates it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--non-garments", type=int, default=1500, help="photos of no garment to draw")
        parser.add_argument("--max-garments", type=int, default=6000, help="at most this many garment photos")
        parser.add_argument(
            "--non-garments-dir",
            type=Path,
            action="append",
            default=[],
            metavar="DIR",
            help="a folder of real photos of no garment to learn from as well (repeatable)",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--no-activate", action="store_true", help="write the gate without activating it")

    def handle(self, *args: Any, **options: Any) -> None:
        from vision.analyze import analysis_spec, analyze_garments
        from vision.garment_gate import drawn_non_garments, fit_gate
        from vision.photo import photo_crops

        embedder = vision_embedder()
        spec = analysis_spec(embedder)
        # Curated garments only: catalog products and the pieces of approved library outfits (a
        # pending outfit's crops, read from an outfit photo, may hold a region read wrongly).
        curated = ImageAnalysis.objects.filter(
            Q(catalog_item__isnull=False) | Q(library_item__outfits__status=LibraryOutfit.Status.APPROVED),
            model_spec=spec,
            status="ok",
            embedding__isnull=False,
        )
        ids = sorted(set(curated.values_list("pk", flat=True)))
        rng = np.random.default_rng(options["seed"])
        if len(ids) > options["max_garments"]:
            ids = sorted(rng.choice(ids, options["max_garments"], replace=False).tolist())
        rows = list(ImageAnalysis.objects.filter(pk__in=ids).values_list("embedding", flat=True))
        if len(rows) < 10:
            raise CommandError(
                f"only {len(rows)} analysed garment photos under {spec}: import and analyse a catalog first"
            )
        garments = np.stack([embedding_vector(blob) for blob in rows if blob is not None])
        # Read as a shopper's photo is read (regions, then crops), so the gate sees what it will
        # judge; all crops go through the model in batches.
        photos: list[Image.Image | None] = list(
            drawn_non_garments(options["non_garments"], seed=options["seed"])
        )
        photos += [_open(path) for folder in options["non_garments_dir"] for path in _photo_paths(folder)]
        crops = [crop for photo in photos if photo is not None for crop in photo_crops(photo)]
        non_garments = [a.embedding for a in analyze_garments(crops, embedder)] if crops else []
        if len(non_garments) < 10:
            raise CommandError("too few drawn photos gave a region: draw more with --non-garments")
        gate, figures = fit_gate(garments, np.stack(non_garments), spec=spec, seed=options["seed"])
        artefact_id = timezone.now().strftime("%Y%m%dT%H%M%S") + f"-s{options['seed']}"
        gate.save(
            Path(settings.MODELS_DIR), artefact_id, figures=figures, make_active=not options["no_activate"]
        )
        self.stdout.write(
            f"gate {artefact_id} on {spec}: {figures.garments} garment and {figures.non_garments} "
            f"non-garment crops; held out: {figures.garments_refused:.1%} of garments refused, "
            f"{figures.non_garments_refused:.1%} of drawn non-garments refused "
            f"(threshold {gate.threshold:.3f})"
        )


def _photo_paths(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise CommandError(f"{folder} is not a folder")
    return list(image_files([folder]))


def _open(path: Path) -> Image.Image | None:
    """A photo of the folder, or None for a file that is no photo (skipped: it teaches nothing)."""
    try:
        return photo_open(path)
    except (ImageRejected, OSError):
        return None
