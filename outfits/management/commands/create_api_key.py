"""python manage.py create_api_key NAME [--public --origin https://shop.example ...]"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from outfits.models import ApiKey


class Command(BaseCommand):
    help = (
        "Issue a storefront API key: secret (the shop's servers) by default, or public (--public, for "
        "the shop's pages, usable only from the --origin pages). The key is printed once; only its "
        "hash is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument(
            "--public", action="store_true", help="a browser key, for a widget in the shop's pages"
        )
        parser.add_argument(
            "--origin",
            action="append",
            default=[],
            dest="origins",
            help="an origin the public key may be used from (https://shop.example); repeat for more",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kind = ApiKey.Kind.PUBLIC if options["public"] else ApiKey.Kind.SECRET
        try:
            _, raw = ApiKey.issue(options["name"], kind=kind, origins=options["origins"])
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(raw)
