"""python manage.py assess_quality PATH [PATH ...] [--json OUT] [--filter FOLDER] [--threshold T]"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from outfits.photos import photo_open
from vision.detect import find_garment
from vision.images import ImageRejected, image_files
from vision.quality import HANDSET_THRESHOLD, assess_quality
from vision.quality_filter import QualityFilter, QualityFilterMismatch, load_quality_filter

# Files a folder is searched for (a file named on the command line is graded whatever its name).


class Command(BaseCommand):
    help = (
        "Grade garment photos (files, or folders searched for JPEG, PNG and WEBP files): one line per "
        "photo (file, score, keep|reject, reasons) and a summary. Uses the learned filter from --filter, "
        "else MODELS_DIR/quality, else the hand-set rules. Unreadable files are reported as rejected."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--json", type=Path, help="also write the results to this file")
        parser.add_argument("--filter", type=Path, help="folder of a learned filter (train_quality --out)")
        parser.add_argument(
            "--threshold",
            type=float,
            help="reject below this score (default: CTL_QUALITY_THRESHOLD, else the filter's own)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        quality_filter, grader = self._grader(options["filter"])
        threshold = options["threshold"]
        if threshold is None and quality_filter is not None:
            threshold = getattr(settings, "CTL_QUALITY_THRESHOLD", None)
        if quality_filter is not None:
            grader += f", threshold {quality_filter.threshold if threshold is None else threshold:.4f}"
        else:
            grader += f", threshold {HANDSET_THRESHOLD if threshold is None else threshold:.2f}"

        results: list[dict[str, Any]] = []
        unreadable = 0
        for path in image_files(options["paths"]):
            try:
                image = photo_open(path)
            except (ImageRejected, OSError) as error:
                unreadable += 1
                why = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
                score, verdict, reasons = 0.0, "reject", [f"unreadable: {why}"]
            else:
                report = assess_quality(
                    image, find_garment(image), quality_filter=quality_filter, threshold=threshold
                )
                score, verdict, reasons = float(report.score), report.verdict, list(report.problems)
            results.append({"file": str(path), "score": score, "verdict": verdict, "reasons": reasons})
            self.stdout.write(f"{path}  {score:.3f}  {verdict}  {'; '.join(reasons) or '-'}")

        kept = sum(result["verdict"] == "keep" for result in results)
        self.stdout.write(
            f"{len(results)} images: {kept} keep, {len(results) - kept} reject "
            f"({unreadable} unreadable); graded by {grader}"
        )
        if options["json"]:
            options["json"].parent.mkdir(parents=True, exist_ok=True)
            options["json"].write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    def _grader(self, folder: Path | None) -> tuple[QualityFilter | None, str]:
        """The learned filter to use (None: the hand-set rules) and how the summary names it."""
        if folder is not None:
            try:
                quality_filter = load_quality_filter(folder)
            except QualityFilterMismatch as error:
                raise CommandError(str(error)) from error
            if quality_filter is None:
                raise CommandError(f"no quality filter in {folder} (train one with train_quality --out)")
            return quality_filter, f"learned filter {quality_filter.build_id} from {folder}"
        default = Path(settings.MODELS_DIR) / "quality"
        try:
            quality_filter = load_quality_filter(default)
        except QualityFilterMismatch as error:
            # An outdated filter must not stop a look at some photos: say so and grade by hand.
            self.stderr.write(f"not using the learned filter: {error}")
            return None, f"the hand-set rules (the filter in {default} is unusable)"
        if quality_filter is None:
            return None, f"the hand-set rules (no learned filter in {default})"
        return quality_filter, f"learned filter {quality_filter.build_id} from {default}"
