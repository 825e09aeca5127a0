"""Celery tasks: one more interface to the services. Ids in, nothing heavy in the message.

Routing (which queue) is in settings.CELERY_TASK_ROUTES. Every task here is idempotent, so acks_late
is safe: a task redelivered after a worker died redoes or skips its work, never doubles it. Job rows
(looks, outfit photos, builds) are claimed under a lease (outfits.jobs); jobs_sweep, sent by beat,
queues again those whose worker died.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings

from . import fresh_items, jobs, looks, outfit_photos, services, worker_models

_RETRY = {
    "autoretry_for": jobs.TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 5,
    "acks_late": True,
}


@worker_process_init.connect
def _preload_models(**_: Any) -> None:
    """A gpu worker's process loads its models as it starts, not on its first photo."""
    if settings.CTL_WORKER_PRELOAD:
        worker_models.preload()


@shared_task(**_RETRY)
def garment_analyze(kind: str, ids: list[int], force: bool = False) -> dict[str, Any]:
    """Analyse a batch of catalog or library items (gpu queue). Skips items already analysed under
    the current model with the same photo; rows deleted meanwhile are ignored. Catalog items it
    analyses are served at once beside the active build (outfits.fresh_items); past
    CTL_FRESH_REBUILD_AT of them it queues a build that folds them in."""
    if kind not in ("catalog", "library"):
        raise ValueError(f"unknown garment kind {kind!r}")
    outcome = services.garments_analyze(kind=kind, ids=ids, force=force)  # type: ignore[arg-type]
    if kind == "catalog" and outcome.analysed:
        fresh_items.fold_in_if_due()
    return {
        "model_spec": outcome.model_spec,
        "analysed": outcome.analysed,
        "skipped": outcome.skipped,
        "failed": outcome.failed,
    }


@shared_task(**_RETRY)
def look_recommend(look_id: str) -> str | None:
    """Analyse an uploaded look photo and store its suggestions (gpu queue). A look that is gone,
    finished, or claimed by a live attempt is left alone; one whose worker died is taken over
    (outfits.jobs). Enqueues nothing."""
    look = looks.look_recommend(look_id=look_id)
    return look.status if look is not None else None


@shared_task(**_RETRY)
def outfit_photo_analyze(photo_pk: int) -> str | None:
    """Read an editor's outfit photo into a pending library outfit (gpu queue). A photo that is gone,
    finished, or claimed by a live attempt is left alone; one whose worker died is taken over
    (outfits.jobs). Enqueues nothing."""
    photo = outfit_photos.outfit_photo_analyze(photo_pk=photo_pk)
    return photo.status if photo is not None else None


@shared_task(**_RETRY)
def index_build(build_pk: int) -> str | None:
    """Build and activate an index build (index queue). Only a pending build, or one whose worker
    died (its lease lapsed), is claimed."""
    build = services.index_build_run(build_pk=build_pk)
    return build.status if build is not None else None


@shared_task(acks_late=True)
def text_embed(text: str) -> dict[str, Any]:
    """Embed a shopper's search text with the active image-text model (gpu queue: the web process
    has no torch). Pure: nothing is stored. Returns the analysis spec and the unit vector."""
    spec, vector = services.text_vector(text=text)
    return {"model_spec": spec, "vector": vector}


@shared_task(acks_late=True)
def jobs_sweep() -> dict[str, int]:
    """Send again the job rows nobody works on, fail those out of attempts (default queue, every
    CTL_JOB_SWEEP_SECONDS from Celery beat: CELERY_BEAT_SCHEDULE). Idempotent. Enqueues the jobs'
    own tasks (look_recommend, outfit_photo_analyze, index_build)."""
    swept = jobs.jobs_sweep()
    return {"requeued": swept.requeued, "resent": swept.resent, "failed": swept.failed}
