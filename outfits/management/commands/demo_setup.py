"""python manage.py demo_setup [--data PATH]: everything the demo needs, in one go, idempotently."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo import write_demo_dataset
from outfits.importers import DatasetError, ImportReport, import_mango, import_myntra
from outfits.models import ApiKey

from ._analysis import analyse_now_or_queue

CREAM, GREY = (242, 238, 228), (214, 216, 219)


class Command(BaseCommand):
    help = (
        "Migrate, create (or import) a demo catalog and library, analyse the photos, build the index, "
        "and print the admin login and a storefront API key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", type=Path, help="a real data set folder to import instead of the demo")
        parser.add_argument("--layout", choices=["mango", "myntra"], default="mango")
        parser.add_argument("--outfits", type=int, default=160, help="demo library size (generated data)")

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=0)
        try:
            if options["data"]:
                self._train_if_untrained([options["data"]])
                self._import_real(options["data"], options["layout"])
            else:
                self._import_generated(options["outfits"])
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        call_command("build_index", verbosity=self.verbosity)
        self._train_compat_if_untrained()
        self._train_gate_if_unfitted()
        self._print_logins()

    def _import(self, report: ImportReport, kind: str) -> None:
        for problem in report.problems:
            self.stderr.write(f"skipped: {problem}")
        self.stdout.write(f"{kind}: {report.summary()}")
        analyse_now_or_queue(self, kind=kind, ids=report.changed_ids, queue=False)  # type: ignore[arg-type]

    def _import_generated(self, n_outfits: int) -> None:
        root = Path(settings.VAR_DIR) / "demo"
        # Two seasons' photos: the library on cream, the catalog on grey, as a shop's style drifts.
        for name, seed, prefix, background, count in (
            ("library", 1, "L", CREAM, n_outfits),
            ("catalog", 2, "C", GREY, max(n_outfits // 2, 20)),
        ):
            folder = root / name
            if not (folder / "products.csv").exists():
                summary = write_demo_dataset(
                    folder, n_outfits=count, seed=seed, background=background, id_prefix=prefix
                )
                self.stdout.write(f"generated {summary.n_products} demo {name} products in {folder}")
        self._train_if_untrained([root / "library", root / "catalog"])
        self._import(
            import_mango(
                root / "library", role="library", source="demo-library", progress=self.verbosity > 0
            ),
            "library",
        )
        self._import(
            import_mango(
                root / "catalog", role="catalog", source="demo-catalog", progress=self.verbosity > 0
            ),
            "catalog",
        )

    def _import_real(self, folder: Path, layout: str) -> None:
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder")
        source = folder.resolve().name
        if layout == "myntra":
            self._import(import_myntra(folder, source=source, progress=self.verbosity > 0), "catalog")
            return
        self._import(
            import_mango(folder, role="library", source=source, progress=self.verbosity > 0), "library"
        )
        self._import(
            import_mango(folder, role="catalog", source=source, progress=self.verbosity > 0), "catalog"
        )

    def _train_if_untrained(self, folders: list[Path]) -> None:
        """The service classifies photos and searches by text with a trained garment model: train one
        on the demo's labelled folders, once (a model already active is kept)."""
        from vision.artefact import active_artefact

        if active_artefact(Path(settings.MODELS_DIR), settings.CTL_VISION_ARTEFACT) is not None:
            return
        self.stdout.write("training the garment model on the demo data (once; a few minutes on a CPU)")
        call_command("train_vision", *[str(folder) for folder in folders], epochs=6, verbosity=self.verbosity)

    def _train_compat_if_untrained(self) -> None:
        """Suggestions blend the library method with the compatibility model: train it once (on the
        library just imported, in seconds for the demo), which rebuilds the index with its vectors."""
        from outfits.compat import compat_model
        from outfits.selectors import newest_model_spec
        from vision.artefact import ArtefactError

        spec = newest_model_spec()
        try:
            if spec is None or compat_model(spec) is not None:
                return
        except ArtefactError:  # trained on another image model: train again
            pass
        self.stdout.write("training the compatibility model on the library (once)")
        try:
            call_command("train_compat", verbosity=self.verbosity)
        except CommandError as exc:  # too small a library: the library method serves alone
            self.stderr.write(f"no compatibility model: {exc}")

    def _train_gate_if_unfitted(self) -> None:
        """Uploaded photos of no garment are refused by the garment gate: fit it once for the active
        image model (a minute: it reads the photos of no garment it draws)."""
        from outfits.selectors import newest_model_spec
        from outfits.worker_models import garment_gate

        spec = newest_model_spec()
        if spec is None or garment_gate(spec) is not None:
            return
        self.stdout.write("fitting the garment gate (once)")
        call_command("train_gate", non_garments=600, verbosity=self.verbosity)

    def _print_logins(self) -> None:
        users = get_user_model()
        password = secrets.token_urlsafe(12)
        admin, _ = users.objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)  # a fresh one each start: the demo never ships a known password
        admin.save()
        ApiKey.objects.filter(name="demo storefront").update(active=False)
        _, key = ApiKey.issue("demo storefront")
        self.stdout.write(self.style.SUCCESS("\nDemo ready."))
        self.stdout.write(f"  admin login:  admin / {password}")
        self.stdout.write(f"  API key:      {key}   (send as X-Api-Key)")
