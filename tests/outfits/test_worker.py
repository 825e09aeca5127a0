"""One real path through the queue: the API enqueues on Redis, a real Celery worker analyses the photo."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from config.celery_app import app
from outfits.models import LookRequest
from outfits.queues import ALL
from tests.factories import garment_photo

ROOT = Path(__file__).resolve().parents[2]


# Logs what the tests read; none of the cluster chatter a single test worker does not need.
_QUIET = ("--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat")


def _celery_env(**environment: str) -> dict[str, str]:
    """The environment of a real Celery process on the test database and Redis."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CTL_TEST_VAR_DIR": str(settings.VAR_DIR),
        "CTL_TEST_MODELS_DIR": str(settings.MODELS_DIR),
        **environment,
    }


def start_worker(
    tmp_path: Path, arguments: list[str], *, log: str = "worker.log", purge: bool = True, **environment: str
) -> subprocess.Popen[bytes]:
    """A real Celery worker on the test database and Redis, logging to tmp_path/<log>. Its own
    process group, so a drill can kill it whole (os.killpg)."""
    if purge:
        app.control.purge()  # nothing left over from an earlier run may reach this worker
    with (tmp_path / log).open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", *arguments, *_QUIET],
            cwd=ROOT,
            env=_celery_env(**environment),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = start_worker(tmp_path, ["-Q", ",".join(ALL), "--pool", "solo"])
    yield process
    stop_worker(process)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_completes_a_photo_look(
    live_shop: None,
    worker: subprocess.Popen[bytes],
    storefront: APIClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    photo = SimpleUploadedFile("look.jpg", garment_photo("Jeans", "Jeans", (40, 60, 110)), "image/jpeg")
    response = storefront.post("/api/v1/looks/", {"photo": photo}, format="multipart")
    assert response.status_code == 202
    assert response.json()["status"] == "pending"  # queued, not run inline
    look_id = response.json()["id"]
    deadline = time.monotonic() + 240
    status = "pending"
    while time.monotonic() < deadline and status in ("pending", "running"):
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        time.sleep(0.5)
        status = LookRequest.objects.get(pk=look_id).status
    log = (tmp_path / "worker.log").read_text()
    assert status == "done", log
    body = storefront.get(f"/api/v1/looks/{look_id}/").json()
    assert body["result"]["garment_slot"] == "bottom"
    assert body["result"]["suggestions"], body
    assert "outfits.tasks.look_recommend" in log


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_gpu_worker_loads_its_models_as_it_starts(live_shop: None, tmp_path: Path) -> None:
    # As docker-compose runs it: prefork, one process, CTL_WORKER_PRELOAD. No task is sent.
    process = start_worker(tmp_path, ["-Q", "gpu", "-c", "1"], CTL_WORKER_PRELOAD="true")
    try:
        deadline = time.monotonic() + 180
        log = ""
        while time.monotonic() < deadline and "worker models loaded" not in log:
            assert process.poll() is None, log
            time.sleep(0.5)
            log = (tmp_path / "worker.log").read_text()
        assert "worker models loaded" in log, log
        assert "Received task" not in log
    finally:
        stop_worker(process)
