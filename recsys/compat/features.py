"""What the compatibility model reads about a garment, as one fixed-width vector.

Three kinds of input, each optional per garment so a garment without one still gets a score:
- the image embedding of vision's garment model (the same vector the indexes use);
- the text embedding of its title (or, without one, its type, colour and fabric) from the aligned
  text tower, so "camel wool coat" and a photo of one land near each other;
- attributes, catalogued or predicted (slot, family, type, colour group, fabric, gender, line, age
  group, ...), one-hot over a vocabulary fitted on the training garments. A value seen fewer than
  MIN_COUNT times there is treated as unknown: it cannot be learned and would only add noise.

Each block carries a presence flag, so "no text" is an input of its own and not a zero vector the
model would read as a real, very unusual text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

MIN_COUNT: Final = 3


@dataclass(frozen=True)
class GarmentInputs:
    """Inputs of n garments. `image` and `text` rows of garments without one are zeros."""

    image: NDArray[np.float32]  # (n, d_image)
    has_image: NDArray[np.bool_]  # (n,)
    text: NDArray[np.float32]  # (n, d_text)
    has_text: NDArray[np.bool_]
    attributes: tuple[Mapping[str, str], ...]  # per garment: name -> value

    def __len__(self) -> int:
        return len(self.attributes)

    @classmethod
    def build(
        cls,
        *,
        image: Sequence[NDArray[np.float32] | None],
        text: Sequence[NDArray[np.float32] | None],
        attributes: Sequence[Mapping[str, str]],
        image_dim: int,
        text_dim: int,
    ) -> GarmentInputs:
        if not len(image) == len(text) == len(attributes):
            raise ValueError(f"{len(image)} images, {len(text)} texts, {len(attributes)} attribute rows")
        return cls(
            image=_stack(image, image_dim),
            has_image=np.array([v is not None for v in image], dtype=bool),
            text=_stack(text, text_dim),
            has_text=np.array([v is not None for v in text], dtype=bool),
            attributes=tuple(dict(a) for a in attributes),
        )

    def subset(self, rows: NDArray[np.int64]) -> GarmentInputs:
        return GarmentInputs(
            image=self.image[rows],
            has_image=self.has_image[rows],
            text=self.text[rows],
            has_text=self.has_text[rows],
            attributes=tuple(self.attributes[i] for i in rows.tolist()),
        )


def _stack(vectors: Sequence[NDArray[np.float32] | None], dim: int) -> NDArray[np.float32]:
    out = np.zeros((len(vectors), dim), dtype=np.float32)
    for row, vector in enumerate(vectors):
        if vector is None:
            continue
        values = np.asarray(vector, dtype=np.float32).reshape(-1)
        if values.shape != (dim,):
            raise ValueError(f"row {row}: a vector of {values.shape[0]} values, expected {dim}")
        norm = float(np.linalg.norm(values))
        out[row] = values / norm if norm > 0 else values
    return out


@dataclass(frozen=True)
class AttributeVocabulary:
    """name -> the values the model knows, in one-hot order. Saved in the artefact's manifest."""

    values: Mapping[str, tuple[str, ...]]

    @classmethod
    def fit(
        cls, attributes: Sequence[Mapping[str, str]], *, min_count: int = MIN_COUNT
    ) -> AttributeVocabulary:
        counts: dict[str, Counter[str]] = {}
        for row in attributes:
            for name, value in row.items():
                if value:
                    counts.setdefault(name, Counter())[value] += 1
        return cls(
            values={
                name: tuple(sorted(v for v, n in counter.items() if n >= min_count))
                for name, counter in sorted(counts.items())
                if any(n >= min_count for n in counter.values())
            }
        )

    @property
    def width(self) -> int:
        return sum(len(v) for v in self.values.values())

    def encode(self, attributes: Sequence[Mapping[str, str]]) -> NDArray[np.float32]:
        out = np.zeros((len(attributes), self.width), dtype=np.float32)
        offsets: dict[str, dict[str, int]] = {}
        start = 0
        for name, values in self.values.items():
            offsets[name] = {value: start + i for i, value in enumerate(values)}
            start += len(values)
        for row, garment in enumerate(attributes):
            for name, value in garment.items():
                column = offsets.get(name, {}).get(value)
                if column is not None:
                    out[row, column] = 1.0
        return out

    def as_json(self) -> dict[str, Any]:
        return {name: list(values) for name, values in self.values.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Sequence[str]]) -> AttributeVocabulary:
        return cls(values={name: tuple(values) for name, values in data.items()})


def input_matrix(inputs: GarmentInputs, vocabulary: AttributeVocabulary) -> NDArray[np.float32]:
    """[image | text | attributes | has_image, has_text]: the encoder's input rows."""
    return np.concatenate(
        [
            inputs.image,
            inputs.text,
            vocabulary.encode(inputs.attributes),
            inputs.has_image[:, None].astype(np.float32),
            inputs.has_text[:, None].astype(np.float32),
        ],
        axis=1,
    )
