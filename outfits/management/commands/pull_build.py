"""python manage.py pull_build [--build-id ID]"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from outfits import build_storage, selectors


class Command(BaseCommand):
    help = (
        "Pull the active index build (or --build-id) from the build storage into this host's "
        "CTL_INDEX_DIR: run it as a web host starts, before it takes requests."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--build-id", help="another build than the active one")

    def handle(self, *args: Any, **options: Any) -> None:
        build_id = options["build_id"]
        if not build_id:
            active = selectors.active_build()
            if active is None:
                raise CommandError("no index build is active yet: nothing to pull")
            build_id = active.build_id
        try:
            folder = build_storage.pull(build_id, Path(settings.INDEX_DIR))
        except build_storage.BuildNotPublished as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"index build {build_id} in {folder} (from {build_storage.storage_description()})")
