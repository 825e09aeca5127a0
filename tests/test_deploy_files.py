"""The compose file describes the shop as the issue asks; `docker compose config` checks its syntax."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
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


def _production(code: str, secret_key: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter on the production settings, as the web image starts."""
    env = dict(os.environ)
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", DJANGO_SECRET_KEY=secret_key)
    env.pop("DJANGO_SECRET_KEY_FILE", None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "secret_key",
    ["", "short-but-not-empty", "django-insecure-" + "k3y" * 20, "a" * 64],
    ids=["empty", "short", "django-insecure", "too-few-characters"],
)
def test_production_refuses_to_start_without_a_real_secret(secret_key: str) -> None:
    started = _production("import django; django.setup()", secret_key)
    assert started.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY" in started.stderr
    assert "at least 50 characters" in started.stderr


def test_production_passes_the_deploy_checklist() -> None:
    checked = _production(
        "from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])",
        secrets.token_urlsafe(50),
    )
    assert checked.returncode == 0, checked.stderr
    assert "no issues" in checked.stdout


def test_production_redirects_to_https_but_not_the_health_check() -> None:
    healthcheck = " ".join(_compose()["web"]["healthcheck"]["test"])
    path = re.search(r"http://127\.0\.0\.1:8000(/[^'\"]*)", healthcheck)
    assert path is not None
    probe = _production(
        "import django, json; django.setup();"
        "from django.conf import settings; from django.test import RequestFactory;"
        "from django.middleware.security import SecurityMiddleware;"
        "security = SecurityMiddleware(lambda request: None);"
        "requests = RequestFactory(HTTP_HOST='localhost');"
        "answer = lambda path, **extra: security.process_request(requests.get(path, **extra));"
        f"print(json.dumps({{'health': answer({path.group(1)!r}) is None,"
        "'api': getattr(answer('/api/v1/items/'), 'status_code', None),"
        "'behind_tls': answer('/api/v1/items/', HTTP_X_FORWARDED_PROTO='https') is None,"
        "'hsts': [settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS]}))",
        secrets.token_urlsafe(50),
    )
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout.splitlines()[-1]) == {
        "health": True,
        "api": 301,
        "behind_tls": True,
        "hsts": [31_536_000, True],
    }


def test_one_beat_sends_the_jobs_sweep_to_a_served_queue() -> None:
    services = _compose()
    schedulers = [name for name, service in services.items() if "beat" in service.get("command", [])]
    assert schedulers == ["beat"]  # one only: each would send every sweep
    assert services["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
    sweep = CELERY_BEAT_SCHEDULE["jobs-sweep"]["task"]
    cpu = services["worker-cpu"]["command"]
    assert CELERY_TASK_ROUTES[sweep]["queue"] in cpu[cpu.index("-Q") + 1].split(",")
