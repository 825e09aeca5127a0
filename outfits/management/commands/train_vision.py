"""python manage.py train_vision DATA_DIR [DATA_DIR ...] [--seed N] [--resume] [--epochs N] ..."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from outfits.photos import photo_limits


class Command(BaseCommand):
    help = (
        "Train the garment model (category hierarchy, attributes, image-text alignment) "
        "on labelled folders in the MANGO or Myntra layout, write a versioned artefact and make it the "
        "active image model. Then re-analyse (analyze_garments) and rebuild the index (build_index)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("data_dirs", nargs="+", type=Path, metavar="DATA_DIR")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--resume", action="store_true", help="reuse the feature cache and last checkpoint"
        )
        parser.add_argument("--epochs", type=int, default=8, help="at most this many epochs (early stopping)")
        parser.add_argument(
            "--patience", type=int, default=2, help="epochs without a better validation score"
        )
        parser.add_argument("--batch-size", type=int, default=64)
        parser.add_argument(
            "--pooling",
            choices=["attention", "avg"],
            default="avg",
            help="pooling into the embedding; attention measured no better on isolated product photos",
        )
        parser.add_argument(
            "--tune-from-block", type=int, default=5, help="fine-tune blocks from this one up"
        )
        parser.add_argument("--validation-share", type=float, default=0.1)
        parser.add_argument("--test-share", type=float, default=0.1)
        parser.add_argument("--limit", type=int, default=None, help="at most N garments per folder")
        parser.add_argument(
            "--baseline", action="store_true", help="also fit a linear probe on frozen ImageNet features"
        )
        parser.add_argument(
            "--no-activate", action="store_true", help="write the artefact but keep the active model"
        )
        parser.add_argument("--work-dir", type=Path, default=None, help="feature cache and checkpoints")
        parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="write the metrics here")

    def handle(self, *args: Any, **options: Any) -> None:
        from vision.datasets import DatasetError
        from vision.train import TrainingError, TrainSettings, train_garment_model

        for folder in options["data_dirs"]:
            if not folder.is_dir():
                raise CommandError(f"{folder} is not a folder")
        if not 0 < options["validation_share"] + options["test_share"] < 0.9:
            raise CommandError("--validation-share plus --test-share must be between 0 and 0.9")
        train_settings = TrainSettings(
            seed=options["seed"],
            max_epochs=options["epochs"],
            patience=options["patience"],
            batch_size=options["batch_size"],
            pooling=options["pooling"],
            tune_from_block=options["tune_from_block"],
            validation_share=options["validation_share"],
            test_share=options["test_share"],
            limit=options["limit"],
            baseline=options["baseline"],
        )
        try:
            result = train_garment_model(
                options["data_dirs"],
                models_dir=Path(settings.MODELS_DIR),
                work_dir=options["work_dir"],
                settings=train_settings,
                resume=options["resume"],
                progress=options["verbosity"] > 0,
                activate_model=not options["no_activate"],
                limits=photo_limits(),
                report=self.stdout.write,
            )
        except (DatasetError, TrainingError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("held-out (test part) metrics:")
        for name, value in sorted(result.metrics.items()):
            self.stdout.write(f"  {name} = {value:.4f}")
        timing = ", ".join(f"{name} {seconds:.0f}s" for name, seconds in result.seconds.items())
        state = "active" if not options["no_activate"] else "not activated"
        self.stdout.write(f"garment model {result.artefact.artefact_id} written ({state}); {timing}")
        if settings.CTL_VISION_ARTEFACT and not options["no_activate"]:
            self.stdout.write(
                f"note: CTL_VISION_ARTEFACT pins {settings.CTL_VISION_ARTEFACT}; workers keep using it"
            )
        self.stdout.write("next: manage.py analyze_garments --kind both, then manage.py build_index")
        if options["json"]:
            options["json"].write_text(
                json.dumps(
                    {
                        "artefact": result.artefact.artefact_id,
                        "metrics": result.metrics,
                        "seconds": result.seconds,
                    },
                    indent=2,
                )
            )
