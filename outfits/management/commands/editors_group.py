"""Create or update the "editors" group (outfits.editors): run after each migrate."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from outfits.editors import PERMISSIONS, editors_group_sync


class Command(BaseCommand):
    help = "Create or update the editors group: curate the library and reviews, not catalog data or keys."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            group, count = editors_group_sync()
        except LookupError as exc:
            raise CommandError(f"{exc} (run migrate first)") from exc
        models = ", ".join(sorted(PERMISSIONS))
        self.stdout.write(
            f"Group {group.name!r}: {count} permissions on {models}. Add editors to it in the admin."
        )
