"""Train the garment model: fine-tune the image tower's last blocks, attention pooling, multi-task
heads and the image-text alignment, on labelled folders (MANGO or Myntra layout).

Designed for a 2-core CPU (CUDA is used when present):
1. Every photo goes through the analysis pipeline once (decode, find the garment, isolate it on the
   neutral backdrop, preprocess) and through the frozen lower blocks of the image tower; their
   output maps are cached on disk as float16. Training photos get one random, colour-preserving
   light change and a small change of scale at that point (the frozen layers run once, so this is
   where per-photo augmentation can happen); every epoch adds flips and small crops on the maps.
2. Every text (a title, or type, colour and fabric in words) goes through the frozen MiniLM tower
   once; only the text projection trains.
3. Epochs then train the upper blocks + conv head (BatchNorm statistics frozen), the pooling, the
   image projection, the heads and the text projection: cross-entropy per head (a head learns only
   from rows that carry its label) plus a symmetric image-text contrastive loss.
4. Early stopping on the validation part (by a hash of the item id, never trained on); the figures
   reported at the end are from the test part, which nothing is tuned on.

Resumable: the feature cache is written in chunks and reused, and a checkpoint is saved after every
epoch in the work folder. Deterministic for a given seed (and machine).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import multiprocessing
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import torch
from PIL import Image, ImageEnhance
from torch import nn
from torch.nn import functional as F
from tqdm import tqdm

from vision.analyze import PIPELINE_VERSION
from vision.artefact import CLIP_FILE, HEADS_FILE, GarmentArtefact, activate, write_artefact
from vision.datasets import LabelledGarment, read_labelled_folder, split_part
from vision.detect import NEUTRAL_BACKGROUND, find_garment, isolate_garment
from vision.embed import PROMPT_TEMPLATES, SLOT_PROMPT_WORDS, trim_padding
from vision.garment_heads import GarmentHeads, Taxonomy, garment_mask_grid, type_key
from vision.images import ANALYSIS_SIDE, DEFAULT_LIMITS, ImageRejected, PhotoLimits, open_garment_image
from vision.labels import SLOTS
from vision.registry import LoadedModel, load_model

log = logging.getLogger(__name__)

BASE_CONFIG: Final = "ctl-garment-effnetlite0-minilm"
CACHE_CHUNK: Final = 256


@dataclass(frozen=True)
class TrainSettings:
    seed: int = 0
    max_epochs: int = 8
    patience: int = 2
    batch_size: int = 64
    learning_rate: float = 1e-3  # heads, pooling, projections
    backbone_learning_rate: float = 3e-4  # the fine-tuned blocks
    weight_decay: float = 1e-4
    tune_from_block: int = 5  # blocks from here on (and the conv head) are fine-tuned
    # "avg" or "attention" (mask-guided channel + spatial attention). Average pooling is the default:
    # on isolated product photos attention measured no better (the ablation in the README).
    pooling: str = "avg"
    contrastive_weight: float = 1.0
    validation_share: float = 0.1
    test_share: float = 0.1
    limit: int | None = None  # at most this many garments per folder (quick runs)
    base_config: str = BASE_CONFIG
    baseline: bool = False  # also fit a linear probe on the frozen ImageNet features (for comparison)


@dataclass
class TrainResult:
    artefact: GarmentArtefact
    metrics: dict[str, float]
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Progress:
    """Where training stands: saved with every checkpoint, so --resume goes on from here."""

    epoch: int = 0
    best_score: float = -1.0
    best_epoch: int = 0
    bad_epochs: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


class TrainingError(RuntimeError):
    """Training cannot start or go on (no data, nothing left for a part, a stale checkpoint)."""


# --- Data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    garments: list[LabelledGarment]
    parts: npt.NDArray[np.str_]  # "train" | "validation" | "test" per garment
    folders: list[dict[str, Any]]
    taxonomy: Taxonomy
    slot: npt.NDArray[np.int64]
    family: npt.NDArray[np.int64]
    type: npt.NDArray[np.int64]
    attributes: dict[str, npt.NDArray[np.int64]]  # -1 where a row lacks the label
    source: npt.NDArray[np.str_]  # the folder each garment came from
    text_id: npt.NDArray[np.int64]  # garments with the same text share an id


def _read_data(folders: Sequence[Path], settings: TrainSettings) -> _Data:
    garments: list[LabelledGarment] = []
    described = []
    for folder in folders:
        read = read_labelled_folder(folder)
        rows = read.garments[: settings.limit] if settings.limit else read.garments
        garments.extend(rows)
        described.append(
            {
                "path": str(Path(folder).resolve()),
                "layout": read.layout,
                "garments": len(rows),
                "skipped": dict(read.skipped),
            }
        )
    if not garments:
        raise TrainingError("the folders hold no usable labelled garments")
    taxonomy = Taxonomy.from_labels(
        [g.category for g in garments], [g.attributes for g in garments], slot_order=SLOTS
    )
    parts = np.array(
        [
            split_part(g.item_id, validation_share=settings.validation_share, test_share=settings.test_share)
            for g in garments
        ]
    )
    for part in ("train", "validation"):
        if not (parts == part).any():
            raise TrainingError(f"no garment falls in the {part} part: give more data")
    family_index = {f: i for i, f in enumerate(taxonomy.families)}
    type_index = {t: i for i, t in enumerate(taxonomy.types)}
    attributes = {
        name: np.array(
            [values.index(g.attributes[name]) if g.attributes.get(name) in values else -1 for g in garments]
        )
        for name, values in taxonomy.attributes.items()
    }
    for folder_info, counts in zip(described, _part_counts(garments, parts), strict=True):
        folder_info["parts"] = counts
    return _Data(
        garments=garments,
        parts=parts,
        folders=described,
        taxonomy=taxonomy,
        slot=np.array([taxonomy.slots.index(g.slot) for g in garments]),
        family=np.array([family_index[(g.slot, g.family)] for g in garments]),
        type=np.array([type_index[g.category] for g in garments]),
        attributes=attributes,
        source=np.array([g.item_id.split(":", 1)[0] for g in garments]),
        text_id=np.unique([g.text for g in garments], return_inverse=True)[1].astype(np.int64),
    )


def _part_counts(garments: Sequence[LabelledGarment], parts: npt.NDArray[np.str_]) -> list[dict[str, int]]:
    by_source: dict[str, Counter[str]] = {}
    for garment, part in zip(garments, parts, strict=True):
        by_source.setdefault(garment.item_id.split(":", 1)[0], Counter())[str(part)] += 1
    return [dict(counter) for counter in by_source.values()]


# --- The frozen part, computed once ----------------------------------------------------------


def _lower_trunk(trunk: Any, tune_from_block: int) -> Callable[[torch.Tensor], torch.Tensor]:
    blocks: Any = trunk.blocks

    def forward(x: torch.Tensor) -> torch.Tensor:
        x = trunk.bn1(trunk.conv_stem(x))
        for block in blocks[:tune_from_block]:
            x = block(x)
        return x

    return forward


def _upper_trunk(trunk: Any, tune_from_block: int) -> nn.Sequential:
    blocks: Any = trunk.blocks
    return nn.Sequential(*blocks[tune_from_block:], trunk.conv_head, trunk.bn2)


def _jitter(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """One colour-preserving light change and a small change of scale (never a hue shift: colour
    labels must stay true)."""
    image = ImageEnhance.Brightness(image).enhance(float(rng.uniform(0.85, 1.15)))
    image = ImageEnhance.Contrast(image).enhance(float(rng.uniform(0.85, 1.15)))
    if rng.random() < 0.5:  # zoom out a little: the garment smaller on the neutral backdrop
        side = round(image.width * float(rng.uniform(1.0, 1.15)))
        canvas = Image.new("RGB", (side, side), NEUTRAL_BACKGROUND)
        offset = ((side - image.width) // 2, (side - image.height) // 2)
        canvas.paste(image, offset)
        image = canvas
    return image


def _prepared_photo(
    garment: LabelledGarment, *, jitter: bool, seed: int, limits: PhotoLimits
) -> Image.Image | None:
    try:
        # Opened as the analysis opens a photo (vision.images.ANALYSIS_SIDE), so the model trains on
        # the crops it is shown when serving.
        image = open_garment_image(garment.image_path, limits=limits, work_side=ANALYSIS_SIDE)
    except (ImageRejected, OSError) as exc:
        log.warning("skipping %s: %s", garment.image_path, exc)
        return None
    isolated = isolate_garment(image, find_garment(image))
    if jitter:
        digest = hashlib.sha256(f"{seed}:{garment.item_id}".encode()).digest()
        isolated = _jitter(isolated, np.random.default_rng(int.from_bytes(digest[:8], "big")))
    return isolated


# A photo to prepare: the garment, whether to jitter it (training part), the seed, the photo limits.
_Job = tuple[LabelledGarment, bool, int, PhotoLimits]


def _prepare_job(job: _Job) -> Image.Image | None:
    garment, jitter, seed, limits = job
    return _prepared_photo(garment, jitter=jitter, seed=seed, limits=limits)


class _Preparer:
    """Prepares photos in one forked worker process (PIL and numpy only: torch stays in the parent,
    whose threads a fork would not carry), a batch ahead of the one the network is running."""

    def __init__(self) -> None:
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))

    def submit(self, jobs: Sequence[_Job]) -> list[Future[Image.Image | None]]:
        return [self._pool.submit(_prepare_job, job) for job in jobs]

    def close(self) -> None:
        self._pool.shutdown()


@dataclass
class _FeatureCache:
    maps: npt.NDArray[np.float16]  # (n, C, H, W): the lower blocks' output
    masks: npt.NDArray[np.float16]  # (n, 1, H, W): garment share per cell
    ok: npt.NDArray[np.bool_]  # photos that could be read
    texts: npt.NDArray[np.float32]  # (n, text width): the frozen text tower's pooled output

    def rows(self, rows: npt.NDArray[np.int64]) -> tuple[torch.Tensor, torch.Tensor]:
        """The cached maps and masks of `rows`, as float32 tensors on the CPU."""
        maps = torch.from_numpy(np.asarray(self.maps[rows], dtype=np.float32))
        return maps, torch.from_numpy(np.asarray(self.masks[rows], dtype=np.float32))


def _cache_key(data: _Data, loaded: LoadedModel, settings: TrainSettings) -> str:
    digest = hashlib.sha256()
    for garment in data.garments:
        digest.update(f"{garment.item_id}|{garment.image_path}|{garment.text}\n".encode())
    digest.update(f"{loaded.spec}|{PIPELINE_VERSION}|{settings.tune_from_block}|{settings.seed}".encode())
    digest.update(f"{settings.validation_share}|{settings.test_share}".encode())
    return digest.hexdigest()[:16]


def _build_cache(
    data: _Data,
    loaded: LoadedModel,
    device: str,
    folder: Path,
    settings: TrainSettings,
    *,
    progress: bool,
    limits: PhotoLimits,
) -> _FeatureCache:
    """Run every photo through the frozen lower blocks once (chunk by chunk, resumable)."""
    folder.mkdir(parents=True, exist_ok=True)
    trunk = loaded.model.visual.trunk
    lower = _lower_trunk(trunk, settings.tune_from_block)
    n = len(data.garments)
    with torch.inference_mode():
        probe = lower(torch.zeros(1, 3, 224, 224, device=device))
    shape = tuple(int(s) for s in probe.shape[1:])
    maps_path, masks_path, ok_path = folder / "maps.f16", folder / "masks.f16", folder / "ok.npy"
    mode = "r+" if maps_path.is_file() else "w+"
    maps = np.lib.format.open_memmap(  # type: ignore[no-untyped-call]
        maps_path, mode=mode, dtype=np.float16, shape=(n, *shape)
    )
    masks = np.lib.format.open_memmap(  # type: ignore[no-untyped-call]
        masks_path, mode=mode, dtype=np.float16, shape=(n, 1, shape[1], shape[2])
    )
    done_path = folder / "chunks_done.json"
    done: set[int] = set(json.loads(done_path.read_text())) if done_path.is_file() else set()
    ok = np.load(ok_path) if ok_path.is_file() else np.zeros(n, dtype=bool)
    chunks = range(0, n, CACHE_CHUNK)
    bar = tqdm(total=n, desc="caching photo features", unit="photo", disable=not progress)
    # Decoding, finding and isolating garments is single-threaded Python and numpy: a second process
    # does it while torch runs the frozen blocks on the batch before.
    preparer = _Preparer()
    for start in chunks:
        stop = min(n, start + CACHE_CHUNK)
        if start in done:
            bar.update(stop - start)
            continue
        subs = [
            range(sub, min(stop, sub + settings.batch_size))
            for sub in range(start, stop, settings.batch_size)
        ]

        def jobs(rows: range) -> list[_Job]:
            return [(data.garments[i], bool(data.parts[i] == "train"), settings.seed, limits) for i in rows]

        pending = preparer.submit(jobs(subs[0]))
        for at, rows in enumerate(subs):
            photos = [future.result() for future in pending]
            if at + 1 < len(subs):
                pending = preparer.submit(jobs(subs[at + 1]))  # prepared while this batch runs
            good = [i for i, photo in zip(rows, photos, strict=True) if photo is not None]
            if good:
                batch = torch.stack([loaded.preprocess(p) for p in photos if p is not None]).to(device)
                with torch.inference_mode():
                    maps[good] = (
                        lower(batch.contiguous(memory_format=torch.channels_last))
                        .float()
                        .cpu()
                        .numpy()
                        .astype(np.float16)
                    )
                    masks[good] = (
                        garment_mask_grid(batch, (shape[1], shape[2])).cpu().numpy().astype(np.float16)
                    )
                ok[good] = True
            bar.update(len(rows))
        maps.flush()
        masks.flush()
        np.save(ok_path, ok)
        done.add(start)
        done_path.write_text(json.dumps(sorted(done)))
    preparer.close()
    bar.close()
    texts = _text_features(data, loaded, device, folder, progress=progress)
    return _FeatureCache(maps=maps, masks=masks, ok=ok, texts=texts)


def _text_features(
    data: _Data, loaded: LoadedModel, device: str, folder: Path, *, progress: bool
) -> npt.NDArray[np.float32]:
    path = folder / "texts.npy"
    if path.is_file():
        cached: npt.NDArray[np.float32] = np.load(path)
        return cached
    text_tower = loaded.model.text
    projection = text_tower.proj
    text_tower.proj = nn.Identity()  # the pooled MiniLM output: what the text projection learns from
    try:
        unique = sorted({g.text for g in data.garments})
        rows: list[npt.NDArray[np.float32]] = []
        with torch.inference_mode():
            for start in tqdm(range(0, len(unique), 256), desc="caching text features", disable=not progress):
                tokens = trim_padding(loaded.tokenizer(unique[start : start + 256]), text_tower).to(device)
                rows.append(text_tower(tokens).float().cpu().numpy())
    finally:
        text_tower.proj = projection
    table = np.concatenate(rows)
    position = {text: i for i, text in enumerate(unique)}
    features = table[[position[g.text] for g in data.garments]].astype(np.float32)
    np.save(path, features)
    return features


# --- Training --------------------------------------------------------------------------------


class _Trainable(nn.Module):
    """Everything that learns, around the cached maps."""

    def __init__(self, loaded: LoadedModel, taxonomy: Taxonomy, settings: TrainSettings) -> None:
        super().__init__()
        model = loaded.model
        self.upper = _upper_trunk(model.visual.trunk, settings.tune_from_block)
        self.heads = GarmentHeads(
            taxonomy,
            channels=int(model.visual.trunk.num_features),
            embed_dim=loaded.config.embed_dim,
            pooling=settings.pooling,
        )
        self.image_projection: nn.Linear = model.visual.head.proj
        self.text_projection: nn.Linear = model.text.proj
        self.logit_scale: nn.Parameter = model.logit_scale

    def embed(self, maps: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
        features = self.upper(maps)
        pooled = self.heads.pool(
            features, _resize_mask(masks, features.shape[-2:]) if masks is not None else None
        )
        embedding: torch.Tensor = self.image_projection(pooled)
        return embedding


def _resize_mask(masks: torch.Tensor, size: Iterable[int]) -> torch.Tensor:
    height, width = size
    if tuple(masks.shape[-2:]) == (height, width):
        return masks
    return F.adaptive_avg_pool2d(masks, (height, width))


def _augment(
    maps: torch.Tensor, masks: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample horizontal flips and one small random crop per batch, on the cached maps."""
    flip = torch.rand(maps.shape[0], generator=generator) < 0.5
    maps = torch.where(flip[:, None, None, None], maps.flip(-1), maps)
    masks = torch.where(flip[:, None, None, None], masks.flip(-1), masks)
    height, width = maps.shape[-2:]
    crop = int(torch.randint(max(2, height - 3), height + 1, (1,), generator=generator))
    if crop < height:
        top = int(torch.randint(0, height - crop + 1, (1,), generator=generator))
        left = int(torch.randint(0, width - crop + 1, (1,), generator=generator))
        maps = F.interpolate(
            maps[..., top : top + crop, left : left + crop],
            size=(height, width),
            mode="bilinear",
            align_corners=False,
        )
        masks = F.interpolate(
            masks[..., top : top + crop, left : left + crop],
            size=(height, width),
            mode="bilinear",
            align_corners=False,
        )
    return maps, masks


def _losses(
    trainable: _Trainable,
    data: _Data,
    cache: _FeatureCache,
    rows: npt.NDArray[np.int64],
    device: str,
    settings: TrainSettings,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, dict[str, float]]:
    maps, masks = cache.rows(rows)
    if generator is not None:
        maps, masks = _augment(maps, masks, generator)
    maps, masks = maps.to(device).contiguous(memory_format=torch.channels_last), masks.to(device)
    embedding = trainable.embed(maps, masks)
    logits = trainable.heads.classify(embedding)
    targets = {
        "slot": data.slot[rows],
        "family": data.family[rows],
        "type": data.type[rows],
        **{f"attr:{name}": labels[rows] for name, labels in data.attributes.items()},
    }
    weights = {"slot": 1.0, "family": 0.5, "type": 1.0}
    total = torch.zeros((), device=device)
    parts: dict[str, float] = {}
    for name, target in targets.items():
        if (target >= 0).any():
            loss = F.cross_entropy(logits[name], torch.from_numpy(target).to(device), ignore_index=-1)
            total = total + weights.get(name, 0.5) * loss
            parts[name] = float(loss.detach())
    if settings.contrastive_weight > 0:
        image = F.normalize(embedding, dim=1)
        text = F.normalize(trainable.text_projection(torch.from_numpy(cache.texts[rows]).to(device)), dim=1)
        scale = trainable.logit_scale.exp().clamp(max=100.0)
        similarity = scale * image @ text.T
        # Garments that share a text (one title, several colours' photos) are all right answers.
        text_ids = torch.from_numpy(data.text_id[rows]).to(device)
        positives = (text_ids[:, None] == text_ids[None, :]).float()
        positives = positives / positives.sum(dim=1, keepdim=True)
        contrastive = 0.5 * (
            -(positives * F.log_softmax(similarity, dim=1)).sum(1).mean()
            - (positives * F.log_softmax(similarity.T, dim=1)).sum(1).mean()
        )
        total = total + settings.contrastive_weight * contrastive
        parts["contrastive"] = float(contrastive.detach())
    return total, parts


def _set_train_mode(trainable: _Trainable) -> None:
    trainable.train()
    # BatchNorm statistics stay as ImageNet left them: batches of 64 from one shop are a poor
    # estimate, and the blocks below were computed with them.
    for module in trainable.upper.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


@torch.inference_mode()
def _embed_rows(
    trainable: _Trainable, cache: _FeatureCache, rows: npt.NDArray[np.int64], device: str, batch_size: int
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    trainable.eval()
    embeddings, logits = [], []
    for start in range(0, len(rows), batch_size * 4):
        chunk = rows[start : start + batch_size * 4]
        maps, masks = (tensor.to(device) for tensor in cache.rows(chunk))
        embedding = trainable.embed(maps.contiguous(memory_format=torch.channels_last), masks)
        embeddings.append(embedding)
        logits.append(trainable.heads.classify(embedding))
    return torch.cat(embeddings), {name: torch.cat([part[name] for part in logits]) for name in logits[0]}


def evaluate_rows(
    trainable: _Trainable,
    data: _Data,
    cache: _FeatureCache,
    rows: npt.NDArray[np.int64],
    device: str,
    settings: TrainSettings,
    loaded: LoadedModel | None = None,
) -> dict[str, float]:
    """Accuracy of each head (consistent decoding for the hierarchy), per source folder and overall,
    text→image Recall@10, and zero-shot slot accuracy when `loaded` (the tokenizer) is given."""
    embeddings, logits = _embed_rows(trainable, cache, rows, device, settings.batch_size)
    predictions = trainable.heads.decode(logits, top=1)
    taxonomy = data.taxonomy
    metrics: dict[str, float] = {}
    groups = {
        "all": np.ones(len(rows), dtype=bool),
        **{str(s): data.source[rows] == s for s in np.unique(data.source[rows])},
    }
    slot_hit = np.array([p.slot == data.garments[r].slot for p, r in zip(predictions, rows, strict=True)])
    family_hit = np.array(
        [
            (p.slot, p.family) == taxonomy.families[data.family[r]]
            for p, r in zip(predictions, rows, strict=True)
        ]
    )
    type_hit = np.array(
        [
            (p.slot, p.family, p.type) == data.garments[r].category
            for p, r in zip(predictions, rows, strict=True)
        ]
    )
    for group, member in groups.items():
        if member.any():
            metrics[f"{group}/slot"] = float(slot_hit[member].mean())
            metrics[f"{group}/family"] = float(family_hit[member].mean())
            metrics[f"{group}/type"] = float(type_hit[member].mean())
        for name, labels in data.attributes.items():
            known = member & (labels[rows] >= 0)
            if known.any():
                guess = logits[f"attr:{name}"].argmax(dim=1).cpu().numpy()
                metrics[f"{group}/{name}"] = float((guess[known] == labels[rows][known]).mean())
    image = F.normalize(embeddings, dim=1)
    text = F.normalize(trainable.text_projection(torch.from_numpy(cache.texts[rows]).to(device)), dim=1)
    with torch.inference_mode():
        ranks = _text_to_image_ranks(text, image, [data.garments[r].text for r in rows])
    metrics["all/text_to_image_recall@10"] = float((ranks < 10).mean())
    if loaded is not None:
        metrics["all/zero_shot_slot"] = _zero_shot_slot_accuracy(
            trainable, loaded, image, [data.garments[r].slot for r in rows], device
        )
    return metrics


def validation_confusion(
    trainable: _Trainable,
    data: _Data,
    cache: _FeatureCache,
    rows: npt.NDArray[np.int64],
    device: str,
    settings: TrainSettings,
) -> dict[str, dict[str, int]]:
    """Counts of (stated, predicted) slot and type pairs on `rows`, keys "stated|predicted"; types
    as "slot/family/type"."""
    if not len(rows):
        return {"slot": {}, "type": {}}
    _, logits = _embed_rows(trainable, cache, rows, device, settings.batch_size)
    predictions = trainable.heads.decode(logits, top=1)
    slots: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for prediction, row in zip(predictions, rows, strict=True):
        garment = data.garments[row]
        slots[f"{garment.slot}|{prediction.slot}"] += 1
        types[f"{type_key(garment.category)}|{prediction.slot}/{prediction.family}/{prediction.type}"] += 1
    return {"slot": dict(slots), "type": dict(types)}


def _text_to_image_ranks(
    text: torch.Tensor, image: torch.Tensor, texts: Sequence[str]
) -> npt.NDArray[np.int64]:
    """For each held-out title, the rank of the best image that carries that title (0 = first)."""
    similarity = text @ image.T  # (n texts, n images)
    owner: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        owner.setdefault(t, []).append(i)
    ranks = np.empty(len(texts), dtype=np.int64)
    order = torch.argsort(similarity, dim=1, descending=True).cpu().numpy()
    for i, t in enumerate(texts):
        hits = np.isin(order[i], owner[t])
        ranks[i] = int(np.argmax(hits))
    return ranks


def slot_prompt_texts(slots: Sequence[str]) -> list[list[str]]:
    return [
        [template.format(SLOT_PROMPT_WORDS.get(slot, slot)) for template in PROMPT_TEMPLATES]
        for slot in slots
    ]


def _zero_shot_slot_accuracy(
    trainable: _Trainable, loaded: LoadedModel, image: torch.Tensor, truth: Sequence[str], device: str
) -> float:
    slots = list(dict.fromkeys(SLOTS))
    prompts = slot_prompt_texts(slots)
    text_tower = loaded.model.text
    with torch.inference_mode():
        prototypes = []
        for texts in prompts:
            rows = F.normalize(
                text_tower(trim_padding(loaded.tokenizer(texts), text_tower).to(device)), dim=1
            )
            prototypes.append(F.normalize(rows.mean(dim=0), dim=0))
        guess = (image @ torch.stack(prototypes).T).argmax(dim=1).cpu().numpy()
    return float(np.mean([slots[g] == t for g, t in zip(guess, truth, strict=True)]))


def _validation_score(metrics: dict[str, float]) -> float:
    keys = [k for k in metrics if k.startswith("all/") and not k.endswith("zero_shot_slot")]
    return float(np.mean([metrics[k] for k in keys]))


# --- The baseline the issue compares against -------------------------------------------------


def _linear_probe_baseline(
    loaded: LoadedModel,
    data: _Data,
    cache: _FeatureCache,
    device: str,
    settings: TrainSettings,
    *,
    progress: bool,
) -> dict[str, float]:
    """A softmax regression on the frozen ImageNet features (average-pooled), for slot, type and
    colour group: what the shop had before any fashion was learned."""
    upper = _upper_trunk(loaded.model.visual.trunk, settings.tune_from_block).eval()
    rows = np.flatnonzero(cache.ok)
    features = []
    with torch.inference_mode():
        for start in tqdm(range(0, len(rows), 256), desc="frozen features (baseline)", disable=not progress):
            chunk = rows[start : start + 256]
            maps = cache.rows(chunk)[0].to(device)
            features.append(upper(maps.contiguous(memory_format=torch.channels_last)).mean(dim=(2, 3)).cpu())
    x = F.normalize(torch.cat(features), dim=1)
    train = data.parts[rows] == "train"
    test = data.parts[rows] == "test"
    metrics: dict[str, float] = {}
    targets = {"slot": data.slot[rows], "type": data.type[rows]}
    if "colour_group" in data.attributes:
        targets["colour_group"] = data.attributes["colour_group"][rows]
    for name, target in targets.items():
        known = target >= 0
        guess = _fit_softmax(
            x[train & known], torch.from_numpy(target[train & known]), int(target.max()) + 1, settings.seed
        )(x)
        for group in ["all", *np.unique(data.source).tolist()]:
            member = test & known & ((data.source[rows] == group) if group != "all" else True)
            if member.any():
                metrics[f"{group}/{name}"] = float((guess[member].numpy() == target[member]).mean())
    return metrics


def _fit_softmax(
    x: torch.Tensor, y: torch.Tensor, classes: int, seed: int
) -> Callable[[torch.Tensor], torch.Tensor]:
    torch.manual_seed(seed)
    x = x.clone()  # out of inference mode
    layer = nn.Linear(x.shape[1], classes)
    optimiser = torch.optim.Adam(layer.parameters(), lr=0.01)
    for _ in range(300):  # full batch: a convex problem, converged well before this
        optimiser.zero_grad()
        loss = F.cross_entropy(layer(x), y) + 1e-5 * layer.weight.square().sum()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
    return lambda rows: layer(rows).argmax(dim=1).detach()


# --- The whole run ---------------------------------------------------------------------------


def train_garment_model(
    folders: Sequence[Path],
    *,
    models_dir: Path,
    work_dir: Path | None = None,
    settings: TrainSettings = TrainSettings(),
    resume: bool = False,
    progress: bool = True,
    activate_model: bool = True,
    limits: PhotoLimits = DEFAULT_LIMITS,
    report: Callable[[str], None] = print,
) -> TrainResult:
    """Train on labelled folders and write a versioned artefact (activated unless told otherwise).

    Side effects: a feature cache and per-epoch checkpoints in `work_dir` (default
    `<models_dir>/garment/_work/<cache key>`), the artefact folder, and the ACTIVE pointer.
    """
    started = time.perf_counter()
    torch.manual_seed(settings.seed)
    np.random.seed(settings.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = _read_data(folders, settings)
    loaded = load_model(settings.base_config, models_dir=models_dir, device=device)
    loaded.model.visual.trunk.to(memory_format=torch.channels_last)
    key = _cache_key(data, loaded, settings)
    work = work_dir or Path(models_dir) / "garment" / "_work" / key
    report(
        f"{len(data.garments)} garments from {len(folders)} folder(s): "
        + ", ".join(f"{p}={int((data.parts == p).sum())}" for p in ("train", "validation", "test"))
        + f"; {len(data.taxonomy.types)} types, attributes: {', '.join(data.taxonomy.attributes) or 'none'}"
    )
    cache = _build_cache(data, loaded, device, work / "cache", settings, progress=progress, limits=limits)
    seconds = {"cache": time.perf_counter() - started}
    trainable = _Trainable(loaded, data.taxonomy, settings).to(device)
    upper_params = list(trainable.upper.parameters())
    upper_ids = {id(p) for p in upper_params}
    other_params = [p for p in trainable.parameters() if id(p) not in upper_ids]
    optimiser = torch.optim.AdamW(
        [
            {"params": upper_params, "lr": settings.backbone_learning_rate},
            {"params": other_params, "lr": settings.learning_rate},
        ],
        weight_decay=settings.weight_decay,
    )
    train_rows = np.flatnonzero((data.parts == "train") & cache.ok)
    validation_rows = np.flatnonzero((data.parts == "validation") & cache.ok)
    test_rows = np.flatnonzero((data.parts == "test") & cache.ok)
    steps_per_epoch = math.ceil(len(train_rows) / settings.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimiser,
        max_lr=[settings.backbone_learning_rate, settings.learning_rate],
        total_steps=steps_per_epoch * settings.max_epochs,
        pct_start=0.15,
    )
    generator = torch.Generator().manual_seed(settings.seed)
    checkpoint_path = work / "checkpoint.pt"
    state = _Progress()
    best_weights: dict[str, torch.Tensor] | None = None
    if resume and checkpoint_path.is_file():
        saved = torch.load(checkpoint_path, map_location=device, weights_only=False)
        if saved["settings"] != asdict(settings):
            raise TrainingError(f"{checkpoint_path} was made with other settings; train without --resume")
        trainable.load_state_dict(saved["trainable"])
        optimiser.load_state_dict(saved["optimiser"])
        scheduler.load_state_dict(saved["scheduler"])
        generator.set_state(saved["generator"])
        state = _Progress(**saved["state"])
        best_weights = saved["best_weights"]
        report(f"resuming after epoch {state.epoch}")
    training_started = time.perf_counter()
    while state.epoch < settings.max_epochs and state.bad_epochs < settings.patience:
        epoch = state.epoch + 1
        _set_train_mode(trainable)
        order = train_rows[torch.randperm(len(train_rows), generator=generator).numpy()]
        running: Counter[str] = Counter()
        bar = tqdm(
            range(steps_per_epoch),
            desc=f"epoch {epoch}/{settings.max_epochs}",
            unit="batch",
            disable=not progress,
        )
        for step in bar:
            rows = order[step * settings.batch_size : (step + 1) * settings.batch_size]
            loss, _ = _losses(trainable, data, cache, rows, device, settings, generator)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            scheduler.step()
            running.update({"loss": float(loss.detach())})
            bar.set_postfix(loss=f"{running['loss'] / (step + 1):.3f}")
        metrics = evaluate_rows(trainable, data, cache, validation_rows, device, settings)
        score = _validation_score(metrics)
        state.history.append(
            {"epoch": epoch, "loss": running["loss"] / steps_per_epoch, "validation_score": score}
        )
        report(
            f"epoch {epoch}: loss {running['loss'] / steps_per_epoch:.3f}, validation "
            + ", ".join(
                f"{k.removeprefix('all/')}={v:.3f}" for k, v in metrics.items() if k.startswith("all/")
            )
        )
        if score > state.best_score:
            state.best_score, state.best_epoch, state.bad_epochs = score, epoch, 0
            best_weights = {k: v.detach().clone() for k, v in trainable.state_dict().items()}
        else:
            state.bad_epochs += 1
        state.epoch = epoch
        _save_checkpoint(
            checkpoint_path,
            {
                "settings": asdict(settings),
                "trainable": trainable.state_dict(),
                "optimiser": optimiser.state_dict(),
                "scheduler": scheduler.state_dict(),
                "generator": generator.get_state(),
                "state": asdict(state),
                "best_weights": best_weights,
            },
        )
    seconds["train"] = time.perf_counter() - training_started
    if best_weights is not None:
        trainable.load_state_dict(best_weights)
    report(f"best epoch {state.best_epoch} of {state.epoch} (early stopping on the validation part)")
    test_metrics = (
        evaluate_rows(trainable, data, cache, test_rows, device, settings, loaded=loaded)
        if len(test_rows)
        else {}
    )
    metrics = {f"test/{k}": v for k, v in test_metrics.items()}
    if settings.baseline:
        metrics |= {
            f"baseline_frozen_linear/{k}": v
            for k, v in _linear_probe_baseline(
                loaded, data, cache, device, settings, progress=progress
            ).items()
        }
    confusion = validation_confusion(trainable, data, cache, validation_rows, device, settings)
    seconds["total"] = time.perf_counter() - started
    artefact = _write(loaded, trainable, data, settings, metrics, seconds, state, models_dir, confusion)
    if activate_model:
        activate(models_dir, artefact.artefact_id)
    return TrainResult(artefact=artefact, metrics=metrics, seconds=seconds)


def _save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    part = path.with_name(path.name + ".part")
    torch.save(payload, part)
    part.replace(path)


def _write(
    loaded: LoadedModel,
    trainable: _Trainable,
    data: _Data,
    settings: TrainSettings,
    metrics: dict[str, float],
    seconds: dict[str, float],
    state: _Progress,
    models_dir: Path,
    confusion: dict[str, dict[str, int]],
) -> GarmentArtefact:
    # The trainable modules are the open_clip model's own (shared), so its state dict holds the
    # fine-tuned blocks and both projections.
    clip_buffer, heads_buffer = io.BytesIO(), io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in loaded.model.state_dict().items()}, clip_buffer)
    torch.save({k: v.detach().cpu() for k, v in trainable.heads.state_dict().items()}, heads_buffer)
    digest = hashlib.sha256(clip_buffer.getvalue() + heads_buffer.getvalue()).hexdigest()
    artefact_id = f"{time.strftime('%Y%m%dT%H%M%S')}-{digest[:8]}"
    manifest = {
        "base_config": settings.base_config,
        "base_spec": str(loaded.spec),
        "base_weights_sha256": loaded.spec.weights_sha,
        "pooling": settings.pooling,
        "channels": int(loaded.model.visual.trunk.num_features),
        "embed_dim": loaded.config.embed_dim,
        "taxonomy": data.taxonomy.as_json(),
        "data": data.folders,
        "counts": {p: int((data.parts == p).sum()) for p in ("train", "validation", "test")},
        "metrics": metrics,
        "seconds": seconds,
        "epochs": state.history,
        "best_epoch": state.best_epoch,
        "seed": settings.seed,
        "settings": asdict(settings),
        "pipeline_version": PIPELINE_VERSION,
        "slot_prompt_words": SLOT_PROMPT_WORDS,
        # How often a stated category was predicted as another on the validation part: what the
        # mislabel audit weighs a disagreement by ("stated|predicted" → count).
        "validation_confusion": confusion,
    }
    return write_artefact(
        models_dir,
        artefact_id,
        manifest,
        {CLIP_FILE: clip_buffer.getvalue(), HEADS_FILE: heads_buffer.getvalue()},
    )
