"""Fixtures for the vision tests: no test reads a real photo or needs the network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the real import is inside the fixture: only model tests pay for torch
    from vision.embed import GarmentEmbedder


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def embedder(models_dir: Path) -> Iterator[GarmentEmbedder]:
    """The real model, built from the packaged weights once for the whole session."""
    from vision.embed import get_embedder

    yield get_embedder(models_dir=models_dir)
