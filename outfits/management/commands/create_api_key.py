"""python manage.py create_api_key NAME"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from outfits.models import ApiKey


class Command(BaseCommand):
    help = "Issue a storefront API key. The key is printed once; only its hash is stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        _, raw = ApiKey.issue(options["name"])
        self.stdout.write(raw)
