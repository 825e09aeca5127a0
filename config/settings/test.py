"""Tests run against real PostgreSQL and Redis, as the shop runs them."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent.parent
# Uploads, index builds and models of a test run live apart from the demo's, whatever the shell
# exports: a test run wipes its media and index folders and trains (and activates) a tiny garment
# model of its own, so a CTL_VAR_DIR or CTL_MODELS_DIR left set for real work must never reach it
# (CTL_TEST_VAR_DIR and CTL_TEST_MODELS_DIR move the test run's own folders).
os.environ["CTL_VAR_DIR"] = os.environ.get("CTL_TEST_VAR_DIR", str(_ROOT / "var" / "test"))
os.environ["CTL_MODELS_DIR"] = os.environ.get("CTL_TEST_MODELS_DIR", str(_ROOT / "var" / "test-models"))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ctl")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("CACHE_URL", "rediscache://127.0.0.1:6379/14")
# Most tests run tasks inline; the worker test flips this off and talks to a real worker.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("CTL_DEMO_PAGE", "true")
os.environ.setdefault("CTL_SERVE_MEDIA", "true")

from .base import *  # noqa: E402,F403
from .base import DATABASES, REST_FRAMEWORK  # noqa: E402

SECRET_KEY = "tests-only"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DATABASES["default"]["CONN_MAX_AGE"] = 0
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Generous limits so tests meet throttling only where they ask for it.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "client": "100000/min",
    "looks": "100000/min",
    "anon": "100000/min",
    "shopper": "100000/min",
    "shopper_looks": "100000/min",
}
# No collectstatic here: runserver (DEBUG) or the test client serve what they need.
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise")]  # noqa: F405
# Tests activate a build and ask at once.
CTL_ACTIVE_BUILD_TTL = 0.0
