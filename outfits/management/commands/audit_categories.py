"""python manage.py audit_categories [--kind catalog|library] [--json OUT] [--limit N]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outfits import services
from outfits.models import CategoryReview


class Command(BaseCommand):
    help = (
        "The mislabel audit: rank every garment whose stated category the trained model disagrees with, "
        "most confident first, with the suggested category, and bring the admin's review queue up to "
        "date (dismissed reviews stay dismissed). Prints external id, stated category, suggested "
        "category and confidence per open review, then a summary."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", choices=["catalog", "library"], help="audit only these garments")
        parser.add_argument(
            "--json",
            type=Path,
            help='also write the ranked list: [{"external_id", "kind", "stated", "suggested", "confidence"}]',
        )
        parser.add_argument("--limit", type=int, default=None, help="print at most N reviews")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            refresh = services.category_reviews_refresh(kind=options["kind"])
        except services.AuditUnavailable as exc:
            raise CommandError(str(exc)) from exc
        reviews = CategoryReview.objects.filter(status=CategoryReview.Status.OPEN).select_related(
            "catalog_item", "library_item", "stated__parent__parent", "suggested__parent__parent"
        )
        if options["kind"]:
            reviews = reviews.filter(**{f"{options['kind']}_item__isnull": False})
        ranked = [
            {
                "external_id": review.garment.external_id,
                "kind": "catalog" if review.catalog_item_id else "library",
                "stated": review.stated.path,
                "suggested": review.suggested.path,
                "confidence": review.confidence,
            }
            for review in reviews.order_by(
                "-confidence", "catalog_item__external_id", "library_item__external_id"
            )
        ]
        for row in ranked[: options["limit"]]:
            self.stdout.write(
                f"{row['external_id']}  {row['stated']}  →  {row['suggested']}  {row['confidence']:.3f}"
            )
        self.stdout.write(
            f"{refresh.flagged} of {refresh.audited} garments disagree with {refresh.model_spec}: "
            f"{len(ranked)} open reviews ({refresh.created} new), {refresh.closed} dismissed or accepted "
            f"earlier, {refresh.removed} no longer flagged removed"
            + (
                ""
                if refresh.weighed
                else "; not weighed by a validation confusion (the active model has none or made no analyses)"
            )
        )
        if options["json"]:
            options["json"].parent.mkdir(parents=True, exist_ok=True)
            options["json"].write_text(json.dumps(ranked, indent=2) + "\n", encoding="utf-8")
