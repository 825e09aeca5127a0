"""The models a worker loads once per process: the garment model, the quality filter, the pose
reader and the garment gate. Each is imported lazily: the web process never loads them."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from vision.embed import GarmentEmbedder
    from vision.garment_gate import GarmentGate
    from vision.people import PoseReader
    from vision.quality_filter import QualityFilter

log = logging.getLogger(__name__)
_lock = threading.Lock()
_poses: PoseReader | None = None


def vision_embedder() -> GarmentEmbedder:
    """The process's one image model: an operator's checkpoint, else the active trained garment model,
    else the untrained base (loaded on first use, reloaded when train_vision activates another)."""
    from vision.embed import get_embedder

    return get_embedder(
        models_dir=settings.MODELS_DIR,
        model_name=settings.CTL_VISION_MODEL,
        weights=settings.CTL_VISION_WEIGHTS,
        artefact=settings.CTL_VISION_ARTEFACT,
    )


def quality_filter() -> QualityFilter | None:
    """The learned quality filter (train_quality writes it), or None: the hand-set rules grade."""
    from vision.quality_filter import load_quality_filter

    return load_quality_filter(Path(settings.MODELS_DIR) / "quality")


def pose_reader() -> PoseReader:
    """MediaPipe Pose, one per process (it loads its weights on the first photo)."""
    global _poses
    with _lock:
        if _poses is None:
            from vision.people import PoseReader

            _poses = PoseReader()
        return _poses


def garment_gate(spec: str) -> GarmentGate | None:
    """The fitted garment gate for embeddings of `spec` (train_gate fits it), or None: without one,
    only the classifier's confidence decides what is a garment. A gate of another spec raises
    Read per call: a small file, refitted at any time. A gate fitted on another image model is
    unusable (its embeddings differ): it is skipped with a warning until `train_gate` runs again,
    rather than failing every look."""
    from vision.garment_gate import GateMismatch, load_gate

    try:
        return load_gate(Path(settings.MODELS_DIR), spec=spec, pinned=settings.CTL_GATE_ARTEFACT)
    except GateMismatch as exc:
        log.warning("%s", exc)
        return None


def preload() -> None:
    """Load the image model, the quality filter and the pose reader now, so the first photo a worker
    takes does not wait seconds for them (called as a gpu worker's process starts: CTL_WORKER_PRELOAD)."""
    vision_embedder()
    quality_filter()
    pose_reader()
    log.info("worker models loaded")
