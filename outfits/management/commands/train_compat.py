"""python manage.py train_compat [--seed N] [--validation-share 0.15] [--epochs N] [--resume] ..."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recsys.compat.train import CompatSettings


class Command(BaseCommand):
    help = (
        "Train the compatibility model on the approved library outfits in the database (garments analysed "
        "with the current image model), set validation outfits aside that share no garment with training, "
        "early-stop on their fill-in-the-blank accuracy, and store a versioned artefact (made active)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--validation-share", type=float, default=0.15)
        parser.add_argument(
            "--epochs", type=int, default=60, help="at most this many epochs (early stopping)"
        )
        parser.add_argument("--patience", type=int, default=8, help="epochs without progress before stopping")
        parser.add_argument(
            "--members", type=int, default=CompatSettings.members, help="models averaged into one (ensemble)"
        )
        parser.add_argument("--resume", action="store_true", help="go on from the last checkpoint")
        parser.add_argument(
            "--no-activate", action="store_true", help="write the artefact, keep the active one"
        )
        parser.add_argument(
            "--work-dir", type=Path, default=None, help="checkpoints (default: MODELS_DIR/compat/_work)"
        )
        parser.add_argument("--json", type=Path, default=None, metavar="OUT", help="write the figures here")
        parser.add_argument(
            "--no-build",
            action="store_true",
            help="do not rebuild the index (suggestions use the model once a build holds its vectors)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from outfits.compat import CannotTrainCompat, compat_train
        from outfits.selectors import newest_model_spec
        from recsys.compat.train import CompatTrainingError

        if not 0 < options["validation_share"] < 0.5:
            raise CommandError("--validation-share must be between 0 and 0.5")
        if options["epochs"] < 1 or options["patience"] < 1 or not 1 <= options["members"] <= 10:
            raise CommandError("--epochs and --patience must be at least 1, --members between 1 and 10")
        model_spec = newest_model_spec()
        if model_spec is None:
            raise CommandError("no garment is analysed yet: run `manage.py analyze_garments --kind library`")
        compat_settings = CompatSettings(
            seed=options["seed"],
            validation_share=options["validation_share"],
            max_epochs=options["epochs"],
            patience=options["patience"],
            members=options["members"],
        )
        work_dir = options["work_dir"] or Path(settings.MODELS_DIR) / "compat" / "_work"
        try:
            result, folder = compat_train(
                model_spec=model_spec,
                compat_settings=compat_settings,
                work_dir=work_dir,
                resume=options["resume"],
                progress=options["verbosity"] > 0,
                report=self.stdout.write,
                make_active=not options["no_activate"],
            )
        except (CannotTrainCompat, CompatTrainingError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("validation (outfits sharing no garment with training):")
        for name, value in sorted(result.metrics.items()):
            self.stdout.write(f"  {name} = {value:.4f}")
        counts = ", ".join(f"{name} {value}" for name, value in result.counts.items())
        state = "active" if not options["no_activate"] else "not activated"
        self.stdout.write(
            f"compatibility model {folder.name} written ({state}) in {result.seconds:.0f}s; {counts}"
        )
        if not options["no_activate"] and not options["no_build"]:
            self._build_index()
        if options["json"]:
            options["json"].write_text(
                json.dumps(
                    {
                        "artefact": folder.name,
                        "metrics": result.metrics,
                        "counts": result.counts,
                        "seconds": result.seconds,
                    },
                    indent=2,
                )
            )

    def _build_index(self) -> None:
        """Suggestions read the model's catalog vectors from the index build: make one now."""
        from outfits import services

        build = services.index_build_request(enqueue=False)
        done = services.index_build_run(build_pk=build.pk)
        if done is None or done.status != done.Status.READY:
            raise CommandError(f"the index build failed: {done.error if done else 'not claimed'}")
        self.stdout.write(
            f"index {done.build_id} built with the compatibility model's catalog vectors; "
            "suggestions now blend both methods"
        )
