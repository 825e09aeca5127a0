"""Shared by commands that analyse photos: in this process with a progress bar, or on the workers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from django.conf import settings
from django.core.management.base import OutputWrapper
from tqdm import tqdm

from outfits import services


class AnalysingCommand(Protocol):
    """A management command that keeps its --verbosity on itself, as the callers' handle() does."""

    stdout: OutputWrapper
    verbosity: int


def analyse_now_or_queue(
    command: AnalysingCommand,
    *,
    kind: services.GarmentKind,
    ids: Sequence[int],
    queue: bool,
    force: bool = False,
) -> None:
    if queue:
        tasks = services.garments_enqueue_analysis(kind=kind, ids=ids, force=force)
        command.stdout.write(f"queued {len(ids)} {kind} photos in {tasks} analysis tasks")
        return
    batch = settings.CTL_ANALYZE_BATCH
    analysed = skipped = failed = 0
    spec = ""
    with tqdm(
        total=len(ids), desc=f"analysing {kind} photos", unit="img", disable=command.verbosity < 1
    ) as bar:
        for start in range(0, len(ids), batch):
            chunk = list(ids[start : start + batch])
            outcome = services.garments_analyze(kind=kind, ids=chunk, force=force)
            analysed, skipped, failed = (
                analysed + outcome.analysed,
                skipped + outcome.skipped,
                failed + outcome.failed,
            )
            spec = outcome.model_spec
            bar.update(len(chunk))
    command.stdout.write(f"{kind}: {analysed} analysed, {skipped} already done, {failed} failed ({spec})")
