"""The compatibility model's rows: garments and library outfits as recsys.compat reads them.

Reads only (selectors), plus the one service that trains and stores a model. What a garment is to
the model (recsys.compat.features): its image embedding and text embedding under the current image
model, its category path (slot, family, type) and its predicted attributes (colour group, fabric,
gender, ...) and, where the catalogue records them, its catalogued attributes, which override the
prediction (vision.labels.catalogued_attributes): a catalog item, a library piece and an uploaded
photo are described with the same names, a photo by prediction alone.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Q

from recsys.compat.artefact import CompatModel, load_compat_model, save_compat_model
from recsys.compat.features import GarmentInputs
from recsys.compat.train import CompatResult, CompatSettings, LibraryGarments
from recsys.index import IndexSet
from recsys.rank.blend import BlendWeights
from vision.artefact import ArtefactError
from vision.labels import catalogued_attributes

from .models import (
    CatalogItem,
    Category,
    ImageAnalysis,
    LibraryOutfit,
    LibraryOutfitItem,
    QualityVerdict,
    embedding_vector,
)

# Predicted attributes that describe the garment itself (zero-shot label sets are the shop's own).
_ATTRIBUTES = ("colour_group", "fabric", "gender", "age_group", "line", "season", "usage")

log = logging.getLogger(__name__)


class CannotTrainCompat(RuntimeError):
    """No analysed library to train on (or too little of it)."""


@dataclass(frozen=True)
class CompatGarments:
    """Garments (catalog or library) ready for the model: keys, slots and inputs in one order."""

    keys: np.ndarray
    slots: tuple[str, ...]
    families: tuple[str, ...]
    types: tuple[str, ...]
    inputs: GarmentInputs


def _path_names(categories: dict[int, Category], category_id: int) -> tuple[str, str, str]:
    """(slot, family, type) names of a category node; a slot or family node leaves the rest empty."""
    node = categories[category_id]
    names = {node.level: node.name}
    while node.parent_id is not None:
        node = categories[node.parent_id]
        names[node.level] = node.name
    return node.slot, names.get("family", ""), names.get("type", "")


def likeliest(scores: Mapping[str, float] | None) -> str:
    """The likeliest value of one predicted attribute ({value: probability}), "" when unknown."""
    return str(max(scores, key=lambda value: scores[value])) if scores else ""


def garment_attributes(
    slot: str,
    family: str,
    type_: str,
    predicted: dict[str, Any],
    catalogued: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The attributes the model reads: the category path, each predicted attribute's likeliest
    value, and the catalogue's own values where the garment has them (vision.labels
    .catalogued_attributes): a shop's record beats the model's guess; a photo has only guesses."""
    found = {"slot": slot, "family": family, "type": type_}
    found.update({name: likeliest(predicted.get(name)) for name in _ATTRIBUTES})
    found.update(catalogued or {})
    return {name: value for name, value in found.items() if value}


def compat_garments(
    kind: str,
    *,
    model_spec: str,
    keys: Sequence[int] | None = None,
    widths: tuple[int, int] = (0, 0),
    after: int = 0,
    limit: int | None = None,
) -> CompatGarments:
    """Every analysed (ok) catalog or library garment under `model_spec`, or those of `keys`, in key
    order; `after`/`limit`: the first `limit` of those with a key above `after` (a block of them).
    `widths` (image, text): a trained model's, so garments without any text still fit it."""
    subject = f"{kind}_item"
    rows = ImageAnalysis.objects.filter(model_spec=model_spec, status="ok", **{f"{subject}__isnull": False})
    if keys is not None:
        rows = rows.filter(**{f"{subject}_id__in": list(keys)})
    if after:
        rows = rows.filter(**{f"{subject}_id__gt": after})
    ordered = rows.order_by(f"{subject}_id").values_list(
        f"{subject}_id",
        f"{subject}__category_id",
        "embedding",
        "text_embedding",
        "attributes",
        f"{subject}__attributes",
    )
    values = list(ordered[:limit] if limit is not None else ordered)
    # Only catalog items have a gender field of their own (library rows keep it in attributes).
    genders: dict[int, str] = (
        dict(CatalogItem.objects.filter(pk__in=[row[0] for row in values]).values_list("pk", "gender"))
        if kind == "catalog"
        else {}
    )
    categories = {c.pk: c for c in Category.objects.all()}
    paths = [_path_names(categories, row[1]) for row in values]
    return CompatGarments(
        keys=np.array([key for key, *_ in values], dtype=np.int64),
        slots=tuple(p[0] for p in paths),
        families=tuple(p[1] for p in paths),
        types=tuple(p[2] for p in paths),
        inputs=garment_inputs(
            [
                (
                    image,
                    text,
                    garment_attributes(
                        *path,
                        predicted or {},
                        catalogued_attributes(stored or {}, gender=genders.get(key, "")),
                    ),
                )
                for path, (key, _, image, text, predicted, stored) in zip(paths, values, strict=True)
            ],
            image_dim=widths[0],
            text_dim=widths[1],
        ),
    )


Blob = bytes | memoryview | None


def garment_inputs(
    rows: Sequence[tuple[Blob, Blob, dict[str, str]]], *, image_dim: int = 0, text_dim: int = 0
) -> GarmentInputs:
    """The model's inputs from stored rows: (image embedding blob, text embedding blob, attributes).
    Widths default to the first stored vector's (a model's own widths when it is given)."""
    images = [embedding_vector(image) if image is not None else None for image, _, _ in rows]
    texts = [embedding_vector(text) if text is not None else None for _, text, _ in rows]
    image_dim = image_dim or next((len(v) for v in images if v is not None), 0)
    text_dim = text_dim or next((len(v) for v in texts if v is not None), image_dim)
    return GarmentInputs.build(
        image=images, text=texts, attributes=[a for _, _, a in rows], image_dim=image_dim, text_dim=text_dim
    )


def catalog_compat_vectors(
    model: CompatModel, *, model_spec: str, block: int = 8192
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Keys and compatibility vectors of every analysed catalog item, for the index build, a block
    of items at a time in key order: a 1M-item catalog's inputs do not fit in a worker at once."""
    after = 0
    while True:
        garments = compat_garments(
            "catalog",
            model_spec=model_spec,
            widths=(model.scorer.image_width, model.text_width),
            after=after,
            limit=block,
        )
        if not len(garments.keys):
            return
        yield garments.keys, model.embed(garments.inputs)
        after = int(garments.keys[-1])


def approved_outfits(garment_keys: Sequence[int]) -> dict[int, list[int]]:
    """Approved library outfits not rejected for photo quality: outfit key -> its garments' keys
    (only garments in `garment_keys`, the analysed ones)."""
    known = set(int(k) for k in garment_keys)
    outfits: dict[int, list[int]] = defaultdict(list)
    for outfit_id, item_id in LibraryOutfitItem.objects.filter(
        ~Q(outfit__quality_verdict=QualityVerdict.REJECT), outfit__status=LibraryOutfit.Status.APPROVED
    ).values_list("outfit_id", "item_id"):
        if item_id in known:
            outfits[outfit_id].append(item_id)
    return {k: v for k, v in outfits.items() if len(v) >= 2}


def library_for_training(model_spec: str) -> LibraryGarments:
    garments = compat_garments("library", model_spec=model_spec)
    if not len(garments.keys):
        raise CannotTrainCompat(
            f"no library garment is analysed with {model_spec}: "
            "run `manage.py analyze_garments --kind library`"
        )
    row_of = {int(key): row for row, key in enumerate(garments.keys.tolist())}
    outfits = {o: [row_of[k] for k in keys] for o, keys in approved_outfits(list(row_of)).items()}
    if len(outfits) < 20:
        raise CannotTrainCompat(
            f"only {len(outfits)} approved library outfits with analysed garments; need 20"
        )
    return LibraryGarments(
        keys=garments.keys,
        slots=garments.slots,
        families=garments.families,
        types=garments.types,
        inputs=garments.inputs,
        outfits=outfits,
    )


def compat_train(
    *,
    model_spec: str,
    compat_settings: CompatSettings,
    work_dir: Path | None = None,
    resume: bool = False,
    progress: bool = False,
    report: Callable[[str], None] = print,
    make_active: bool = True,
) -> tuple[CompatResult, Path]:
    """Train the compatibility model on the approved library outfits analysed with `model_spec` and
    store it as a new artefact (active unless told otherwise). Side effects: the artefact folder
    under MODELS_DIR/compat, checkpoints in `work_dir`. Writes no row."""
    from recsys.compat.train import train_compat_model

    library = library_for_training(model_spec)
    result = train_compat_model(
        library, settings=compat_settings, work_dir=work_dir, resume=resume, progress=progress, report=report
    )
    blend = _fit_blend(library, result, model_spec, report)
    artefact = save_compat_model(
        Path(settings.MODELS_DIR),
        scorer=result.scorer,
        vocabulary=result.vocabulary,
        image_model_spec=model_spec,
        manifest={
            "settings": asdict(compat_settings),
            "seed": compat_settings.seed,
            "counts": result.counts,
            "metrics": result.metrics,
            "history": result.history,
            "seconds": round(result.seconds, 1),
            "blend": blend.as_json() if blend is not None else {},
        },
        make_active=make_active,
    )
    return result, artefact.folder


def _fit_blend(
    library: LibraryGarments, result: CompatResult, model_spec: str, report: Callable[[str], None]
) -> BlendWeights | None:
    """Blend weights fitted on the validation questions, where the library method sees the library
    without the validation outfits. None (compat alone) when no index is built for this model.
    Adds the library's and the blend's validation accuracy to result.metrics."""
    from recsys.compat.features import input_matrix
    from recsys.evaluate import fitb_accuracy
    from recsys.index import IndexNotFound, ManifestMismatch
    from recsys.rank.blend import blend_scores, fit_blend
    from recsys.slots import LIBRARY
    from recsys.suggest import library_scores

    from . import selectors

    try:
        index = selectors.active_index(model_spec=model_spec)
    except (IndexNotFound, ManifestMismatch) as exc:  # the active build's files are gone or damaged
        report(f"the active index cannot be read ({exc})")
        index = None
    if index is None or not result.validation_fitb:
        report("no index built for this model: the blend is not fitted (build_index, then train again)")
        return None
    embedded = result.scorer.embed(input_matrix(library.inputs, result.vocabulary))
    images, slots = library.inputs.image, library.slots
    hidden_outfits = {int(library_key) for library_key in result.validation_outfits}
    questions: list[tuple[list[float], list[float], int]] = []
    for pieces, candidates, answer in result.validation_fitb:
        slot = slots[candidates[answer]]
        compat = result.scorer.outfit_scores(
            embedded[pieces], [slots[p] for p in pieces], embedded[candidates], slot
        )
        found = library_scores(
            index,
            queries=[(images[p], slots[p]) for p in pieces],
            candidates=[images[c] for c in candidates],
            wanted_slot=slot,
            outfits_for=selectors.library_pieces_for,
            query_population=LIBRARY,
            candidate_population=LIBRARY,
            exclude_outfits=hidden_outfits,
        )
        questions.append((compat.tolist(), found.tolist(), answer))
    weights = fit_blend(questions)
    result.metrics["validation/fitb_library"] = fitb_accuracy([(lib, a) for _, lib, a in questions])
    result.metrics["validation/fitb_blend"] = fitb_accuracy(
        [(blend_scores(weights, c, lib).tolist(), a) for c, lib, a in questions]
    )
    report(
        f"blend fitted on {len(questions)} validation questions: {weights.as_json()}; fitb library "
        f"{result.metrics['validation/fitb_library']:.3f}, "
        f"blend {result.metrics['validation/fitb_blend']:.3f}"
    )
    return weights


_model_lock = threading.Lock()
_loaded: dict[tuple[str, str | None], CompatModel | None] = {}


def compat_model(model_spec: str, artefact_id: str | None = None) -> CompatModel | None:
    """A compatibility model for garments analysed with `model_spec`, loaded once per process: the
    one `artefact_id` names (an index build's), else the pinned or active one (reloaded when another
    is activated). None when none is trained; CompatMismatch when it learned another image model's
    embeddings."""
    from vision.artefact import ACTIVE_FILE

    pointer = Path(settings.MODELS_DIR) / "compat" / ACTIVE_FILE
    active = pointer.read_text().strip() if pointer.is_file() else None
    pinned = artefact_id or settings.CTL_COMPAT_ARTEFACT
    key = (model_spec, pinned or active)
    with _model_lock:
        if key not in _loaded:
            if len(_loaded) >= 4:  # the active model and the builds' ones; old ones are dropped
                _loaded.clear()
            _loaded[key] = load_compat_model(
                Path(settings.MODELS_DIR), expect_image_model_spec=model_spec, pinned=pinned
            )
        return _loaded[key]


def build_compat_model(index: IndexSet) -> CompatModel | None:
    """The compatibility model whose catalog vectors the build holds, or None (library only)."""
    if not index.compat_model:
        return None
    try:
        return compat_model(index.manifest.model_spec, index.compat_model)
    except ArtefactError as exc:  # removed or damaged since the build: serve the library method
        log.warning("index build %s: its compatibility model is unusable: %s", index.manifest.build_id, exc)
        return None
