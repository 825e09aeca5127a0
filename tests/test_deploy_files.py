"""The compose file describes the shop as the issue asks; `docker compose config` checks its syntax."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from config.settings.base import CELERY_BEAT_SCHEDULE, CELERY_TASK_ROUTES
from outfits import queues

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data["services"]


def test_compose_runs_the_shops_processes() -> None:
    services = _compose()
    assert {"db", "broker", "web", "worker-gpu", "worker-cpu", "migrate"} <= set(services)
    web = " ".join(services["web"]["command"])
    # A web host pulls the active build from the build storage, then serves with gunicorn.
    assert web.index("manage.py pull_build") < web.index("exec gunicorn config.wsgi:application")
    assert services["migrate"]["restart"] == "no"


def test_the_gpu_worker_takes_only_the_gpu_queue_one_at_a_time_on_an_nvidia_device() -> None:
    gpu = _compose()["worker-gpu"]
    command = gpu["command"]
    assert command[command.index("-Q") + 1] == queues.GPU
    assert command[command.index("-c") + 1] == "1"
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]


def test_every_routed_queue_has_a_worker() -> None:
    services = _compose()
    served = set()
    for name in ("worker-gpu", "worker-cpu"):
        command = services[name]["command"]
        served |= set(command[command.index("-Q") + 1].split(","))
    assert {route["queue"] for route in CELERY_TASK_ROUTES.values()} <= served
    assert served == set(queues.ALL)


def test_one_beat_sends_the_jobs_sweep_to_a_served_queue() -> None:
    services = _compose()
    schedulers = [name for name, service in services.items() if "beat" in service.get("command", [])]
    assert schedulers == ["beat"]  # one only: each would send every sweep
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    sweep = CELERY_BEAT_SCHEDULE["jobs-sweep"]["task"]
    cpu = services["worker-cpu"]["command"]
    assert CELERY_TASK_ROUTES[sweep]["queue"] in cpu[cpu.index("-Q") + 1].split(",")
