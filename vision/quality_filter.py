"""The learned photo-quality filter: is this garment photo fit for the curated library?

A small classifier over `vision.quality.photo_statistics` (resolution, sharpness, exposure,
clipping, framing, cut-off, noise, JPEG artefacts, clutter), plus optional extra columns (e.g. a
few components of the garment embedding). It is trained on clean product shots and on degraded
copies it makes of them itself (vision.degrade), as one multi-class problem: clean or one of the
degradation kinds. The score is P(clean); a photo scoring below the threshold is rejected, and the
likeliest kinds become its human-readable reasons.

Extra columns are supported (`extra=` when training and grading) but the filter trained so far uses
none: the statistics alone reach F1 0.98 per kind on held-out photos. Whether embedding components
add anything is what `bench/eval_quality.py --embedding-pca K` measures; it has not been run to the
end yet (every copy must be embedded: over 3 s per photo on a shared CPU).

Items are split into train / validation / test parts by a hash of their id (vision.datasets.
split_part, the 80/10/10 split every trainer here uses), never by row: no garment, nor any copy of
it, is in two parts, and the test part holds the same items as the other models' test parts. The
threshold is chosen on the validation part, as the highest one that rejects at most
`max_clean_rejected` of its clean photos; figures are measured on the test part.

Clean photos also get benign variants (a little lighter or darker, resized, re-saved as JPEG),
labelled clean, so that ordinary differences between fine photos are not learned as faults.

Artefacts (see `QualityFilter.save`): a folder with `manifest.json` (format version, statistics
version, feature names, classes, threshold, counts, test metrics, seed) and the model,
`model-<build id>.joblib`. The model is a pickle (joblib): loading it runs code from the file. The
trust boundary is ours: only load folders this project wrote (train_quality into MODELS_DIR), never
one that came from an upload or a third party. The manifest's sha256 of the model file is checked
before unpickling, against a half-copied or swapped file, not against an attacker.

scikit-learn and joblib are imported only when a filter is trained or loaded, so the web process
can import this module without them.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt
from PIL import Image

from vision.datasets import split_part
from vision.degrade import DEGRADATIONS, as_uploaded, benign_variant, degrade
from vision.detect import Foreground, find_garment
from vision.quality import (
    STATISTIC_NAMES,
    STATISTICS_VERSION,
    PhotoStatistics,
    QualityReport,
    handset_quality,
    photo_statistics,
)

FloatArray = npt.NDArray[np.float32]

# Bump when the folder layout or the manifest's meaning changes; older folders are then refused.
FORMAT_VERSION: Final = 1
ARTEFACT_KIND: Final = "ctl-quality-filter"
MANIFEST_NAME: Final = "manifest.json"

CLEAN: Final = "clean"
TRAIN, VALIDATION, TEST = "train", "validation", "test"

# At most this share of clean validation photos may be rejected by the chosen threshold.
MAX_CLEAN_REJECTED: Final = 0.02

# What each degradation kind is called in a rejected photo's reasons. "tiny" gets the size.
REASONS: Final = {
    "dark": "too dark",
    "overexposed": "overexposed",
    "blurred": "blurry",
    "tiny": "too small ({width}x{height})",
    "cropped": "garment cut off at the edge",
    "noisy": "noisy",
    "compressed": "heavy compression artefacts",
    "cluttered": "cluttered background",
    "off_centre": "garment off-centre or too small in frame",
}
# A kind is named as a reason when it holds at least this share of the photo's "not clean"
# probability (the likeliest kind is always named), at most MAX_REASONS of them.
REASON_SHARE: Final = 0.25
MAX_REASONS: Final = 3

# Gradient boosting over ~35 statistics: small, fast, no feature scaling, handles the statistics'
# odd shapes (clipping shares piled at 0, log sides) without hand-made transforms.
MODEL_PARAMS: Final = {
    "max_iter": 250,
    "learning_rate": 0.1,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
    "early_stopping": False,
}

# Strength bands reported for recall (the low band must be caught too: it is plainly degraded).
STRENGTH_BANDS: Final = (("low", 0.0, 1 / 3), ("mid", 1 / 3, 2 / 3), ("high", 2 / 3, 1.0001))

Item = TypeVar("Item")
ExtraFeatures = Callable[[Image.Image, Foreground], FloatArray]
Progress = Callable[[int, int], None]


class QualityFilterMismatch(RuntimeError):
    """A saved filter this code cannot use (other format, statistics or library version): retrain."""


def _item_rng(seed: int, item_id: str) -> np.random.Generator:
    # Per item, not per run: an item's degraded copies do not depend on which other items came first.
    digest = hashlib.sha256(item_id.encode("utf-8")).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "big")])


@dataclass(frozen=True)
class QualityDataset:
    """Statistics of clean photos and their degraded copies, one row per photo or copy."""

    features: FloatArray = field(repr=False)  # (rows, statistics + extra)
    kinds: tuple[str, ...]  # CLEAN or a degradation kind
    strengths: FloatArray = field(repr=False)  # 0..1 (0 for clean rows)
    item_ids: tuple[str, ...]
    # True for a benign variant of a clean photo (vision.degrade.benign_variant), labelled CLEAN.
    benign: npt.NDArray[np.bool_] = field(repr=False)
    parts: tuple[str, ...]
    slots: tuple[str, ...]  # "" when not known
    # The hand-set rules' score of each test row, for comparison on the same photos (NaN elsewhere).
    handset_scores: FloatArray = field(repr=False)
    feature_names: tuple[str, ...]

    def rows(self, part: str) -> npt.NDArray[np.bool_]:
        chosen: npt.NDArray[np.bool_] = np.asarray(self.parts) == part
        return chosen


def build_quality_dataset(
    clean_images: Iterable[Image.Image | None],
    *,
    ids: Sequence[str],
    slots: Sequence[str] | None = None,
    seed: int = 0,
    kinds: Sequence[str] = DEGRADATIONS,
    copies_per_kind: int = 1,
    clean_variants: int = 1,
    extra: ExtraFeatures | None = None,
    progress: Progress | None = None,
) -> QualityDataset:
    """Measure each clean photo and `copies_per_kind` degraded copies of it per kind.

    `clean_images` is consumed once, in step with `ids` (and `slots`): pass a generator that opens
    the photos one by one, so a large catalog never sits in memory. A None in it (a photo that could
    not be read) is skipped. Copy k of a kind gets a strength drawn from the k-th of
    `copies_per_kind` equal bands of 0..1. Each clean photo also gets `clean_variants` benign
    variants (lighter or darker, resized or re-saved a little), labelled clean. Every copy and
    variant is then saved as an upload would be (vision.degrade.as_uploaded).
    """
    if slots is not None and len(slots) != len(ids):
        raise ValueError(f"{len(slots)} slots for {len(ids)} ids")
    unknown = sorted(set(kinds) - set(DEGRADATIONS))
    if unknown:
        raise ValueError(f"unknown degradations {unknown}")
    features: list[FloatArray] = []
    row_kinds: list[str] = []
    strengths: list[float] = []
    row_ids: list[str] = []
    row_benign: list[bool] = []
    row_slots: list[str] = []
    handset: list[float] = []
    extra_names: tuple[str, ...] = ()
    total = len(ids)
    for done, (image, item_id) in enumerate(zip(clean_images, ids, strict=True), start=1):
        if image is None:
            if progress is not None:
                progress(done, total)
            continue
        rng = _item_rng(seed, item_id)
        # The hand-set rules are only ever compared on the test part.
        on_test = split_part(item_id) == TEST
        versions: list[tuple[str, float, bool, Image.Image]] = [(CLEAN, 0.0, False, image)]
        # Copies are saved as uploads would be (see vision.degrade.as_uploaded); a heavily
        # compressed copy already is one.
        versions += [
            (CLEAN, 0.0, True, as_uploaded(benign_variant(image, rng), rng)) for _ in range(clean_variants)
        ]
        for kind in kinds:
            for copy in range(copies_per_kind):
                strength = (copy + float(rng.uniform())) / copies_per_kind
                degraded = degrade(image, kind, strength, rng)
                if kind != "compressed":
                    degraded = as_uploaded(degraded, rng)
                versions.append((kind, strength, False, degraded))
        for kind, strength, benign, version in versions:
            foreground = find_garment(version)
            row = photo_statistics(version, foreground).as_array()
            if extra is not None:
                columns = np.asarray(extra(version, foreground), dtype=np.float32).ravel()
                extra_names = tuple(f"extra_{i}" for i in range(columns.size))
                row = np.concatenate([row, columns])
            features.append(row)
            row_kinds.append(kind)
            strengths.append(strength)
            row_ids.append(item_id)
            row_benign.append(benign)
            row_slots.append(slots[done - 1] if slots is not None else "")
            handset.append(handset_quality(version, foreground).score if on_test else np.nan)
        if progress is not None:
            progress(done, total)
    names = (*STATISTIC_NAMES, *extra_names)
    return QualityDataset(
        features=np.stack(features) if features else np.zeros((0, len(names)), dtype=np.float32),
        kinds=tuple(row_kinds),
        strengths=np.asarray(strengths, dtype=np.float32),
        item_ids=tuple(row_ids),
        benign=np.asarray(row_benign, dtype=bool),
        parts=tuple(split_part(item_id) for item_id in row_ids),
        slots=tuple(row_slots),
        handset_scores=np.asarray(handset, dtype=np.float32),
        feature_names=names,
    )


@dataclass(frozen=True)
class RejectMetrics:
    """How well "reject" separates degraded copies (positives) from clean photos (negatives)."""

    precision: float
    recall: float
    f1: float
    degraded: int  # positives measured
    clean: int  # negatives measured


@dataclass(frozen=True)
class QualityMetrics:
    """Figures of one grader at one threshold on one part (normally the test part).

    Per kind: that kind's copies against all clean rows of the part (clean photos and their benign
    variants). Overall: all copies against the clean rows; `macro_f1` is the mean of the per-kind
    F1. Precision depends on the mix: by default there are two clean rows per copy of a kind.
    """

    threshold: float
    overall: RejectMetrics
    macro_f1: float
    per_kind: dict[str, RejectMetrics]
    # Recall per strength band ("low", "mid", "high") over all kinds.
    recall_by_strength: dict[str, float]
    clean_rejected: float
    # slot -> (share of its clean photos rejected, how many clean photos)
    clean_rejected_by_slot: dict[str, tuple[float, int]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self, title: str = "") -> str:
        """The figures as a fixed-width text table."""
        lines = [title] if title else []
        lines.append(f"{'kind':<14}{'copies':>8}{'precision':>11}{'recall':>9}{'F1':>8}")
        for kind, metrics in (*self.per_kind.items(), ("all", self.overall)):
            lines.append(
                f"{kind:<14}{metrics.degraded:>8}{metrics.precision:>11.3f}"
                f"{metrics.recall:>9.3f}{metrics.f1:>8.3f}"
            )
        bands = ", ".join(f"{band} {value:.3f}" for band, value in self.recall_by_strength.items())
        lines.append(f"macro F1 {self.macro_f1:.3f}; recall by strength: {bands}")
        lines.append(
            f"clean rejected {self.clean_rejected:.2%} of {self.overall.clean} "
            f"at threshold {self.threshold:.4f}"
        )
        return "\n".join(lines)


def evaluate_rejects(
    scores: npt.ArrayLike,
    kinds: Sequence[str],
    *,
    threshold: float,
    strengths: npt.ArrayLike | None = None,
    slots: Sequence[str] | None = None,
) -> QualityMetrics:
    """Precision, recall and F1 of "reject" (score < threshold), per kind and overall."""
    score = np.asarray(scores, dtype=np.float64)
    kind = np.asarray(kinds)
    rejected = score < threshold
    clean = kind == CLEAN
    false_rejects = int(np.sum(rejected & clean))
    clean_count = int(clean.sum())

    def metrics(positive: npt.NDArray[np.bool_]) -> RejectMetrics:
        caught = int(np.sum(rejected & positive))
        count = int(positive.sum())
        precision = caught / (caught + false_rejects) if caught + false_rejects else 0.0
        recall = caught / count if count else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return RejectMetrics(precision=precision, recall=recall, f1=f1, degraded=count, clean=clean_count)

    per_kind = {name: metrics(kind == name) for name in DEGRADATIONS if np.any(kind == name)}
    degraded = ~clean
    by_strength: dict[str, float] = {}
    if strengths is not None:
        strength = np.asarray(strengths, dtype=np.float64)
        for band, low, high in STRENGTH_BANDS:
            in_band = degraded & (strength >= low) & (strength < high)
            if in_band.any():
                by_strength[band] = float(rejected[in_band].mean())
    by_slot: dict[str, tuple[float, int]] = {}
    if slots is not None:
        slot = np.asarray(slots)
        for name in sorted(set(slot[clean].tolist())):
            of_slot = clean & (slot == name)
            by_slot[str(name)] = (float(rejected[of_slot].mean()), int(of_slot.sum()))
    return QualityMetrics(
        threshold=float(threshold),
        overall=metrics(degraded),
        macro_f1=float(np.mean([m.f1 for m in per_kind.values()])) if per_kind else 0.0,
        per_kind=per_kind,
        recall_by_strength=by_strength,
        clean_rejected=false_rejects / clean_count if clean_count else 0.0,
        clean_rejected_by_slot=by_slot,
    )


def choose_threshold(clean_scores: npt.ArrayLike, *, max_clean_rejected: float = MAX_CLEAN_REJECTED) -> float:
    """The highest threshold that rejects at most `max_clean_rejected` of these clean photos."""
    ordered = np.sort(np.asarray(clean_scores, dtype=np.float64))
    if ordered.size == 0:
        raise ValueError("no clean photos to choose a threshold on")
    allowed = int(np.floor(max_clean_rejected * ordered.size))
    # Rejecting is "score < threshold": at the (allowed+1)-th lowest score, `allowed` fall below it.
    return float(ordered[min(allowed, ordered.size - 1)])


class QualityFilter:
    """A trained filter: statistics (+ extra columns) in, P(clean), verdict and reasons out."""

    def __init__(self, model: Any, manifest: Mapping[str, Any]) -> None:
        self._model = model
        self.manifest: dict[str, Any] = dict(manifest)
        self.build_id: str = str(manifest["build_id"])
        self.threshold: float = float(manifest["threshold"])
        self.classes: tuple[str, ...] = tuple(manifest["classes"])
        self.feature_names: tuple[str, ...] = tuple(manifest["feature_names"])
        self.extra_dims: int = len(self.feature_names) - len(STATISTIC_NAMES)
        self._clean_column = self.classes.index(CLEAN)

    def probabilities(self, features: npt.ArrayLike) -> FloatArray:
        """(rows, classes) class probabilities for (rows, features) statistics."""
        rows = np.atleast_2d(np.asarray(features, dtype=np.float32))
        if rows.shape[1] != len(self.feature_names):
            raise ValueError(f"expected {len(self.feature_names)} feature columns, got {rows.shape[1]}")
        with _one_thread():
            probabilities: FloatArray = np.asarray(self._model.predict_proba(rows), dtype=np.float32)
        return probabilities

    def scores(self, features: npt.ArrayLike) -> FloatArray:
        """P(clean) per row."""
        clean: FloatArray = self.probabilities(features)[:, self._clean_column]
        return clean

    def assess(
        self,
        image: Image.Image,
        foreground: Foreground,
        *,
        extra: npt.NDArray[np.float32] | None = None,
        threshold: float | None = None,
    ) -> QualityReport:
        """Grade one photo; `threshold` overrides the one chosen at training (e.g. from settings)."""
        statistics = photo_statistics(image, foreground)
        row = statistics.as_array()
        if self.extra_dims:
            if extra is None:
                raise ValueError(f"this filter needs {self.extra_dims} extra feature columns")
            row = np.concatenate([row, np.asarray(extra, dtype=np.float32).ravel()])
        return self.report(self.probabilities(row)[0], image.size, statistics, threshold=threshold)

    def assess_many(
        self,
        images: Sequence[Image.Image],
        foregrounds: Sequence[Foreground],
        *,
        extra: npt.NDArray[np.float32] | None = None,
        threshold: float | None = None,
    ) -> list[QualityReport]:
        """`assess` for a batch, in input order: one model call for all of them (a single-row call
        costs nearly as much as a 64-row one). `extra`: (n, extra_dims) when the filter needs it."""
        if len(images) != len(foregrounds):
            raise ValueError(f"{len(images)} images but {len(foregrounds)} foregrounds")
        if not images:
            return []
        statistics = [photo_statistics(image, fg) for image, fg in zip(images, foregrounds, strict=True)]
        rows = np.stack([measured.as_array() for measured in statistics])
        if self.extra_dims:
            if extra is None:
                raise ValueError(f"this filter needs {self.extra_dims} extra feature columns")
            rows = np.hstack([rows, np.asarray(extra, dtype=np.float32).reshape(len(images), -1)])
        probabilities = self.probabilities(rows)
        return [
            self.report(row, image.size, measured, threshold=threshold)
            for row, image, measured in zip(probabilities, images, statistics, strict=True)
        ]

    def report(
        self,
        probabilities: FloatArray,
        size: tuple[int, int],
        statistics: PhotoStatistics | None = None,
        *,
        threshold: float | None = None,
    ) -> QualityReport:
        """The report for one photo's class probabilities (as `probabilities` gives)."""
        limit = self.threshold if threshold is None else threshold
        score = float(probabilities[self._clean_column])
        verdict = "keep" if score >= limit else "reject"
        problems: tuple[str, ...] = ()
        if verdict == "reject":
            problems = self._reasons(probabilities, size)
        return QualityReport(
            score=round(score, 4),
            problems=problems,
            verdict=verdict,
            method=self.build_id,
            statistics=statistics,
        )

    def _reasons(self, probabilities: FloatArray, size: tuple[int, int]) -> tuple[str, ...]:
        faults = [
            (float(p), kind) for kind, p in zip(self.classes, probabilities, strict=True) if kind != CLEAN
        ]
        faults.sort(reverse=True)
        total = sum(p for p, _ in faults) or 1.0
        named = [kind for p, kind in faults[:MAX_REASONS] if p / total >= REASON_SHARE] or [faults[0][1]]
        return tuple(REASONS[kind].format(width=size[0], height=size[1]) for kind in named)

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the model, then the manifest that names it, each via `*.part` + os.replace.

        Readers open the manifest first, so they see either the old build or the new one whole.
        Model files of older builds in the folder are removed afterwards.
        """
        import joblib

        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        model_name = f"model-{self.build_id}.joblib"
        part = target / f"{model_name}.part"
        with open(part, "wb") as file:
            joblib.dump(self._model, file)
        os.replace(part, target / model_name)
        manifest = {**self.manifest, "model_file": model_name, "model_sha256": _sha256(target / model_name)}
        manifest_part = target / f"{MANIFEST_NAME}.part"
        manifest_part.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(manifest_part, target / MANIFEST_NAME)
        self.manifest = manifest
        for old in target.glob("model-*.joblib"):
            if old.name != model_name:
                old.unlink(missing_ok=True)
        return target

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> QualityFilter:
        """Read a saved filter. Raises FileNotFoundError when there is none, QualityFilterMismatch
        when it was written by another format, statistics or scikit-learn version."""
        import joblib
        import sklearn

        source = Path(folder)
        manifest = read_manifest(source)
        version = manifest.get("format_version")
        if manifest.get("kind") != ARTEFACT_KIND or version != FORMAT_VERSION:
            raise QualityFilterMismatch(
                f"{source}: quality filter format version {version!r}, this code reads {FORMAT_VERSION}: "
                "retrain it with `manage.py train_quality`"
            )
        expected = list(STATISTIC_NAMES)
        names = list(manifest.get("feature_names", []))
        if manifest.get("statistics_version") != STATISTICS_VERSION or names[: len(expected)] != expected:
            raise QualityFilterMismatch(
                f"{source}: trained on statistics {manifest.get('statistics_version')!r}, this code "
                f"measures {STATISTICS_VERSION!r}: retrain it with `manage.py train_quality`"
            )
        if manifest.get("sklearn_version") != sklearn.__version__:
            raise QualityFilterMismatch(
                f"{source}: saved with scikit-learn {manifest.get('sklearn_version')}, this is "
                f"{sklearn.__version__} (pickled models do not carry across versions): retrain it"
            )
        model_path = source / str(manifest["model_file"])
        if _sha256(model_path) != manifest.get("model_sha256"):
            raise QualityFilterMismatch(f"{model_path} does not match its manifest (half-copied?)")
        with open(model_path, "rb") as file:
            model = joblib.load(file)  # our own artefact: see the module docstring
        return cls(model, manifest)


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
    return manifest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_controller_lock = threading.Lock()
_controller: Any = None


def _one_thread() -> Any:
    """A context in which scikit-learn's OpenMP code runs on one thread.

    The model is small, and on shared cores OpenMP threads spin-wait on each other: fitting on two
    threads beside another busy process measured 12x slower than on one.
    """
    global _controller
    with _controller_lock:
        if _controller is None:
            from threadpoolctl import ThreadpoolController

            # Made after scikit-learn is imported, so it sees the OpenMP runtime that loaded.
            _controller = ThreadpoolController()
        return _controller.limit(limits=1, user_api="openmp")


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[str, QualityFilter]] = {}


def load_quality_filter(folder: str | os.PathLike[str]) -> QualityFilter | None:
    """The filter saved in `folder`, loaded once per process and again when its build changes;
    None when the folder holds none (callers then fall back to the hand-set rules). A filter that
    is there but unusable raises QualityFilterMismatch rather than silently grading by hand."""
    source = Path(folder).resolve()
    try:
        build_id = str(read_manifest(source)["build_id"])
    except FileNotFoundError:
        return None
    with _cache_lock:
        cached = _cache.get(source)
        if cached is not None and cached[0] == build_id:
            return cached[1]
        loaded = QualityFilter.load(source)
        _cache[source] = (loaded.build_id, loaded)
        return loaded


def fit_quality_filter(
    dataset: QualityDataset,
    *,
    seed: int = 0,
    max_clean_rejected: float = MAX_CLEAN_REJECTED,
    model_params: Mapping[str, Any] | None = None,
) -> tuple[QualityFilter, QualityMetrics]:
    """Fit on the train part, choose the threshold on the validation part, measure on the test part.

    `model_params` override MODEL_PARAMS (tests use a few boosting rounds).
    """
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier

    train, validation, test = dataset.rows(TRAIN), dataset.rows(VALIDATION), dataset.rows(TEST)
    kinds = np.asarray(dataset.kinds)
    for name, rows in ((TRAIN, train), (VALIDATION, validation)):
        if not np.any(rows & (kinds == CLEAN)):
            raise ValueError(f"the {name} part has no clean photos: too few items to train on")
    params = {**MODEL_PARAMS, **(model_params or {})}
    model = HistGradientBoostingClassifier(**params, random_state=seed)
    with _one_thread():
        model.fit(dataset.features[train], kinds[train], sample_weight=_balanced_weights(kinds[train]))
    classes = tuple(str(name) for name in model.classes_)
    clean_column = classes.index(CLEAN)

    def scores(rows: npt.NDArray[np.bool_]) -> FloatArray:
        if not rows.any():
            return np.zeros(0, dtype=np.float32)
        with _one_thread():
            clean = model.predict_proba(dataset.features[rows])[:, clean_column]
        return np.asarray(clean, dtype=np.float32)

    threshold = choose_threshold(scores(validation & (kinds == CLEAN)), max_clean_rejected=max_clean_rejected)
    test_kinds = [kind for kind, keep in zip(dataset.kinds, test, strict=True) if keep]
    test_slots = [slot for slot, keep in zip(dataset.slots, test, strict=True) if keep]
    metrics = evaluate_rejects(
        scores(test),
        test_kinds,
        threshold=threshold,
        strengths=dataset.strengths[test],
        slots=test_slots if any(test_slots) else None,
    )
    items = {
        part: len({item for item, p in zip(dataset.item_ids, dataset.parts, strict=True) if p == part})
        for part in (TRAIN, VALIDATION, TEST)
    }
    row_counts = {part: int(dataset.rows(part).sum()) for part in (TRAIN, VALIDATION, TEST)}
    fingerprint = hashlib.sha256(
        json.dumps([seed, items, row_counts, dataset.feature_names, round(threshold, 6)]).encode()
        + dataset.features.tobytes()
    ).hexdigest()
    manifest = {
        "kind": ARTEFACT_KIND,
        "format_version": FORMAT_VERSION,
        "build_id": f"quality-{fingerprint[:12]}",
        "statistics_version": STATISTICS_VERSION,
        "feature_names": list(dataset.feature_names),
        "classes": list(classes),
        "threshold": threshold,
        "max_clean_rejected": max_clean_rejected,
        "seed": seed,
        "model": "HistGradientBoostingClassifier",
        "model_params": params,
        "sklearn_version": sklearn.__version__,
        "counts": {"items": items, "rows": row_counts},
        "test_metrics": metrics.as_dict(),
    }
    return QualityFilter(model, manifest), metrics


def _balanced_weights(kinds: npt.NDArray[np.str_]) -> FloatArray:
    # Clean photos weigh as much in total as all degraded copies, and every kind as much as every
    # other: P(clean) is then a posterior under even odds, and no kind drowns the rest.
    names, counts = np.unique(kinds, return_counts=True)
    degraded_kinds = max(1, int(np.sum(names != CLEAN)))
    share = {
        str(name): (0.5 if name == CLEAN else 0.5 / degraded_kinds) / count
        for name, count in zip(names, counts, strict=True)
    }
    weights = np.asarray([share[str(kind)] for kind in kinds], dtype=np.float32)
    scaled: FloatArray = weights * np.float32(len(kinds) / weights.sum())
    return scaled


def train_quality_filter(
    clean_images: Iterable[Image.Image | None],
    *,
    ids: Sequence[str],
    slots: Sequence[str] | None = None,
    seed: int = 0,
    copies_per_kind: int = 1,
    clean_variants: int = 1,
    extra: ExtraFeatures | None = None,
    max_clean_rejected: float = MAX_CLEAN_REJECTED,
    model_params: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> tuple[QualityFilter, QualityMetrics]:
    """Make degraded copies of the clean photos, fit the filter and measure it on held-out items.

    See build_quality_dataset (how copies are made; `clean_images` is consumed once) and
    fit_quality_filter (split, threshold, figures). Deterministic for a given seed.
    """
    dataset = build_quality_dataset(
        clean_images,
        ids=ids,
        slots=slots,
        seed=seed,
        copies_per_kind=copies_per_kind,
        clean_variants=clean_variants,
        extra=extra,
        progress=progress,
    )
    return fit_quality_filter(
        dataset, seed=seed, max_clean_rejected=max_clean_rejected, model_params=model_params
    )


def spread_sample(items: Sequence[Item], limit: int | None, *, item_id: Callable[[Item], str]) -> list[Item]:
    """At most `limit` of the items, picked by a hash of their id: a spread over a whole catalog
    (whose first rows are often one category), the same on every run, in the input's order."""
    if limit is None or len(items) <= limit:
        return list(items)

    def rank(index: int) -> bytes:
        return hashlib.sha256(b"sample:" + item_id(items[index]).encode("utf-8")).digest()

    chosen = sorted(sorted(range(len(items)), key=rank)[:limit])
    return [items[index] for index in chosen]
