"""The compatibility model on disk: `<models_dir>/compat/<id>/{weights.npz, manifest.json}`.

Stored by vision.artefact like every trained model. The manifest records the image model spec
whose embeddings the model was trained on: a compatibility model only understands the embedding
space it learned, so loading it beside another image model is refused with a message that says
what to do, never scored silently on vectors it has not seen.
"""

from __future__ import annotations

import io
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from vision.artefact import Artefact, ArtefactError, ArtefactKind, activate, active_artefact, write_artefact

from ..rank.blend import BlendWeights
from .features import AttributeVocabulary, GarmentInputs, input_matrix
from .model import CompatScorer

WEIGHTS_FILE: Final = "weights.npz"
COMPAT: Final = ArtefactKind(
    name="compat", files=(WEIGHTS_FILE,), format_version=1, retrain="manage.py train_compat"
)


class CompatMismatch(ArtefactError):
    """The compatibility model was trained on another image model's embeddings."""


@dataclass(frozen=True)
class CompatModel:
    artefact: Artefact
    scorer: CompatScorer
    vocabulary: AttributeVocabulary

    @property
    def image_model_spec(self) -> str:
        return str(self.artefact.manifest["image_model_spec"])

    @property
    def spec(self) -> str:
        """What a score made with this model records: its id and a short digest of the weights."""
        return f"compat:{self.artefact.artefact_id}:{self.artefact.sha256()[:12]}"

    @property
    def text_width(self) -> int:
        """Width of the text embedding the model reads (0: it was trained without text)."""
        return self.scorer.input_width - self.scorer.image_width - self.vocabulary.width - 2

    def embed(self, inputs: GarmentInputs) -> NDArray[np.float32]:
        """Garments' compatibility vectors (CompatScorer.embed of their input rows)."""
        if inputs.image.shape[1] != self.scorer.image_width or inputs.text.shape[1] != self.text_width:
            raise CompatMismatch(
                f"compatibility model {self.artefact.artefact_id} reads image embeddings of width "
                f"{self.scorer.image_width} and texts of width {self.text_width}, got "
                f"{inputs.image.shape[1]} and {inputs.text.shape[1]}: run `manage.py train_compat` again"
            )
        return self.scorer.embed(input_matrix(inputs, self.vocabulary))

    @property
    def blend(self) -> BlendWeights | None:
        """Blend weights fitted on validation (recsys.rank.blend); None if the trainer had no index."""
        data = self.artefact.manifest.get("blend") or {}
        return BlendWeights.from_json(data) if data else None


def save_compat_model(
    models_dir: Path,
    *,
    scorer: CompatScorer,
    vocabulary: AttributeVocabulary,
    image_model_spec: str,
    manifest: dict[str, Any],
    make_active: bool = True,
) -> Artefact:
    """Write a new compatibility artefact (and make it the active one unless told not to)."""
    buffer = io.BytesIO()
    np.savez(buffer, **scorer.as_arrays())
    artefact_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + secrets.token_hex(4)
    artefact = write_artefact(
        models_dir,
        artefact_id,
        {**manifest, "image_model_spec": image_model_spec, "vocabulary": vocabulary.as_json()},
        {WEIGHTS_FILE: buffer.getvalue()},
        COMPAT,
    )
    if make_active:
        activate(models_dir, artefact_id, COMPAT)
    return artefact


def load_compat_model(
    models_dir: Path, *, expect_image_model_spec: str | None, pinned: str | None = None
) -> CompatModel | None:
    """The pinned or active compatibility model, or None when none was trained.

    Raises CompatMismatch when it was trained on other embeddings than `expect_image_model_spec`
    (the image model the garments are analysed with now), ArtefactError when it is broken.
    """
    artefact = active_artefact(models_dir, pinned, COMPAT)
    if artefact is None:
        return None
    trained_on = artefact.manifest.get("image_model_spec")
    if expect_image_model_spec is not None and trained_on != expect_image_model_spec:
        raise CompatMismatch(
            f"compatibility model {artefact.artefact_id} was trained on embeddings of {trained_on}, "
            f"but garments are analysed with {expect_image_model_spec} now: "
            "run `manage.py train_compat` again"
        )
    with np.load(artefact.file(WEIGHTS_FILE)) as saved:
        weights = {name: saved[name] for name in saved.files}
    try:
        scorer = CompatScorer(weights)
    except ValueError as exc:
        raise ArtefactError(f"{artefact.folder}: {exc}") from exc
    return CompatModel(
        artefact=artefact,
        scorer=scorer,
        vocabulary=AttributeVocabulary.from_json(artefact.manifest.get("vocabulary", {})),
    )
