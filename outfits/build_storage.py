"""Index builds on shared storage: the index worker publishes every finished build, and each web host
pulls the active one into its own CTL_INDEX_DIR before serving it.

The storage is Django's `builds` alias (settings.STORAGES): a local folder by default
(CTL_BUILD_STORAGE_DIR), or any Django storage — S3-compatible object storage through django-storages
— named by CTL_BUILD_STORAGE_BACKEND and CTL_BUILD_STORAGE_OPTIONS.

    <build_id>/<file>          every file of the build folder (recsys.index_build), as written
    <build_id>/published.json  the list of them with sizes and SHA-256, written last

A build without its `published.json` is not yet published (or half-uploaded) and is never pulled.
A pull downloads into `<build_id>.pull-<random>.part` beside the served builds, checks every size
and digest, and renames the folder into place, so a host never serves a half-copied build; while it
downloads (in a background thread of one process per host, behind a file lock), the host goes on
serving the build it has.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from recsys.index_build import PART_SUFFIX
from recsys.index_manifest import MANIFEST_FILE

PUBLISHED: Final = "published.json"
_CHUNK: Final = 8 * 2**20
_LOCK_FILE: Final = ".pull.lock"

log = logging.getLogger(__name__)


class BuildNotPublished(RuntimeError):
    """The build is not (or not wholly) on the shared storage."""


def build_storage() -> Storage:
    return storages["builds"]


def publish(build_dir: Path) -> int:
    """Upload a finished build folder (every file, then its listing); returns the bytes uploaded."""
    storage = build_storage()
    build_id = build_dir.name
    listing: list[dict[str, Any]] = []
    for path in sorted(p for p in build_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(build_dir).as_posix()
        digest = hashlib.sha256()
        with path.open("rb") as source:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
            source.seek(0)
            _save(storage, f"{build_id}/{relative}", File(source))
        listing.append({"path": relative, "bytes": path.stat().st_size, "sha256": digest.hexdigest()})
    body = json.dumps({"build_id": build_id, "files": listing}, indent=1)
    _save(storage, f"{build_id}/{PUBLISHED}", ContentFile(body.encode()))  # last: the build is whole
    return sum(entry["bytes"] for entry in listing)


def _save(storage: Storage, name: str, content: File[Any]) -> None:
    if storage.exists(name):  # a publish that died half-way left it: replace it
        storage.delete(name)
    saved = storage.save(name, content)
    if saved != name:
        raise RuntimeError(f"build storage saved {name!r} as {saved!r}: it must overwrite in place")


def is_published(build_id: str) -> bool:
    return build_storage().exists(f"{build_id}/{PUBLISHED}")


def pull(build_id: str, index_dir: Path) -> Path:
    """The build's folder in `index_dir`, downloaded and checked first if this host lacks it.
    Raises BuildNotPublished when the storage has no whole copy of it."""
    final = index_dir / build_id
    if (final / MANIFEST_FILE).is_file():
        return final
    storage = build_storage()
    if not storage.exists(f"{build_id}/{PUBLISHED}"):
        raise BuildNotPublished(f"index build {build_id} is not on the build storage")
    with storage.open(f"{build_id}/{PUBLISHED}", "rb") as listing_file:
        listing = json.loads(listing_file.read())
    index_dir.mkdir(parents=True, exist_ok=True)
    part = index_dir / f"{build_id}.pull-{uuid.uuid4().hex[:8]}{PART_SUFFIX}"
    try:
        for entry in listing["files"]:
            _download(storage, f"{build_id}/{entry['path']}", part / entry["path"], entry)
        if not (part / MANIFEST_FILE).is_file():
            raise BuildNotPublished(f"index build {build_id} was published without its manifest")
        try:
            os.rename(part, final)
        except OSError:  # another process of this host renamed its copy first
            if not (final / MANIFEST_FILE).is_file():
                raise
    finally:
        shutil.rmtree(part, ignore_errors=True)
    log.info("pulled index build %s (%d files)", build_id, len(listing["files"]))
    return final


def _download(storage: Storage, name: str, target: Path, expected: dict[str, Any]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with storage.open(name, "rb") as source, target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size != expected["bytes"] or digest.hexdigest() != expected["sha256"]:
        raise BuildNotPublished(f"{name}: {size} bytes that do not match what was published")


_pulling = threading.Lock()
# After a failed pull, requests wait this long before trying again (not a thread per request).
_RETRY_SECONDS: Final = 10.0
_failed_at = -_RETRY_SECONDS


def pull_in_background(build_id: str, index_dir: Path) -> None:
    """Start pulling the build unless this process or another of this host is already at it (or
    the last try failed moments ago)."""
    if time.monotonic() - _failed_at < _RETRY_SECONDS or not _pulling.acquire(blocking=False):
        return

    def run() -> None:
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
            with (index_dir / _LOCK_FILE).open("a") as lock:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # another process of this host pulls it
                    return
                pull(build_id, index_dir)
        except Exception:
            global _failed_at
            _failed_at = time.monotonic()
            log.exception("pulling index build %s failed; tried again in %.0f s", build_id, _RETRY_SECONDS)
        finally:
            _pulling.release()

    threading.Thread(target=run, name=f"pull-{build_id}", daemon=True).start()


def remove_published(*, keep: Collection[str]) -> list[str]:
    """Delete published builds whose id is not in `keep` (listing first: readers check it)."""
    storage = build_storage()
    folders, _ = storage.listdir("")
    removed: list[str] = []
    for build_id in sorted(folders):
        if build_id in keep:
            continue
        _delete_tree(storage, build_id, first=PUBLISHED)
        removed.append(build_id)
    return removed


def _delete_tree(storage: Storage, folder: str, *, first: str = "") -> None:
    if first and storage.exists(f"{folder}/{first}"):
        storage.delete(f"{folder}/{first}")
    folders, files = storage.listdir(folder)
    for name in files:
        storage.delete(f"{folder}/{name}")
    for name in folders:
        _delete_tree(storage, f"{folder}/{name}")
    with contextlib.suppress(NotImplementedError):  # object storage has no path; a folder would stay
        shutil.rmtree(storage.path(folder), ignore_errors=True)


def storage_description() -> str:
    builds: dict[str, Any] = settings.STORAGES["builds"]  # the stubs type its values as object
    backend = builds["BACKEND"]
    location = builds.get("OPTIONS", {}).get("location", "")
    return f"{backend} {location}".strip()
