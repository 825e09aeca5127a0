"""Queue names, in one place. Routing itself is CELERY_TASK_ROUTES in settings."""

from __future__ import annotations

DEFAULT = "default"
GPU = "gpu"  # garment analysis and photo looks: the model lives here, one process per GPU
INDEX = "index"  # Annoy builds: CPU and memory heavy, never on the GPU worker

ALL = (DEFAULT, GPU, INDEX)
