"""python manage.py evaluate fitb|compat|retrieval FILE [--method library|compat] [--json OUT]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from outfits.evaluation import EvaluationError, evaluate_compat, evaluate_fitb, evaluate_retrieval


class Command(BaseCommand):
    help = "Measure suggestions against an evaluation file (FORMATS.md). Prints one line per metric."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("task", choices=["fitb", "compat", "retrieval"])
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--method",
            choices=["library", "compat", "blend", "cosine"],
            default="library",
            help="cosine: the naive baseline (mean image similarity to the question garments)",
        )
        parser.add_argument("--json", type=Path, help="also write the figures to this file")
        parser.add_argument("--limit", type=int, help="only the first N entries (a quick look)")
        parser.add_argument("--depth", type=int, default=100, help="retrieval: rank this deep (MRR@depth)")

    def handle(self, *args: Any, **options: Any) -> None:
        task, method = options["task"], options["method"]
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        try:
            if task == "retrieval":
                result = evaluate_retrieval(
                    options["file"], depth=options["depth"], limit=options["limit"], method=method
                )
            elif task == "compat":
                result = evaluate_compat(options["file"], limit=options["limit"], method=method)
            else:
                result = evaluate_fitb(options["file"], limit=options["limit"], method=method)
        except EvaluationError as exc:
            raise CommandError(str(exc)) from exc
        for name, value in result.metrics.items():
            self.stdout.write(f"{name}={value:.4f}")
        if result.skipped:
            self.stdout.write(f"skipped={result.skipped} (items not imported or not analysed)")
        figures = " ".join(f"{name}={value:.3f}" for name, value in result.metrics.items())
        self.stdout.write(f"{task} {figures} n={result.n} method={method} model={result.model_spec}")
        if options["json"]:
            options["json"].write_text(
                json.dumps({"task": task, "method": method, **result.as_json()}, indent=2)
            )
