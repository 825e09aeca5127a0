"""The demo generator is a plain library, like vision/ and recsys/: it never imports Django, so it
runs (and its tests run) with no settings and no database."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_demo_package_does_not_import_django() -> None:
    code = (
        "import sys, demo, demo.drawing, demo.folders, demo.styles, demo.textures, demo.vocabulary;"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'));"
        "print(bad[:5]); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
