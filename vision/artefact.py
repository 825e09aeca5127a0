"""The trained garment model on disk: a versioned folder with a manifest, and which one is active.

    <models_dir>/garment/<artefact id>/
        manifest.json   format version, base config, label vocabularies, data folders and counts,
                        metrics, seed, training settings
        clip.pt         the open_clip state dict (towers with fine-tuned blocks, both projections),
                        loaded with create_model_and_transforms(base, pretrained=clip.pt)
        heads.pt        attention pooling + classification heads (vision.garment_heads)
    <models_dir>/garment/ACTIVE   the active artefact's id (replaced atomically)

A folder is written as `<id>.part` and renamed into place, so readers never see half an artefact.
The setting `CTL_VISION_ARTEFACT` (a folder path or id) pins one regardless of ACTIVE.
Plain Python (json, hashlib): loading the weights is vision.embed's job.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

FORMAT_VERSION: Final = 1
GARMENT_DIR: Final = "garment"
ACTIVE_FILE: Final = "ACTIVE"
CLIP_FILE: Final = "clip.pt"
HEADS_FILE: Final = "heads.pt"
MANIFEST_FILE: Final = "manifest.json"


class ArtefactError(ValueError):
    """An artefact folder is missing, incomplete or of a format this code does not read."""


@dataclass(frozen=True)
class GarmentArtefact:
    folder: Path
    manifest: dict[str, Any]

    @property
    def artefact_id(self) -> str:
        return self.folder.name

    @property
    def base_config(self) -> str:
        return str(self.manifest["base_config"])

    @property
    def clip_weights(self) -> Path:
        return self.folder / CLIP_FILE

    @property
    def heads_weights(self) -> Path:
        return self.folder / HEADS_FILE

    def sha256(self) -> str:
        """One digest over both weight files: what a stored embedding's spec records."""
        digest = hashlib.sha256()
        for path in (self.clip_weights, self.heads_weights):
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()


def garment_dir(models_dir: Path) -> Path:
    return Path(models_dir) / GARMENT_DIR


def read_artefact(folder: Path) -> GarmentArtefact:
    folder = Path(folder)
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ArtefactError(f"{folder} is not a garment model: no {MANIFEST_FILE}")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtefactError(
            f"{folder}: garment model format {version!r}, this code reads format {FORMAT_VERSION}; "
            "train it again with `manage.py train_vision`"
        )
    for name in (CLIP_FILE, HEADS_FILE):
        if not (folder / name).is_file():
            raise ArtefactError(f"{folder}: {name} is missing")
    return GarmentArtefact(folder=folder, manifest=manifest)


def write_artefact(
    models_dir: Path, artefact_id: str, manifest: dict[str, Any], files: dict[str, bytes]
) -> GarmentArtefact:
    """Write a new artefact folder atomically (`<id>.part`, then os.replace). Does not activate it."""
    root = garment_dir(models_dir)
    root.mkdir(parents=True, exist_ok=True)
    part = root / f"{artefact_id}.part"
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir()
    for name, data in files.items():
        (part / name).write_bytes(data)
    (part / MANIFEST_FILE).write_text(
        json.dumps({"format_version": FORMAT_VERSION, **manifest}, indent=2, sort_keys=True), encoding="utf-8"
    )
    target = root / artefact_id
    if target.exists():
        raise ArtefactError(f"{target} exists already")
    os.replace(part, target)
    return read_artefact(target)


def activate(models_dir: Path, artefact_id: str) -> None:
    """Make `artefact_id` the active garment model (readers switch on their next load)."""
    read_artefact(garment_dir(models_dir) / artefact_id)  # refuse to activate a broken folder
    pointer = garment_dir(models_dir) / ACTIVE_FILE
    part = pointer.with_name(ACTIVE_FILE + ".part")
    part.write_text(artefact_id + "\n", encoding="utf-8")
    os.replace(part, pointer)


def active_artefact(models_dir: Path, pinned: str | None = None) -> GarmentArtefact | None:
    """The pinned artefact (a folder or an id) if given, else the active one, else None (untrained)."""
    if pinned:
        folder = Path(pinned)
        if not folder.is_dir():
            folder = garment_dir(models_dir) / pinned
        return read_artefact(folder)
    pointer = garment_dir(models_dir) / ACTIVE_FILE
    if not pointer.is_file():
        return None
    return read_artefact(garment_dir(models_dir) / pointer.read_text(encoding="utf-8").strip())
