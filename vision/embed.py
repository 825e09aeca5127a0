"""Garment and text embeddings in one space, from a model loaded once per process.

`get_embedder` is what workers call: the first call loads (and on a fresh models folder, builds)
the model, later calls with the same model and weights return the same GarmentEmbedder. The web
process never imports this module (it pulls in torch).

Which model: an operator's plugged-in checkpoint (`weights`) wins; else the active trained garment
model (vision.artefact, written by train_vision): fine-tuned tower, attention pooling and heads;
else the untrained base (ImageNet features, no heads). A model without heads still classifies by
zero-shot text prompts when its towers are aligned (a real CLIP); the untrained base is not, so it
classifies nothing and says so.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image

from vision.artefact import GarmentArtefact, active_artefact
from vision.garment_heads import GarmentHeads, GarmentPrediction, Taxonomy, garment_mask_grid
from vision.registry import DEFAULT_MODEL, LoadedModel, ModelSpec, load_model, weights_path

# Text embeddings a process keeps, the newest first (a row of 512 floats each: 32 MB at most).
TEXT_CACHE = 16_384

__all__ = ["DEFAULT_MODEL", "GarmentEmbedder", "ModelSpec", "get_embedder"]

Embeddings = npt.NDArray[np.float32]
Item = TypeVar("Item")

_embedders: dict[tuple[str, ...], GarmentEmbedder] = {}

# Words per slot for zero-shot prompts (a slot name alone is ambiguous: "top", "bag"), and the
# templates they are put in; the prototypes are the mean of the templates' text embeddings.
SLOT_PROMPT_WORDS: dict[str, str] = {
    "top": "top, shirt, t-shirt or sweater",
    "bottom": "trousers, jeans, skirt or shorts",
    "dress": "dress or jumpsuit",
    "outerwear": "coat, jacket or blazer",
    "shoes": "pair of shoes",
    "bag": "handbag",
    "accessory": "fashion accessory such as jewellery, a belt, a watch or sunglasses",
}
PROMPT_TEMPLATES: tuple[str, ...] = ("a product photo of a {}", "a {}", "{}")
_embedders_lock = threading.Lock()


class GarmentEmbedder:
    """Turns garment images and texts into L2-normalised float32 rows of `dim` numbers."""

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        device: str,
        heads: GarmentHeads | None = None,
        aligned: bool = False,
        artefact: GarmentArtefact | None = None,
    ) -> None:
        self._model = loaded.model
        # oneDNN's convolutions run on channels-last (NHWC) tensors natively; on this model that is
        # about 1.5x faster on the CPU, and the usual choice for convolutions on CUDA too.
        self._model.visual.to(memory_format=torch.channels_last)
        self._preprocess = loaded.preprocess
        self._tokenizer = loaded.tokenizer
        self._heads = heads.to(device).eval() if heads is not None else None
        self.spec: ModelSpec = loaded.spec
        self.dim: int = loaded.config.embed_dim
        self.device: str = device
        self.artefact = artefact
        # True when image and text embeddings share a space (a trained or plugged-in CLIP): only
        # then do text search and zero-shot prompts mean anything.
        self.aligned: bool = aligned or heads is not None
        self._slot_prototypes: tuple[tuple[str, ...], torch.Tensor] | None = None
        self._label_prompts: dict[tuple[str, ...], Embeddings] = {}
        self._texts: OrderedDict[str, Embeddings] = OrderedDict()
        self._text_lock = threading.Lock()

    @property
    def taxonomy(self) -> Taxonomy | None:
        return self._heads.taxonomy if self._heads is not None else None

    def describe_images(
        self, images: Sequence[Image.Image], *, batch_size: int = 32
    ) -> tuple[Embeddings, list[GarmentPrediction | None]]:
        """Embeddings (as embed_images) plus each garment's predicted category and attributes.

        With trained heads: their consistent slot → family → type and attribute probabilities.
        Without heads but with aligned towers: the slot from zero-shot prompts. Otherwise None.
        """
        embeddings: list[Embeddings] = []
        predictions: list[GarmentPrediction | None] = []
        for start in range(0, len(images), batch_size):
            batch = self.image_batch(images[start : start + batch_size])
            rows, found = self._describe_batch(batch)
            embeddings.append(rows)
            predictions.extend(found)
        if not embeddings:
            return np.zeros((0, self.dim), dtype=np.float32), []
        return np.concatenate(embeddings).astype(np.float32, copy=False), predictions

    def _describe_batch(self, batch: torch.Tensor) -> tuple[Embeddings, list[GarmentPrediction | None]]:
        if self._heads is None:
            rows = self.embed_image_batch(batch)
            return rows, list(self.zero_shot_slots(rows)) if self.aligned else [None] * len(rows)
        with torch.inference_mode(), torch.autocast("cuda", enabled=self.device.startswith("cuda")):
            embedding = self._garment_embedding(batch)
            predictions = self._heads.decode(self._heads.classify(embedding))
        return _normalised(embedding.float().cpu().numpy()), list(predictions)

    def _garment_embedding(self, batch: torch.Tensor) -> torch.Tensor:
        """The trained path: the tower's feature map, attention-pooled over the garment, projected."""
        assert self._heads is not None
        visual = self._model.visual
        features = visual.trunk.forward_features(batch)
        mask = garment_mask_grid(batch, (features.shape[-2], features.shape[-1]))
        embedding: torch.Tensor = visual.head.proj(self._heads.pool(features, mask))
        return embedding

    def zero_shot_slots(self, embeddings: Embeddings) -> list[GarmentPrediction]:
        """Slot guesses from text prompts alone (no trained heads needed; aligned towers are)."""
        slots, prototypes = self._prototypes()
        similarity = torch.from_numpy(np.ascontiguousarray(embeddings)) @ prototypes.T
        # CLIP's usual temperature turns cosine similarities into a distribution over slots.
        probabilities = torch.softmax(100.0 * similarity, dim=1)
        guesses = []
        for row in probabilities:
            best = int(row.argmax())
            guesses.append(
                GarmentPrediction(
                    slot=slots[best],
                    slot_confidence=float(row[best]),
                    family="",
                    family_confidence=0.0,
                    type="",
                    type_confidence=0.0,
                    slot_scores={slot: float(row[i]) for i, slot in enumerate(slots)},
                    type_scores={},
                    attributes={},
                )
            )
        return guesses

    def zero_shot_scores(self, embeddings: Embeddings, labels: Sequence[str]) -> npt.NDArray[np.float32]:
        """(n, len(labels)) probabilities of free-text labels ("floral", "striped") per garment:
        attributes a catalog does not label, read from the aligned text tower alone."""
        key = tuple(labels)
        prompts = self._label_prompts.get(key)
        if prompts is None:
            prompts = self.embed_texts([f"a product photo of a {label} garment" for label in labels])
            self._label_prompts[key] = prompts
        similarity = np.ascontiguousarray(embeddings) @ prompts.T
        scores: npt.NDArray[np.float32] = torch.softmax(torch.from_numpy(100.0 * similarity), dim=1).numpy()
        return scores

    def _prototypes(self) -> tuple[tuple[str, ...], torch.Tensor]:
        if self._slot_prototypes is None:
            taxonomy = self.taxonomy
            slots = taxonomy.slots if taxonomy is not None else tuple(SLOT_PROMPT_WORDS)
            rows = []
            for slot in slots:
                texts = [template.format(SLOT_PROMPT_WORDS.get(slot, slot)) for template in PROMPT_TEMPLATES]
                rows.append(_normalised(self.embed_texts(texts).mean(axis=0, keepdims=True))[0])
            self._slot_prototypes = (slots, torch.from_numpy(np.stack(rows)))
        return self._slot_prototypes

    def embed_images(self, images: Sequence[Image.Image], *, batch_size: int = 32) -> Embeddings:
        """(n, dim) float32; each row has unit length. Images are resized and centre-cropped."""
        return self._batched(
            images, batch_size, lambda chunk: self.embed_image_batch(self.image_batch(chunk))
        )

    def embed_texts(self, texts: Sequence[str], *, batch_size: int = 64) -> Embeddings:
        """(n, dim) float32 in the same space as embed_images; each row has unit length.

        Texts are cut at the model's context length (77 tokens: a long product title fits). Each
        distinct text is embedded once: a catalog's titles repeat ("White coat": 4,354 MANGO items
        carry 609 descriptions), so the process keeps the rows of the last TEXT_CACHE texts.
        """
        with self._text_lock:
            missing = list(dict.fromkeys(text for text in texts if text not in self._texts))
        if missing:
            rows = self._batched(missing, batch_size, self._embed_text_batch)
            with self._text_lock:
                for text, row in zip(missing, rows, strict=True):
                    self._texts[text] = row
                while len(self._texts) > TEXT_CACHE:
                    self._texts.popitem(last=False)
        with self._text_lock:
            found = [row for row in (self._texts.get(text) for text in texts) if row is not None]
        if len(found) < len(texts):  # pushed out by another thread's texts meanwhile
            return self._batched(texts, batch_size, self._embed_text_batch)
        return (
            np.stack(found).astype(np.float32, copy=False) if found else np.zeros((0, self.dim), np.float32)
        )

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
        """The image tower on an already preprocessed batch, rows L2-normalised (the trained
        garment path when there are heads, the model's own encode_image otherwise)."""
        if self._heads is not None:
            return _normalised(self._forward(self._garment_embedding, batch))
        return _normalised(self._forward(self._model.encode_image, batch))

    def _embed_text_batch(self, texts: Sequence[str]) -> Embeddings:
        tokens = trim_padding(self._tokenizer(list(texts)), self._model.text).to(self.device)
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
    artefact: str | None = None,
) -> GarmentEmbedder:
    """The process-wide embedder (loaded on first call, reloaded when the active model changes).

    `weights`: an operator's checkpoint of `model_name`'s architecture (no heads; zero-shot slots).
    Otherwise the pinned `artefact` (a folder or id) or the active trained garment model; otherwise
    the untrained base `<models_dir>/<model_name>.pt`, built from the packaged ImageNet and MiniLM
    weights if missing. Thread-safe: concurrent first calls load the model once. Uses CUDA when
    available.
    """
    folder = Path(models_dir)
    trained = None if weights is not None else active_artefact(folder, artefact)
    if trained is not None:
        key: tuple[str, ...] = ("artefact", str(trained.folder.resolve()))
    else:
        weights_file = Path(weights) if weights is not None else weights_path(folder, model_name)
        key = (model_name, str(weights_file.resolve()))
    with _embedders_lock:
        embedder = _embedders.get(key)
        if embedder is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
            if device == "cpu":
                _limit_cpu_threads()
            if trained is not None:
                embedder = _load_trained(trained, folder, device)
            else:
                loaded = load_model(
                    model_name,
                    models_dir=folder,
                    weights=Path(weights) if weights is not None else None,
                    device=device,
                )
                embedder = GarmentEmbedder(loaded, device=device, aligned=weights is not None)
            if trained is not None:  # a newly activated model replaces the old one: free it
                for stale in [k for k in _embedders if k[0] == "artefact"]:
                    del _embedders[stale]
            _embedders[key] = embedder
        return embedder


def _load_trained(artefact: GarmentArtefact, models_dir: Path, device: str) -> GarmentEmbedder:
    loaded = load_model(
        artefact.base_config, models_dir=models_dir, weights=artefact.clip_weights, device=device
    )
    manifest = artefact.manifest
    heads = GarmentHeads(
        Taxonomy.from_json(manifest["taxonomy"]),
        channels=int(manifest["channels"]),
        embed_dim=int(manifest["embed_dim"]),
        pooling=str(manifest["pooling"]),
    )
    heads.load_state_dict(torch.load(artefact.heads_weights, map_location=device, weights_only=True))
    # The spec names the artefact's own weights (both files), not the base it was trained from.
    spec = ModelSpec(name=artefact.base_config, weights_sha=artefact.sha256())
    loaded = LoadedModel(
        model=loaded.model,
        preprocess=loaded.preprocess,
        tokenizer=loaded.tokenizer,
        spec=spec,
        config=loaded.config,
    )
    return GarmentEmbedder(loaded, device=device, heads=heads, artefact=artefact)


def trim_padding(tokens: torch.Tensor, text_tower: Any) -> torch.Tensor:
    """Drop the columns that are padding in every row. The tokenizer pads to the context length (77)
    while a product title is about a dozen tokens; attention and mean pooling ignore padding, so the
    result is the same and the text tower runs several times faster."""
    pad = getattr(getattr(text_tower, "config", None), "pad_token_id", None)
    if pad is None or tokens.ndim != 2 or tokens.shape[1] == 0:
        return tokens
    used = (tokens != pad).any(dim=0).nonzero()
    return tokens[:, : int(used.max()) + 1] if len(used) else tokens[:, :1]


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
