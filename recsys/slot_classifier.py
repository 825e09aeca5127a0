"""Which slot a photo shows: a linear (softmax) probe on centred embeddings, fitted per index build.

Classify first, then search within the class: an uploaded photo has no label, and the slot decides
which index to search and which slots complete the look. A nearest-neighbour vote over frozen
ImageNet features is swayed by colour (a red T-shirt lands among red dresses); a linear probe fitted
on every labelled catalog and library garment learns the directions that separate silhouettes.
Classes are weighted by inverse frequency so a shop with few bags still recognises a bag.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from numpy.typing import NDArray

from .index import IndexSet
from .slots import POPULATIONS, check_slot

FILE_NAME: Final = "slot_classifier.npz"
# Most garments of a slot look alike: a sample bounds fitting time (each step reads every row twice)
# on a million-item catalog, and a 1,280-d linear probe with L2 needs no more.
MAX_PER_SLOT: Final = 2_000


@dataclass(frozen=True)
class SlotGuess:
    slot: str
    confidence: float


@dataclass(frozen=True)
class SlotClassifier:
    slots: tuple[str, ...]
    weights: NDArray[np.float32]  # (dim, n_slots)
    bias: NDArray[np.float32]  # (n_slots,)

    def probabilities(self, centred: NDArray[np.float32]) -> NDArray[np.float64]:
        rows = np.atleast_2d(centred).astype(np.float64)
        return _softmax(rows @ self.weights.astype(np.float64) + self.bias)

    def predict(self, centred: NDArray[np.float32]) -> SlotGuess:
        """The slot of one centred, unit-length embedding, with the probe's probability for it."""
        probabilities = self.probabilities(centred)[0]
        best = int(np.argmax(probabilities))
        return SlotGuess(self.slots[best], float(probabilities[best]))

    def save(self, folder: Path) -> Path:
        target = folder / FILE_NAME
        part = folder / (FILE_NAME + ".part")
        with part.open("wb") as handle:
            np.savez(handle, slots=np.array(self.slots), weights=self.weights, bias=self.bias)
        os.replace(part, target)
        return target

    @classmethod
    def load(cls, folder: Path) -> SlotClassifier:
        with np.load(folder / FILE_NAME, allow_pickle=False) as data:
            slots = tuple(str(s) for s in data["slots"])
            return cls(slots, data["weights"].astype(np.float32), data["bias"].astype(np.float32))


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    result: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
    return result


def slot_training_sample(index: IndexSet, *, seed: int = 0) -> tuple[NDArray[np.float32], list[str]]:
    """Centred vectors and slots of up to MAX_PER_SLOT garments a slot, read back from a written build
    (so no second copy of every embedding is held while building)."""
    rng = np.random.default_rng(seed)
    rows: list[NDArray[np.float32]] = []
    slots: list[str] = []
    for slot in sorted({slot for population in POPULATIONS for slot in index.slots(population)}):
        keys = [(population, int(key)) for population in POPULATIONS for key in index.keys(population, slot)]
        for at in rng.permutation(len(keys))[:MAX_PER_SLOT]:
            population, key = keys[at]
            vector = index.vector(population, slot, key)
            if vector is not None:
                rows.append(vector)
                slots.append(slot)
    if not rows:
        raise ValueError("the build holds no garments to learn slots from")
    return np.stack(rows), slots


def fit_slot_classifier(
    centred: NDArray[np.float32],
    slots: list[str],
    *,
    l2: float = 1e-3,
    steps: int = 500,
    learning_rate: float = 2.0,
    seed: int = 0,
) -> SlotClassifier:
    """Fit a class-balanced softmax regression by full-batch gradient descent (deterministic).

    `centred` are unit-length centred embeddings (rows), `slots` their labels. Unit-length inputs
    keep the problem well conditioned, so plain gradient descent with a fixed step converges.
    """
    for slot in set(slots):
        check_slot(slot)
    if len(slots) != len(centred) or not slots:
        raise ValueError("need one slot label per embedding, and at least one embedding")
    classes = tuple(sorted(set(slots)))
    labels = np.array([classes.index(s) for s in slots])
    rng = np.random.default_rng(seed)
    keep = np.concatenate(
        [rng.permutation(np.flatnonzero(labels == c))[:MAX_PER_SLOT] for c in range(len(classes))]
    )
    # float32: the steps are memory-bound matrix-vector work, and the probe needs no more precision.
    x = centred[keep].astype(np.float32)
    y = labels[keep]
    counts = np.bincount(y, minlength=len(classes)).astype(np.float64)
    sample_weight = (len(y) / (len(classes) * counts))[y]
    sample_weight /= sample_weight.sum()
    targets = np.eye(len(classes), dtype=np.float32)[y]
    sample_weight = sample_weight.astype(np.float32)
    weights = np.zeros((x.shape[1], len(classes)), dtype=np.float32)
    bias = np.zeros(len(classes), dtype=np.float32)
    for _ in range(steps):
        error = ((_softmax(x @ weights + bias) - targets) * sample_weight[:, None]).astype(np.float32)
        weights -= learning_rate * (x.T @ error + l2 * weights)
        bias -= learning_rate * error.sum(axis=0)
    return SlotClassifier(classes, weights.astype(np.float32), bias.astype(np.float32))
