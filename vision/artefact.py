"""Trained artefacts on disk: a versioned folder with a manifest, and which one is active.

Every trained model of the product (the garment model here, the compatibility model in
recsys.compat) is stored the same way, by this one module:

    <models_dir>/<kind>/<artefact id>/
        manifest.json   format version, what it was trained on and with, its figures, seed
        <weight files>  the kind's own files (garment: clip.pt + heads.pt; compat: weights.npz)
    <models_dir>/<kind>/ACTIVE   the active artefact's id (replaced atomically)

A folder is written as `<id>.part` and renamed into place, so readers never see half an artefact.
A setting (CTL_VISION_ARTEFACT, CTL_COMPAT_ARTEFACT) pins one by folder path or id regardless of
ACTIVE. Plain Python (json, hashlib): loading the weights is each kind's own job.

Garment model: clip.pt is the open_clip state dict (towers with fine-tuned blocks, both
projections), loaded with create_model_and_transforms(base, pretrained=clip.pt); heads.pt the
attention pooling and classification heads (vision.garment_heads).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, overload

ACTIVE_FILE: Final = "ACTIVE"
MANIFEST_FILE: Final = "manifest.json"
CLIP_FILE: Final = "clip.pt"
HEADS_FILE: Final = "heads.pt"


class ArtefactError(ValueError):
    """An artefact folder is missing, incomplete or of a format this code does not read."""


@dataclass(frozen=True)
class ArtefactKind:
    """One kind of trained artefact: its folder name, weight files, format and how to remake it."""

    name: str  # the folder under models_dir, and the word in error messages
    files: tuple[str, ...]
    format_version: int
    retrain: str  # the command that makes a new one


GARMENT: Final = ArtefactKind(
    name="garment", files=(CLIP_FILE, HEADS_FILE), format_version=1, retrain="manage.py train_vision"
)
GARMENT_DIR: Final = GARMENT.name
FORMAT_VERSION: Final = GARMENT.format_version


@dataclass(frozen=True)
class Artefact:
    folder: Path
    manifest: dict[str, Any]
    kind: ArtefactKind = GARMENT

    @property
    def artefact_id(self) -> str:
        return self.folder.name

    def file(self, name: str) -> Path:
        return self.folder / name

    def sha256(self) -> str:
        """One digest over the weight files: what a spec made from this artefact records."""
        digest = hashlib.sha256()
        for name in self.kind.files:
            with self.file(name).open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()


class GarmentArtefact(Artefact):
    @property
    def base_config(self) -> str:
        return str(self.manifest["base_config"])

    @property
    def clip_weights(self) -> Path:
        return self.file(CLIP_FILE)

    @property
    def heads_weights(self) -> Path:
        return self.file(HEADS_FILE)


def kind_dir(models_dir: Path, kind: ArtefactKind) -> Path:
    return Path(models_dir) / kind.name


def garment_dir(models_dir: Path) -> Path:
    return kind_dir(models_dir, GARMENT)


def _wrap(folder: Path, manifest: dict[str, Any], kind: ArtefactKind) -> Artefact:
    return (GarmentArtefact if kind == GARMENT else Artefact)(folder=folder, manifest=manifest, kind=kind)


# Without a kind these read and write the garment model (and say so in their type).
@overload
def read_artefact(folder: Path) -> GarmentArtefact: ...
@overload
def read_artefact(folder: Path, kind: ArtefactKind) -> Artefact: ...
def read_artefact(folder: Path, kind: ArtefactKind = GARMENT) -> Artefact:
    """The artefact in `folder`; ArtefactError if it is not a complete one of this kind and format."""
    folder = Path(folder)
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ArtefactError(f"{folder} is not a {kind.name} model: no {MANIFEST_FILE}")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    version = manifest.get("format_version")
    if version != kind.format_version:
        raise ArtefactError(
            f"{folder}: {kind.name} model format {version!r}, this code reads format "
            f"{kind.format_version}; train it again with `{kind.retrain}`"
        )
    for name in kind.files:
        if not (folder / name).is_file():
            raise ArtefactError(f"{folder}: {name} is missing")
    return _wrap(folder, manifest, kind)


@overload
def write_artefact(
    models_dir: Path, artefact_id: str, manifest: dict[str, Any], files: dict[str, bytes]
) -> GarmentArtefact: ...
@overload
def write_artefact(
    models_dir: Path, artefact_id: str, manifest: dict[str, Any], files: dict[str, bytes], kind: ArtefactKind
) -> Artefact: ...
def write_artefact(
    models_dir: Path,
    artefact_id: str,
    manifest: dict[str, Any],
    files: dict[str, bytes],
    kind: ArtefactKind = GARMENT,
) -> Artefact:
    """Write a new artefact folder atomically (`<id>.part`, then os.replace). Does not activate it."""
    missing = set(kind.files) - set(files)
    if missing:
        raise ArtefactError(f"a {kind.name} artefact needs {', '.join(sorted(missing))}")
    root = kind_dir(models_dir, kind)
    root.mkdir(parents=True, exist_ok=True)
    part = root / f"{artefact_id}.part"
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir()
    for name, data in files.items():
        (part / name).write_bytes(data)
    (part / MANIFEST_FILE).write_text(
        json.dumps({"format_version": kind.format_version, **manifest}, indent=2, sort_keys=True),
        encoding="utf-8",
    )
    target = root / artefact_id
    if target.exists():
        raise ArtefactError(f"{target} exists already")
    os.replace(part, target)
    return read_artefact(target, kind)


def activate(models_dir: Path, artefact_id: str, kind: ArtefactKind = GARMENT) -> None:
    """Make `artefact_id` the active one of its kind (readers switch on their next load)."""
    read_artefact(kind_dir(models_dir, kind) / artefact_id, kind)  # refuse to activate a broken folder
    pointer = kind_dir(models_dir, kind) / ACTIVE_FILE
    part = pointer.with_name(ACTIVE_FILE + ".part")
    part.write_text(artefact_id + "\n", encoding="utf-8")
    os.replace(part, pointer)


@overload
def active_artefact(models_dir: Path, pinned: str | None = None) -> GarmentArtefact | None: ...
@overload
def active_artefact(models_dir: Path, pinned: str | None, kind: ArtefactKind) -> Artefact | None: ...
def active_artefact(
    models_dir: Path, pinned: str | None = None, kind: ArtefactKind = GARMENT
) -> Artefact | None:
    """The pinned artefact (a folder or an id) if given, else the active one, else None (none trained)."""
    root = kind_dir(models_dir, kind)
    if pinned:
        folder = Path(pinned)
        if not folder.is_dir():
            folder = root / pinned
        return read_artefact(folder, kind)
    pointer = root / ACTIVE_FILE
    if not pointer.is_file():
        return None
    return read_artefact(root / pointer.read_text(encoding="utf-8").strip(), kind)
