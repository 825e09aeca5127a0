"""The embedded default: SQLite, Celery eager, files under var/. Nothing to start by hand."""

from __future__ import annotations

import os

# Read before base so an explicit environment variable still wins.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
# Tasks run eagerly, but Celery still opens its broker connection: name a host, or kombu warns
# "No hostname was supplied" the first time a task is sent. Still the in-process transport.
os.environ.setdefault("CELERY_BROKER_URL", "memory://localhost/")
os.environ.setdefault("CTL_DEMO_PAGE", "true")
os.environ.setdefault("CTL_SERVE_MEDIA", "true")

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = SECRET_KEY or "local-only-not-secret"  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# No collectstatic here: runserver (DEBUG) or the test client serve what they need.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405
# The embedded default keeps its SQLite file under var/: make sure the folder exists on a fresh clone.
VAR_DIR.mkdir(parents=True, exist_ok=True)  # noqa: F405
