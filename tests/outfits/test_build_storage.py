"""Builds on shared storage: the index worker publishes, another web host pulls the active build whole
and serves the build it has until then."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command

from outfits import build_storage, selectors
from outfits.models import IndexBuild

pytestmark = pytest.mark.django_db


def _wait_for_pulls() -> None:
    for thread in threading.enumerate():
        if thread.name.startswith("pull-"):
            thread.join(timeout=60)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_the_active_build_is_published_and_another_host_pulls_it_whole(tmp_path: Path) -> None:
    build_id = IndexBuild.objects.get(active=True).build_id
    assert build_storage.is_published(build_id)

    pulled = build_storage.pull(build_id, tmp_path / "host2")

    assert pulled == tmp_path / "host2" / build_id
    assert _files(pulled) == _files(Path(settings.INDEX_DIR) / build_id)
    assert sorted(p.name for p in (tmp_path / "host2").iterdir()) == [build_id]  # no part left


def _published_toy(tmp_path: Path, build_id: str) -> None:
    folder = tmp_path / "worker" / build_id
    (folder / "answers").mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    (folder / "answers" / "top__bottom.npy").write_bytes(b"\x01" * 5000)
    build_storage.publish(folder)


def test_a_build_half_published_or_damaged_is_never_pulled(tmp_path: Path) -> None:
    storage = build_storage.build_storage()
    _published_toy(tmp_path, "toy-half")
    storage.delete(f"toy-half/{build_storage.PUBLISHED}")  # its upload died before the listing
    with pytest.raises(build_storage.BuildNotPublished, match="not on the build storage"):
        build_storage.pull("toy-half", tmp_path / "host2")

    _published_toy(tmp_path, "toy-damaged")
    storage.delete("toy-damaged/answers/top__bottom.npy")
    storage.save("toy-damaged/answers/top__bottom.npy", ContentFile(b"\x01" * 4000))
    with pytest.raises(build_storage.BuildNotPublished, match="do not match"):
        build_storage.pull("toy-damaged", tmp_path / "host2")

    assert not (tmp_path / "host2").exists() or not list((tmp_path / "host2").iterdir())
    everything_else = set(storage.listdir("")[0]) - {"toy-damaged"}
    assert build_storage.remove_published(keep=everything_else) == ["toy-damaged"]
    assert not storage.exists("toy-damaged/manifest.json")


def test_a_web_host_serves_its_build_until_the_new_one_is_pulled(settings: Any, tmp_path: Path) -> None:
    worker_dir, web_dir = Path(settings.INDEX_DIR), tmp_path / "web"
    old = IndexBuild.objects.get(active=True).build_id
    selectors._indexes.clear()
    settings.INDEX_DIR = web_dir

    assert selectors.active_index() is None  # a new host: nothing to serve until the pull is done
    _wait_for_pulls()
    served = selectors.active_index()
    assert served is not None and served.manifest.build_id == old

    settings.INDEX_DIR = worker_dir  # the index worker makes and publishes a new build
    call_command("build_index")
    new = IndexBuild.objects.get(active=True).build_id
    settings.INDEX_DIR = web_dir

    during = selectors.active_index()
    assert during is not None and during.manifest.build_id == old  # the old build serves meanwhile
    _wait_for_pulls()
    after = selectors.active_index()
    assert after is not None and after.manifest.build_id == new
    assert not list(web_dir.glob("*.part"))


def test_pull_build_command_pulls_the_active_build(settings: Any, tmp_path: Path, capsys: Any) -> None:
    settings.INDEX_DIR = tmp_path / "web"
    call_command("pull_build")
    build_id = IndexBuild.objects.get(active=True).build_id
    assert (tmp_path / "web" / build_id / "manifest.json").is_file()
    assert build_id in capsys.readouterr().out
