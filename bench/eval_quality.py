"""How well does the learned quality filter catch degraded photos, against the hand-set rules?

    python bench/eval_quality.py DATA_DIR [DATA_DIR ...] [--limit N] [--seed 0]
        [--out var/quality-eval/filter] [--cache-dir var/quality-eval] [--json OUT]
        [--embedding-pca K [--models-dir var/models]]

Reads clean product photos from MANGO-layout (products.csv) or Myntra-layout (styles.csv) folders,
makes degraded copies of each (vision.degrade: every kind, one copy per kind at a random strength),
trains the filter on the train part and chooses its threshold on the validation part (items split
by a hash of their id), then prints, on the TEST part only (items never seen in training):
  - precision, recall and F1 of "reject" per degradation kind and overall, for the learned filter
    at its chosen threshold and for the hand-set rules at their threshold (0.35), same photos;
  - recall by strength band, and how often the first reason names the right kind;
  - the share of clean photos rejected, overall, per data set category and for white garments,
    worst first.
A benchmark, not a test: it prints figures and asserts nothing. The statistics of every photo and
copy are cached in --cache-dir (keyed by folders, limit, seed and statistics version), so a
re-run only refits. The filter is written to --out (a folder under var/, never the repo).
--embedding-pca K also fits a filter whose extra columns are K principal components of the garment
embedding (of every photo and copy: slow on a CPU) and prints both side by side.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

# Run as a script from anywhere: make the project root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from PIL import Image

from vision.datasets import LabelledGarment, read_labelled_folder
from vision.degrade import DEGRADATIONS
from vision.detect import Foreground, isolate_garment
from vision.images import ImageRejected, open_garment_image
from vision.quality import HANDSET_THRESHOLD, STATISTIC_NAMES, STATISTICS_VERSION
from vision.quality_filter import (
    CLEAN,
    REASONS,
    TEST,
    TRAIN,
    QualityDataset,
    QualityMetrics,
    build_quality_dataset,
    evaluate_rejects,
    fit_quality_filter,
    spread_sample,
)

# The cache of statistics is keyed by these files too: changing how copies are made or measured
# invalidates it.
SOURCES = [
    Path(__file__).resolve().parents[1] / "vision" / name
    for name in ("degrade.py", "quality.py", "detect.py", "datasets.py")
]
# A category is listed among the worst only with at least this many clean test photos.
MIN_SLOT_PHOTOS = 20


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dirs", nargs="+", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="at most N photos per folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("var/quality-eval/filter"))
    parser.add_argument("--cache-dir", type=Path, default=Path("var/quality-eval"))
    parser.add_argument("--no-cache", action="store_true", help="measure again even if cached")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    parser.add_argument(
        "--embedding-pca",
        type=int,
        default=0,
        metavar="K",
        help="also fit with K principal components of the garment embedding as extra columns, and compare",
    )
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"), help="for --embedding-pca")
    args = parser.parse_args(argv)

    photos = [
        photo
        for folder in args.data_dirs
        for photo in spread_sample(read_labelled_folder(folder).garments, args.limit, item_id=_item_id)
    ]
    print(f"photos          {len(photos)} from {', '.join(str(d) for d in args.data_dirs)}")
    dataset, build_seconds = cached_dataset(photos, args)
    print(f"statistics      {dataset.features.shape[0]} rows in {build_seconds:.0f} s")
    with_embedding = dataset
    statistics_only = len(STATISTIC_NAMES)
    dataset = replace(
        dataset,
        features=dataset.features[:, :statistics_only],
        feature_names=dataset.feature_names[:statistics_only],
    )

    started = time.perf_counter()
    quality_filter, learned = fit_quality_filter(dataset, seed=args.seed)
    fit_seconds = time.perf_counter() - started
    quality_filter.save(args.out)
    print(f"fit             {fit_seconds:.1f} s; filter {quality_filter.build_id} written to {args.out}")
    counts = quality_filter.manifest["counts"]
    print(f"items by part   {counts['items']}; rows {counts['rows']}")

    test = dataset.rows(TEST)
    kinds = [kind for kind, keep in zip(dataset.kinds, test, strict=True) if keep]
    slots = [slot for slot, keep in zip(dataset.slots, test, strict=True) if keep]
    probabilities = quality_filter.probabilities(dataset.features[test])
    scores = probabilities[:, quality_filter.classes.index(CLEAN)]
    handset = evaluate_rejects(
        dataset.handset_scores[test],
        kinds,
        threshold=HANDSET_THRESHOLD,
        strengths=dataset.strengths[test],
        slots=slots,
    )
    print()
    print(side_by_side(learned, handset))
    print()
    print(reason_accuracy(quality_filter.classes, probabilities, kinds, scores < learned.threshold))
    print()
    colours = {photo.item_id: _colour(photo) for photo in photos}
    items = [item for item, keep in zip(dataset.item_ids, test, strict=True) if keep]
    handset_scores, benign = dataset.handset_scores[test], dataset.benign[test]
    print(clean_rejections(scores, handset_scores, kinds, slots, items, colours, learned, benign))
    print(f"\ntimes: statistics {build_seconds:.0f} s, fit {fit_seconds:.1f} s")

    figures: dict[str, Any] = {
        "learned": learned.as_dict(),
        "handset": handset.as_dict(),
        "build_id": quality_filter.build_id,
    }
    if args.embedding_pca:
        embedded = embedding_comparison(with_embedding, learned, args)
        figures["learned_with_embedding"] = embedded.as_dict()

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


def embedding_comparison(
    dataset: QualityDataset, learned: QualityMetrics, args: argparse.Namespace
) -> QualityMetrics:
    """Fit again with K principal components (fitted on the train part) of the garment embedding."""
    from sklearn.decomposition import PCA

    statistics_only = len(STATISTIC_NAMES)
    embeddings = dataset.features[:, statistics_only:]
    pca = PCA(n_components=args.embedding_pca, random_state=args.seed).fit(embeddings[dataset.rows(TRAIN)])
    components = pca.transform(embeddings).astype(np.float32)
    names = (*STATISTIC_NAMES, *(f"embedding_pc{i}" for i in range(args.embedding_pca)))
    reduced = replace(
        dataset, features=np.hstack([dataset.features[:, :statistics_only], components]), feature_names=names
    )
    _, embedded = fit_quality_filter(reduced, seed=args.seed)
    print(f"\nwith {args.embedding_pca} embedding components (test part, each at its own threshold):")
    print(f"{'kind':<14}{'F1 stats':>10}{'F1 +emb':>10}{'recall stats':>14}{'recall +emb':>13}")
    for kind in DEGRADATIONS:
        ours, theirs = learned.per_kind[kind], embedded.per_kind[kind]
        print(f"{kind:<14}{ours.f1:>10.3f}{theirs.f1:>10.3f}{ours.recall:>14.3f}{theirs.recall:>13.3f}")
    print(
        f"{'all':<14}{learned.overall.f1:>10.3f}{embedded.overall.f1:>10.3f}"
        f"{learned.overall.recall:>14.3f}{embedded.overall.recall:>13.3f}"
    )
    print(
        f"clean rejected: statistics {learned.clean_rejected:.2%}, +embedding {embedded.clean_rejected:.2%}"
    )
    return embedded


def garment_embedding(models_dir: Path) -> Callable[[Image.Image, Foreground], np.ndarray[Any, Any]]:
    """The embedding analysis stores, of the isolated garment, as extra feature columns."""
    from vision.embed import get_embedder

    embedder = get_embedder(models_dir=models_dir)

    def embed(image: Image.Image, foreground: Foreground) -> np.ndarray[Any, Any]:
        return embedder.embed_images([isolate_garment(image, foreground)])[0]

    return embed


def _item_id(photo: LabelledGarment) -> str:
    return photo.item_id


def _colour(photo: LabelledGarment) -> str:
    # Myntra's own colour where there is one; MANGO's colour group (its WHITE holds cream and beige).
    return photo.attributes.get("colour") or photo.attributes.get("colour_group", "")


def cached_dataset(photos: list[LabelledGarment], args: argparse.Namespace) -> tuple[QualityDataset, float]:
    key = hashlib.sha256(
        json.dumps(
            [[str(d.resolve()) for d in args.data_dirs], args.limit, args.seed, STATISTICS_VERSION]
            + (["embedding", str(args.models_dir.resolve())] if args.embedding_pca else [])
        ).encode()
        + b"".join(source.read_bytes() for source in SOURCES)
    ).hexdigest()[:12]
    cache = args.cache_dir / f"dataset-{key}.npz"
    if cache.exists() and not args.no_cache:
        with np.load(cache, allow_pickle=False) as saved:
            dataset = QualityDataset(
                features=saved["features"],
                kinds=tuple(saved["kinds"].tolist()),
                strengths=saved["strengths"],
                item_ids=tuple(saved["item_ids"].tolist()),
                benign=saved["benign"],
                parts=tuple(saved["parts"].tolist()),
                slots=tuple(saved["slots"].tolist()),
                handset_scores=saved["handset_scores"],
                feature_names=tuple(saved["feature_names"].tolist()),
            )
            return dataset, float(saved["seconds"])

    def images() -> Iterator[Image.Image | None]:
        for photo in photos:
            try:
                yield open_garment_image(photo.image_path)
            except (ImageRejected, OSError) as error:
                print(f"skipped {photo.image_path}: {error}")
                yield None

    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 500 == 0 or done == total:
            elapsed = time.perf_counter() - started
            print(f"  {done}/{total} photos, {elapsed:.0f} s", flush=True)

    dataset = build_quality_dataset(
        images(),
        ids=[photo.item_id for photo in photos],
        slots=[f"{photo.slot}/{photo.family}" for photo in photos],
        seed=args.seed,
        extra=garment_embedding(args.models_dir) if args.embedding_pca else None,
        progress=progress,
    )
    seconds = time.perf_counter() - started
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    part = cache.with_suffix(".part.npz")
    np.savez(
        part,
        features=dataset.features,
        kinds=np.asarray(dataset.kinds),
        strengths=dataset.strengths,
        item_ids=np.asarray(dataset.item_ids),
        benign=dataset.benign,
        parts=np.asarray(dataset.parts),
        slots=np.asarray(dataset.slots),
        handset_scores=dataset.handset_scores,
        feature_names=np.asarray(dataset.feature_names),
        seconds=np.float64(seconds),
    )
    part.replace(cache)
    return dataset, seconds


def side_by_side(learned: QualityMetrics, handset: QualityMetrics) -> str:
    lines = [
        "TEST part: reject = degraded copy (positive) vs clean photo (negative)",
        f"{'':<14}{'':>7}  {'learned (t=' + format(learned.threshold, '.3f') + ')':^26}  "
        f"{'hand-set (t=' + format(handset.threshold, '.2f') + ')':^26}",
        f"{'kind':<14}{'copies':>7}  {'prec':>8}{'recall':>9}{'F1':>9}  {'prec':>8}{'recall':>9}{'F1':>9}",
    ]
    rows: list[tuple[str, Any, Any]] = [
        (kind, learned.per_kind[kind], handset.per_kind[kind]) for kind in DEGRADATIONS
    ]
    rows.append(("all", learned.overall, handset.overall))
    for name, ours, theirs in rows:
        lines.append(
            f"{name:<14}{ours.degraded:>7}  {ours.precision:>8.3f}{ours.recall:>9.3f}{ours.f1:>9.3f}  "
            f"{theirs.precision:>8.3f}{theirs.recall:>9.3f}{theirs.f1:>9.3f}"
        )
    lines.append(f"{'macro F1':<21}  {'':>17}{learned.macro_f1:>9.3f}  {'':>17}{handset.macro_f1:>9.3f}")
    for band in learned.recall_by_strength:
        lines.append(
            f"recall, {band} strength{'':<4}  {learned.recall_by_strength[band]:>17.3f}{'':>9}  "
            f"{handset.recall_by_strength.get(band, float('nan')):>17.3f}"
        )
    lines.append(
        f"clean rejected{'':<7}  {learned.clean_rejected:>17.2%}{'':>9}  {handset.clean_rejected:>17.2%}"
        f"   (of {learned.overall.clean} clean test photos)"
    )
    return "\n".join(lines)


def reason_accuracy(
    classes: Sequence[str],
    probabilities: np.ndarray[Any, Any],
    kinds: Sequence[str],
    rejected: np.ndarray[Any, Any],
) -> str:
    """How often a rejected copy's first reason names the kind that was applied."""
    faults = [i for i, name in enumerate(classes) if name != CLEAN]
    first = np.asarray([classes[faults[int(np.argmax(row[faults]))]] for row in probabilities])
    kind = np.asarray(kinds)
    parts = []
    for name in DEGRADATIONS:
        chosen = rejected & (kind == name)
        if chosen.any():
            parts.append(f"{name} {float(np.mean(first[chosen] == name)):.2f}")
    return (
        "first reason names the applied kind (rejected copies): "
        + ", ".join(parts)
        + (f"\n  (reasons: {', '.join(REASONS.values())})")
    )


def clean_rejections(
    scores: np.ndarray[Any, Any],
    handset_scores: np.ndarray[Any, Any],
    kinds: Sequence[str],
    slots: Sequence[str],
    items: Sequence[str],
    colours: dict[str, str],
    learned: QualityMetrics,
    benign: np.ndarray[Any, Any],
) -> str:
    clean = np.asarray(kinds) == CLEAN
    ours = scores < learned.threshold
    theirs = handset_scores < HANDSET_THRESHOLD
    slot = np.asarray(slots)
    groups: dict[str, np.ndarray[Any, Any]] = {
        name: clean & (slot == name) for name in sorted(set(slot[clean].tolist()))
    }
    white = np.asarray([colours.get(item, "").lower() == "white" for item in items])
    groups["(white garments; MANGO: its WHITE group)"] = clean & white
    lines = [
        f"clean photos rejected: originals {float(ours[clean & ~benign].mean()):.2%} "
        f"(hand-set {float(theirs[clean & ~benign].mean()):.2%}) of {int((clean & ~benign).sum())}, "
        f"benign variants {float(ours[clean & benign].mean()):.2%} "
        f"(hand-set {float(theirs[clean & benign].mean()):.2%}) of {int((clean & benign).sum())}",
        "clean photos and benign variants rejected per category (test part), worst first:",
    ]
    lines.append(f"{'category':<46}{'clean':>7}{'learned':>9}{'hand-set':>10}")
    ranked = sorted(
        (
            (float(ours[rows].mean()), name, rows)
            for name, rows in groups.items()
            if rows.sum() >= MIN_SLOT_PHOTOS
        ),
        key=lambda entry: (-entry[0], entry[1]),
    )
    for share, name, rows in ranked:
        lines.append(f"{name:<46}{int(rows.sum()):>7}{share:>9.1%}{float(theirs[rows].mean()):>10.1%}")
    small = sorted(name for name, rows in groups.items() if 0 < rows.sum() < MIN_SLOT_PHOTOS)
    if small:
        lines.append(f"(fewer than {MIN_SLOT_PHOTOS} clean test photos, not listed: {', '.join(small)})")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
