"""The Celery app. Settings come from Django's CELERY_* settings; routes live in settings too."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("ctl")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
