"""Job rows (looks, outfit photos, index builds) claimed by one worker at a time, under a lease.

A claim is one conditional UPDATE: the row is PENDING, or RUNNING under a lease that lapsed (its
worker died: a killed pool process, a lost host). The claiming attempt writes a token of its own
(`claimed_by`) and renews the lease from a thread while it works (`working_on`), so "stale" means
"nobody has renewed it for CTL_JOB_LEASE_SECONDS", not "it started long ago": a slow job keeps its
row, a dead one loses it within the lease. Only the attempt holding the token may write the result
(`holding`, `finish`): a late attempt whose row was taken over writes nothing.

The sweep (`jobs_sweep`, run by Celery beat every CTL_JOB_SWEEP_SECONDS) sends again the jobs no
live message will bring back: RUNNING rows whose lease lapsed (the broker keeps a dead worker's
message for its visibility timeout, an hour on Redis; a redelivered message that came too early was
already refused) and PENDING rows whose message was lost. A row claimed CTL_JOB_MAX_ATTEMPTS times
without a verdict fails with the reason.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import IndexBuild, JobStatus, LookRequest, OutfitPhoto

log = logging.getLogger(__name__)

# Errors a retry can cure (the database went away for a moment): the tasks retry them with backoff,
# and they do not use up a job's attempts.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)


@dataclass(frozen=True)
class JobKind:
    """A kind of job row: its model, the statuses a claim moves between, and the task (a name in
    outfits.tasks, taking the row's key) that runs it."""

    model: type[LookRequest] | type[OutfitPhoto] | type[IndexBuild]
    pending: str
    running: str
    failed: str
    task: str


LOOK = JobKind(LookRequest, JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED, "look_recommend")
OUTFIT_PHOTO = JobKind(
    OutfitPhoto, JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FAILED, "outfit_photo_analyze"
)
INDEX_BUILD = JobKind(
    IndexBuild, IndexBuild.Status.PENDING, IndexBuild.Status.BUILDING, IndexBuild.Status.FAILED, "index_build"
)
KINDS = (LOOK, OUTFIT_PHOTO, INDEX_BUILD)


@dataclass(frozen=True)
class Claim:
    """One attempt's hold on a job row."""

    kind: JobKind
    pk: Any
    token: str

    def held(self) -> Any:
        """The row, only while this attempt holds it."""
        rows = self.kind.model.objects
        return rows.filter(pk=self.pk, status=self.kind.running, claimed_by=self.token)


def _lease() -> timedelta:
    return timedelta(seconds=settings.CTL_JOB_LEASE_SECONDS)


def _lapsed(kind: JobKind, now: Any) -> Q:
    # No lease at all: a row claimed before leases existed, or handed back by `working_on`.
    return Q(status=kind.running) & (Q(lease_until__lt=now) | Q(lease_until__isnull=True))


def claim(kind: JobKind, pk: Any) -> Claim | None:
    """Take a job row that is PENDING, or RUNNING under a lapsed lease, if it has attempts left. One
    conditional UPDATE, so two deliveries of the same task never both hold it. None: it is done,
    failed, gone, or another attempt holds a live lease."""
    now = timezone.now()
    token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
    taken = (
        kind.model.objects.filter(pk=pk, attempts__lt=settings.CTL_JOB_MAX_ATTEMPTS)
        .filter(Q(status=kind.pending) | _lapsed(kind, now))
        .update(
            status=kind.running,
            claimed_by=token,
            lease_until=now + _lease(),
            attempts=F("attempts") + 1,
            started_at=now,
        )
    )
    return Claim(kind, pk, token) if taken else None


class _Heartbeat(threading.Thread):
    """Renews a claim's lease every quarter lease until stopped, or until the row is no longer held
    (finished, or taken over after this process stalled past its lease)."""

    def __init__(self, held: Claim) -> None:
        super().__init__(name=f"lease {held.kind.task} {held.pk}", daemon=True)
        self.claim = held
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            every = settings.CTL_JOB_LEASE_SECONDS / 4
            while not self.stopped.wait(every):
                if not self.claim.held().update(lease_until=timezone.now() + _lease()):
                    return
        except Exception:  # a missed renewal only shortens the lease; the job itself goes on
            log.exception("renewing the lease of %s %s", self.claim.kind.task, self.claim.pk)
        finally:
            connection.close()  # this thread's own connection


@contextmanager
def working_on(held: Claim, *, transient: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Keep the lease alive while the body runs. If the body raises, the row is handed back (lease
    lapsed, error recorded) and the exception goes on: the task's retry, or the sweep, claims it
    again, and after CTL_JOB_MAX_ATTEMPTS the sweep fails it with that error. A `transient` error (the
    database went away) does not use up an attempt: the task retries it with backoff."""
    beat = _Heartbeat(held)
    beat.start()
    try:
        yield
    except BaseException as exc:
        beat.stopped.set()
        counted = not isinstance(exc, transient)
        try:
            held.held().update(
                lease_until=None,
                claimed_by="",
                error=f"attempt stopped: {type(exc).__name__}: {exc}"[:2000],
                attempts=F("attempts") if counted else F("attempts") - 1,
            )
        except TRANSIENT_ERRORS:  # the database is away: the lease lapses by itself
            log.warning("could not hand back %s %s", held.kind.task, held.pk)
        raise
    finally:
        beat.stopped.set()


@contextmanager
def holding(held: Claim) -> Iterator[bool]:
    """A transaction that locks the row and says whether this attempt still holds it: write the
    result inside it only if so. The lock makes a concurrent claim wait for the verdict, which it then
    finds written (and leaves), or find the row taken from this attempt first (and this one writes
    nothing)."""
    with transaction.atomic():
        yield held.held().select_for_update().exists()


def finish(held: Claim, status: str, **fields: Any) -> bool:
    """Write the attempt's verdict (status and the row's own fields) if it still holds the row."""
    return bool(held.held().update(status=status, lease_until=None, finished_at=timezone.now(), **fields))


@dataclass(frozen=True)
class Swept:
    requeued: int  # RUNNING under a lapsed lease: handed back to PENDING and sent again
    resent: int  # PENDING whose message was sent long ago and never taken
    failed: int  # out of attempts


def jobs_sweep() -> Swept:
    """Send again the jobs nobody works on, and fail those out of attempts (see the module
    docstring). Each row changes by a conditional UPDATE, so two sweeps at once send a job once, and a
    row claimed meanwhile is left alone. Sends after commit. Idempotent."""
    from . import tasks

    now = timezone.now()
    requeued = resent = failed = 0
    resend_before = now - timedelta(seconds=settings.CTL_JOB_REQUEUE_PENDING_SECONDS)
    for kind in KINDS:
        rows = kind.model.objects
        lapsed = _lapsed(kind, now)
        found: list[tuple[Any, int, str, str]] = list(
            rows.filter(lapsed).values_list("pk", "attempts", "error", "claimed_by")
        )
        for pk, attempts, error, claimer in found:
            # Still claimed: nobody handed it back, its worker died. Else working_on wrote why.
            last = f"its worker ({claimer}) stopped while working on it" if claimer else error
            if attempts >= settings.CTL_JOB_MAX_ATTEMPTS:
                failed += rows.filter(lapsed, pk=pk).update(
                    status=kind.failed,
                    error=f"gave up after {attempts} attempts; the last: {last}"[:2000],
                    lease_until=None,
                    finished_at=now,
                )
                continue
            if rows.filter(lapsed, pk=pk).update(
                status=kind.pending, claimed_by="", lease_until=None, queued_at=now, error=last
            ):
                requeued += 1
                _send(tasks, kind, pk)
        waiting: list[Any] = list(
            rows.filter(status=kind.pending, queued_at__lt=resend_before).values_list("pk", flat=True)
        )
        for pk in waiting:
            if rows.filter(pk=pk, status=kind.pending, queued_at__lt=resend_before).update(queued_at=now):
                resent += 1
                _send(tasks, kind, pk)
    if requeued or resent or failed:
        log.warning("jobs sweep: %d requeued, %d sent again, %d failed", requeued, resent, failed)
    return Swept(requeued=requeued, resent=resent, failed=failed)


def _send(tasks: Any, kind: JobKind, pk: Any) -> None:
    key = str(pk) if kind is LOOK else pk
    transaction.on_commit(lambda: getattr(tasks, kind.task).delay(key))
