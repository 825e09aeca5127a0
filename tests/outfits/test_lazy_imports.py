"""The web process must not import torch: the API image does not even carry it."""

from __future__ import annotations

import subprocess
import sys


def test_urls_and_api_do_not_import_torch() -> None:
    code = (
        "import os, sys, django;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings.test');"
        "django.setup();"
        "import config.urls, outfits.api.views, outfits.admin, outfits.tasks;"
        "bad = [m for m in ('torch', 'open_clip', 'timm', 'transformers') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
