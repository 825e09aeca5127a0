"""python manage.py analyze_garments [--kind catalog|library|both] [--force] [--queue]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from outfits.importers import refresh_planner_statistics
from outfits.models import CatalogItem, LibraryItem

from ._analysis import analyse_now_or_queue


class Command(BaseCommand):
    help = (
        "Analyse catalog and library photos that have no analysis under the current model and pipeline "
        "(every photo with --force). Up-to-date photos are skipped, so this is safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", choices=["catalog", "library", "both"], default="both")
        parser.add_argument("--force", action="store_true", help="recompute even when up to date")
        parser.add_argument("--queue", action="store_true", help="queue on the gpu workers instead")

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        kinds = ["catalog", "library"] if options["kind"] == "both" else [options["kind"]]
        for kind in kinds:
            model = CatalogItem if kind == "catalog" else LibraryItem
            # The service skips what is up to date under the current spec; only it knows the spec.
            ids = list(model.objects.order_by("pk").values_list("pk", flat=True))
            analyse_now_or_queue(self, kind=kind, ids=ids, queue=options["queue"], force=options["force"])  # type: ignore[arg-type]
        refresh_planner_statistics()
