"""python manage.py build_index [--queue]"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outfits import services


class Command(BaseCommand):
    help = "Build one Annoy index per slot over the analysed catalog and library, and make it active."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", action="store_true", help="queue the build on the index workers")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["queue"]:
            build = services.index_build_request()
            self.stdout.write(f"queued index build {build.build_id}")
            return
        build = services.index_build_request(enqueue=False)
        done = services.index_build_run(build_pk=build.pk)
        if done is None or done.status != done.Status.READY:
            raise CommandError(
                f"index build {build.build_id} failed: {done.error if done else 'not claimed'}"
            )
        counts = ", ".join(f"{name}={n}" for name, n in sorted(done.counts.items()))
        self.stdout.write(
            f"index build {done.build_id} active: {counts} in {done.seconds:.2f}s ({done.model_spec})"
        )
