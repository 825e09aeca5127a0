"""The web process validates uploads with vision.images (and may use detect and quality): none of
them may pull in torch, or the web image would need it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_image_validation_detection_and_quality_do_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import vision, vision.images, vision.detect, vision.quality\n"
        "heavy = sorted(m for m in ('torch', 'open_clip', 'timm', 'transformers') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
