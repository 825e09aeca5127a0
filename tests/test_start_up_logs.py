"""What `./bin/demo` prints as it starts carries no lines a user must learn to ignore."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from config.log_filters import QuietOpenClip

ROOT = Path(__file__).resolve().parents[1]
OPEN_CLIP_FILE = os.path.join("site-packages", "open_clip", "factory.py")
OUR_FILE = os.path.join("vision", "registry.py")
PARTIAL = "Model ctl-garment-effnetlite0-minilm initialized partially."


def _record(pathname: str, level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("root", level, pathname, 1, message, None, None)


def test_open_clip_info_lines_and_its_expected_partial_load_warning_are_dropped() -> None:
    quiet = QuietOpenClip()
    assert not quiet.filter(_record(OPEN_CLIP_FILE, logging.INFO, "Parsing model identifier."))
    assert not quiet.filter(_record(OPEN_CLIP_FILE, logging.WARNING, PARTIAL))


def test_open_clip_warnings_and_everyone_elses_lines_are_kept() -> None:
    quiet = QuietOpenClip()
    assert quiet.filter(
        _record(OPEN_CLIP_FILE, logging.WARNING, "No pretrained weights loaded for model 'x'.")
    )
    assert quiet.filter(_record(OPEN_CLIP_FILE, logging.ERROR, "Error loading text tower weights"))
    assert quiet.filter(_record(OUR_FILE, logging.INFO, "built the model"))
    assert quiet.filter(_record(OUR_FILE, logging.WARNING, "initialized partially."))


def test_the_console_handler_uses_the_filter() -> None:
    from django.conf import settings

    logging_config: dict[str, Any] = settings.LOGGING
    console = logging_config["handlers"]["console"]
    filters = [logging_config["filters"][name]["()"] for name in console["filters"]]
    assert "config.log_filters.QuietOpenClip" in filters


def test_the_embedded_default_broker_does_not_warn_when_a_task_is_sent(tmp_path: Path) -> None:
    """Celery eager still opens its broker connection: `memory://` without a host made kombu warn
    "No hostname was supplied" once per process."""
    unset = ("CELERY_BROKER_URL", "DATABASE_URL", "CACHE_URL")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.local", CTL_VAR_DIR=str(tmp_path))
    code = (
        "import django; django.setup();"
        "from config.celery_app import app;"
        "conn = app.connection_for_write(); conn.info(); conn.release()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=Path(__file__).parents[1],
    )
    assert result.returncode == 0, result.stderr
    assert "No hostname" not in result.stderr, result.stderr
