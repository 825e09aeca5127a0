"""Blend the compatibility model's score with the library method's into one ranking.

The two scores live on different scales (a dot product around 0; a sum over library paths that is 0
for a candidate no stylist outfit reaches and grows with the library), so they are not added by
hand-set weights. Each candidate gets three features:

    compat          the compatibility score against the partial outfit
    library         log1p(library score / the question's largest library score), in [0, log 2]
    reached         1 when any library path reaches the candidate

and the weights are fitted on validation questions (fill-in-the-blank on outfits the compatibility
model never trained on) by a conditional logit: the right candidate's softmax probability among its
question's candidates is maximised, with a small L2 penalty. Only the order within one question
matters, so a per-question shift of either score changes nothing. The weights are stored in the
compatibility model's manifest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

FEATURES: Final = ("compat", "library", "reached")


@dataclass(frozen=True)
class BlendWeights:
    compat: float = 1.0
    library: float = 0.0
    reached: float = 0.0

    def as_json(self) -> dict[str, float]:
        return {name: round(float(getattr(self, name)), 6) for name in FEATURES}

    @classmethod
    def from_json(cls, data: Mapping[str, float]) -> BlendWeights:
        return cls(**{name: float(data.get(name, 0.0)) for name in FEATURES})

    def vector(self) -> NDArray[np.float64]:
        return np.array([self.compat, self.library, self.reached], dtype=np.float64)


Scores = Sequence[float] | NDArray[np.floating[Any]]


def blend_features(
    compat: Scores, library: Scores, *, library_top: float | None = None
) -> NDArray[np.float64]:
    """(n, 3) features of one question's (or one request's) candidates. `library_top` is the largest
    library score among all of them, when only some are given (a stored answer keeps the first few)."""
    compat_scores = np.asarray(compat, dtype=np.float64)
    library_scores = np.clip(np.asarray(library, dtype=np.float64), 0.0, None)
    if compat_scores.shape != library_scores.shape:
        raise ValueError(f"{len(compat_scores)} compat scores but {len(library_scores)} library scores")
    top = float(library_scores.max()) if len(library_scores) else 0.0
    if library_top is not None:
        top = max(top, float(library_top))
    scaled = _scaled(library_scores, np.float64(top))
    return np.stack([compat_scores, scaled, (library_scores > 0).astype(np.float64)], axis=1)


def _scaled(library: NDArray[np.float64], top: NDArray[np.float64] | np.float64) -> NDArray[np.float64]:
    """log1p(library / top), 0 where top is 0 (nothing reached)."""
    safe = np.where(top > 0, top, 1.0)
    return np.where(top > 0, np.log1p(library / safe), 0.0)


def blend_rows(
    weights: BlendWeights,
    compat: NDArray[np.floating[Any]],
    library: NDArray[np.floating[Any]],
    library_top: NDArray[np.floating[Any]],
) -> NDArray[np.float64]:
    """blend_scores of many questions at once: one row each, with each row's largest library score."""
    library_scores = np.clip(np.asarray(library, dtype=np.float64), 0.0, None)
    scaled = _scaled(library_scores, np.asarray(library_top, dtype=np.float64)[:, np.newaxis])
    relevance: NDArray[np.float64] = (
        weights.compat * np.asarray(compat, dtype=np.float64)
        + weights.library * scaled
        + weights.reached * (library_scores > 0)
    )
    return relevance


def blend_scores(
    weights: BlendWeights, compat: Scores, library: Scores, *, library_top: float | None = None
) -> NDArray[np.float64]:
    return blend_features(compat, library, library_top=library_top) @ weights.vector()


def fit_blend(
    questions: Sequence[tuple[Sequence[float], Sequence[float], int]],
    *,
    l2: float = 1e-3,
    steps: int = 500,
    learning_rate: float = 0.5,
) -> BlendWeights:
    """Weights that best pick each question's answer: (compat scores, library scores, answer index)
    per question. Full-batch gradient ascent on the conditional log-likelihood (it is concave, so
    this finds the optimum); deterministic."""
    if not questions:
        raise ValueError("fitting the blend needs at least one question")
    features = [blend_features(compat, library) for compat, library, _ in questions]
    answers = [answer for _, _, answer in questions]
    # Standardise the columns over all candidates so one step size suits every feature.
    stacked = np.concatenate(features)
    scale = stacked.std(axis=0)
    scale[scale == 0] = 1.0
    w = np.zeros(len(FEATURES))
    for _ in range(steps):
        gradient = -l2 * w
        for x, answer in zip(features, answers, strict=True):
            z = x / scale
            logits = z @ w
            p = np.exp(logits - logits.max())
            p /= p.sum()
            gradient += (z[answer] - p @ z) / len(features)
        w += learning_rate * gradient
    return BlendWeights(*(w / scale).tolist())
