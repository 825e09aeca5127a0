"""Garment and text embeddings in one space, from a model loaded once per process.

`get_embedder` is what workers call: the first call loads (and on a fresh models folder, builds)
the model, later calls with the same model and weights return the same GarmentEmbedder. The web
process never imports this module (it pulls in torch).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image

from vision.registry import DEFAULT_MODEL, LoadedModel, ModelSpec, load_model, weights_path

__all__ = ["DEFAULT_MODEL", "GarmentEmbedder", "ModelSpec", "get_embedder"]

Embeddings = npt.NDArray[np.float32]
Item = TypeVar("Item")

_embedders: dict[tuple[str, str], GarmentEmbedder] = {}
_embedders_lock = threading.Lock()


class GarmentEmbedder:
    """Turns garment images and texts into L2-normalised float32 rows of `dim` numbers."""

    def __init__(self, loaded: LoadedModel, *, device: str) -> None:
        self._model = loaded.model
        # oneDNN's convolutions run on channels-last (NHWC) tensors natively; on this model that is
        # about 1.5x faster on the CPU, and the usual choice for convolutions on CUDA too.
        self._model.visual.to(memory_format=torch.channels_last)
        self._preprocess = loaded.preprocess
        self._tokenizer = loaded.tokenizer
        self.spec: ModelSpec = loaded.spec
        self.dim: int = loaded.config.embed_dim
        self.device: str = device

    def embed_images(self, images: Sequence[Image.Image], *, batch_size: int = 32) -> Embeddings:
        """(n, dim) float32; each row has unit length. Images are resized and centre-cropped."""
        return self._batched(
            images, batch_size, lambda chunk: self.embed_image_batch(self.image_batch(chunk))
        )

    def embed_texts(self, texts: Sequence[str], *, batch_size: int = 64) -> Embeddings:
        """(n, dim) float32 in the same space as embed_images; each row has unit length.

        Texts are cut at the model's context length (77 tokens: a long product title fits).
        """
        return self._batched(texts, batch_size, self._embed_text_batch)

    def backbone_features(self, images: Sequence[Image.Image], *, batch_size: int = 32) -> Embeddings:
        """(n, 1280) pooled ImageNet features before any projection, not normalised.

        What an alignment is trained on: computed once, they make training epochs cheap.
        """
        trunk = getattr(self._model.visual, "trunk", None)
        if trunk is None:
            raise TypeError(f"{self.spec.name} has no timm backbone to take features from")
        return self._batched(images, batch_size, lambda chunk: self._forward(trunk, self.image_batch(chunk)))

    def image_batch(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Preprocess images into one (n, 3, 224, 224) tensor on the model's device."""
        with _one_torch_thread():
            batch = torch.stack([self._preprocess(image) for image in images])
        return batch.to(self.device, memory_format=torch.channels_last, non_blocking=True)

    def embed_image_batch(self, batch: torch.Tensor) -> Embeddings:
        """The image tower on an already preprocessed batch, rows L2-normalised."""
        return _normalised(self._forward(self._model.encode_image, batch))

    def _embed_text_batch(self, texts: Sequence[str]) -> Embeddings:
        tokens = self._tokenizer(list(texts)).to(self.device)
        return _normalised(self._forward(self._model.encode_text, tokens))

    def _forward(self, layer: Callable[[torch.Tensor], torch.Tensor], inputs: torch.Tensor) -> Embeddings:
        # Mixed precision only on CUDA: on the CPU float16/bfloat16 convolutions are slower, not faster.
        with torch.inference_mode(), torch.autocast("cuda", enabled=self.device.startswith("cuda")):
            output = layer(inputs)
        features: Embeddings = output.float().cpu().numpy()
        return features

    def _batched(
        self, items: Sequence[Item], batch_size: int, embed: Callable[[Sequence[Item]], Embeddings]
    ) -> Embeddings:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        parts = [embed(items[start : start + batch_size]) for start in range(0, len(items), batch_size)]
        if not parts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)


def get_embedder(
    *,
    models_dir: str | os.PathLike[str],
    model_name: str = DEFAULT_MODEL,
    weights: str | os.PathLike[str] | None = None,
) -> GarmentEmbedder:
    """The process-wide embedder for `model_name` with `weights` (loaded on first call).

    `weights` defaults to `<models_dir>/<model_name>.pt`, built from the packaged ImageNet and MiniLM
    weights if missing; pass a path to use another checkpoint of the same architecture. Thread-safe:
    concurrent first calls load the model once. Uses CUDA when available.
    """
    folder = Path(models_dir)
    weights_file = Path(weights) if weights is not None else weights_path(folder, model_name)
    key = (model_name, str(weights_file.resolve()))
    with _embedders_lock:
        embedder = _embedders.get(key)
        if embedder is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
            if device == "cpu":
                _limit_cpu_threads()
            loaded = load_model(
                model_name,
                models_dir=folder,
                weights=Path(weights) if weights is not None else None,
                device=device,
            )
            embedder = GarmentEmbedder(loaded, device=device)
            _embedders[key] = embedder
        return embedder


def _limit_cpu_threads() -> None:
    # torch starts one thread per physical core of the host, even in a container limited to fewer
    # CPUs; more threads than usable CPUs makes convolutions slower, not faster. OMP_NUM_THREADS,
    # when set, is the operator's choice and torch already follows it.
    if "OMP_NUM_THREADS" in os.environ:
        return
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    torch.set_num_threads(max(1, min(torch.get_num_threads(), usable)))


@contextmanager
def _one_torch_thread() -> Iterator[None]:
    # Preprocessing runs many tiny tensor operations (one 224x224 image each); spread over threads
    # they spend longer synchronising than computing, badly so when other processes share the
    # cores (22 ms instead of 4 ms per image, measured with a second busy process on 2 cores). The
    # setting is process-wide: a forward pass in another thread meanwhile only runs slower.
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _normalised(rows: Embeddings) -> Embeddings:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    normalised: Embeddings = rows / np.maximum(norms, 1e-12)
    return normalised
