"""python manage.py analyze_garments --kind catalog|library [--all] [--force] [--queue]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from outfits.models import CatalogItem, ImageAnalysis, LibraryItem

from ._analysis import analyse_now_or_queue


class Command(BaseCommand):
    help = "Analyse catalog or library photos that have no successful analysis yet (or all, with --all)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", choices=["catalog", "library", "both"], default="both")
        parser.add_argument("--all", action="store_true", help="every item, not only the unanalysed ones")
        parser.add_argument("--force", action="store_true", help="recompute even when up to date")
        parser.add_argument("--queue", action="store_true", help="queue on the gpu workers instead")

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        kinds = ["catalog", "library"] if options["kind"] == "both" else [options["kind"]]
        for kind in kinds:
            model = CatalogItem if kind == "catalog" else LibraryItem
            items = model.objects.order_by("pk")
            if not (options["all"] or options["force"]):
                done = ImageAnalysis.objects.filter(status="ok", **{f"{kind}_item__isnull": False}).values(
                    f"{kind}_item_id"
                )
                items = items.exclude(pk__in=done)
            ids = list(items.values_list("pk", flat=True))
            analyse_now_or_queue(self, kind=kind, ids=ids, queue=options["queue"], force=options["force"])  # type: ignore[arg-type]
