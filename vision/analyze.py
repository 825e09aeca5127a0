"""The whole per-image analysis a worker runs on garment photos."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from vision.detect import Box, find_garment, isolate_garment
from vision.embed import GarmentEmbedder
from vision.garment_heads import GarmentPrediction
from vision.labels import garment_words
from vision.quality import QualityReport, assess_quality
from vision.quality_filter import QualityFilter

# What the network is shown depends on garment isolation as much as on the weights. Bump this when
# find_garment / isolate_garment / preprocessing change what reaches the network: the analysis spec
# changes with it, so embeddings of two pipelines never meet in one index.
PIPELINE_VERSION: Final = "iso1"


def analysis_spec(embedder: GarmentEmbedder) -> str:
    """The identity stored with every embedding: model weights plus the pipeline that fed them."""
    return f"{embedder.spec}+{PIPELINE_VERSION}"


@dataclass(frozen=True)
class GarmentAnalysis:
    box: Box
    coverage: float
    background_rgb: tuple[int, int, int]
    quality: QualityReport
    # (dim,) float32, unit length: the isolated garment's embedding (GarmentEmbedder.spec made it).
    embedding: npt.NDArray[np.float32] = field(compare=False, repr=False)
    # The model's category path and attributes; None when the model cannot classify (untrained).
    prediction: GarmentPrediction | None = None
    # Zero-shot scores of labels no data set carries: name → label → probability (aligned models).
    zero_shot: dict[str, dict[str, float]] = field(default_factory=dict)
    # The garment in words (its title, else its predicted colour, fabric and type) and that text's
    # embedding from the aligned text tower (None when the towers are not aligned or no words).
    description: str = ""
    text_embedding: npt.NDArray[np.float32] | None = field(default=None, compare=False, repr=False)


def analyze_garments(
    images: Sequence[Image.Image],
    embedder: GarmentEmbedder,
    *,
    batch_size: int = 32,
    zero_shot: Mapping[str, Sequence[str]] | None = None,
    quality_filter: QualityFilter | None = None,
    quality_threshold: float | None = None,
    titles: Sequence[str | None] | None = None,
) -> list[GarmentAnalysis]:
    """Find, grade, isolate and embed each garment photo; results in input order.

    The embedding is taken of the isolated garment (backdrop neutralised, squared), never of the
    raw photo, so photos from seasons with different backdrops land in the same space. Each garment
    is classified by the same forward pass (see GarmentEmbedder.describe_images). Images are
    processed in chunks of `batch_size`, so memory stays bounded for long lists. `zero_shot`
    names label sets ({"pattern": ["striped", "floral"]}) scored from text prompts, when the model's
    towers are aligned. Quality is graded by `quality_filter` (the learned filter) when given,
    else by the hand-set rules; `quality_threshold` overrides the grader's own threshold. `titles`
    (one per image, None where a garment has none) describe the garments in words; without a title
    the words come from the prediction.
    """
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"{len(titles)} titles for {len(images)} images")
    analyses: list[GarmentAnalysis] = []
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        foregrounds = [find_garment(image) for image in chunk]
        # The learned filter grades a chunk in one model call (a call costs the same for 1 or 64).
        reports = (
            quality_filter.assess_many(chunk, foregrounds, threshold=quality_threshold)
            if quality_filter is not None
            else [
                assess_quality(image, fg, threshold=quality_threshold)
                for image, fg in zip(chunk, foregrounds, strict=True)
            ]
        )
        isolated = [isolate_garment(image, fg) for image, fg in zip(chunk, foregrounds, strict=True)]
        embeddings, predictions = embedder.describe_images(isolated, batch_size=batch_size)
        descriptions = [
            (title or "").strip() or describe_prediction(prediction)
            for title, prediction in zip(
                (titles or [None] * len(images))[start : start + batch_size], predictions, strict=True
            )
        ]
        text_vectors = _text_vectors(embedder, descriptions)
        label_scores = {
            name: embedder.zero_shot_scores(embeddings, labels)
            for name, labels in (zero_shot or {}).items()
            if embedder.aligned and labels
        }
        analyses.extend(
            GarmentAnalysis(
                box=fg.box,
                coverage=fg.coverage,
                background_rgb=fg.background_rgb,
                quality=report,
                embedding=embedding,
                prediction=prediction,
                zero_shot={
                    name: _top(dict(zip((zero_shot or {})[name], map(float, scores[row]), strict=True)))
                    for name, scores in label_scores.items()
                },
                description=descriptions[row],
                text_embedding=text_vectors[row],
            )
            for row, (fg, report, embedding, prediction) in enumerate(
                zip(foregrounds, reports, embeddings, predictions, strict=True)
            )
        )
    return analyses


def describe_prediction(prediction: GarmentPrediction | None) -> str:
    """Words for a garment from what the model predicts of it: "navy denim jeans"."""
    if prediction is None:
        return ""

    def best(name: str) -> str:
        scores = prediction.attributes.get(name, {})
        return max(scores, key=lambda value: scores[value]) if scores else ""

    return garment_words(colour=best("colour_group"), fabric=best("fabric"), kind=prediction.type)


def _text_vectors(
    embedder: GarmentEmbedder, descriptions: Sequence[str]
) -> list[npt.NDArray[np.float32] | None]:
    """Each description's text embedding, for aligned towers only (an untrained base's text tower
    says nothing about the photo space)."""
    wanted = [row for row, text in enumerate(descriptions) if text]
    if not embedder.aligned or not wanted:
        return [None] * len(descriptions)
    vectors = embedder.embed_texts([descriptions[row] for row in wanted])
    found: list[npt.NDArray[np.float32] | None] = [None] * len(descriptions)
    for row, vector in zip(wanted, vectors, strict=True):
        found[row] = vector
    return found


def _top(scores: dict[str, float], count: int = 3) -> dict[str, float]:
    return dict(sorted(scores.items(), key=lambda item: -item[1])[:count])
