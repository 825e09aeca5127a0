"""python manage.py make_demo_data PATH: write a demo outfit data set (MANGO layout) to a folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo import BACKGROUNDS, NotADemoFolderError, parse_background, write_demo_dataset


class Command(BaseCommand):
    help = (
        "Write a synthetic outfit data set in the MANGO layout (products.csv, outfits.csv, images/) "
        "that import_dataset loads like real data: a library with --prefix L, a catalog with another "
        "seed, --prefix C and --background grey."
    )
    # Writes files only; no database, so no system checks are needed to run it.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="folder to write (new, empty, or an earlier demo folder)")
        parser.add_argument("--outfits", type=int, default=120, help="number of outfits (default 120)")
        parser.add_argument("--seed", type=int, default=0, help="random seed; same seed, same data")
        parser.add_argument(
            "--background",
            default="cream",
            help=f"photo background: {', '.join(BACKGROUNDS)} or R,G,B (default cream)",
        )
        parser.add_argument("--prefix", default="D", help="item id prefix, 1-3 capital letters (default D)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["outfits"] < 1:
            raise CommandError(f"--outfits must be at least 1, got {options['outfits']}")
        try:
            background = parse_background(options["background"])
        except ValueError as exc:
            raise CommandError(f"--background: {exc}") from exc
        started = time.perf_counter()
        try:
            summary = write_demo_dataset(
                options["path"],
                n_outfits=options["outfits"],
                seed=options["seed"],
                background=background,
                id_prefix=options["prefix"],
            )
        except (NotADemoFolderError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"demo data set {summary.path}: {summary.n_products} products, {summary.n_outfits} outfits "
            f"(seed {options['seed']}, prefix {options['prefix']}, background "
            f"{','.join(str(c) for c in background)}) in {time.perf_counter() - started:.1f}s"
        )
