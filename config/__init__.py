from __future__ import annotations

# Importing the app here makes @shared_task bind to it in every process (web, worker, commands).
from .celery_app import app as celery_app

__all__ = ("celery_app",)
