"""How fast is garment analysis, and how much of it is the network?

    python bench/bench_backbone.py IMAGE_DIR [--n 256] [--batch 64] [--models-dir var/models]
                                   [--before-models-dir DIR]

Prints, as medians over several repeats of the same images:
  (a) the image tower alone, on already decoded and preprocessed (3, 224, 224) tensors;
  (b) `analyze_garments` end to end, JPEG decode from disk included;
and (b) / (a). A one-off pass then splits (b) into its stages. A benchmark, not a test: it
prints figures and asserts nothing. The model is built into --models-dir on first use; the active
trained garment model of that folder is used when there is one.

With --before-models-dir, (b) is also measured for the model of that folder (say, one without a
trained garment model: the untrained base) in the same run, repeats interleaved, and the ratio of
the two medians is printed: analysis speed before and after training.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

# Run as a script from anywhere: make the project root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from vision.analyze import analyze_garments
from vision.detect import find_garment, isolate_garment
from vision.embed import GarmentEmbedder, get_embedder
from vision.images import open_garment_image
from vision.quality import assess_quality

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
Result = TypeVar("Result")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("image_dir", type=Path)
    parser.add_argument("--n", type=int, default=256, help="number of images (the first n, sorted by name)")
    parser.add_argument("--batch", type=int, default=64, help="batch size for the network")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats of each measurement")
    parser.add_argument("--models-dir", type=Path, default=Path("var/models"))
    parser.add_argument("--before-models-dir", type=Path, default=None, help="a second model to compare")
    args = parser.parse_args(argv)

    paths = sorted(p for p in args.image_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[: args.n]
    if not paths:
        parser.error(f"no JPEG, PNG or WEBP files in {args.image_dir}")

    started = time.perf_counter()
    embedder = get_embedder(models_dir=args.models_dir)
    print(f"model           {embedder.spec} on {embedder.device}, {torch.get_num_threads()} torch threads")
    print(f"model load      {time.perf_counter() - started:.1f} s (includes the one-time build if it ran)")

    images = [open_garment_image(path) for path in paths]
    sizes = sorted(image.size for image in images)
    median_width, median_height = sizes[len(sizes) // 2]
    megabytes = sum(path.stat().st_size for path in paths) / 1e6
    print(f"images          {len(paths)} files from {args.image_dir}, {megabytes:.1f} MB on disk")
    print(f"image size      median {median_width}x{median_height} px (decoded RGB)")
    print(f"network input   batches of {args.batch} x 3 x 224 x 224 float32, {embedder.dim}-d output")
    print(f"repeats         {args.repeats} (median reported), after one warm-up run each")

    batches = [embedder.image_batch(images[i : i + args.batch]) for i in range(0, len(images), args.batch)]
    network = _images_per_second(lambda: [embedder.embed_image_batch(b) for b in batches], len(images), args)
    end_to_end = _images_per_second(
        lambda: _analyze_from_disk(paths, embedder, args.batch), len(images), args
    )

    print()
    print(f"(a) network forward on preprocessed tensors   {_summary(network)}")
    print(f"(b) analyze_garments incl. decode from disk    {_summary(end_to_end)}")
    ratio = statistics.median(end_to_end) / statistics.median(network)
    print(f"(b) / (a)                                     {ratio:.2f}")
    print()
    _print_stages(paths, embedder, args.batch)
    if args.before_models_dir is not None:
        _compare(paths, embedder, get_embedder(models_dir=args.before_models_dir), args)


def _compare(
    paths: Sequence[Path], after: GarmentEmbedder, before: GarmentEmbedder, args: argparse.Namespace
) -> None:
    """(b) for two models in one run, repeats interleaved so both see the same machine load."""
    rates: dict[str, list[float]] = {"before": [], "after": []}
    for embedder in (before, after):
        _analyze_from_disk(paths, embedder, args.batch)  # warm-up
    for _ in range(args.repeats):
        for name, embedder in (("before", before), ("after", after)):
            started = time.perf_counter()
            _analyze_from_disk(paths, embedder, args.batch)
            rates[name].append(len(paths) / (time.perf_counter() - started))
    print()
    print(f"before  {before.spec}: analyze_garments {_summary(rates['before'])}")
    print(f"after   {after.spec}: analyze_garments {_summary(rates['after'])}")
    ratio = statistics.median(rates["after"]) / statistics.median(rates["before"])
    print(f"after / before                                {ratio:.2f}")


def _analyze_from_disk(paths: Sequence[Path], embedder: GarmentEmbedder, batch: int) -> None:
    analyze_garments([open_garment_image(path) for path in paths], embedder, batch_size=batch)


def _images_per_second(run: Callable[[], object], count: int, args: argparse.Namespace) -> list[float]:
    run()  # warm-up: oneDNN picks its kernels for each new batch shape on the first call
    rates = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        run()
        rates.append(count / (time.perf_counter() - started))
    return rates


def _summary(rates: list[float]) -> str:
    return f"{statistics.median(rates):6.1f} images/s   (repeats: {', '.join(f'{r:.1f}' for r in rates)})"


def _print_stages(paths: Sequence[Path], embedder: GarmentEmbedder, batch: int) -> None:
    """One pass of (b) stage by stage, to show where the time goes (ms per image)."""
    timings: dict[str, float] = {}

    def timed(stage: str, run: Callable[[], list[Result]]) -> list[Result]:
        started = time.perf_counter()
        result = run()
        timings[stage] = (time.perf_counter() - started) * 1000 / len(paths)
        return result

    images = timed("decode", lambda: [open_garment_image(p) for p in paths])
    found = timed("find_garment", lambda: [find_garment(i) for i in images])
    pairs = list(zip(images, found, strict=True))
    timed("assess_quality", lambda: [assess_quality(i, f) for i, f in pairs])
    isolated = timed("isolate_garment", lambda: [isolate_garment(i, f) for i, f in pairs])
    chunks = [isolated[i : i + batch] for i in range(0, len(isolated), batch)]
    tensors = timed("preprocess", lambda: [embedder.image_batch(chunk) for chunk in chunks])
    timed("network", lambda: [embedder.embed_image_batch(t) for t in tensors])
    total = sum(timings.values())
    print("one pass of (b), ms per image:")
    for stage, milliseconds in timings.items():
        print(f"  {stage:<16} {milliseconds:7.2f}   {milliseconds / total:5.1%}")
    print(f"  {'total':<16} {total:7.2f}")


if __name__ == "__main__":
    main()
