"""Job rows (looks, outfit photos, index builds) claimed by one worker at a time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

# A worker that died mid-job leaves its row RUNNING; after this long a redelivered task may take it over.
STALE_AFTER = timedelta(minutes=15)


def claim(job: QuerySet[Any], pending: str, running: str) -> bool:
    """Take a job row that is PENDING, or RUNNING but stale (its worker died). One conditional UPDATE,
    so two deliveries of the same task never both run it."""
    now = timezone.now()
    stale = Q(status=running, started_at__lt=now - STALE_AFTER)
    return bool(job.filter(Q(status=pending) | stale).update(status=running, started_at=now))
