from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from recsys.index import IndexCache, IndexSet, ManifestMismatch
from tests.recsys.worlds import build, random_units


@pytest.fixture
def two_builds(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    for build_id in ("b1", "b2"):
        build(
            tmp_path,
            [("catalog", "top", i, row) for i, row in enumerate(random_units(rng, 5))],
            build_id=build_id,
        )
    return tmp_path


def test_same_build_dir_returns_the_loaded_set(two_builds: Path) -> None:
    cache = IndexCache()

    first = cache.get(two_builds / "b1")

    assert cache.get(two_builds / "b1") is first
    assert cache.get(two_builds / "x" / ".." / "b1") is first


def test_a_new_active_build_is_loaded(two_builds: Path) -> None:
    cache = IndexCache()
    old = cache.get(two_builds / "b1")

    new = cache.get(two_builds / "b2")

    assert new is not old and new.manifest.build_id == "b2"
    assert cache.get(two_builds / "b2") is new


def test_clear_forces_a_reload(two_builds: Path) -> None:
    cache = IndexCache()
    old = cache.get(two_builds / "b1")
    cache.clear()
    assert cache.get(two_builds / "b1") is not old


def test_another_model_spec_is_refused_even_when_cached(two_builds: Path) -> None:
    cache = IndexCache()
    cache.get(two_builds / "b1")
    with pytest.raises(ManifestMismatch, match="rebuild the index"):
        cache.get(two_builds / "b1", expect_model_spec="other@v2")


def test_concurrent_requests_load_a_build_once(two_builds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = IndexCache()
    loads: list[str] = []
    real_load = IndexSet.load.__func__  # type: ignore[attr-defined]
    counting = threading.Lock()

    def slow_load(cls: type[IndexSet], build_dir: Path, *, expect_model_spec: str | None = None) -> IndexSet:
        with counting:
            loads.append(build_dir.name)
        time.sleep(0.05)  # widen the window in which a second thread could start its own load
        return real_load(cls, build_dir, expect_model_spec=expect_model_spec)

    monkeypatch.setattr(IndexSet, "load", classmethod(slow_load))

    with ThreadPoolExecutor(max_workers=8) as pool:
        first_round = list(pool.map(lambda _: cache.get(two_builds / "b1"), range(32)))
        second_round = list(pool.map(lambda _: cache.get(two_builds / "b2"), range(32)))

    assert loads == ["b1", "b2"]
    assert all(found is first_round[0] for found in first_round)
    assert all(found is second_round[0] for found in second_round)
