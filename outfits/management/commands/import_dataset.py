"""python manage.py import_dataset mango|myntra PATH --role library|catalog"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outfits.importers import DatasetError, import_mango, import_myntra, refresh_planner_statistics
from outfits.models import LibraryOutfit

from ._analysis import analyse_now_or_queue

if TYPE_CHECKING:
    from outfits.services import GarmentKind


class Command(BaseCommand):
    help = "Import a data set folder (MANGO or Myntra layout) into the catalog or the curated library."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("layout", choices=["mango", "myntra"])
        parser.add_argument("path", type=Path)
        parser.add_argument("--role", choices=["library", "catalog"], default="catalog")
        parser.add_argument("--source", help="name recorded on every row (default: the folder's name)")
        parser.add_argument(
            "--status",
            choices=LibraryOutfit.Status.values,
            default=LibraryOutfit.Status.APPROVED,
            help="review status of NEW library outfits (stylist-built sets default to approved); "
            "outfits already imported keep the status editors gave them",
        )
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument("--no-analyze", action="store_true", help="import rows only; analyse later")
        parser.add_argument("--queue", action="store_true", help="queue the analysis on the gpu workers")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.is_dir():
            raise CommandError(f"{path} is not a folder")
        if options["layout"] == "myntra" and options["role"] == "library":
            raise CommandError("a Myntra folder has no outfits: import it with --role catalog")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        self.verbosity = options["verbosity"]
        source = options["source"] or path.resolve().name
        progress = options["verbosity"] > 0
        try:
            if options["layout"] == "mango":
                report = import_mango(
                    path,
                    role=options["role"],
                    source=source,
                    outfit_status=options["status"],
                    batch_size=options["batch_size"],
                    progress=progress,
                )
            else:
                report = import_myntra(
                    path, source=source, batch_size=options["batch_size"], progress=progress
                )
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        for problem in report.problems:
            self.stderr.write(f"skipped: {problem}")
        self.stdout.write(f"{source} as {options['role']}: {report.summary()}")
        if report.changed_ids and not options["no_analyze"]:
            kind: GarmentKind = "library" if options["role"] == "library" else "catalog"
            analyse_now_or_queue(self, kind=kind, ids=report.changed_ids, queue=options["queue"])
        refresh_planner_statistics()
        if report.problems:
            raise CommandError(
                f"{len(report.problems)} rows were not imported (listed above); every other row was kept"
            )
