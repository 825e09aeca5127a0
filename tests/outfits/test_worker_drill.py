"""The kill drill: a real worker (prefork, as docker-compose runs the gpu one) and Celery beat on Redis;
a look's analysis is killed mid-work, once by killing the pool process (as the out-of-memory killer
does), once by killing the whole worker. Each look finishes once: one attempt writes one set of rows.

A short lease and sweep (CTL_JOB_LEASE_SECONDS, CTL_JOB_SWEEP_SECONDS) keep the drill to seconds; the
figures it prints (how long after the worker was back each look finished) are not asserted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from config.celery_app import app
from outfits.models import GarmentRegion, ImageAnalysis, LookRequest
from tests.factories import garment_photo
from tests.outfits.test_worker import ROOT, _celery_env, start_worker, stop_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# A lease a few times the renewal period (a quarter lease) and longer than any pause of a loaded
# test machine; one sweep a second.
DRILL = {"CTL_JOB_LEASE_SECONDS": "5", "CTL_JOB_SWEEP_SECONDS": "1"}
WORKER = ["-Q", "gpu,default", "-c", "1"]
_BEAT = (sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO")
PATIENCE = 240.0  # seconds a drill step may take on a loaded machine before the test gives up


def _start_worker(tmp_path: Path, *, log: str = "worker.log", purge: bool = True) -> subprocess.Popen[bytes]:
    lease, sweep = DRILL["CTL_JOB_LEASE_SECONDS"], DRILL["CTL_JOB_SWEEP_SECONDS"]
    return start_worker(
        tmp_path, WORKER, log=log, purge=purge, CTL_JOB_LEASE_SECONDS=lease, CTL_JOB_SWEEP_SECONDS=sweep
    )


@pytest.fixture
def beat(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Celery beat, as docker-compose runs it: it sends the jobs sweep every CTL_JOB_SWEEP_SECONDS."""
    with (tmp_path / "beat.log").open("ab") as out:
        process = subprocess.Popen(
            [*_BEAT, "--schedule", str(tmp_path / "beat-schedule")],
            cwd=ROOT,
            env=_celery_env(**DRILL),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    yield process
    stop_worker(process)


def _logs(tmp_path: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()}" for p in sorted(tmp_path.glob("*.log")))


def _post_look(storefront: APIClient, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    photo = SimpleUploadedFile("look.jpg", garment_photo("Jeans", "Jeans", (40, 60, 110)), "image/jpeg")
    response = storefront.post("/api/v1/looks/", {"photo": photo}, format="multipart")
    assert response.status_code == 202
    return str(response.json()["id"])


def _wait_for(look_id: str, tmp_path: Path, status: str) -> LookRequest:
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        look = LookRequest.objects.get(pk=look_id)
        if look.status == status:
            return look
        assert look.status in ("pending", "running"), (look.status, look.error, _logs(tmp_path))
        time.sleep(0.05)
    raise AssertionError(f"look {look_id} still {look.status}, not {status}\n{_logs(tmp_path)}")


def _pool_process(worker: subprocess.Popen[bytes]) -> int:
    """The pid of the worker's one pool process (-c 1)."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def _finished_once(look: LookRequest, tmp_path: Path) -> int:
    """The look's rows, counted: one analysis and one region per garment found, from one attempt.
    Returns the number of region rows."""
    assert look.status == "done" and look.error == "" and look.result is not None, look.error
    assert look.attempts == 2  # the killed one and the one that finished
    assert ImageAnalysis.objects.filter(look=look).count() == 1
    regions = GarmentRegion.objects.filter(analysis__look=look).count()
    assert regions == len(look.result["garments"]) + len(look.result["unplaced"]) >= 1
    assert look.result["suggestions"]
    # Exactly one attempt wrote its verdict; every other delivery was refused or killed.
    done = [
        line
        for line in _logs(tmp_path).splitlines()
        if "outfits.tasks.look_recommend" in line and "succeeded" in line and "'done'" in line
    ]
    assert len(done) == 1, _logs(tmp_path)
    return regions


def test_a_look_whose_pool_process_is_killed_finishes_once(
    live_shop: None,
    beat: subprocess.Popen[bytes],
    storefront: APIClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = _start_worker(tmp_path)
    try:
        look_id = _post_look(storefront, monkeypatch)
        _wait_for(look_id, tmp_path, "running")
        os.kill(_pool_process(worker), signal.SIGKILL)
        killed = time.monotonic()  # the worker stays up and starts a new pool process at once
        done = _wait_for(look_id, tmp_path, "done")
        finished = time.monotonic() - killed
        regions = _finished_once(done, tmp_path)
        assert worker.poll() is None
        print(f"\npool process killed: done {finished:.1f} s later, 1 analysis, {regions} regions")
    finally:
        stop_worker(worker)


def test_a_look_whose_whole_worker_is_killed_finishes_once(
    live_shop: None,
    beat: subprocess.Popen[bytes],
    storefront: APIClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = _start_worker(tmp_path)
    try:
        look_id = _post_look(storefront, monkeypatch)
        _wait_for(look_id, tmp_path, "running")
        os.killpg(worker.pid, signal.SIGKILL)  # the main process and its pool: a lost host
        worker.wait(timeout=30)
        # Its message stays unacknowledged on Redis for the visibility timeout (an hour): only the
        # sweep can bring the look back. Nothing is purged: the queues are as the dead worker left them.
        worker = _start_worker(tmp_path, log="worker-back.log", purge=False)
        back = time.monotonic()
        done = _wait_for(look_id, tmp_path, "done")
        finished = time.monotonic() - back
        regions = _finished_once(done, tmp_path)
        print(
            f"\nwhole worker killed: done {finished:.1f} s after it was back, 1 analysis, {regions} regions"
        )
    finally:
        stop_worker(worker)
