"""Does the mislabel audit find wrong categories? Flip some on purpose and see where they rank.

    python bench/eval_audit.py DATA_DIR [DATA_DIR ...] --models-dir DIR [--flip-share 0.02]
        [--repeats 5] [--seed 0] [--top 50] [--limit N] [--cache-dir var/audit-eval] [--json OUT]

Takes the garments of MANGO- or Myntra-layout folders that fall in the trained model's own held-out
TEST part (vision.datasets.split_part with the shares of the model's training run), classifies each
photo with the active model of --models-dir as the shop's analysis does (find, isolate, describe),
then, per repeat, gives a seeded random --flip-share of them a wrong stated category (a random other
type of the model's taxonomy) and ranks every disagreement with vision.audit.rank_disagreements,
weighed by the model's validation confusion (counted here on the trainer's validation part when
an older artefact's manifest lacks it). Prints, as the mean over repeats (min-max):
  - precision@TOP: the share of the TOP most confident flags that are flipped garments (at most
    flipped/TOP when fewer than TOP garments were flipped: that ceiling is printed too);
  - precision@F: the same for the top F flags, F = the number flipped (R-precision);
  - recall of the whole flagged list, and recall@TOP;
  - natural disagreements: garments flagged though nobody flipped them (the model's errors, or
    mislabels of the data set itself);
for the audit as built, without the confusion weighing, and ranked by the model's confidence in its
suggestion alone. The model's predictions are cached in --cache-dir (per artefact and garments), so
a re-run with other seeds only re-ranks. A benchmark, not a test: it prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

# Run as a script from anywhere: make the project root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from vision.artefact import GarmentArtefact, active_artefact
from vision.audit import (
    AuditInput,
    Disagreement,
    TypePath,
    predicted_path,
    rank_disagreements,
    type_key,
)
from vision.datasets import LabelledGarment, read_labelled_folder, split_part
from vision.detect import find_garment, isolate_garment
from vision.images import ANALYSIS_SIDE, ImageRejected, open_garment_image

Ranker = Callable[[Sequence[AuditInput]], list[Disagreement]]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("data_dirs", nargs="+", type=Path)
    parser.add_argument("--models-dir", type=Path, required=True, help="holds garment/ACTIVE")
    parser.add_argument("--flip-share", type=float, default=0.02, help="share of garments mislabelled")
    parser.add_argument("--repeats", type=int, default=5, help="random flips, seeds seed..seed+R-1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top", type=int, default=50, help="precision and recall at this rank")
    parser.add_argument("--limit", type=int, default=None, help="at most N rows per folder (as training)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cache-dir", type=Path, default=Path("var/audit-eval"))
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)

    artefact = active_artefact(args.models_dir)
    if artefact is None:
        parser.error(f"no active garment model in {args.models_dir}/garment")
    manifest = artefact.manifest
    trained_on = {str(Path(entry["path"]).resolve()) for entry in manifest.get("data", [])}
    for folder in args.data_dirs:
        if str(folder.resolve()) not in trained_on:
            print(f"note: {folder} is not among the model's training folders: all its test part is unseen")
    garments = held_out(args.data_dirs, manifest, args.limit)
    print(f"model           {artefact.artefact_id} ({args.models_dir})")
    print(
        f"held out        {len(garments)} garments of the test part of {', '.join(map(str, args.data_dirs))}"
    )

    started = time.perf_counter()
    predictions = cached_predictions(artefact, garments, args)
    readable = [g for g in garments if predictions.get(g.item_id)]
    print(
        f"classified      {len(readable)} ({len(garments) - len(readable)} unreadable) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    types: list[TypePath] = [(t[0], t[1], t[2]) for t in manifest["taxonomy"]["types"]]
    confusion = manifest.get("validation_confusion")
    if confusion is None:
        # An artefact older than the confusion matrix: count it as its trainer would have, on the
        # validation part of the same folders.
        validation = held_out(args.data_dirs, manifest, args.limit, part="validation")
        confusion = validation_confusion(validation, cached_predictions(artefact, validation, args))
        print(
            f"confusion       counted here on {sum(confusion['type'].values())} validation garments "
            "(the model's manifest has none)"
        )
    unknown = sum(g.category not in set(types) for g in readable)
    agree = sum(predicted_path(predictions[g.item_id] or {}) == g.category for g in readable)
    print(
        f"model agrees    {agree / max(len(readable), 1):.3f} with the stated type ({unknown} types unknown)"
    )

    rankers: dict[str, Ranker] = {
        "audit (weighed)": lambda inputs: rank_disagreements(inputs, confusion),
        "unweighed": lambda inputs: rank_disagreements(inputs, None),
        "suggestion confidence": by_suggestion_confidence,
    }
    results: dict[str, list[Figures]] = {name: [] for name in rankers}
    for repeat in range(args.repeats):
        inputs, flipped = flip(readable, predictions, types, args.flip_share, args.seed + repeat)
        for name, rank in rankers.items():
            results[name].append(figures(rank(inputs), flipped, args.top))
    n_flipped = results["audit (weighed)"][0].flipped
    print(
        f"flipped         {n_flipped} per repeat ({args.flip_share:.1%}), {args.repeats} repeats; "
        f"precision@{args.top} ceiling {min(1.0, n_flipped / args.top):.2f}"
    )
    print()
    print(table(results, args.top))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        summary = {
            "artefact": artefact.artefact_id,
            "held_out": len(garments),
            "classified": len(readable),
            "flip_share": args.flip_share,
            "flipped": n_flipped,
            "repeats": args.repeats,
            "top": args.top,
            "rankings": {
                name: {key: _mean([getattr(f, key) for f in runs]) for key in Figures.KEYS}
                for name, runs in results.items()
            },
        }
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


def held_out(
    folders: Sequence[Path], manifest: dict[str, Any], limit: int | None, *, part: str = "test"
) -> list[LabelledGarment]:
    """The garments of one of the trainer's parts (same shares, same hash of the id)."""
    trained = manifest.get("settings", {})
    shares = {
        "validation_share": float(trained.get("validation_share", 0.1)),
        "test_share": float(trained.get("test_share", 0.1)),
    }
    found = []
    for folder in folders:
        rows = read_labelled_folder(folder).garments
        found += [g for g in (rows[:limit] if limit else rows) if split_part(g.item_id, **shares) == part]
    return found


def cached_predictions(
    artefact: GarmentArtefact, garments: Sequence[LabelledGarment], args: argparse.Namespace
) -> dict[str, dict[str, Any] | None]:
    """item id → the model's prediction (GarmentPrediction.as_json without attributes), None when
    the photo cannot be read. Cached per artefact and list of garments."""
    digest = hashlib.sha256("\n".join(g.item_id for g in garments).encode()).hexdigest()[:12]
    path = args.cache_dir / f"predictions-{artefact.artefact_id}-{digest}.json"
    if path.is_file():
        cached: dict[str, dict[str, Any] | None] = json.loads(path.read_text(encoding="utf-8"))
        return cached
    from vision.embed import get_embedder

    embedder = get_embedder(models_dir=args.models_dir)
    if embedder.artefact is None or embedder.artefact.folder.resolve() != artefact.folder.resolve():
        raise SystemExit(f"the embedder did not load {artefact.folder}")
    found: dict[str, dict[str, Any] | None] = {}
    for start in range(0, len(garments), args.batch_size):
        batch, images = [], []
        for garment in garments[start : start + args.batch_size]:
            try:
                image = open_garment_image(garment.image_path, work_side=ANALYSIS_SIDE)
            except (ImageRejected, OSError):
                found[garment.item_id] = None
                continue
            batch.append(garment)
            images.append(isolate_garment(image, find_garment(image)))
        _, described = embedder.describe_images(images, batch_size=args.batch_size)
        for garment, prediction in zip(batch, described, strict=True):
            if prediction is None:
                found[garment.item_id] = None
                continue
            as_json = prediction.as_json()
            as_json.pop("attributes")
            found[garment.item_id] = as_json
        print(f"  classified {min(start + args.batch_size, len(garments))}/{len(garments)}", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(found) + "\n", encoding="utf-8")
    return found


def validation_confusion(
    garments: Sequence[LabelledGarment], predictions: dict[str, dict[str, Any] | None]
) -> dict[str, dict[str, int]]:
    """Counts of "stated|predicted" slots and types, as vision.train.validation_confusion makes them."""
    slots: Counter[str] = Counter()
    types: Counter[str] = Counter()
    for garment in garments:
        predicted = predicted_path(predictions.get(garment.item_id) or {})
        if predicted is not None:
            slots[f"{garment.slot}|{predicted[0]}"] += 1
            types[f"{type_key(garment.category)}|{type_key(predicted)}"] += 1
    return {"slot": dict(slots), "type": dict(types)}


def flip(
    garments: Sequence[LabelledGarment],
    predictions: dict[str, dict[str, Any] | None],
    types: Sequence[TypePath],
    share: float,
    seed: int,
) -> tuple[list[AuditInput], set[str]]:
    """The audit's inputs with a seeded random `share` of stated types replaced by another type."""
    rng = np.random.default_rng(seed)
    count = max(1, round(share * len(garments)))
    chosen = {int(i) for i in rng.choice(len(garments), size=count, replace=False)}
    inputs, flipped = [], set()
    for i, garment in enumerate(garments):
        stated = garment.category
        if i in chosen:
            others = [t for t in types if t != stated]
            stated = others[int(rng.integers(len(others)))]
            flipped.add(garment.item_id)
        prediction = predictions[garment.item_id]
        assert prediction is not None
        inputs.append(AuditInput(key=garment.item_id, stated=stated, prediction=prediction))
    return inputs, flipped


def by_suggestion_confidence(inputs: Sequence[AuditInput]) -> list[Disagreement]:
    """The baseline: the same flags ranked by the model's confidence in its own path alone."""
    flagged = rank_disagreements(inputs, None)
    confidence = {g.key: float(g.prediction["type"]["confidence"]) for g in inputs}
    return sorted(flagged, key=lambda d: (-confidence[d.key], d.key))


@dataclass(frozen=True)
class Figures:
    KEYS: ClassVar = (
        "precision_at_top",
        "precision_at_flipped",
        "recall",
        "recall_at_top",
        "flagged",
        "natural",
    )

    flipped: int
    flagged: int
    natural: int  # flagged without having been flipped
    precision_at_top: float
    precision_at_flipped: float
    recall: float
    recall_at_top: float


def figures(ranked: Sequence[Disagreement], flipped: set[str], top: int) -> Figures:
    hits = [d.key in flipped for d in ranked]
    return Figures(
        flipped=len(flipped),
        flagged=len(ranked),
        natural=len(ranked) - sum(hits),
        precision_at_top=sum(hits[:top]) / top,
        precision_at_flipped=sum(hits[: len(flipped)]) / len(flipped),
        recall=sum(hits) / len(flipped),
        recall_at_top=sum(hits[:top]) / len(flipped),
    )


def _mean(values: Sequence[float]) -> float:
    return round(statistics.fmean(values), 4)


def table(results: dict[str, list[Figures]], top: int) -> str:
    heads = (f"precision@{top}", "precision@F", "recall", f"recall@{top}", "flagged", "natural")
    lines = [f"{'ranking':<24}" + "".join(f"{h:>20}" for h in heads)]
    for name, runs in results.items():
        cells = []
        for key in Figures.KEYS:
            values = [float(getattr(f, key)) for f in runs]
            digits = 1 if key in ("flagged", "natural") else 3
            cells.append(
                f"{statistics.fmean(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"
            )
        lines.append(f"{name:<24}" + "".join(f"{c:>20}" for c in cells))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
