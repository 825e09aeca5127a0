"""Garment or not: a learned gate on the garment model's embedding.

The classifier always names a slot, even for a blank wall or a cat: it was only ever shown garments.
The gate is a logistic regression on the same embedding, fitted on garment photos (the shop's own
analysed catalog and library) against photos of no garment that this module draws itself
(`drawn_non_garments`: gradients, clouds, shapes, stripes and checks, text). It is one matrix
product per batch and reads nothing but the embedding, so it costs nothing beside the model.

The threshold is set on garments held out of the fit: at most MAX_GARMENTS_REFUSED of them are
refused. The benchmark (bench/eval_regions.py) measures it on photos of no garment from other
generators (i.i.d. noise, speckle, scikit-image's sample photos), never these.

Stored like every trained artefact (vision.artefact): <models_dir>/gate/<id>/gate.npz + manifest,
naming the analysis spec of the embeddings it was fitted on; a gate of another spec refuses to load.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter

from .artefact import Artefact, ArtefactError, ArtefactKind, activate, active_artefact, write_artefact

FloatArray = npt.NDArray[np.float32]

GATE_FILE: Final = "gate.npz"
GATE: Final = ArtefactKind(name="gate", files=(GATE_FILE,), format_version=1, retrain="manage.py train_gate")
# Garments held out of the fit that the threshold may refuse: a real garment refused costs a
# shopper their look, a non-garment let through costs a poor suggestion row; the first is worse.
MAX_GARMENTS_REFUSED: Final = 0.01
L2: Final = 1e-3
STEPS: Final = 400


class GateMismatch(ArtefactError):
    """The gate was fitted on embeddings of another model or pipeline."""


@dataclass(frozen=True)
class GateFigures:
    garments_refused: float  # held-out garments below the threshold
    non_garments_refused: float  # held-out drawn non-garments below the threshold
    garments: int
    non_garments: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "garments_refused": round(self.garments_refused, 4),
            "non_garments_refused": round(self.non_garments_refused, 4),
            "garments": self.garments,
            "non_garments": self.non_garments,
        }


@dataclass(frozen=True)
class GarmentGate:
    weights: FloatArray  # (dim,)
    bias: float
    threshold: float  # garment odds below this: no garment
    spec: str  # the analysis spec of the embeddings it reads

    def garment_odds(self, embeddings: npt.ArrayLike) -> FloatArray:
        """(rows,) probability that each (rows, dim) embedding shows a garment."""
        matrix = np.atleast_2d(np.asarray(embeddings, dtype=np.float32))
        if matrix.shape[1] != self.weights.shape[0]:
            raise GateMismatch(
                f"the gate reads {self.weights.shape[0]}-d embeddings, got {matrix.shape[1]}-d"
            )
        return _sigmoid(matrix @ self.weights + self.bias)

    def is_garment(self, embeddings: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        return self.garment_odds(embeddings) >= self.threshold

    def save(
        self, models_dir: Path, artefact_id: str, *, figures: GateFigures, make_active: bool = True
    ) -> Artefact:
        buffer = io.BytesIO()
        np.savez(
            buffer, weights=self.weights, bias=np.float32(self.bias), threshold=np.float32(self.threshold)
        )
        artefact = write_artefact(
            models_dir,
            artefact_id,
            {"spec": self.spec, "figures": figures.as_dict(), "max_garments_refused": MAX_GARMENTS_REFUSED},
            {GATE_FILE: buffer.getvalue()},
            GATE,
        )
        if make_active:
            activate(models_dir, artefact_id, GATE)
        return artefact


def load_gate(models_dir: Path, *, spec: str, pinned: str | None = None) -> GarmentGate | None:
    """The active gate for embeddings of `spec`; None when none is trained. A gate fitted on another
    spec raises GateMismatch, saying to fit it again."""
    artefact = active_artefact(models_dir, pinned, GATE)
    if artefact is None:
        return None
    if artefact.manifest.get("spec") != spec:
        raise GateMismatch(
            f"the garment gate {artefact.artefact_id} was fitted on {artefact.manifest.get('spec')}, "
            f"the image model is {spec}: fit it again with `{GATE.retrain}`"
        )
    with np.load(artefact.file(GATE_FILE)) as stored:
        return GarmentGate(
            weights=stored["weights"].astype(np.float32),
            bias=float(stored["bias"]),
            threshold=float(stored["threshold"]),
            spec=spec,
        )


def fit_gate(
    garments: npt.ArrayLike, non_garments: npt.ArrayLike, *, spec: str, seed: int = 0, held_out: float = 0.2
) -> tuple[GarmentGate, GateFigures]:
    """Fit the gate on (n, dim) garment and non-garment embeddings; a share of each is held out to
    set the threshold and measure it. Classes are weighed equally whatever their counts."""
    positives = np.asarray(garments, dtype=np.float32)
    negatives = np.asarray(non_garments, dtype=np.float32)
    if len(positives) < 10 or len(negatives) < 10:
        raise ValueError(
            f"the gate needs at least 10 of each kind, got {len(positives)} and {len(negatives)}"
        )
    rng = np.random.default_rng(seed)
    pos_fit, pos_held = _split(positives, held_out, rng)
    neg_fit, neg_held = _split(negatives, held_out, rng)
    weights, bias = _logistic(pos_fit, neg_fit)
    gate = GarmentGate(weights=weights, bias=bias, threshold=0.5, spec=spec)
    held_odds = gate.garment_odds(pos_held)
    threshold = min(0.5, float(np.quantile(held_odds, MAX_GARMENTS_REFUSED)))
    gate = GarmentGate(weights=weights, bias=bias, threshold=threshold, spec=spec)
    figures = GateFigures(
        garments_refused=float(np.mean(~gate.is_garment(pos_held))),
        non_garments_refused=float(np.mean(~gate.is_garment(neg_held))),
        garments=len(positives),
        non_garments=len(negatives),
    )
    return gate, figures


def _split(rows: FloatArray, share: float, rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    order = rng.permutation(len(rows))
    cut = max(1, round(share * len(rows)))
    return rows[order[cut:]], rows[order[:cut]]


def _logistic(positives: FloatArray, negatives: FloatArray) -> tuple[FloatArray, float]:
    """Class-balanced L2 logistic regression by full-batch gradient descent with momentum (a few
    thousand rows of a few hundred dims: milliseconds; no solver library needed)."""
    features = np.concatenate([positives, negatives]).astype(np.float64)
    labels = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives))])
    weight = np.where(labels == 1, 0.5 / len(positives), 0.5 / len(negatives))
    scale = float(np.sqrt(features.shape[1]))  # unit-length rows: give the weights room
    features = features * scale
    w, b = np.zeros(features.shape[1]), 0.0
    velocity_w, velocity_b = np.zeros_like(w), 0.0
    rate = 0.5
    for _ in range(STEPS):
        error = (_sigmoid(features @ w + b) - labels) * weight
        grad_w = features.T @ error + L2 * w
        grad_b = float(error.sum())
        velocity_w = 0.9 * velocity_w - rate * grad_w
        velocity_b = 0.9 * velocity_b - rate * grad_b
        w, b = w + velocity_w, b + velocity_b
    return (w * scale).astype(np.float32), float(b)


def _sigmoid(x: npt.NDArray[Any]) -> FloatArray:
    odds: FloatArray = (1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))).astype(np.float32)
    return odds


# --- Photos of no garment, drawn -------------------------------------------------------------


def drawn_non_garments(count: int, *, seed: int = 0) -> list[Image.Image]:
    """`count` photos of no garment, each from one of the drawers below in turn, at varied sizes."""
    rng = np.random.default_rng(seed)
    drawers = list(_DRAWERS)
    photos = []
    for i in range(count):
        size = (int(rng.integers(120, 700)), int(rng.integers(120, 700)))
        photos.append(drawers[i % len(drawers)](size, rng))
    return photos


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    r, g, b = (int(c) for c in rng.integers(0, 256, 3))
    return r, g, b


def _gradient(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    width, height = size
    a, b = np.array(_colour(rng), np.float32), np.array(_colour(rng), np.float32)
    angle = rng.uniform(0, np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = xs / width * np.cos(angle) + ys / height * np.sin(angle)
    if rng.random() < 0.5:  # radial instead
        t = np.hypot(xs / width - 0.5, ys / height - 0.5)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    return Image.fromarray((a + (b - a) * t[..., None]).astype(np.uint8))


def _clouds(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    coarse = rng.integers(0, 256, (int(rng.integers(2, 9)), int(rng.integers(2, 9)), 3), dtype=np.uint8)
    return Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(3))


def _shapes(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    image = Image.new("RGB", size, _colour(rng))
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(int(rng.integers(1, 6))):
        x0, y0 = float(rng.uniform(0, width * 0.8)), float(rng.uniform(0, height * 0.8))
        x1, y1 = x0 + float(rng.uniform(10, width * 0.6)), y0 + float(rng.uniform(10, height * 0.6))
        shape = int(rng.integers(0, 3))
        if shape == 0:
            draw.ellipse((x0, y0, x1, y1), fill=_colour(rng))
        elif shape == 1:
            draw.rectangle((x0, y0, x1, y1), fill=_colour(rng))
        else:
            points = [
                (float(rng.uniform(0, width)), float(rng.uniform(0, height)))
                for _ in range(int(rng.integers(3, 7)))
            ]
            draw.polygon(points, fill=_colour(rng))
    return image


def _pattern(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    width, height = size
    period = int(rng.integers(4, 60))
    ys, xs = np.mgrid[0:height, 0:width]
    if rng.random() < 0.5:
        on = ((xs // period + ys // period) % 2).astype(bool)  # checks
    else:
        angle = rng.uniform(0, np.pi)
        on = (((xs * np.cos(angle) + ys * np.sin(angle)) // period) % 2).astype(bool)  # stripes
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[on], pixels[~on] = _colour(rng), _colour(rng)
    return Image.fromarray(pixels)


def _text(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    image = Image.new("RGB", size, _colour(rng))
    draw = ImageDraw.Draw(image)
    letters = "abcdefghijklmnopqrstuvwxyz0123456789 "
    for row in range(0, size[1], int(rng.integers(12, 40))):
        line = "".join(letters[int(i)] for i in rng.integers(0, len(letters), 60))
        draw.text(
            (int(rng.integers(0, 20)), row), line, fill=_colour(rng), font_size=int(rng.integers(10, 36))
        )
    return image


_DRAWERS: tuple[Callable[[tuple[int, int], np.random.Generator], Image.Image], ...] = (
    _gradient,
    _clouds,
    _shapes,
    _pattern,
    _text,
)
