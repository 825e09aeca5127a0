"""Job rows under a lease (outfits.jobs): a dead worker's job is taken over, a live one is not, a
superseded attempt writes nothing, and a job that keeps failing ends as failed with its reason."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from outfits import jobs, looks, services, tasks
from outfits.models import ApiKey, ImageAnalysis, IndexBuild, LookRequest
from tests.factories import garment_photo

pytestmark = pytest.mark.django_db


def _look() -> LookRequest:
    # Not transactional: the on_commit enqueue never runs, so the look waits PENDING like a queued one.
    return looks.look_create(photo=garment_photo("Jeans", "Jeans", (40, 60, 110)))


def _claimed_by_a_dead_worker(look: LookRequest, *, attempts: int = 1) -> None:
    LookRequest.objects.filter(pk=look.pk).update(
        status=LookRequest.Status.RUNNING,
        claimed_by="gone-host:4242:0123456789ab",
        lease_until=timezone.now() - timedelta(seconds=1),
        attempts=attempts,
    )


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What the sweep sends, by task name and argument (once `sweep` commits)."""
    calls: list[tuple[str, Any]] = []
    for name in ("look_recommend", "outfit_photo_analyze", "index_build"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda key, name=name: calls.append((name, key)))
    return calls


@pytest.fixture
def sweep(django_capture_on_commit_callbacks: Any) -> Callable[[], jobs.Swept]:
    """jobs_sweep, its after-commit sends run as a committed transaction would."""

    def run() -> jobs.Swept:
        with django_capture_on_commit_callbacks(execute=True):
            return jobs.jobs_sweep()

    return run


def test_a_redelivered_task_takes_over_a_look_whose_worker_died() -> None:
    look = _look()
    _claimed_by_a_dead_worker(look)
    done = looks.look_recommend(look_id=str(look.pk))
    assert done is not None and done.status == "done", done and done.error
    assert done.attempts == 2
    assert ImageAnalysis.objects.filter(look=look).count() == 1


def test_a_look_under_a_live_lease_is_left_to_its_worker() -> None:
    look = _look()
    LookRequest.objects.filter(pk=look.pk).update(
        status=LookRequest.Status.RUNNING,
        claimed_by="busy-host:7:0123456789ab",
        lease_until=timezone.now() + timedelta(seconds=60),
        attempts=1,
    )
    assert looks.look_recommend(look_id=str(look.pk)) is None
    look.refresh_from_db()
    assert (look.status, look.attempts, look.claimed_by) == ("running", 1, "busy-host:7:0123456789ab")
    assert not ImageAnalysis.objects.filter(look=look).exists()


def test_an_attempt_whose_look_was_taken_over_writes_nothing() -> None:
    look = _look()
    first = jobs.claim(jobs.LOOK, look.pk)
    assert first is not None
    # Its lease lapsed while it worked (a stalled process) and another attempt took the look.
    LookRequest.objects.filter(pk=look.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    second = jobs.claim(jobs.LOOK, look.pk)
    assert second is not None and second.token != first.token
    assert looks._recommend(look, first) is None
    assert not ImageAnalysis.objects.filter(look=look).exists()
    look.refresh_from_db()
    assert (look.status, look.claimed_by, look.result) == ("running", second.token, None)
    assert looks._recommend(look, second) is not None
    assert ImageAnalysis.objects.filter(look=look).count() == 1


def test_the_sweep_sends_again_a_dead_workers_job_and_a_lost_message(
    sent: list[tuple[str, Any]], sweep: Callable[[], jobs.Swept]
) -> None:
    dead, lost, queued = _look(), _look(), _look()
    _claimed_by_a_dead_worker(dead)
    long_ago = timezone.now() - timedelta(hours=1)
    LookRequest.objects.filter(pk=lost.pk).update(queued_at=long_ago)
    build = services.index_build_request(enqueue=False)
    IndexBuild.objects.filter(pk=build.pk).update(
        status=IndexBuild.Status.BUILDING, lease_until=timezone.now() - timedelta(seconds=1), attempts=1
    )
    swept = sweep()
    assert (swept.requeued, swept.resent, swept.failed) == (2, 1, 0)
    assert sorted(sent, key=str) == sorted(
        [("look_recommend", str(dead.pk)), ("look_recommend", str(lost.pk)), ("index_build", build.pk)],
        key=str,
    )
    dead.refresh_from_db()
    assert (dead.status, dead.claimed_by, dead.attempts) == ("pending", "", 1)
    assert "gone-host:4242" in dead.error
    queued.refresh_from_db()
    assert queued.status == "pending"
    # Sent once: the next sweep leaves them to their new messages.
    sent.clear()
    assert sweep() == jobs.Swept(requeued=0, resent=0, failed=0) and not sent
    done = looks.look_recommend(look_id=str(dead.pk))
    assert done is not None and (done.status, done.error, done.attempts) == ("done", "", 2)


def test_a_look_that_keeps_failing_ends_failed_with_its_reason(
    monkeypatch: pytest.MonkeyPatch,
    sent: list[tuple[str, Any]],
    sweep: Callable[[], jobs.Swept],
    storefront: APIClient,
    settings: Any,
) -> None:
    def broken() -> None:
        raise RuntimeError("the model file is corrupt")

    monkeypatch.setattr(looks, "vision_embedder", broken)
    look = _look()
    for attempt in range(1, settings.CTL_JOB_MAX_ATTEMPTS + 1):
        with pytest.raises(RuntimeError):
            looks.look_recommend(look_id=str(look.pk))
        look.refresh_from_db()
        # Handed back at once: no lease to wait for, the reason kept.
        assert (look.status, look.attempts, look.lease_until) == ("running", attempt, None)
        assert "the model file is corrupt" in look.error
        swept = sweep()
        if attempt < settings.CTL_JOB_MAX_ATTEMPTS:
            assert swept.requeued == 1 and sent[-1] == ("look_recommend", str(look.pk))
    assert swept.failed == 1
    # The shopper's storefront reads its own look (another key's would be a 404).
    LookRequest.objects.filter(pk=look.pk).update(api_key=ApiKey.objects.get(name="test storefront"))
    body = storefront.get(f"/api/v1/looks/{look.pk}/").json()
    assert body["status"] == "failed"
    assert body["error"] == (
        f"gave up after {settings.CTL_JOB_MAX_ATTEMPTS} attempts; the last: "
        "attempt stopped: RuntimeError: the model file is corrupt"
    )
    assert body["finished_at"] is not None
    assert looks.look_recommend(look_id=str(look.pk)) is None  # out of attempts: never claimed again


def test_a_database_blip_does_not_use_up_an_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    def away() -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(looks, "vision_embedder", away)
    look = _look()
    with pytest.raises(OperationalError):
        looks.look_recommend(look_id=str(look.pk))
    look.refresh_from_db()
    assert (look.status, look.attempts, look.claimed_by) == ("running", 0, "")
    monkeypatch.undo()
    done = looks.look_recommend(look_id=str(look.pk))  # the task's own retry claims it at once
    assert done is not None and (done.status, done.attempts) == ("done", 1)


@pytest.mark.django_db(transaction=True)
def test_a_worker_renews_its_lease_while_it_works(settings: Any) -> None:
    # Transactional: the renewing thread has a connection of its own and must see the claimed row.
    settings.CTL_JOB_LEASE_SECONDS = 0.4
    build = IndexBuild.objects.create(build_id="lease-renewal")
    held = jobs.claim(jobs.INDEX_BUILD, build.pk)
    assert held is not None
    first = IndexBuild.objects.get(pk=build.pk).lease_until
    assert first is not None
    with jobs.working_on(held):
        renewed: datetime | None = first
        deadline = timezone.now() + timedelta(seconds=30)
        while renewed == first and timezone.now() < deadline:
            time.sleep(0.05)
            renewed = IndexBuild.objects.get(pk=build.pk).lease_until
    assert renewed is not None and renewed > first
